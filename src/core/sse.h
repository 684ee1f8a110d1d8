/*
 * sse: an incremental parser for Server-Sent Events (text/event-stream),
 * following the WHATWG HTML "event stream interpretation" rules.
 *
 * Feed the body in chunks of any size as it arrives; the parser calls
 * back once per dispatched event, and once per comment line. Splitting
 * the same bytes differently gives the same callbacks.
 *
 * The rules it follows:
 *   - lines end in CRLF, LF or CR (a CRLF split across chunks counts once);
 *     one UTF-8 byte order mark at the very start of the stream is skipped;
 *   - "name: value" sets field `name`; one space after the colon is
 *     removed; a line without a colon is a field with an empty value; a
 *     line starting with ':' is a comment (the server's ": ping");
 *   - `data` lines are joined with '\n'; `event` sets the type (default
 *     "message"); `id` sets the last event id unless it contains NUL, and
 *     the id persists across events until changed (send it back as
 *     Last-Event-ID when reconnecting); `retry` with only ASCII digits
 *     sets retry_ms; other fields are ignored;
 *   - an empty line dispatches the event; when no data line was seen
 *     nothing is dispatched (but an id seen still becomes the last id);
 *   - an event cut off by the end of the stream is never dispatched.
 * Bytes are passed through as they are: invalid UTF-8 is not replaced.
 *
 * A size cap bounds the memory a peer can make us use: a line, or the
 * joined data of one event, longer than `max_event` bytes is an error.
 */
#ifndef HOMELAB_SSE_H
#define HOMELAB_SSE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define SSE_DEFAULT_MAX_EVENT (16u << 20)

struct sse_event {
    const char *type; /* "message" unless an event field said otherwise */
    const char *data; /* data lines joined with '\n', NUL-terminated */
    size_t data_len;  /* data may itself contain NUL bytes */
    const char *id;   /* the last event id, "" when none was ever set */
};

/*
 * Callbacks get the `ctx` given to sse_init(). Everything they are handed
 * is borrowed and valid only during the call. Returning non-zero stops
 * parsing; sse_feed() returns that value.
 */
typedef int sse_event_fn(void *ctx, const struct sse_event *ev);
/* A comment line: the text after ':' (leading space kept), not NUL-terminated. */
typedef int sse_comment_fn(void *ctx, const char *text, size_t len);

struct sse_parser {
    sse_event_fn *on_event;
    sse_comment_fn *on_comment; /* may be NULL */
    void *ctx;
    size_t max_event;
    long long retry_ms;     /* from the last valid retry field, -1 if none */
    struct buf last_id;     /* the last event id (persists across events) */
    /* state of the event being assembled */
    struct buf line;        /* an unfinished line carried between chunks */
    struct buf data;
    struct buf type;
    struct buf id;          /* the id buffer; becomes last_id on dispatch */
    int bom_seen;           /* bytes of a leading BOM matched, 3 = done */
    int after_cr;           /* the last byte fed was CR: skip one LF */
    int failed;
};

/* max_event 0 means SSE_DEFAULT_MAX_EVENT. on_comment may be NULL. */
void sse_init(struct sse_parser *p, size_t max_event, sse_event_fn *on_event,
              sse_comment_fn *on_comment, void *ctx);
void sse_release(struct sse_parser *p);

/*
 * Starts a new stream (after a reconnect): forgets any half-received
 * event and line, expects a BOM again, and keeps last_id and retry_ms.
 */
void sse_restart(struct sse_parser *p);

/*
 * Parses data[0..len). Returns 0 when all of it was consumed; the
 * non-zero value of a callback that stopped parsing (the rest of the
 * chunk is dropped: call sse_restart() before feeding that stream
 * again); or -1 with `e` filled (EXIT_UNAVAILABLE) when an event exceeds
 * the cap, after which every feed fails until sse_restart().
 */
int sse_feed(struct sse_parser *p, const char *data, size_t len, struct err *e);

#endif
