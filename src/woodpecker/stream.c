/* stream: see stream.h. */
#include "woodpecker/stream.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"

static int is_event_stream(const struct http_stream *h)
{
    return h->status == 200 && !strncmp(h->content_type, "text/event-stream", 17);
}

static int on_comment(void *ud, const char *text, size_t len)
{
    (void)ud, (void)text, (void)len;
    return 0; /* a ": ping": last_data already noted the bytes */
}

static int on_data(void *ud, const char *data, size_t len)
{
    struct wp_stream *s = ud;
    if (!is_event_stream(&s->http)) {
        s->refused = 1;
        return 1;
    }
    s->last_data = clock_now();
    struct err e;
    err_clear(&e);
    int rc = sse_feed(&s->sse, data, len, &e);
    if (s->after_feed && s->after_feed(s->ud))
        return 1;
    return rc != 0;
}

int wp_stream_open(struct wp_client *c, struct wp_stream *s, const char *path,
                   const char *last_event_id, size_t max_event, sse_event_fn *on_event,
                   int (*after_feed)(void *ud), void *ud, struct err *e)
{
    char last[64];
    snprintf(last, sizeof(last), "Last-Event-ID: %s", last_event_id ? last_event_id : "");
    const char *headers[] = { "Accept: text/event-stream",
                              last_event_id && *last_event_id ? last : NULL, NULL };
    s->open = 0;
    s->refused = 0;
    s->last_data = 0;
    s->after_feed = after_feed;
    s->ud = ud;
    sse_init(&s->sse, max_event, on_event, on_comment, ud);
    if (http_stream_open(&c->http, &s->http, path, headers, on_data, s, e) < 0) {
        sse_release(&s->sse);
        return -1;
    }
    s->open = 1;
    s->opened_at = clock_now();
    return 0;
}

int wp_stream_poll(struct wp_stream *s, int timeout_ms)
{
    return http_stream_poll(&s->http, timeout_ms);
}

void wp_stream_close(struct wp_stream *s)
{
    if (!s->open)
        return;
    http_stream_close(&s->http);
    sse_release(&s->sse);
    s->open = 0;
}

static int ignore_event(void *ud, const struct sse_event *ev)
{
    (void)ud, (void)ev;
    return 0;
}

int wp_stream_probe(struct wp_client *c, double seconds)
{
    struct wp_stream s;
    struct err e;
    err_clear(&e);
    memset(&s, 0, sizeof(s));
    if (wp_stream_open(c, &s, "/api/stream/events", NULL, 4u << 20, ignore_event, NULL, NULL,
                       &e) < 0)
        return 0;
    double until = clock_now() + seconds;
    while (!s.last_data && !s.refused && clock_now() < until && !wp_stream_poll(&s, 100))
        ;
    int ok = s.last_data && is_event_stream(&s.http);
    wp_stream_close(&s);
    return ok;
}
