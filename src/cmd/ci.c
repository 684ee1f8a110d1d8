/*
 * ci status / ci list: one look at the runs of the current repo, through
 * the provider interface (ci/provider.h); what they look like is
 * cmd/ci_view.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ci_common.h"
#include "cmd/ci_view.h"
#include "cmd/cmd.h"

const struct opt ci_status_opts[] = {
    { "event", OPT_STRING, &ci_gh_opts.event, "NAME", "GitHub: runs of this event (default push; any)" },
    OPT_END,
};

static struct {
    long limit;
    const char *branch, *status, *event;
} list_opts = { 10, NULL, NULL, NULL };

const struct opt ci_list_opts[] = {
    { "limit", OPT_INT, &list_opts.limit, "N", "how many pipelines (default 10)" },
    { "branch", OPT_STRING, &list_opts.branch, "BRANCH", "only this branch" },
    { "status", OPT_STRING, &list_opts.status, "STATUS", "only this status (success, failure…)" },
    { "event", OPT_STRING, &list_opts.event, "EVENT", "only these events (push,tag,…)" },
    OPT_END,
};

static int one_positional(struct cmd_ctx *ctx, const char **arg)
{
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "'%s' takes at most one REV or #N, got '%s'",
                       ctx->cmd->path, ctx->pos[1]);
    *arg = ctx->npos ? ctx->pos[0] : NULL;
    return 0;
}

int cmd_ci_status(struct cmd_ctx *ctx)
{
    const struct ci_provider_ops *ops = ci_chosen_provider(ctx);
    const char *arg = NULL;
    struct ci_target t;
    struct ci_provider p;
    /* git rev-parse runs while the remote is read (two git processes side by side) */
    if (!ops || one_positional(ctx, &arg) < 0 || ci_target_start(arg, &t, &ctx->err) < 0)
        return ctx->err.code;
    if (ci_open_provider(ctx, ops, &t, &p) < 0) {
        ci_target_release(&t);
        return ctx->err.code;
    }
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    struct ci_runset s = { 0 };
    int code = EXIT_OK;
    if (ci_view_read_target(ctx, &p, &t, &f, &s) < 0)
        code = ctx->err.code;
    else
        ci_view_status(ctx, &p, &t, &s);
    ci_runset_release(&s);
    ci_provider_close(&p);
    ci_target_release(&t);
    return code;
}

/* ---- ci list ---- */

int cmd_ci_list(struct cmd_ctx *ctx)
{
    const struct ci_provider_ops *ops = ci_chosen_provider(ctx);
    if (!ops)
        return ctx->err.code;
    /* the filter goes to the server as typed; a word the provider does
     * not know is refused before anything is sent */
    struct ci_filter f = { list_opts.event, list_opts.branch, list_opts.status };
    if (ops->check_filter && ops->check_filter(&f, &ctx->err) < 0)
        return EXIT_USAGE;
    if (ctx->npos)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci list' takes no arguments, got '%s'",
                       ctx->pos[0]);
    if (list_opts.limit < 1)
        return err_fail(&ctx->err, EXIT_USAGE, "--limit must be at least 1");
    struct ci_provider p;
    if (ci_open_provider(ctx, ops, NULL, &p) < 0)
        return ctx->err.code;
    struct ci_runset s = { 0 };
    int code = EXIT_OK;
    if (ci_list_runs(&p, &f, (size_t)list_opts.limit, &s, &ctx->err) < 0)
        code = ctx->err.code;
    else
        ci_view_list(ctx, &p, &s);
    ci_runset_release(&s);
    ci_provider_close(&p);
    return code;
}
