/*
 * ci_follow_layout: what the one follow loop of `ci watch`
 * (cmd/ci_follow.c) asks of a provider's layout (ci/provider.h, enum
 * ci_layout). Private to the three ci_follow files.
 *
 * The loop owns the order of things and everything the two have alike:
 * signals, --timeout and --appear-timeout, the verdict (ci_verdict over
 * the runs as last read), the live view's frame around the runs, the
 * outage line, the failure report's own time budget and the result of a
 * watch that ended without a verdict. A layout owns its read policy and
 * its reporter, because both are documented contracts that differ:
 *   PIPELINE (cmd/ci_follow_pipeline.c) follows the one run of a commit:
 *     it reads that run when the provider's change feed hints it changed
 *     (or on a timer without one), and notices a restart;
 *   RUNS (cmd/ci_follow_runs.c) polls the commit's runs with conditional
 *     requests and reads their jobs when one changed.
 */
#ifndef HOMELAB_CI_FOLLOW_LAYOUT_H
#define HOMELAB_CI_FOLLOW_LAYOUT_H

#include "cmd/ci_follow.h"
#include "core/http.h"
#include "core/term.h"

struct follow_layout;

struct follow {
    struct cmd_ctx *ctx;
    struct ci_provider *p;
    struct http_client *http;   /* the provider's transport (outage line), or NULL */
    const struct ci_target *t;
    const struct ci_follow_spec *spec;
    const struct follow_layout *layout;
    void *impl;                 /* the layout's own state */

    struct ci_runset runs;      /* as last read (PIPELINE: none or the one run) */
    int confirmed;              /* runs came from a read, not a hint: a verdict counts */

    struct term term;
    struct term_plain plain;
    double started_at, deadline, appear_deadline;
    double appear_timeout;      /* seconds, the spec's or the provider's default */
    double outage_told;         /* the outage announced in plain/JSON mode */
    char timeout_text[32];      /* --timeout as "3s", "30m" */
};

/* What a turn did. */
enum follow_turn {
    FOLLOW_ERROR = -1,          /* the watch ends with ctx->err */
    FOLLOW_READ = 0,            /* waited and read what was due (or was interrupted) */
    FOLLOW_DEADLINE = 1,        /* --timeout passed before the read: time out now */
};

struct follow_layout {
    /* Allocates w->impl. */
    void (*start)(struct follow *w);
    /* One turn: wait as the read policy says (not before the first read)
     * and read what is due; a caught signal cuts the wait short and skips
     * the read. */
    enum follow_turn (*turn)(struct follow *w);
    /* The live view's lines for the runs (or for none yet). */
    void (*frame)(struct follow *w, double now, struct buf *out);
    /* --appear-timeout passed with no run: ctx->err set, its exit code. */
    int (*not_appeared)(struct follow *w);
    /* --timeout passed: ctx->err set, the exit code (3, or 6 when an
     * outage is why). */
    int (*timed_out)(struct follow *w);
    /* --timeout passed before the watch began (while the provider was
     * opened: the repo looked up): e set with EXIT_TIMEOUT, in the words
     * timed_out uses when no run was seen; `timeout` in seconds. */
    void (*timed_out_unopened)(const char *label, double timeout, struct err *e);
    /* Before the end: stop hearing from the provider (its feed); NULL:
     * nothing to stop. */
    void (*stop)(struct follow *w);
    /* The output at the end, on a verdict (0, 1, 4) or not. */
    void (*end)(struct follow *w, int code);
    void (*release)(struct follow *w);
};

extern const struct follow_layout follow_pipeline_layout;
extern const struct follow_layout follow_runs_layout;

/* Redraws the live view (a terminal), else tells an outage once on stderr. */
void follow_draw(struct follow *w, int force);

/* On a terminal: the live view's last frame, left on the screen. */
void follow_last_frame(struct follow *w);

/* With --json, the result line of a watch that ended without a verdict:
 * "status" says why (interrupted, unavailable, not-found) or is the last
 * one seen; "number" is `last`'s when not NULL. */
void follow_json_undecided(struct follow *w, int code, const struct ci_run *last);

/* Whether s shows a run at an attempt older than the spec's floor for it. */
int follow_stale(const struct follow *w, const struct ci_runset *s);

/* The run a PIPELINE watch follows, NULL before it appeared. */
static inline struct ci_run *follow_one(struct follow *w)
{
    return w->runs.n ? &w->runs.runs[0] : NULL;
}

#endif
