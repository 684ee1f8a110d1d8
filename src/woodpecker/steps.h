/*
 * steps: choosing the steps of a pipeline that `ci logs` prints. Pure: it
 * looks only at a loaded pipeline detail (wp_get_pipeline()).
 *
 * A step is named by its own name or as WORKFLOW/STEP. Names are matched
 * exactly (case matters, as in Woodpecker). A name can match several steps
 * (every workflow has its own `clone`): the caller then asks the user to
 * pick one of the matches, written WORKFLOW/STEP.
 *
 * Without a name the choice is the failing steps when the pipeline failed
 * (the same rule as `ci watch`'s failure report: a failed, errored or killed
 * step in a workflow that failed; a step with `failure: ignore` fails
 * without failing its workflow and is left out; canceled and declined steps
 * never ran), else every step in pipeline order (workflows by pid, steps by
 * pid, as the detail endpoint lists them).
 */
#ifndef HOMELAB_WP_STEPS_H
#define HOMELAB_WP_STEPS_H

#include <stddef.h>

#include "core/buf.h"
#include "woodpecker/model.h"

/* A step by position in a pipeline: p->workflows[wf].steps[step]. */
struct wp_step_ref {
    size_t wf, step;
};

struct wp_step_list {
    struct wp_step_ref *v;
    size_t n, alloc;
};

#define WP_STEP_LIST_INIT {0}

void wp_step_list_release(struct wp_step_list *l);

/* Appends the steps matching `name` (STEP or WORKFLOW/STEP); returns how many. */
size_t wp_steps_named(const struct wp_pipeline *p, const char *name, struct wp_step_list *out);

/* Appends the default choice (above); returns how many. */
size_t wp_steps_default(const struct wp_pipeline *p, struct wp_step_list *out);

/* Appends "wf/step" for each step listed, separated by ", ". */
void wp_steps_describe(const struct wp_pipeline *p, const struct wp_step_list *l,
                       struct buf *out);

/* Appends "wf/step" for every step of the pipeline, separated by ", ". */
void wp_steps_describe_all(const struct wp_pipeline *p, struct buf *out);

/*
 * Whether a step in this state has (or will have) a log: it started, or it
 * is in a state only a started step reaches. Pending, blocked, skipped,
 * canceled and declined steps that never started have none.
 */
int wp_step_ran(const struct wp_step *st);

/* Whether a step in this state may still start: pending, blocked or created. */
int wp_step_waiting(const struct wp_step *st);

#endif
