/*
 * http_retry: the retry policy of http_get_json() (see core/http.h), kept
 * apart from the transfer so the decision can be read, and unit-tested
 * (tests/unit/test_http_retry.c), on its own: what is worth another
 * attempt, how long to wait (exponential backoff with full jitter, or the
 * server's Retry-After when longer), when to stop (the retry budget, the
 * verb's deadline, a first contact that cannot succeed), and what to say
 * then. The waits tick the client's on_wait hook and end on SIGINT/SIGTERM;
 * an outage (no answer, or 5xx/429, after the server once answered) is
 * shown with the time it began.
 */
#include "core/http.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/http_internal.h"
#include "core/signal.h"

double http_backoff_delay(int attempt, double base, double cap)
{
    double d = base * pow(2, attempt > 20 ? 20 : attempt);
    if (d > cap)
        d = cap;
    /* full jitter: spread retries of many clients over the whole window */
    /* rand() is fine here: jitter needs spread, not unpredictability */
    return d * (0.5 + 0.5 * ((double)rand() / RAND_MAX)); /* NOLINT(cert-msc30-c,cert-msc50-cpp) */
}

/* Why an attempt should be retried, or NULL when its answer is final. */
const char *http_retry_reason(const struct http_response *r, json_t **parsed, char *why,
                              size_t whylen)
{
    if (r->status == 429 || r->status >= 500) {
        snprintf(why, whylen, "HTTP %ld", r->status);
        return why;
    }
    if (r->status < 200 || r->status >= 300)
        return NULL;
    if (r->body.len == 0) {
        snprintf(why, whylen, "an empty response body");
        return why;
    }
    json_error_t jerr;
    *parsed = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!*parsed) {
        snprintf(why, whylen, "a response that is not valid JSON (%s)", jerr.text);
        return why;
    }
    return NULL;
}

int http_wait(struct http_client *c, double seconds, struct err *e)
{
    double until = clock_now() + seconds;
    for (;;) {
        if (signal_interrupted())
            return err_set(e, EXIT_INTERRUPTED, "interrupted");
        http_wait_tick(c);
        double left = until - clock_now();
        if (left <= 0)
            return 0;
        clock_sleep(left < 0.1 ? left : 0.1); /* EINTR: the flag is checked above */
    }
}

double http_outage_since(const struct http_client *c)
{
    if (!c->answered || !c->outage_since ||
        clock_wall() - c->outage_since < HTTP_OUTAGE_SHOW_AFTER)
        return 0;
    return c->outage_since;
}

/* "10:42:03" in local time. */
static void clock_text(double wall, char *buf, size_t n)
{
    time_t t = (time_t)wall;
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, n, "%H:%M:%S", &tm))
        snprintf(buf, n, "?");
}

int http_outage_line(const struct http_client *c, char *buf, size_t n)
{
    double since = http_outage_since(c);
    buf[0] = '\0';
    if (!since)
        return 0;
    char hms[16];
    clock_text(since, hms, sizeof(hms));
    snprintf(buf, n, "server unreachable since %s, retrying", hms);
    return 1;
}

/* While waiting: the caller's hook, else a one-line notice of an outage. */
void http_wait_tick(struct http_client *c)
{
    if (c->on_wait) {
        c->on_wait(c->wait_ud, c);
        return;
    }
    char line[96];
    if (http_outage_line(c, line, sizeof(line)) && c->outage_told != c->outage_since) {
        c->outage_told = c->outage_since;
        fprintf(stderr, "homelab: %s\n", line);
    }
}

/* A failure that will not go away by itself before anyone answered: the
 * name does not resolve, or nothing listens where we connect. Once a
 * connection was made (reset, stalled, cut: the server is there), a
 * refusal is a restart or an outage, and is retried like one. */
static int first_contact_permanent(const struct http_client *c)
{
    return !c->answered && !c->reached && (c->last_curl == CURLE_COULDNT_RESOLVE_HOST ||
                                           c->last_curl == CURLE_COULDNT_CONNECT);
}

static void first_contact_error(const struct http_client *c, struct err *e)
{
    const char *why = c->last_error;
    const char *dial = c->connect_to ? strchr(c->connect_to, ':') : NULL;
    dial = dial ? strchr(dial + 1, ':') : NULL;
    if (dial)
        err_set(e, EXIT_UNAVAILABLE, "cannot reach %s through ci.dial %s: %s", c->base_url,
                dial + 1, why);
    else
        err_set(e, EXIT_UNAVAILABLE, "cannot reach %s: %s", c->base_url, why);
    if (c->last_curl != CURLE_COULDNT_RESOLVE_HOST)
        err_hint(e, "is the server running, and are ci.server and ci.dial right?");
    else if (dial)
        err_hint(e, "check the host name in --dial (ci.dial, HOMELAB_WP_IP)");
    else
        err_hint(e, "check the host name in the server URL (ci.server), or set ci.dial");
}

/* The error when retrying must stop at `deadline`. */
static void give_up(const struct http_client *c, const char *path, int attempts,
                    const char *reason, struct err *e)
{
    char hms[16];
    if (c->answered && c->outage_since) {
        /* the server went away: that, not the verb's time limit, is why */
        clock_text(c->outage_since, hms, sizeof(hms));
        err_set(e, EXIT_UNAVAILABLE, "server unreachable since %s (%d attempts at %s%s): "
                "last got %s", hms, attempts, c->base_url, path, reason);
    } else if (c->deadline > 0 && clock_now() >= c->deadline - 0.5) {
        err_set(e, EXIT_TIMEOUT, "timed out retrying %s%s (%d attempts): last got %s",
                c->base_url, path, attempts, reason);
    } else {
        err_set(e, EXIT_UNAVAILABLE, "giving up on %s%s after %d attempts: last got %s",
                c->base_url, path, attempts, reason);
    }
}

int http_get_json(struct http_client *c, const char *path, json_t **out, long *status,
                  struct err *e)
{
    struct http_response r;
    http_response_init(&r, c->body_cap);
    double started = clock_now();
    double deadline = started + c->retry_budget;
    if (c->deadline > 0 && c->deadline < deadline)
        deadline = c->deadline; /* the verb's --timeout comes first */
    char why[1100] = "";
    int html_seen = 0;
    *out = NULL;
    *status = 0;
    for (int attempt = 0;; attempt++) {
        struct err attempt_err;
        err_clear(&attempt_err);
        json_t *parsed = NULL;
        const char *reason = NULL;
        if (signal_interrupted()) {
            err_set(e, EXIT_INTERRUPTED, "interrupted");
            break;
        }
        if (http_request(c, path, NULL, NULL, NULL, &r, &attempt_err) < 0) {
            /* TLS refusals, oversized answers, interrupts and the verb's
             * own time limit will not change on retry */
            if (attempt_err.code == EXIT_REFUSED || attempt_err.code == EXIT_INTERRUPTED ||
                attempt_err.code == EXIT_TIMEOUT || attempt_err.code == EXIT_USAGE ||
                attempt_err.kind == ERR_TOO_LARGE) {
                *e = attempt_err;
                break;
            }
            snprintf(why, sizeof(why), "%s", attempt_err.msg);
            reason = why;
        } else if (r.status >= 200 && r.status < 300 && r.body.len &&
                   !http_is_json_type(r.content_type) && r.body.data[0] == '<') {
            /* Woodpecker answers unknown paths with its web UI and 200. */
            if (html_seen++) {
                *status = -2;
                break;
            }
            snprintf(why, sizeof(why), "an HTML page instead of JSON");
            reason = why;
        } else {
            reason = http_retry_reason(&r, &parsed, why, sizeof(why));
        }
        if (!reason) {
            *status = r.status;
            if (r.status >= 200 && r.status < 300) {
                *out = parsed;
                http_response_release(&r);
                return 0;
            }
            break;
        }
        double wait = http_backoff_delay(attempt, 0.25, 8);
        if (r.retry_after >= 0 && r.retry_after > wait)
            wait = r.retry_after;
        if (first_contact_permanent(c) &&
            clock_now() + wait - started > HTTP_FIRST_CONTACT_BUDGET) {
            first_contact_error(c, e);
            break;
        }
        if (clock_now() + wait > deadline) {
            give_up(c, path, attempt + 1, reason, e);
            break;
        }
        if (c->verbose)
            fprintf(stderr, "homelab: retrying in %.1fs: %s\n", wait, reason);
        if (http_wait(c, wait, e) < 0)
            break;
    }
    http_response_release(&r);
    return -1;
}

