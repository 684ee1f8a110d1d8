/*
 * logread: a Woodpecker step's stored log, read with its own retry policy.
 */
#ifndef HOMELAB_WP_LOGREAD_H
#define HOMELAB_WP_LOGREAD_H

#include <stddef.h>

#include "core/err.h"
#include "core/proc.h"
#include "core/buf.h"
#include "woodpecker/client.h"
#include "woodpecker/logs.h"

/*
 * Reading a step's stored log, GET /api/repos/{id}/logs/{n}/{step_id},
 * entry by entry as the body arrives: the body is never held, so memory
 * does not grow with the log.
 *
 * Retry policy. An empty answer (an empty body, `null` or `[]`) is retried
 * `empty_attempts` times in all, with backoff (the endpoint is known to
 * answer empty bodies intermittently; a step that printed nothing looks the
 * same, so this stays short). A transfer that fails or is cut (reset, 5xx,
 * truncated or invalid JSON) is retried with backoff until the client's
 * retry budget is spent; entries already delivered are not delivered
 * again, so a retry resumes where the cut happened. 401/403 (EXIT_REFUSED)
 * and 404 (EXIT_NOT_FOUND: no such step in that pipeline) are final.
 *
 * Size cap: a body larger than max_bytes is refused (EXIT_UNAVAILABLE) and
 * not retried: before any entry is delivered when the server announces its
 * length, else as soon as the count passes the cap (entries before that
 * point have been delivered). The default, WP_LOG_MAX_BYTES (256 MiB of
 * JSON, about 190 MB of log text), can be lowered with the environment
 * variable HOMELAB_MAX_LOG (bytes), which the tests use.
 *
 * on_entry is called once per entry in body order (the entry is borrowed);
 * on_chunk, when set, after each piece of body was decoded (a good moment
 * to flush output). Either returning non-zero stops the read: -1 with e
 * left as the callback filled it (or EXIT_FAILED "stopped"). A SIGINT or
 * SIGTERM caught by term_catch_signals() stops it with EXIT_INTERRUPTED.
 */
#define WP_LOG_MAX_BYTES (256ull << 20)

struct wp_log_read {
    log_entry_fn *on_entry;
    int (*on_chunk)(void *ctx);
    void *ctx;
    unsigned long long max_bytes; /* 0 = WP_LOG_MAX_BYTES or $HOMELAB_MAX_LOG */
    int empty_attempts;           /* 0 = 4 */
    /* filled in */
    long long entries;            /* entries delivered, over all attempts */
    unsigned long long bytes;     /* body bytes of the last attempt */
};

/* Returns 1 when entries were delivered, 0 when the log stayed empty, -1 on error. */
int wp_log_read(struct wp_client *c, long long repo_id, long long number, long long step_id,
                struct wp_log_read *rd, struct err *e);

/* The size cap wp_log_read() applies when max_bytes is 0. */
unsigned long long wp_log_max_bytes(void);

#endif
