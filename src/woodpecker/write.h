/*
 * write: the pipeline writes of the Woodpecker API (restart, approve,
 * decline, cancel, manual pipeline) and the push-permission check, each
 * sent so that it takes effect at most once.
 *
 * Never act twice. A POST goes out once (http_post: no retry, a fresh
 * connection). When no answer arrives, or a 5xx/429 does (a proxy may have
 * lost the answer of a write that was applied), the state is read back to
 * learn whether the write took effect: a new pipeline with `parent` N
 * (restart), a new manual pipeline on the branch with the same variables
 * (create), the pipeline no longer blocked (approve, decline) or no longer
 * active (cancel). If it did, that is the result (`recovered` set), as if
 * the answer had arrived; if not, the POST is sent exactly once more.
 *
 * Errors (e filled, -1), chosen per DESIGN.md:
 *   - 404: GET /api/repos/{id}/permissions tells a missing push permission
 *     (EXIT_REFUSED, naming it: Woodpecker answers 404, never 403) from a
 *     missing pipeline (EXIT_NOT_FOUND);
 *   - 401 or 403: EXIT_REFUSED;
 *   - the server refused because of the pipeline's state (400, or the 500
 *     Woodpecker gives a decline of a pipeline that is not blocked):
 *     EXIT_FAILED, with the state read back: "not waiting for approval
 *     (status: running)", "already finished: killed", "#N is blocked:
 *     approve it instead";
 *   - no effect after the second send: EXIT_UNAVAILABLE.
 */
#ifndef HOMELAB_WP_WRITE_H
#define HOMELAB_WP_WRITE_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "woodpecker/client.h"
#include "woodpecker/model.h"

enum wp_action { WP_RESTART, WP_APPROVE, WP_DECLINE, WP_CANCEL, WP_CREATE };

struct wp_write {
    enum wp_action action;
    long long number;          /* the pipeline acted on; 0 for create */
    const char *branch;        /* create: the branch */
    const json_t *variables;   /* create: object of strings, or NULL (borrowed) */

    /* filled in by wp_write_send() */
    long long result_number;   /* restart/create: the new pipeline; else `number` */
    int filtered;              /* create: 204 Pipeline-Filtered, nothing created */
    int recovered;             /* the answer was lost; the state showed it took effect */
    int sends;                 /* POSTs sent: 1, or 2 after one without effect */
    char status[32];           /* the pipeline's status as answered or read back */
};

/* "restart", "approve", ... */
const char *wp_action_name(enum wp_action a);

/* The request the write sends: method is always POST; path and body (JSON
 * text, "" for none) are appended to the buffers. For --dry-run. */
void wp_write_request(long long repo_id, const struct wp_write *w, struct buf *path,
                      struct buf *body);

/* Sends it (see above). Returns 0 with the result fields set, or -1. */
int wp_write_send(struct wp_client *c, long long repo_id, const char *repo_name,
                  struct wp_write *w, struct err *e);

/*
 * GET /api/repos/{id}/permissions: 1 when the token's user may push, 0
 * when not, -1 when the server cannot say (an older server without the
 * endpoint, or an error: e filled, the caller may go on and let the write
 * answer).
 */
int wp_can_push(struct wp_client *c, long long repo_id, struct err *e);

#endif
