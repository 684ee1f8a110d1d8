/*
 * github/model: GitHub Actions JSON (workflow runs, jobs, pending
 * deployments) into the neutral model of ci/model.h. Pure: no I/O.
 * Hostile JSON: missing or mistyped fields become 0/NULL; unknown status
 * words become CI_UNKNOWN (not final); control characters in strings
 * become '?'.
 */
#ifndef HOMELAB_GH_MODEL_H
#define HOMELAB_GH_MODEL_H

#include <jansson.h>

#include "ci/model.h"

/* The neutral class of a status and conclusion (conclusion NULL = none). */
enum ci_state gh_state_class(const char *status, const char *conclusion);

/* One workflow-run object; its workflow_id goes to *workflow_id (may be NULL). */
void gh_run_from_json(json_t *j, struct ci_run *r, long long *workflow_id);

/*
 * The runs of a list answer ({workflow_runs: [...]}) that count: event
 * `event` (NULL or "any" = all), grouped by (workflow_id, event) keeping the
 * newest created_at. Replaces *out.
 */
void gh_runs_from_list(json_t *list, const char *event, struct ci_runset *out);

/* The jobs of a jobs answer ({jobs: [...]}) into r (replacing its jobs). */
void gh_jobs_from_json(json_t *list, struct ci_run *r);

/*
 * Applies a pending_deployments answer to a waiting run: a deployment
 * whose reviewers are listed needs a person (CI_NEEDS_PERSON, waiting_for
 * "review of ENV"); else a wait timer (CI_WAITING, wait_until its end).
 */
void gh_apply_pending(json_t *pending, struct ci_run *r);

#endif
