/*
 * ship_stage: one stage of `ship`, run and recorded.
 *
 * A stage's record (struct ship_run) is what `ship` reports for it: status
 * word, exit code, start and end, and what it followed. The Woodpecker CI
 * stage lives in ship_wp.c (it matches by commit or by a variable, which
 * only the pipeline list shows); the GitHub build stage in ship_gh.c, on
 * the GitHub provider; what the two share is in ship_stage.c. The rollout
 * stage is `deploy wait` itself (deploy_stage_wait()).
 */
#ifndef HOMELAB_CMD_SHIP_STAGE_H
#define HOMELAB_CMD_SHIP_STAGE_H

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/term.h"
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
 * What both stage followers (ship_wp.c, ship_gh.c) keep besides their
 * provider's state: the stage, the commit, the record they fill, and the
 * terminal they report on (quiet for `ship status`, which prints the record
 * itself). ship_follow_init() starts the clock (started, last_ok: the last
 * answer, for the outage limit); ship_follow_release() frees the terminal
 * state. Both followers embed it as their first member `fl`.
 */
struct ship_follow {
    struct cmd_ctx *ctx;
    const struct ship_stage *st;
    const char *sha;
    struct ship_run *r;
    struct term term;
    struct term_plain plain;
    double started, last_ok;
    int quiet;
};

void ship_follow_init(struct ship_follow *f, struct cmd_ctx *ctx, const struct ship_stage *st,
                      const char *sha, struct ship_run *r, int quiet);
void ship_follow_release(struct ship_follow *f);

/*
 * The live view (a terminal, not quiet): ship_follow_draw() asks `frame`
 * for the stage's lines (now: clock_now(); elapsed: "1m02s" since the
 * start) and shows them (at most every 100 ms unless `force`);
 * ship_follow_done() shows the last frame and leaves the cursor below it.
 */
typedef void (*ship_frame_fn)(void *follower, struct buf *frame, double now,
                              const char *elapsed);
void ship_follow_draw(struct ship_follow *f, ship_frame_fn frame, void *follower, int force);
void ship_follow_done(struct ship_follow *f, ship_frame_fn frame, void *follower);

/*
 * The record of a stage `ship status` could not read: its exit code, the
 * code's name as status, "<that name>: <e's message>" as line. Returns
 * e->code.
 */
int ship_run_unreadable(struct ship_run *r, const struct err *e);

/*
 * The failure report of a stage: `out` (the text, released here) goes to
 * stderr unless the output is JSON; `details` (a new reference, stolen)
 * becomes r->report as {KEY: details}.
 */
void ship_follow_report(struct ship_follow *f, struct buf *out, const char *key,
                        json_t *details);

/* The record of a stage with nothing to follow yet: status "none", the
 * line from `fmt`. */
void ship_run_none(struct ship_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
