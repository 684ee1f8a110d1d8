/*
 * logstream: the live log of one running step, read from Woodpecker's log
 * stream, GET /api/stream/logs/{repo id}/{pipeline number}/{step id}.
 *
 * Each SSE `message` carries one log entry (the JSON of woodpecker/logs.h)
 * with an event id; the id of the last message handled is kept so that
 * the next wp_logstream_open() resumes after it (Last-Event-ID: the
 * server skips what it sent). The server ends a log in band: an `eof`
 * event, or an `error` event whose data is "eof" (servers before v3.12);
 * an `error` "step not running (anymore)" means the step is not (or no
 * longer) streamed; any other `error` is kept as text for the caller
 * (sanitized, core/sanitize.h, and cut on a character boundary).
 * These states end the connection; `eof` and `not_running` are sticky
 * across connections, `messages` and `error` are per connection.
 *
 * A message whose entry does not decode is skipped (the stored log still
 * has that line). Each decoded entry goes to on_entry (borrowed, valid
 * during the call); returning non-zero ends the connection. after_feed,
 * when set, runs after each piece of the stream was parsed (to flush
 * output) and ends the connection when it returns non-zero.
 *
 * This is only the protocol: when to reopen, when to give up on the stream
 * and read the stored log instead stays with the caller.
 */
#ifndef HOMELAB_WP_LOGSTREAM_H
#define HOMELAB_WP_LOGSTREAM_H

#include "core/buf.h"
#include "core/err.h"
#include "woodpecker/client.h"
#include "woodpecker/logs.h"
#include "woodpecker/stream.h"

struct wp_logstream {
    struct wp_stream ws;    /* the connection (woodpecker/stream.h) */
    struct buf data;        /* the decoded entry of one message */
    char last_id[32];       /* the id of the last message handled; "" = from the start */
    int messages;           /* messages on this connection */
    int eof;                /* the server ended the log (sticky) */
    int not_running;        /* "step not running (anymore)" (sticky) */
    char error[200];        /* another in-band error on this connection, "" = none */
    log_entry_fn *on_entry;
    int (*after_feed)(void *ud);
    void *ud;               /* given to on_entry and after_feed */
};

/* A log stream not yet opened, reading from the start. */
void wp_logstream_init(struct wp_logstream *ls, log_entry_fn *on_entry,
                       int (*after_feed)(void *ud), void *ud);
/* Closes the connection, if open, and frees what the stream holds. */
void wp_logstream_release(struct wp_logstream *ls);

/*
 * Opens the live log of step `step_id` of pipeline `number` of repo
 * `repo_id`, resuming after ls->last_id. Clears `messages` and `error`.
 * 0 opened (ls->ws.open = 1), -1 could not connect (e filled).
 */
int wp_logstream_open(struct wp_client *c, struct wp_logstream *ls, long long repo_id,
                      long long number, long long step_id, struct err *e);
/* Waits at most timeout_ms; 1 once the connection ended (see above why). */
int wp_logstream_poll(struct wp_logstream *ls, int timeout_ms);
void wp_logstream_close(struct wp_logstream *ls);
/*
 * One event of the stream, as the connection's SSE parser hands it over
 * (public so the decoding can be tested without a server). Returns
 * non-zero when the event ends the connection: eof, error, or on_entry's
 * non-zero result.
 */
int wp_logstream_event(struct wp_logstream *ls, const struct sse_event *ev);
/* Forgets the last id: the next open reads the log from its start (new
 * step ids after an approval number their messages anew). */
void wp_logstream_restart(struct wp_logstream *ls);

#endif
