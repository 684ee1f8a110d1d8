/* What every verb shares at run time (see cmd.h). */
#include "cmd/cmd.h"

double cmd_timeout(const struct cmd_ctx *ctx)
{
    return ctx->g.timeout > 0 ? ctx->g.timeout : ctx->cmd->default_timeout;
}
