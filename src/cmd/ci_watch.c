/*
 * ci watch: its flags and its entry points. The follow loop, its read
 * policies and its output are cmd/ci_follow*.c, written against
 * ci/provider.h only; here the provider the command chose is opened for
 * the target and handed to it.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/ci_common.h"
#include "cmd/ci_follow.h"
#include "cmd/cmd.h"
#include "core/signal.h"

static struct {
    double appear_timeout;
    long log_lines;
    int wait_approval;
} watch_opts = { -1, 30, 0 }; /* appear_timeout < 0: the provider's default */

const struct opt ci_watch_opts[] = {
    { "appear-timeout", OPT_DURATION, &watch_opts.appear_timeout, "DURATION",
      "how long to wait for CI to pick up the commit (default 3m; GitHub 10m)" },
    { "event", OPT_STRING, &ci_gh_opts.event, "NAME", "GitHub: runs of this event (default push; any)" },
    { "log-lines", OPT_INT, &watch_opts.log_lines, "N",
      "log lines shown per failing step (default 30)" },
    { "wait-approval", OPT_BOOL, &watch_opts.wait_approval, NULL,
      "keep waiting while the pipeline is blocked awaiting approval" },
    OPT_END,
};

/* ci watch's spec from its flags, with the caller's extra and floors. */
static int follow_target(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
                         const json_t *extra, const struct ci_attempt_floor *floors,
                         size_t nfloors)
{
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    struct ci_follow_spec spec = {
        .filter = &f,
        .appear_timeout = watch_opts.appear_timeout,
        .wait_approval = watch_opts.wait_approval,
        .log_lines = watch_opts.log_lines,
        .extra = extra,
        .floors = floors,
        .nfloors = nfloors,
    };
    return ci_follow(ctx, p, t, &spec);
}

int ci_watch_run(struct cmd_ctx *ctx, struct ci_provider *p, long long number,
                 const json_t *extra)
{
    struct ci_target t;
    memset(&t, 0, sizeof(t));
    t.number = number;
    snprintf(t.label, sizeof(t.label), "#%lld", number);
    return follow_target(ctx, p, &t, extra, NULL, 0);
}

int ci_watch_as(struct cmd_ctx *ctx, const struct ci_provider_ops *ops, const char *arg,
                const json_t *extra, const struct ci_attempt_floor *floors, size_t nfloors)
{
    struct ci_target t;
    if (ci_target_start(arg, &t, &ctx->err) < 0)
        return ctx->err.code;
    struct ci_provider p;
    int code;
    /* from here on, so that ^C while the repo is looked up (a server that
     * is down) ends the watch promptly, with its JSON result line */
    signal_catch();
    if (ci_open_provider(ctx, ops, &t, &p) < 0) {
        code = signal_interrupted() ? EXIT_INTERRUPTED : ctx->err.code;
        if (code == EXIT_INTERRUPTED)
            err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
        ci_follow_unopened(ctx, ops, &t, code, extra);
    } else {
        code = follow_target(ctx, &p, &t, extra, floors, nfloors);
        ci_provider_close(&p);
    }
    ci_target_release(&t);
    return code;
}

int ci_watch_sha(struct cmd_ctx *ctx, const char *sha)
{
    const struct ci_provider_ops *ops = ci_chosen_provider(ctx);
    if (!ops)
        return ctx->err.code;
    return ci_watch_as(ctx, ops, sha, NULL, NULL, 0);
}

int cmd_ci_watch(struct cmd_ctx *ctx)
{
    const struct ci_provider_ops *ops = ci_chosen_provider(ctx);
    if (!ops)
        return ctx->err.code;
    if (ctx->npos > 1)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci watch' takes at most one REV or #N, got '%s'",
                        ctx->pos[1]);
    if (watch_opts.log_lines < 0)
        return EXIT_USAGE;
    return ci_watch_as(ctx, ops, ctx->npos ? ctx->pos[0] : NULL, NULL, NULL, 0);
}
