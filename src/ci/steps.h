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

#endif
