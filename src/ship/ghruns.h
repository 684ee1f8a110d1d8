/*
 * ghruns: the verdict over a commit's GitHub Actions workflow runs, for a
 * GitHub build stage of `ship`. Pure: no I/O.
 *
 * The rule (the GitHub Actions reference, section 3.4): keep the runs of
 * the stage's event (all when none is set); per workflow keep the newest
 * run (a re-run keeps its id and shows its latest attempt); then any run
 * completed failure, timed_out, startup_failure or cancelled → failed;
 * else action_required, or waiting with a reviewer → needs a person; else
 * anything not completed, or completed stale/unknown → pending; else at
 * least one run → passed (success, neutral, skipped).
 */
#ifndef HOMELAB_SHIP_GHRUNS_H
#define HOMELAB_SHIP_GHRUNS_H

#include <jansson.h>
#include <stddef.h>

enum gh_verdict {
    GH_NONE,     /* no run yet */
    GH_PENDING,
    GH_PASSED,
    GH_FAILED,
    GH_NEEDS_PERSON,
};

struct gh_summary {
    enum gh_verdict verdict;
    size_t runs;            /* runs kept */
    long long decisive_id;  /* the failed or blocking run, else the newest kept */
    long long waiting_id;   /* a kept run in status waiting, 0 = none */
};

/*
 * Classifies the `workflow_runs` array (borrowed) of
 * GET /repos/{o}/{r}/actions/runs?head_sha=SHA. `event` NULL = any;
 * `reviewers_waiting` says whether the waiting run (waiting_id, when the
 * caller asked pending_deployments) waits for a reviewer.
 */
void gh_runs_classify(json_t *runs, const char *event, int reviewers_waiting,
                      struct gh_summary *out);

/* The kept run with this id, or NULL (borrowed). */
json_t *gh_runs_find(json_t *runs, long long id);

#endif
