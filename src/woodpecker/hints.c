/* woodpecker/hints: see hints.h. */
#include "woodpecker/hints.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/clock.h"

/* The stream endpoint answered, but not with a stream (a 4xx, the web UI's
 * page): it will not be there in two seconds either. */
#define STREAM_REFUSED_RETRY 60.0
#define STREAM_SILENCE_LIMIT 45.0   /* the server pings every 30 s */
#define STREAM_FIRST_BYTE_LIMIT 5.0 /* no ": ping" by then: a buffering proxy */

void wp_hints_init(struct wp_hints *h, struct wp_client *c, long long repo_id, int verbose,
                   double poll_every, void (*on_pipeline)(void *ud, struct wp_pipeline *p),
                   void *ud)
{
    memset(h, 0, sizeof(*h));
    h->client = c;
    h->repo_id = repo_id;
    h->verbose = verbose;
    h->poll_every = poll_every;
    h->on_pipeline = on_pipeline;
    h->ud = ud;
}

static int on_sse_event(void *ud, const struct sse_event *ev)
{
    struct wp_hints *h = ud;
    json_t *j = json_loadb(ev->data, ev->data_len, 0, NULL);
    json_t *repo = json_object_get(j, "repo");
    if (json_integer_value(json_object_get(repo, "id")) == h->repo_id) {
        struct wp_pipeline p;
        if (wp_pipeline_from_json(json_object_get(j, "pipeline"), &p) == 0)
            h->on_pipeline(h->ud, &p);
        wp_pipeline_release(&p);
    }
    json_decref(j);
    return 0;
}

static int after_feed(void *ud)
{
    struct wp_hints *h = ud;
    if (!h->blind)
        h->healthy = 1;
    return 0;
}

void wp_hints_open(struct wp_hints *h)
{
    struct err e;
    err_clear(&e);
    if (wp_stream_open(h->client, &h->stream, "/api/stream/events", NULL, 4u << 20,
                       on_sse_event, after_feed, h, &e) < 0)
        h->retry_at = clock_now() + http_backoff_delay(h->attempts++, 2, 60);
}

void wp_hints_close(struct wp_hints *h)
{
    wp_stream_close(&h->stream);
    h->healthy = 0;
}

/* A definite answer that is not an event stream, before any data: a 404
 * from an older server or a proxy, the HTML page of a server that does not
 * know the route. Transient trouble (resets, 5xx, 408, 429) is not this. */
static int refused(const struct wp_hints *h)
{
    long st = h->stream.http.status;
    if (h->stream.last_data)
        return 0;
    if (st >= 400 && st < 500 && st != 408 && st != 429)
        return 1;
    return st == 200 && strncmp(h->stream.http.content_type, "text/event-stream", 17) != 0;
}

void wp_hints_check(struct wp_hints *h, double now)
{
    if (!h->stream.open) {
        if (now >= h->retry_at)
            wp_hints_open(h);
        return;
    }
    int silent = h->stream.last_data ? now - h->stream.last_data > STREAM_SILENCE_LIMIT
                                     : now - h->stream.opened_at > STREAM_FIRST_BYTE_LIMIT;
    if (h->stream.http.ended || silent) {
        if (h->verbose)
            fprintf(stderr, "homelab: event stream %s; polling every %.0fs\n",
                    h->stream.http.ended ? "ended" : "silent", h->poll_every);
        if (h->stream.last_data)
            h->attempts = 0; /* it worked for a while: retry soon */
        double base = h->stream.http.ended && refused(h) ? STREAM_REFUSED_RETRY : 2;
        wp_hints_close(h);
        h->retry_at = now + http_backoff_delay(h->attempts++, base, 60);
    }
}

void wp_hints_wait(struct wp_hints *h, double seconds)
{
    if (h->stream.open)
        wp_stream_poll(&h->stream, seconds > 0 ? (int)(seconds * 1000) : 0);
    else
        clock_sleep(seconds);
}

int wp_hints_usable(const struct wp_hints *h, double now)
{
    if (!h->stream.open || h->blind)
        return 0;
    return h->healthy || now - h->stream.opened_at < STREAM_FIRST_BYTE_LIMIT;
}

void wp_hints_blind(struct wp_hints *h)
{
    h->blind = 1;
    h->healthy = 0;
    if (h->verbose)
        fprintf(stderr, "homelab: the event stream missed a change; polling\n");
}
