/*
 * ci_logs_pick: `ci logs` over any provider (ci/provider.h), given the
 * runs of the target with their jobs loaded. Which logs: --job JOB and
 * --step STEP, or --step "JOB/STEP" where every split at a '/' is tried
 * (job names of reusable workflows contain " / "); more than one match
 * lists the candidates and exits 2, none exits 5; with neither, the
 * failing step of each failed run, else every job, each under a header.
 * Lines go through ci_view's ci_lines (--tail, --timestamps, --raw,
 * sanitised); --follow re-reads the one picked log until its job ends and
 * prints only the new lines.
 */
#ifndef HOMELAB_CI_LOGS_PICK_H
#define HOMELAB_CI_LOGS_PICK_H

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/cmd.h"

/* Returns the exit code; `job` is --job (NULL = any). */
int ci_logs_print(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                  const char *job, const struct ci_logs_view *v);

#endif
