/*
 * logs: Woodpecker step log entries, decoded as they arrive, and rendered
 * as terminal lines.
 *
 * GET /api/repos/{id}/logs/{n}/{step} answers a JSON array of entries
 *   {"id":5501,"step_id":902,"time":0,"line":0,"data":"KyBtYWtl","type":0}
 * where `data` is the base64 of one raw line (null or "" when empty), or
 * the body `null` when the step has no log. A step log can be 100 MB, so
 * the decoder never holds the body: it is fed the bytes as they arrive
 * (from a libcurl write callback), finds each complete array element by
 * tracking JSON strings, escapes and nesting, and parses only that
 * element. Memory stays at about one element, which is capped.
 *
 * The log stream (GET /api/stream/logs/...) carries the same entry JSON,
 * one per SSE message; log_entry_parse() decodes one.
 *
 * Rendering entries as terminal lines is ci/logrender.h's, over the
 * neutral entry (wp_log_entry_neutral()).
 *
 * Errors fill `e` with EXIT_UNAVAILABLE (a server that sends this is
 * broken or the transfer was cut) and a message naming the entry.
 */
#ifndef HOMELAB_WP_LOGS_H
#define HOMELAB_WP_LOGS_H

#include <stddef.h>

#include "ci/provider.h"
#include "core/buf.h"
#include "core/err.h"

enum log_type {
    LOG_STDOUT = 0,
    LOG_STDERR = 1,
    LOG_EXIT_CODE = 2,
    LOG_METADATA = 3,
    LOG_PROGRESS = 4,
};

struct log_entry {
    long long line;    /* 0-based line number within the step */
    long long time;    /* seconds since the step's log started */
    int type;          /* an enum log_type; others may appear in future */
    long long step_id;
    const char *data;  /* the raw line, decoded; NUL-terminated, may hold NULs */
    size_t len;
};

/* Per-element JSON cap: the server splits lines at 1 MiB of raw data. */
#define LOG_MAX_ELEMENT (4u << 20)

/*
 * Called once per entry, in body order. The entry and its data are
 * borrowed, valid only during the call. Return non-zero to stop.
 */
typedef int log_entry_fn(void *ctx, const struct log_entry *entry);

struct log_decoder {
    log_entry_fn *on_entry;
    void *ctx;
    size_t max_element;
    int state;          /* where in the body we are (see logs.c) */
    int literal;        /* bytes of a top-level "null" matched */
    int in_string;      /* element scan: inside a JSON string */
    int escaped;        /* ... right after a backslash in it */
    int depth;          /* ... nesting of {} and [] */
    struct buf element; /* an element cut by a chunk boundary */
    struct buf data;    /* the current entry's decoded data */
    long long entries;  /* entries decoded so far */
    unsigned long long bytes; /* body bytes fed so far */
    char failure[256];  /* the first error, repeated by later calls */
    int oversize;       /* failed on an entry over max_element: retrying cannot help */
};

/* max_element 0 means LOG_MAX_ELEMENT. */
void log_decoder_init(struct log_decoder *d, size_t max_element, log_entry_fn *on_entry,
                      void *ctx);
void log_decoder_release(struct log_decoder *d);

/*
 * Consumes the next piece of the body. Returns 0; 1 when the callback
 * asked to stop (later feeds are ignored and return 1 too); or -1 with
 * `e` filled on invalid JSON, an entry that is not a log entry, invalid
 * base64, or an element larger than the cap. After -1 every feed and
 * log_decoder_finish() fail with the same message, so a caller whose feed
 * runs inside a libcurl callback can report it from finish.
 */
int log_decoder_feed(struct log_decoder *d, const char *chunk, size_t len, struct err *e);

/*
 * Call when the body is complete. Returns 0 if it was a whole array (or
 * `null`, or the decoder was stopped), else -1 with `e` saying the body
 * was truncated or empty. An empty body (d->bytes == 0) is an error here
 * because Woodpecker always sends at least `null`; the endpoint is known
 * to answer empty 200s intermittently, so callers may retry on it.
 */
int log_decoder_finish(struct log_decoder *d, struct err *e);

/*
 * Parses one entry object from json[0..len). The decoded data is put in
 * `data` (reset first) and entry->data points into it. Returns 0 or -1.
 */
int log_entry_parse(const char *json, size_t len, struct log_entry *entry, struct buf *data,
                    struct err *e);

/* The neutral kind of an entry's type (ci/provider.h); a type a newer
 * server may add is output. */
enum ci_log_kind wp_log_kind(int type);
/* The entry as the provider interface hands it on (data borrowed). */
void wp_log_entry_neutral(const struct log_entry *en, struct ci_log_entry *out);

#endif
