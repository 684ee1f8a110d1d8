#include "cmd/cmd.h"

const struct opt ci_status_opts[] = { OPT_END };
const struct opt ci_list_opts[] = { OPT_END };

int cmd_ci_status(struct cmd_ctx *ctx)
{
    return err_set(&ctx->err, EXIT_FAILED, "not yet"), EXIT_FAILED;
}

int cmd_ci_list(struct cmd_ctx *ctx)
{
    return err_set(&ctx->err, EXIT_FAILED, "not yet"), EXIT_FAILED;
}
