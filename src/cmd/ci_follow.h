/*
 * ci_follow: `ci watch` over any provider (ci/provider.h): follows the
 * runs of a commit (or one run, '#ID') to the verdict, with the three
 * output modes and the failure report. Exit codes as DESIGN.md says:
 * the verdict (0, 1, 4), 3 on --timeout, 5 when no run appeared within
 * spec->appear_timeout, 6 unavailable, 130 interrupted.
 */
#ifndef HOMELAB_CI_FOLLOW_H
#define HOMELAB_CI_FOLLOW_H

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/cmd.h"

struct ci_follow_spec {
    const struct ci_filter *filter; /* which runs of the commit count */
    double appear_timeout;          /* seconds with no run before exit 5 */
    int wait_approval;              /* a run waiting for a person is not a verdict */
    long log_lines;                 /* per failing step in the report */
    const json_t *extra;            /* fields merged into the JSON result line, or NULL */
};

/* p->deadline is set to the end of --timeout. When no run appeared in
 * time, the provider's no_runs op says so (" within 600s" appended). */
int ci_follow(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
              const struct ci_follow_spec *spec);

#endif
