/*
 * ci_github: what is still GitHub's own in ci status, list, watch and
 * logs: choosing the provider, naming the repo and the commit (head_sha
 * needs the full id), opening the provider with its rate-limit progress
 * line, GitHub's words when no run is there, and the entry points. The
 * follow loop (cmd/ci_follow.c), the rendering and failure report
 * (cmd/ci_view.c) and the log picking (cmd/ci_logs_pick.c) are written
 * against ci/provider.h only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/ci_follow.h"
#include "cmd/ci_logs_pick.h"
#include "cmd/ci_view.h"
#include "cmd/cmd.h"
#include "core/term.h"
#include "git/git.h"
#include "github/provider.h"

#define GH_APPEAR_DEFAULT 600.0
/* ci list: GitHub answers at most 1,000 runs for a filtered list */
#define GH_LIST_MAX 1000

struct ci_gh_opts ci_gh_opts;
static const json_t *watch_extra; /* ci_gh_watch_as(): fields for the result line */

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

static int gh_open(struct cmd_ctx *ctx, struct ci_provider *p)
{
    char *repo = NULL;
    if (ci_gh_repo_name(ctx, &repo, &ctx->err) < 0)
        return -1;
    int rc = gh_provider_open(p, &ctx->cfg, repo, ctx->g.verbose, &ctx->err);
    free(repo);
    if (rc == 0) {
        struct gh_client *c = gh_provider_client(p);
        c->on_rate_wait = on_rate_wait;
        c->ud = ctx;
    }
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

/* ---- reading ---- */

static struct ci_filter gh_filter(void)
{
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    return f;
}

static void no_runs_error(struct cmd_ctx *ctx, const struct ci_provider *p,
                          const struct ci_target *t, const char *after)
{
    const char *ev = ci_gh_opts.event ? ci_gh_opts.event : "push";
    err_set(&ctx->err, EXIT_NOT_FOUND, "no workflow run for %s (event %s) in %s%s", t->label,
            ev, p->repo, after);
    err_hint(&ctx->err, "was it pushed to GitHub (a push mirror adds delay)? other events: "
             "--event any");
}

/* The verbs' start: the target from the arguments, then the provider;
 * on failure nothing is left to release and ctx->err says why. */
static int gh_begin(struct cmd_ctx *ctx, struct ci_target *t, struct ci_provider *p)
{
    if (gh_target(ctx, t) < 0)
        return -1;
    if (gh_open(ctx, p) < 0) {
        ci_target_release(t);
        return -1;
    }
    return 0;
}

/* Releases what gh_begin() gave. */
static void gh_end(struct ci_target *t, struct ci_provider *p)
{
    ci_provider_close(p);
    ci_target_release(t);
}

/* The target's runs with their jobs; -1 when that fails or GitHub has no
 * run for it (EXIT_NOT_FOUND), with ctx->err saying why. */
static int read_runs(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
                     struct ci_runset *s)
{
    int ch;
    struct ci_filter f = gh_filter();
    if (ci_view_read_runs(p, t, &f, s, &ch, &ctx->err) < 0 ||
        ci_view_load_all_jobs(p, s, &ctx->err) < 0)
        return -1;
    if (s->n == 0) {
        no_runs_error(ctx, p, t, "");
        return -1;
    }
    return 0;
}

/* One JSON document on stdout (a whole answer, not a JSON Lines event:
 * no stage tag, no flush); takes j. */
static void print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(j);
}

/* A line a run on stdout; with trees, each run's tree of jobs and steps
 * follows on stderr (stdout flushed first, so the two stay in order). */
static void print_runs(const struct ci_runset *s, int trees, int color)
{
    struct buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < s->n; i++) {
        buf_reset(&out);
        ci_view_run_line(&s->runs[i], &out);
        puts(out.data);
        if (trees) {
            buf_reset(&out);
            ci_view_tree(&s->runs[i], color, &out);
            fflush(stdout);
            fputs(out.data, stderr);
        }
    }
    buf_release(&out);
}

int ci_gh_status(struct cmd_ctx *ctx)
{
    struct ci_target t;
    struct ci_provider p;
    struct ci_runset s = { 0 };
    if (gh_begin(ctx, &t, &p) < 0)
        return ctx->err.code;
    int code = 0;
    if (read_runs(ctx, &p, &t, &s) < 0) {
        code = ctx->err.code;
    } else if (ctx->mode == OUTPUT_JSON) {
        int v = ci_verdict(&s, 0);
        print_json(json_pack("{s:s, s:s, s:s?, s:o, s:s}", "provider", "github", "repo", p.repo,
                             "sha", t.sha, "runs", ci_view_runs_json(&s), "verdict",
                             v < 0 ? "pending" : ci_view_verdict_word(v)));
    } else {
        print_runs(&s, ctx->mode == OUTPUT_TTY, ctx->color);
    }
    ci_runset_release(&s);
    gh_end(&t, &p);
    return code;
}

int ci_gh_list(struct cmd_ctx *ctx)
{
    struct ci_provider p;
    if (gh_open(ctx, &p) < 0)
        return ctx->err.code;
    long limit = ci_gh_opts.limit > 0 ? ci_gh_opts.limit : 10;
    if (limit > GH_LIST_MAX)
        limit = GH_LIST_MAX;
    struct ci_filter f = { ci_gh_opts.event ? ci_gh_opts.event : "any", ci_gh_opts.branch,
                           ci_gh_opts.status };
    struct ci_runset s = { 0 };
    int code = 0;
    if (ci_list_runs(&p, &f, (size_t)limit, &s, &ctx->err) < 0) {
        code = ctx->err.code;
    } else if (ctx->mode == OUTPUT_JSON) {
        print_json(ci_view_runs_json(&s));
    } else {
        print_runs(&s, 0, ctx->color);
    }
    ci_runset_release(&s);
    ci_provider_close(&p);
    return code;
}

int ci_gh_watch(struct cmd_ctx *ctx)
{
    struct ci_target t;
    struct ci_provider p;
    if (gh_begin(ctx, &t, &p) < 0)
        return ctx->err.code;
    struct ci_filter f = gh_filter();
    double appear = ci_watch_appear_timeout();
    struct ci_follow_spec spec = {
        .filter = &f,
        .appear_timeout = appear >= 0 ? appear : GH_APPEAR_DEFAULT,
        .wait_approval = ci_watch_wait_approval(),
        .log_lines = ci_watch_log_lines(),
        .no_runs = no_runs_error,
        .extra = watch_extra,
    };
    int code = ci_follow(ctx, &p, &t, &spec);
    gh_end(&t, &p);
    return code;
}

/* ---- ci logs ---- */

int ci_gh_logs(struct cmd_ctx *ctx)
{
    struct ci_target t;
    struct ci_provider p;
    struct ci_runset s = { 0 };
    if (gh_begin(ctx, &t, &p) < 0)
        return ctx->err.code;
    term_catch_signals();
    int code;
    if (read_runs(ctx, &p, &t, &s) < 0) {
        code = ctx->err.code;
    } else {
        struct ci_logs_view v;
        ci_logs_view(&v);
        code = ci_logs_print(ctx, &p, &s, ci_gh_opts.job, &v);
    }
    ci_runset_release(&s);
    gh_end(&t, &p);
    return code;
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

int ci_gh_watch_as(struct cmd_ctx *ctx, const char *target, const json_t *extra)
{
    char *pos[1] = { (char *)target };
    char **saved = ctx->pos;
    size_t nsaved = ctx->npos;
    ctx->pos = pos;
    ctx->npos = 1;
    watch_extra = extra;
    int code = ci_gh_watch(ctx);
    watch_extra = NULL;
    ctx->pos = saved;
    ctx->npos = nsaved;
    return code;
}
