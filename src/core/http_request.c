/*
 * http_request: one attempt, the GET that http_get_json() retries and the
 * POST path that is never retried. Each attempt reuses the client's easy
 * handle (its connection and TLS session), except a POST, which goes out on
 * a fresh connection: libcurl silently resends a request whose reused
 * connection turns out dead before any answer, and a write must not be
 * sent twice behind our back.
 *
 * While an attempt waits, libcurl's progress callback cuts it on
 * SIGINT/SIGTERM, lets a streaming caller abort a stalled body, and ticks
 * the client's on_wait hook. Each outcome also updates the client's outage
 * bookkeeping (answered, outage_since, last_curl), which http_retry.c
 * reads.
 */
#include "core/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/http_internal.h"
#include "core/signal.h"

struct transfer {
    struct http_response *r;
    http_data_fn on_data;
    void *ud;
    int overflow;
    int aborted;
    size_t received;
    struct http_client *c;
    int interrupted;
    double last_tick;
};

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct transfer *t = userp;
    size_t len = size * n;
    t->received += len;
    if (t->on_data) {
        if (t->on_data(t->ud, data, len)) {
            t->aborted = 1;
            return 0;
        }
        return len;
    }
    if (buf_add(&t->r->body, data, len) < 0) {
        t->overflow = 1;
        return 0;
    }
    return len;
}

/*
 * Called by libcurl at least once a second while a transfer waits (and
 * sooner after a signal interrupts its poll): lets a streaming caller abort
 * a stalled transfer, ends any transfer on SIGINT/SIGTERM, and lets a live
 * view redraw.
 */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct transfer *t = userp;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (t->on_data && t->on_data(t->ud, NULL, 0)) {
        t->aborted = 1;
        return 1;
    }
    if (signal_interrupted()) {
        t->interrupted = 1;
        return 1;
    }
    double now = clock_now();
    if (now - t->last_tick >= 0.1) {
        t->last_tick = now;
        http_wait_tick(t->c);
    }
    return 0;
}

/* The time one request may take: request_timeout, cut to c->deadline. */
static long request_ms(const struct http_client *c)
{
    double ms = (double)c->request_timeout * 1000;
    if (c->deadline > 0) {
        double left = (c->deadline - clock_now()) * 1000;
        if (left < ms)
            ms = left < 1 ? 1 : left; /* 0 would mean "no timeout" to curl */
    }
    return (long)ms;
}

/* Points the easy handle at this attempt: the body, callbacks, limits. */
static void set_transfer(struct http_client *c, struct transfer *t, const char *url,
                         char *errbuf)
{
    CURL *h = c->easy;
    if (c->post_body) { /* http_post(): see there */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->post_body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->post_body));
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t->r);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (t->on_data) {
        /* A long body (a big log) may take its time, but must keep moving. */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->request_timeout);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request_ms(c));
    }
}

/* A transport failure: the error, and the start of an outage. */
static int transport_failed(struct http_client *c, CURLcode rc, const char *errbuf,
                            const char *url, struct err *e)
{
    c->last_curl = (int)rc;
    snprintf(c->last_error, sizeof(c->last_error), "%s",
             errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (!c->outage_since)
        c->outage_since = clock_wall();
    return http_curl_error(rc, errbuf, url, e);
}

/* An answer came: 429 and 5xx start (or continue) an outage, others end it. */
static void answered(struct http_client *c, long status)
{
    c->answered = 1;
    if (status == 429 || status >= 500) {
        if (!c->outage_since)
            c->outage_since = clock_wall();
    } else {
        c->outage_since = 0;
    }
}

/* What the finished attempt means: 0 with an answer, or -1 with e. */
static int attempt_outcome(struct http_client *c, const struct transfer *t, CURLcode rc,
                           const char *url, const char *errbuf, struct err *e)
{
    struct http_response *r = t->r;
    if (t->interrupted) {
        r->status = 0;
        return err_set(e, EXIT_INTERRUPTED, "interrupted");
    }
    if (t->overflow)
        return err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE,
                            "response from %s is larger than the %zu-byte limit; refused", url,
                            r->body.cap);
    if (rc == CURLE_OPERATION_TIMEDOUT && !t->on_data && c->deadline > 0 &&
        clock_now() >= c->deadline - 0.01) {
        /* cut by the verb's --timeout: says nothing about the server */
        r->status = 0;
        return err_set(e, EXIT_TIMEOUT, "the time limit ran out during a request to %s", url);
    }
    if (rc != CURLE_OK &&
        !(t->aborted && (rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK))) {
        r->status = 0;
        return transport_failed(c, rc, errbuf, url, e);
    }
    if (r->status)
        answered(c, r->status);
    return 0;
}

int http_request(struct http_client *c, const char *path, const char *const *extra_headers,
                 http_data_fn on_data, void *ud, struct http_response *r, struct err *e)
{
    struct buf url;
    buf_init(&url, 0);
    buf_addf(&url, "%s%s", c->base_url, path);
    struct curl_slist *headers = NULL, *connect_to = NULL;
    struct transfer t = { r, on_data, ud, 0, 0, 0, c, 0, 0 };
    char errbuf[CURL_ERROR_SIZE] = "";

    http_response_reset(r);
    http_apply_settings(c, c->easy, &headers, &connect_to, extra_headers);
    set_transfer(c, &t, url.data, errbuf);
    http_trace_request(c, url.data);
    double started = clock_now();
    CURLcode rc = curl_easy_perform(c->easy);
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->status);
    curl_off_t connected_us = 0;
    if (curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME_T, &connected_us) == CURLE_OK &&
        connected_us > 0)
        c->reached = 1;
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    int ret = attempt_outcome(c, &t, rc, url.data, errbuf, e);
    if (c->verbose)
        fprintf(stderr, "homelab: < %ld %s %zu bytes in %.0f ms\n", r->status,
                r->content_type[0] ? r->content_type : "-", t.received,
                (clock_now() - started) * 1000);
    buf_release(&url);
    return ret;
}

/* ---- one write ---- */

int http_post(struct http_client *c, const char *path, const char *body,
              struct http_response *r, struct err *e)
{
    const char *json_headers[] = { "Content-Type: application/json", "Expect:", NULL };
    /* http_request() sends it as a POST on a fresh connection: libcurl
     * resends a request on a reused connection that died before any
     * answer, and a write must not be resent behind our back */
    c->post_body = body ? body : "";
    int rc = http_request(c, path, body ? json_headers : NULL, NULL, NULL, r, e);
    c->post_body = NULL;
    return rc;
}
