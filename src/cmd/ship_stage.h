/*
 * ship_stage: one stage of `ship`, run and recorded.
 *
 * A stage's record (struct ship_run) is what `ship` reports for it: status
 * word, exit code, start and end, and what it followed. The Woodpecker CI
 * stage lives in ship_wp.c (it matches by commit or by a variable, which
 * only the pipeline list shows); the GitHub build stage in ship_gh.c, on
 * the GitHub provider. The rollout stage is `deploy wait` itself
 * (deploy_stage_wait()).
 */
#ifndef HOMELAB_CMD_SHIP_STAGE_H
#define HOMELAB_CMD_SHIP_STAGE_H

#include <jansson.h>

#include "cmd/cmd.h"
#include "ship/stages.h"

struct ship_run {
    const struct ship_stage *st;
    char status[32];       /* "success", "failure", "never-appeared", "not-reached"... */
    int code;              /* exit code; -1 while not run */
    double start, end;     /* unix seconds (clock_wall()); 0 = not yet */
    long long number;      /* the pipeline followed, 0 = none */
    char url[512];         /* its web page */
    char line[300];        /* the state in a few words: "#812 running 1m02s" */
    char next[600];        /* the next command to run after a failure, "" = none */
    json_t *report;        /* failure details (JSON), NULL = none; owned */
};

/*
 * Follows a Woodpecker stage for `sha` until its verdict. The pipeline must
 * appear by `appear_deadline` (clock_now() time; exit 5 after), the stage
 * ends by `deadline` (exit 3). The newest matching pipeline is followed; a
 * newer match that appears while it runs replaces it; once it has
 * finished its verdict is final. Renders in ctx's mode (the stage name set
 * with term_set_stage()); prints the failure report (failing steps and
 * their log tails) on a failure. Returns the exit code; r is filled.
 */
int ship_wp_watch(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                  double appear_deadline, double deadline, struct ship_run *r);

/*
 * The stage's state now, once: prints "NAME: #N running 1m02s" (or the
 * JSON object) and fills r. Returns 0 when it could report, else the exit
 * code of the error (ctx->err filled).
 */
int ship_wp_status(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                   struct ship_run *r);

/*
 * The same two for a GitHub Actions build stage (ship_gh.c): the verdict
 * of `ci watch` over the commit's workflow runs, through the GitHub provider.
 */
int ship_gh_watch(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                  double appear_deadline, double deadline, struct ship_run *r);
int ship_gh_status(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                   struct ship_run *r);

#endif
