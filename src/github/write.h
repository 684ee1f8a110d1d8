/*
 * github/write: the write verbs on GitHub Actions behind ci/provider.h's
 * `act` and `describe` (section 8 of the GitHub Actions reference).
 *
 *   restart            POST /repos/R/actions/runs/ID/rerun             (201)
 *   restart --failed   POST .../runs/ID/rerun-failed-jobs              (201)
 *   cancel             POST .../runs/ID/cancel                         (202)
 *   approve            a run in action_required (a fork's pull request):
 *                      POST .../runs/ID/approve                        (201);
 *                      else the pending deployments the token may review:
 *                      POST .../runs/ID/pending_deployments
 *                      {"environment_ids":[…],"state":"approved",…}    (200)
 *   decline            the same review with "state":"rejected"; a fork's
 *                      run has no decline (EXIT_FAILED, saying so)
 *   run                POST .../actions/workflows/WF/dispatches
 *                      {"ref":B,"inputs":{…},"return_run_details":true}
 *                      (200 with the run id; a server without run details
 *                      answers 204, or refuses the field with a 4xx and
 *                      gets the request again without it)
 *
 * Never act twice: each POST goes out once (http_post). When no answer
 * arrives, or a 5xx does, the state is read back: the run's run_attempt
 * above the one before (re-run), its status completed (cancel), its
 * conclusion no longer action_required (approve), a new entry in
 * /runs/ID/approvals (reviews), a workflow_dispatch run of that workflow
 * and branch with an id above the newest before the request (run; looked
 * for during a few seconds, since GitHub creates it asynchronously). Took
 * effect: the result, `recovered` set. Not: sent exactly once more.
 *
 * Errors as ci/provider.h says: 403 naming the permission from
 * X-Accepted-GitHub-Permissions (else GitHub's reason: "This workflow run
 * cannot be rerun." is a state refusal, EXIT_FAILED); 404 EXIT_NOT_FOUND;
 * 409 (cancel of a finished run) EXIT_FAILED "already finished: success";
 * 422 from a dispatch to a workflow without a workflow_dispatch trigger,
 * or to a branch that does not exist, EXIT_NOT_FOUND; rate limits
 * EXIT_UNAVAILABLE (nothing was done).
 */
#ifndef HOMELAB_GH_WRITE_H
#define HOMELAB_GH_WRITE_H

#include "ci/provider.h"

int gh_act(struct ci_provider *p, const struct ci_act_req *req, struct ci_act_result *out,
           struct err *e);
int gh_act_describe(struct ci_provider *p, const struct ci_act_req *req, struct buf *path,
                    struct buf *body, struct err *e);

#endif
