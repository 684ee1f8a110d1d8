/*
 * stages: what `ship` follows, from push to live, as a validated plan.
 *
 * ship.stages names the stages in order; each has a [stage "NAME"] section
 * (core/config reads both, from .homelab and the user's file). A stage with
 * `workload` is a rollout stage (`deploy wait --sha`); one with `provider`
 * is a CI stage: `match = commit` (the pipeline or runs of the commit, as
 * `ci watch`) or `match = variable NAME` (a Woodpecker pipeline whose
 * variable NAME names the commit by the image-tag token rule of
 * kube/image). Pure: no I/O. Strings are borrowed from the config.
 */
#ifndef HOMELAB_SHIP_STAGES_H
#define HOMELAB_SHIP_STAGES_H

#include <jansson.h>
#include <stddef.h>

#include "ci/model.h"
#include "core/config.h"
#include "core/err.h"

enum ship_kind { SHIP_CI, SHIP_LIVE };
enum ship_provider { SHIP_WOODPECKER, SHIP_GITHUB };
enum ship_match { SHIP_MATCH_COMMIT, SHIP_MATCH_VARIABLE };

#define SHIP_MAX_STAGES 16
#define SHIP_DEFAULT_APPEAR 600.0 /* a push-mirror and a queue add delay */

struct ship_stage {
    const char *name;
    enum ship_kind kind;
    /* CI stages */
    enum ship_provider provider;
    const char *repo;          /* OWNER/NAME in the provider */
    const char *event;         /* NULL = any event */
    double appear_timeout;     /* seconds */
    enum ship_match match;
    char variable[64];         /* for SHIP_MATCH_VARIABLE */
    /* rollout stages */
    const char *workload;      /* anything `deploy wait` takes */
    const char *container;     /* NULL = every container */
};

struct ship_plan {
    struct ship_stage stages[SHIP_MAX_STAGES];
    size_t n;
};

/*
 * Builds the plan from ship.stages and the stage sections. `default_repo`
 * (ci.repo, may be NULL) stands in for a Woodpecker stage without `repo`.
 * Returns 0, or -1 with EXIT_USAGE naming the stage and key; with no
 * stages at all, the message says so and ship_example_text() is the hint.
 */
int ship_plan_load(const struct config *c, const char *default_repo, struct ship_plan *p,
                   struct err *e);

/* An example .homelab, for the "no stages" message. */
const char *ship_example_text(void);

/*
 * Whether a Woodpecker pipeline (a list item or detail, JSON, borrowed)
 * belongs to the stage for commit `sha` (7-40 hex): by its commit, or by
 * its variable (a bare tag or an image reference, matched by the token
 * rule: IMAGE_TAG=3f9c2e1a and IMAGE_TAG=v1.2.0-4-g3f9c2e1 both name
 * 3f9c2e1a...; a pipeline for another tag never matches whatever its
 * commit), and by its event when the stage names one.
 */
int ship_wp_matches(const struct ship_stage *st, json_t *pipeline, const char *sha);
/* The same rule over a run of the model (its event, commit and vars). */
int ship_run_matches(const struct ship_stage *st, const struct ci_run *r, const char *sha);

#endif
