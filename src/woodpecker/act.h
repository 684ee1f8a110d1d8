/*
 * woodpecker/act: the write operations of ci/provider.h (`act`,
 * `describe`) for Woodpecker, an adapter over woodpecker/write.h, which
 * keeps its guarantees: a POST is never sent twice by accident, and a lost
 * answer is settled by reading the state back.
 *
 * The neutral actions map onto Woodpecker's writes one to one, except:
 *   - CI_ACT_RESTART_FAILED: Woodpecker restarts whole pipelines, not
 *     single steps: EXIT_USAGE (wp_act_supported() in woodpecker/provider.h,
 *     which needs no server);
 *   - CI_ACT_RUN is a manual pipeline (WP_CREATE) on req->branch (NULL:
 *     the repo's default branch) with req->vars ("KEY=VALUE") as its
 *     variables object; req->workflow is GitHub's and is ignored.
 * Before either operation, GET /api/repos/{id}/permissions: no push ->
 * EXIT_REFUSED naming it, nothing sent (a server that cannot say lets
 * the write answer).
 *
 * The result (struct ci_act_result): run_id the pipeline made (restart,
 * run) or acted on; attempt 1 (Woodpecker has no attempts); status as
 * answered or read back (kept on failure too, when it was read: it says
 * why); recovered and sends as write.h counts them; `what` the progress
 * sentence ("restarted #2 as #6", "started #9 on main", "approved #3",
 * "cancel of #4 accepted"; "" for decline, whose result line says it).
 * A manual run that no workflow accepts (204 Pipeline-Filtered) is
 * EXIT_NOT_FOUND with status "filtered".
 */
#ifndef HOMELAB_WP_ACT_H
#define HOMELAB_WP_ACT_H

#include <jansson.h>

#include "ci/provider.h"
#include "woodpecker/client.h"
#include "woodpecker/model.h"
#include "woodpecker/write.h"

/*
 * The write req asks for, into *w (zeroed first). CI_ACT_RUN: the branch
 * is req->branch, else repo's default branch; the variables object is new in
 * *vars (the caller releases it with json_decref; NULL for the others)
 * and borrowed by w. Errors (EXIT_USAGE): an action Woodpecker lacks, a
 * run with no branch, a variable without "KEY=" (the verbs check the last
 * two first, naming their flags).
 */
int wp_write_from_req(const struct ci_act_req *req, const struct wp_repo *repo,
                      struct wp_write *w, json_t **vars, struct err *e);

/* Fills *out (zeroed first) from a write wp_write_send() handled. */
void wp_act_result(const struct wp_write *w, struct ci_act_result *out);

/* `act` and `describe` of ci/provider.h on an open client and repo. */
int wp_act_send(struct wp_client *c, const struct wp_repo *repo, const struct ci_act_req *req,
                struct ci_act_result *out, struct err *e);
int wp_act_request(struct wp_client *c, const struct wp_repo *repo,
                   const struct ci_act_req *req, struct buf *path, struct buf *body,
                   struct err *e);

#endif
