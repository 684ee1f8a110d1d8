/*
 * ci_follow: `ci watch` over any provider (ci/provider.h): follows the
 * runs of a commit (or one run, '#N') to the verdict, with the three
 * output modes and the failure report, in the provider's layout
 * (DESIGN.md). Exit codes as DESIGN.md says: the verdict (0, 1, 4), 3 on
 * --timeout, 5 when no run appeared within the appear timeout, 6
 * unavailable, 130 interrupted; with --json the last line is always a
 * result line.
 */
#ifndef HOMELAB_CI_FOLLOW_H
#define HOMELAB_CI_FOLLOW_H

#include <jansson.h>

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/cmd.h"

/* A run the watch must see at `attempt` or later: a write verb follows
 * the re-run it just asked for, and until the server's reads show the
 * new attempt, a read of an older one is stale news, not a verdict (the
 * runs layout: a Woodpecker restart is a new run). */
struct ci_attempt_floor {
    long long run_id;
    int attempt;
};

struct ci_follow_spec {
    const struct ci_filter *filter; /* which runs of the commit count */
    double appear_timeout;          /* seconds with no run before exit 5; < 0: the
                                     * provider's default (ops->appear_timeout) */
    int wait_approval;              /* a run waiting for a person is not a verdict */
    long log_lines;                 /* per failing step in the report */
    const json_t *extra;            /* fields merged into the JSON result line, or NULL */
    const struct ci_attempt_floor *floors; /* may be NULL */
    size_t nfloors;
};

/* --timeout counts from when p was opened (p->deadline), when that was
 * earlier than this call. */
int ci_follow(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
              const struct ci_follow_spec *spec);

/* The end of a watch that ended while the provider was opened (exit
 * `code`, ctx->err): when --timeout ran out (the repo lookup took it
 * all), the error says no run appeared within it, in the provider's
 * layout's words (DESIGN: not a network error); then the JSON result. */
void ci_follow_unopened(struct cmd_ctx *ctx, const struct ci_provider_ops *ops,
                        const struct ci_target *t, int code, const json_t *extra);

/* With --json, the result line of a watch that ended without a verdict
 * (also one that ended before it began, e.g. while the provider was
 * opened): status "interrupted", "unavailable", "not-found" or the last
 * one seen; `last` (or NULL) gives "number" and that status; ctx->err's
 * message is its "error"; `extra` is merged in. Nothing in other modes. */
void ci_follow_json_undecided(struct cmd_ctx *ctx, int code, const struct ci_run *last,
                              const json_t *extra);

#endif
