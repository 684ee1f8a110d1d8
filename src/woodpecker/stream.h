/*
 * stream: one connection to a Woodpecker event stream (/api/stream/events
 * or /api/stream/logs/...): the lifecycle the ci verbs share.
 *
 * wp_stream_open() sends `Accept: text/event-stream` (and Last-Event-ID
 * when given) and feeds what arrives to an SSE parser whose events go to
 * on_event. An answer that is not a 200 event stream (an error page, the
 * web UI's HTML, a 404) ends the connection with `refused` set. Every
 * piece of data updates `last_data`; `after_feed`, when set, is called
 * after each piece was parsed (to flush output) and ends the connection
 * when it returns non-zero. wp_stream_poll() waits at most timeout_ms and
 * returns 1 once the connection ended (http.status, http.ended tell how).
 * Reconnect policy stays with the caller: it differs per use.
 */
#ifndef HOMELAB_WP_STREAM_H
#define HOMELAB_WP_STREAM_H

#include <stddef.h>

#include "core/http.h"
#include "core/sse.h"
#include "woodpecker/client.h"

struct wp_stream {
    struct http_stream http;
    struct sse_parser sse;
    int open;
    int refused;        /* not a 200 event stream */
    double opened_at;   /* clock_now() */
    double last_data;   /* clock_now() of the last bytes; 0 = none yet */
    int (*after_feed)(void *ud);
    void *ud;
};

/* 0 opened (s->open = 1), -1 could not connect (e filled). */
int wp_stream_open(struct wp_client *c, struct wp_stream *s, const char *path,
                   const char *last_event_id, size_t max_event, sse_event_fn *on_event,
                   int (*after_feed)(void *ud), void *ud, struct err *e);
int wp_stream_poll(struct wp_stream *s, int timeout_ms);
void wp_stream_close(struct wp_stream *s);

/*
 * Whether the event stream answers as one within `seconds` (doctor): 1
 * usable, 0 not.
 */
int wp_stream_probe(struct wp_client *c, double seconds);

#endif
