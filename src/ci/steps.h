/*
 * ci/steps: choosing the steps of a run that `ci logs` prints. Pure: it
 * looks only at a run with its jobs loaded (ci/model.h), so the rules are
 * the same whichever provider filled it.
 *
 * A step is named by its own name or as JOB/STEP. Names are matched
 * exactly (case matters, as in Woodpecker). A name can match several steps
 * (every Woodpecker workflow has its own `clone`): the caller then asks the
 * user to pick one of the matches, written JOB/STEP.
 *
 * Without a name the choice is the failing steps when the run failed (the
 * same rule as `ci watch`'s failure report: a step that failed (CI_FAILURE:
 * failed, errored, killed) in a job that failed; a step with Woodpecker's
 * `failure: ignore` fails without failing its job and is left out;
 * cancelled steps never ran), else every step in run order (jobs, then
 * steps, as the provider listed them).
 */
#ifndef HOMELAB_CI_STEPS_H
#define HOMELAB_CI_STEPS_H

#include <stddef.h>

#include "ci/model.h"
#include "core/buf.h"
#include "core/err.h"

/* A step by position in a run: r->jobs[job].steps[step]. */
struct ci_step_ref {
    size_t job, step;
};

struct ci_step_list {
    struct ci_step_ref *v;
    size_t n, alloc;
};

#define CI_STEP_LIST_INIT {0}

void ci_step_list_release(struct ci_step_list *l);

/* Appends the steps matching `name` (STEP or JOB/STEP); returns how many. */
size_t ci_steps_named(const struct ci_run *r, const char *name, struct ci_step_list *out);

/* Appends the default choice (above); returns how many. */
size_t ci_steps_default(const struct ci_run *r, struct ci_step_list *out);

/* Appends "job/step" for each step listed, separated by ", ". */
void ci_steps_describe(const struct ci_run *r, const struct ci_step_list *l, struct buf *out);

/* Appends "job/step" for every step of the run, separated by ", ". */
void ci_steps_describe_all(const struct ci_run *r, struct buf *out);

/* 0 and the step's indexes, or -1 when r has no step job/step. */
int ci_step_find(const struct ci_run *r, const char *job, const char *step, size_t *ji,
                 size_t *si);

/*
 * Whether a step has (or will have) a log: it started, or it is in a state
 * only a started step reaches. Pending, waiting, needing a person, skipped
 * and cancelled steps that never started have none.
 */
int ci_step_ran(const struct ci_step *st);

/* Whether a step that has not started may still start: pending, waiting,
 * or waiting for a person (an approval). */
int ci_step_waiting(const struct ci_step *st);

/*
 * ---- which logs `ci logs` prints: a provider's choose_logs op ----
 *
 * The two providers name logs differently, so each has its own rule; both
 * are here, pure, over the model of the target's runs (jobs loaded).
 */

/* --job and --step as typed; NULL when not given. */
struct ci_log_query {
    const char *job, *step;
};

/* One log to print: s->runs[run].jobs[job]'s step `step`, or the whole
 * job's log when step < 0. */
struct ci_log_pick {
    size_t run, job;
    long step;
};

struct ci_log_choice {
    struct ci_log_pick *v;
    size_t n, alloc;
    /* When a name was ambiguous: a message for stderr, shown before the
     * error after "homelab: " (the candidates, a line each, each line
     * ending in '\n', names escaped); "" when none. */
    struct buf before;
};

void ci_log_choice_init(struct ci_log_choice *c);
void ci_log_choice_release(struct ci_log_choice *c);

/*
 * Woodpecker's rule (one run, a log per step): --step STEP or
 * WORKFLOW/STEP (ci_steps_named), --job WORKFLOW for that workflow's
 * steps (with --step: WORKFLOW/STEP); an unknown name, or one that names
 * several steps, is EXIT_USAGE with the candidates in the hint; a run
 * without steps is EXIT_NOT_FOUND. Without a name: ci_steps_default.
 * Reads s->runs[0] only.
 */
int ci_logs_choose_steps(const struct ci_runset *s, const struct ci_log_query *q,
                         struct ci_log_choice *out, struct err *e);

/*
 * GitHub's rule (several runs per commit, a log per job): --job JOB and
 * --step STEP, or --step "JOB/STEP" resolved by trying every split at a
 * '/' (job names of reusable workflows hold " / "); the name must match
 * exactly one job or step of the runs: none is EXIT_NOT_FOUND, several is
 * EXIT_USAGE with the candidates in out->before. --job alone is that
 * job's whole log. Without a name: the first failing job of each failed
 * run, its failing step (the whole job when no step failed); when no run
 * failed, every job's whole log; no job at all is EXIT_NOT_FOUND.
 */
int ci_logs_choose_jobs(const struct ci_runset *s, const struct ci_log_query *q,
                        struct ci_log_choice *out, struct err *e);

#endif
