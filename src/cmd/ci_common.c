#include "cmd/ci_common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/linering.h"
#include "core/term.h"
#include "git/git.h"
#include "cmd/ci_view.h"
#include "woodpecker/logs.h"
#include "github/provider.h"
#include "woodpecker/provider.h"

int ci_repo_name(struct cmd_ctx *ctx, char **full_name, struct err *e)
{
    if (ctx->cfg.repo && *ctx->cfg.repo) {
        *full_name = xstrdup(ctx->cfg.repo);
        return 0;
    }
    char *remote = NULL, *url = NULL;
    /* one git process for the remote and its URL */
    if (git_choose_remote_url(&git_here, ctx->cfg.remote, &remote, &url, e) < 0) {
        if (e->kind == ERR_NOT_A_REPO) {
            err_set_kind(e, ERR_NOT_A_REPO, EXIT_USAGE,
                         "not in a git repository and no repo given");
            err_hint(e, "run inside a clone, or pass --repo OWNER/NAME (HOMELAB_REPO, ci.repo)");
        }
        return -1;
    }
    int rc = 0;
    if (git_remote_full_name(url, full_name) < 0)
        /* the URL itself may carry user:password@, so it is not shown */
        rc = err_set(e, EXIT_USAGE, "cannot tell OWNER/NAME from the URL of remote '%s'",
                     remote);
    if (rc < 0 && (e->code == EXIT_NOT_FOUND || e->code == EXIT_USAGE) && !e->hint[0])
        err_hint(e, "pass --repo OWNER/NAME (HOMELAB_REPO, ci.repo)");
    free(remote);
    free(url);
    return rc;
}

const struct ci_provider_ops *ci_chosen_provider(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh < 0)
        return NULL;
    return gh ? &gh_provider_ops : &wp_provider_ops;
}

/* A provider matching runs by the full commit id cannot use a prefix. */
static int check_full_sha(struct cmd_ctx *ctx, const struct ci_provider_ops *ops,
                          const struct ci_target *t)
{
    if (!ops->full_sha_only || t->number || (t->sha && strlen(t->sha) == 40))
        return 0;
    err_set(&ctx->err, EXIT_NOT_FOUND, "%s matches runs by the full commit id, and %s is not in "
            "the local clone", ops->title, t->label);
    err_hint(&ctx->err, "fetch it first, or name the run as #ID");
    return -1;
}

int ci_provider_repo_name(struct cmd_ctx *ctx, const struct ci_provider_ops *ops, char **name,
                          struct err *e)
{
    return ops == &gh_provider_ops ? ci_gh_repo_name(ctx, name, e) : ci_repo_name(ctx, name, e);
}

/* Collects a target begun with ci_target_start() (t may be NULL); its
 * error is the one reported, as when it was resolved first. */
static int finish_target_first(struct cmd_ctx *ctx, struct ci_target *t)
{
    if (!t || !t->job)
        return 0;
    struct err te;
    err_clear(&te);
    if (ci_target_finish(t, &te) == 0)
        return 0;
    ctx->err = te;
    return -1;
}

int ci_open_provider(struct cmd_ctx *ctx, const struct ci_provider_ops *ops, struct ci_target *t,
                     struct ci_provider *p)
{
    int github = ops == &gh_provider_ops;
    char *name = NULL;
    int rc = ci_provider_repo_name(ctx, ops, &name, &ctx->err);
    if (finish_target_first(ctx, t) < 0) {
        free(name);
        return -1;
    }
    if ((t && check_full_sha(ctx, ops, t) < 0) || rc < 0) {
        free(name);
        return -1;
    }
    double deadline = cmd_timeout(ctx) > 0 ? clock_now() + cmd_timeout(ctx) : 0;
    if (github) {
        rc = ci_gh_open_repo(ctx, name, p);
        p->deadline = deadline;
    } else {
        rc = wp_provider_open(p, &ctx->cfg, name, ctx->g.verbose, deadline, &ctx->err);
    }
    free(name);
    return rc;
}

static int parse_number(const char *s, long long *n)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v <= 0)
        return -1;
    *n = v;
    return 0;
}

int ci_target_start(const char *arg, struct ci_target *t, struct err *e)
{
    memset(t, 0, sizeof(*t));
    const char *rev = arg ? arg : "HEAD";
    if (rev[0] == '#') {
        if (parse_number(rev + 1, &t->number) < 0)
            return err_set(e, EXIT_USAGE, "'%s' is not a pipeline number (#N)", rev);
        snprintf(t->label, sizeof(t->label), "#%lld", t->number);
        return 0;
    }
    if (!*rev || rev[0] == '-')
        return err_set(e, EXIT_USAGE, "'%s' is not a revision", rev);
    t->job = xcalloc(1, sizeof(*t->job));
    git_rev_parse_commit_start(&git_here, rev, t->job);
    return 0;
}

int ci_target_finish(struct ci_target *t, struct err *e)
{
    if (!t->job)
        return 0;
    struct git_rev_job *job = t->job;
    t->job = NULL;
    char *rev = xstrdup(job->rev);
    struct err gerr;
    err_clear(&gerr);
    int rc = 0;
    if (git_rev_parse_finish(job, &t->sha, &gerr) < 0) {
        /* a commit the local clone has not fetched: use the id as a prefix */
        if (!git_is_hex_id(rev)) {
            *e = gerr;
            if (e->kind == ERR_NOT_A_REPO) {
                err_set_kind(e, ERR_NOT_A_REPO, EXIT_USAGE,
                             "not in a git repository, so '%s' means nothing", rev);
                err_hint(e, "give a commit id (7+ hex digits) or #N, with --repo OWNER/NAME");
            } else if (e->code == EXIT_NOT_FOUND && rev[strspn(rev, "0123456789")] == '\0') {
                /* `ci status #60` unquoted: the shell made #60 a comment,
                 * or the '#' was left out */
                err_set(e, EXIT_USAGE, "unknown revision '%s'", rev);
                err_hint(e, "did you mean pipeline #%s? (quote it: '#%s')", rev, rev);
            } else if (e->code == EXIT_NOT_FOUND) {
                err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
            }
            rc = -1;
        } else {
            t->sha = xstrdup(rev);
            for (char *p = t->sha; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
    }
    if (rc == 0)
        snprintf(t->label, sizeof(t->label), "%.7s", t->sha);
    free(rev);
    free(job);
    return rc;
}

int ci_target_parse(const char *arg, struct ci_target *t, struct err *e)
{
    if (ci_target_start(arg, t, e) < 0)
        return -1;
    return ci_target_finish(t, e);
}

void ci_target_release(struct ci_target *t)
{
    if (t->job) {
        struct err ignored;
        err_clear(&ignored);
        ci_target_finish(t, &ignored);
    }
    free(t->sha);
    t->sha = NULL;
}

/* ---- rendering ---- */

enum term_color ci_status_tone(const char *status)
{
    if (!strcmp(status, "success"))
        return TERM_GREEN;
    if (wp_status_failed(status))
        return TERM_RED;
    if (!strcmp(status, "running"))
        return TERM_YELLOW;
    if (!strcmp(status, "blocked"))
        return TERM_MAGENTA;
    return TERM_DIM;
}

void ci_paint_status(struct buf *out, int color, const char *status, int width)
{
    term_paintf(out, color, ci_status_tone(status), "%-*s", width, status);
}


void ci_summary_line(const struct wp_pipeline *p, long long now, struct buf *out)
{
    struct ci_run r;
    wp_pipeline_to_run(p, &r);
    ci_view_pipeline_line(&r, now, out);
    ci_run_release(&r);
}



void ci_render_tree(const struct wp_pipeline *p, long long now, int color, struct buf *out)
{
    struct ci_run r;
    wp_pipeline_to_run(p, &r);
    ci_view_pipeline_tree(&r, now, color, out);
    ci_run_release(&r);
}


void ci_shell_quote(struct buf *out, const char *s, int always)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_./:@%+=,-";
    int ctl = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        ctl |= *c < 0x20 || *c == 0x7f;
    if (!always && *s && s[strspn(s, safe)] == '\0') {
        buf_adds(out, s);
    } else if (!ctl) {
        buf_addc(out, '\'');
        for (; *s; s++) {
            if (*s == '\'')
                buf_adds(out, "'\\''");
            else
                buf_addc(out, *s);
        }
        buf_addc(out, '\'');
    } else {
        buf_adds(out, "$'");
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
            if (*c < 0x20 || *c == 0x7f || *c == '\'' || *c == '\\')
                buf_addf(out, "\\x%02x", *c);
            else
                buf_addc(out, (char)*c);
        }
        buf_addc(out, '\'');
    }
}

void ci_hint_flags(const struct cmd_ctx *ctx, struct buf *out)
{
    const struct {
        const char *name, *value;
    } flags[] = {
        { "provider", ctx->g.provider }, { "server", ctx->g.server }, { "dial", ctx->g.dial },
        { "cacert", ctx->g.cacert },     { "repo", ctx->g.repo },     { "remote", ctx->g.remote },
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (!flags[i].value)
            continue;
        buf_addf(out, " --%s ", flags[i].name);
        ci_shell_quote(out, flags[i].value, 0);
    }
}



