/*
 * ci_view: how the ci verbs show the provider-neutral model (ci/model.h),
 * whichever provider filled it: the run line, the run -> job -> step
 * tree, JSON, log lines (timestamps, sanitising, tail), and the failure
 * report (the failing job and step, the last lines of that step's log,
 * then the "full log:" command). Nothing here knows a provider: what
 * differs comes from the model (the provider's own status words) and
 * from struct ci_provider.
 */
#ifndef HOMELAB_CI_VIEW_H
#define HOMELAB_CI_VIEW_H

#include <stdio.h>

#include <jansson.h>

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "core/buf.h"
#include "core/linering.h"
#include "core/proc.h"
#include "core/term.h"

/* The provider's word, "unknown" when it has none. */
const char *ci_view_word(const char *s);
/* The run's workflow name; "pipeline" for a provider without one (Woodpecker). */
const char *ci_view_workflow(const struct ci_run *r);
/* The colour of a neutral state. */
enum term_color ci_view_tone(enum ci_state s);
/* "CI #12 failure push main 3cc04da (run 30000000301, attempt 2)" */
void ci_view_run_line(const struct ci_run *r, struct buf *out);
/* The jobs and steps of a run, indented, one line each. */
void ci_view_tree(const struct ci_run *r, int color, struct buf *out);
json_t *ci_view_run_json(const struct ci_run *r);
json_t *ci_view_runs_json(const struct ci_runset *s);
/* "success", "failure", "needs_person", "timeout", "not_found", "error". */
const char *ci_view_verdict_word(int code);

/* The pipeline layout (ci/provider.h CI_LAYOUT_PIPELINE), DESIGN.md's
 * Woodpecker contract: "#42 failure push main 9fceb02 1m57s Fix flaky
 * test"; the job/step tree with durations, exit codes and errors; the
 * pipeline as JSON (workflows and steps when loaded). */
void ci_view_pipeline_line(const struct ci_run *r, long long now, struct buf *out);
void ci_view_pipeline_tree(const struct ci_run *r, long long now, int color, struct buf *out);
json_t *ci_view_pipeline_json(const struct ci_run *r);

/* The pipeline layout's step changes (`ci watch` and `ship` follow one
 * run): each step of `cur` whose status word differs from the same step of
 * `old` (by position, when `old` is the same run; NULL or another run:
 * every step), except one that first shows up not started yet (pending,
 * or waiting for a person), goes to `each` in job and step order. */
void ci_view_step_changes(const struct ci_run *old, const struct ci_run *cur,
                          void (*each)(void *ctx, const struct ci_job *j,
                                       const struct ci_step *st),
                          void *ctx);

/* `ci status`: the target's runs, in the provider's layout: a line a run
 * on stdout, on a terminal each run's tree on stderr; or one JSON document. */
void ci_view_status(struct cmd_ctx *ctx, const struct ci_provider *p, const struct ci_target *t,
                    const struct ci_runset *s);
/* `ci list`: a table (pipelines) or a line a run; or one JSON array. */
void ci_view_list(struct cmd_ctx *ctx, const struct ci_provider *p, const struct ci_runset *s);

/* `ci logs`, in the provider's layout (DESIGN.md). The name of a log in
 * headers and messages, escaped: "workflow/step" (PIPELINE); "Workflow /
 * job / step", or "Workflow / job" for a job's whole log (RUNS). */
void ci_view_log_label(const struct ci_provider *p, const struct ci_run *r,
                       const struct ci_job *j, const struct ci_step *st, struct buf *out);
/* The header line above a log: PIPELINE "==> LABEL failure exit 2 40s
 * <==" (the step's state, exit code, duration and error; a blank line
 * before it unless `first`, as `tail` puts between files); RUNS "==>
 * LABEL <==". */
void ci_view_log_header(const struct ci_provider *p, const char *label, const struct ci_job *j,
                        const struct ci_step *st, int color, int first, struct buf *out);
/* A run as messages name it: "pipeline #42" (PIPELINE), "CI '#30000000201'" (RUNS). */
void ci_view_run_name(const struct ci_provider *p, const struct ci_run *r, struct buf *out);

/* The runs of a target (one for #ID); 0 with s->n == 0 when none yet.
 * *changed = 0: nothing changed since the last call, s left as it was. */
int ci_view_read_runs(struct ci_provider *p, const struct ci_target *t,
                      const struct ci_filter *f, struct ci_runset *s, int *changed,
                      struct err *e);
/* The target's runs with their jobs (read only for runs that came
 * without); -1 when that fails or the provider has none for it (its
 * no_runs words, EXIT_NOT_FOUND), with ctx->err saying why. */
int ci_view_read_target(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
                        const struct ci_filter *f, struct ci_runset *s);
int ci_view_load_all_jobs(struct ci_provider *p, struct ci_runset *s, struct err *e);

/* Log lines on their way to a FILE: made safe, timestamps stripped unless
 * asked, and (tail >= 0) only the last `tail` kept until ci_lines_flush. */
struct ci_lines {
    int timestamps, raw;
    struct line_ring ring;  /* the tail, when tailing */
    int tailing;
    FILE *to;
    long long printed;
    long long skip;         /* lines to skip (--follow: already printed) */
    long long seen;
    struct buf tmp;
};
void ci_lines_init(struct ci_lines *L, FILE *to, long tail, int timestamps, int raw);
/* A ci_log_sink callback; ctx is a struct ci_lines. */
int ci_lines_on_line(void *ctx, const char *line, size_t len, double ts, size_t text);
void ci_lines_flush(struct ci_lines *L, const char *indent);
void ci_lines_release(struct ci_lines *L);

/* The last `n` lines of step st's log (a provider with numbered entries:
 * Woodpecker) rendered as ci logs shows them (ci/logrender.h; keep_color:
 * colours kept, else dropped), appended to `lines`; a log that stayed empty
 * adds none. 0, or -1 with e filled when the log could not be read. */
int ci_view_step_tail(struct ci_provider *p, const struct ci_run *r, const struct ci_step *st,
                      size_t n, int keep_color, struct strvec *lines, struct err *e);

/* A failure report's line for failed step st of job j, "failed: JOB/STEP
 * (STATE, exit code N)[: ERROR]", appended to `out`, then its log's last
 * `n` lines read into `lines` as ci_view_step_tail does (same return). The
 * one format ci watch's and ship's reports share. */
int ci_view_failed_step(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                        const struct ci_step *st, size_t n, int keep_color, struct strvec *lines,
                        struct buf *out, struct err *e);

/* Whether a failure report names this step: it failed, and was not
 * "canceled" (something else stopped it; a declined step is reported: the
 * person's "no" is the failure). The model files both as CI_CANCELLED. */
int ci_view_step_reported(const struct ci_step *st);
/* Appends each tail line to `out` indented by two spaces; returns them as
 * a JSON array (a failure report's "log_tail"). */
json_t *ci_view_tail_lines(const struct strvec *lines, struct buf *out);

/* On stderr, for every failed run: the failing job and step, the last
 * `log_lines` lines of that step's log, the "full log:" command (with the
 * flags that chose this repo and server, ci_hint_flags) and the run's web
 * page ("view: URL"). */
void ci_view_failure_report(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                            long log_lines);

#endif
