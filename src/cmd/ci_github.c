/*
 * ci_github: what is still GitHub's own in the ci verbs: choosing the
 * provider, naming the repo and the commit (head_sha needs the full id),
 * and opening the provider with its rate-limit progress line. Everything
 * else (ci status, list, watch, logs, the write verbs' follow) is written
 * against ci/provider.h only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "core/term.h"
#include "git/git.h"
#include "github/provider.h"

struct ci_gh_opts ci_gh_opts;

/* ---- choosing the provider and the repo ---- */

static char *chosen_url; /* the URL of the chosen remote, once read */

int ci_github_selected(struct cmd_ctx *ctx)
{
    enum ci_provider_kind kind;
    char host[256] = "";
    const struct config *cfg = &ctx->cfg;
    int gh_configured = (cfg->github_repo && *cfg->github_repo) ||
                        strcmp(cfg->github_api, "https://api.github.com") != 0;
    /* ci.repo / HOMELAB_REPO are Woodpecker's own keys: with one set and
     * nothing GitHub configured, no git process is spent on the remote */
    if ((!cfg->provider || !*cfg->provider) && cfg->repo && *cfg->repo &&
        !cfg->repo_from_flag && !gh_configured)
        return 0;
    if (!cfg->provider || !*cfg->provider) {
        char *remote = NULL;
        struct err e;
        err_clear(&e);
        free(chosen_url);
        chosen_url = NULL;
        if (git_choose_remote_url(&git_here, ctx->cfg.remote, &remote, &chosen_url, &e) == 0)
            ci_url_host(chosen_url, host, sizeof(host));
        free(remote);
    }
    if (ci_provider_choose(NULL, &ctx->cfg, host[0] ? host : NULL, &kind, &ctx->err) < 0)
        return -1;
    return kind == CI_GITHUB;
}

/* github.repo (--repo), else the first GitHub remote, else the chosen remote. */
int ci_gh_repo_name(struct cmd_ctx *ctx, char **repo, struct err *e)
{
    if (ctx->cfg.github_repo && *ctx->cfg.github_repo) {
        *repo = xstrdup(ctx->cfg.github_repo);
        return 0;
    }
    static const char *const args[] = { "remote", "-v", NULL };
    struct buf out, names;
    struct strvec urls = STRVEC_INIT;
    buf_init(&out, 0);
    buf_init(&names, 0);
    *repo = NULL;
    if (git_run(&git_here, args, &out, NULL, e) == 0)
        git_parse_remote_v(out.data, &names, &urls);
    err_clear(e);
    for (size_t i = 0; i < urls.n && !*repo; i++) {
        char host[256];
        if (ci_url_host(urls.v[i], host, sizeof(host)) == 0 &&
            ci_host_is_github(host, ctx->cfg.github_api))
            git_remote_full_name(urls.v[i], repo);
    }
    if (!*repo && chosen_url)
        git_remote_full_name(chosen_url, repo);
    buf_release(&out);
    buf_release(&names);
    strvec_clear(&urls);
    if (*repo)
        return 0;
    err_set(e, EXIT_USAGE, "cannot tell the GitHub repository (OWNER/NAME)"); /* setup */
    err_hint(e, "pass --repo OWNER/NAME (HOMELAB_GITHUB_REPO, github.repo)");
    return -1;
}

static void on_rate_wait(void *ud, double until_wall)
{
    struct cmd_ctx *ctx = ud;
    char hms[16];
    time_t t = (time_t)until_wall;
    struct tm tm;
    strftime(hms, sizeof(hms), "%H:%M:%S", localtime_r(&t, &tm));
    if (ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s}", "event", "rate_limited", "until", hms);
        term_json_line(j);
        json_decref(j);
    } else {
        fprintf(stderr, "homelab: rate-limited until %s\n", hms);
    }
}

int ci_gh_open_repo(struct cmd_ctx *ctx, const char *repo, struct ci_provider *p)
{
    if (gh_provider_open(p, &ctx->cfg, repo, ctx->g.verbose, &ctx->err) < 0)
        return -1;
    struct gh_client *c = gh_provider_client(p);
    c->on_rate_wait = on_rate_wait;
    c->ud = ctx;
    return 0;
}

static int gh_open(struct cmd_ctx *ctx, struct ci_provider *p)
{
    char *repo = NULL;
    if (ci_gh_repo_name(ctx, &repo, &ctx->err) < 0)
        return -1;
    int rc = ci_gh_open_repo(ctx, repo, p);
    free(repo);
    return rc;
}

/* REV (a full commit id is needed: head_sha matches exactly) or #ID. */
static int gh_target(struct cmd_ctx *ctx, struct ci_target *t)
{
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "'%s' takes at most one REV or #ID",
                       ctx->cmd->path);
    if (ci_target_parse(ctx->npos ? ctx->pos[0] : NULL, t, &ctx->err) < 0)
        return -1;
    if (!t->number && (!t->sha || strlen(t->sha) != 40)) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "GitHub matches runs by the full commit id, and "
                "%s is not in the local clone", t->label);
        err_hint(&ctx->err, "fetch it first, or name the run as #ID");
        return -1;
    }
    return 0;
}

/* ---- for the write verbs (ci_act_gh.c) ---- */

int ci_gh_open(struct cmd_ctx *ctx, struct ci_provider *p)
{
    return gh_open(ctx, p);
}

int ci_gh_target(struct cmd_ctx *ctx, struct ci_target *t)
{
    return gh_target(ctx, t);
}
