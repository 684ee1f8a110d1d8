/*
 * logread: reading a step's stored log with its retry policy (logread.h).
 * Moved here from the ci verbs: it is Woodpecker protocol, not a verb.
 */
#include "woodpecker/logread.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/sanitize.h"
#include "core/term.h"

unsigned long long wp_log_max_bytes(void)
{
    const char *v = getenv("HOMELAB_MAX_LOG"); /* test hook */
    char *end;
    unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
    return n && !*end ? n : WP_LOG_MAX_BYTES;
}

/* One attempt's state, shared with the libcurl callback. */
struct read_attempt {
    struct wp_log_read *rd;
    struct http_response *r;
    struct log_decoder dec;
    long long seen;          /* entries decoded in this attempt */
    unsigned long long max;
    int started;             /* the first call with data was checked */
    int oversize;
    int stopped;             /* a callback asked to stop */
    int interrupted;
    int not_json;
};

static int read_on_entry(void *ctx, const struct log_entry *entry)
{
    struct read_attempt *a = ctx;
    /* a retry resumes after what an earlier attempt delivered */
    if (a->seen++ < a->rd->entries)
        return 0;
    a->rd->entries++;
    if (a->rd->on_entry(a->rd->ctx, entry)) {
        a->stopped = 1;
        return 1;
    }
    return 0;
}

static int read_on_data(void *ud, const char *data, size_t len)
{
    struct read_attempt *a = ud;
    if (term_interrupted()) {
        a->interrupted = 1;
        return 1;
    }
    if (!data)
        return 0;
    if (a->r->status != 200)
        return 0; /* an error page: not a log; the status decides */
    if (!a->started) {
        a->started = 1;
        if (a->r->content_length >= 0 && (unsigned long long)a->r->content_length > a->max) {
            a->oversize = 1;
            return 1;
        }
        if (a->r->content_type[0] && !http_is_json_type(a->r->content_type)) {
            a->not_json = 1;
            return 1;
        }
    }
    a->rd->bytes += len;
    if (a->rd->bytes > a->max) {
        a->oversize = 1;
        return 1;
    }
    struct err e;
    err_clear(&e);
    int rc = log_decoder_feed(&a->dec, data, len, &e);
    if (rc > 0 || a->stopped) {
        a->stopped = 1;
        return 1;
    }
    if (rc < 0)
        return 1; /* log_decoder_finish() reports it */
    if (a->rd->on_chunk && a->rd->on_chunk(a->rd->ctx)) {
        a->stopped = 1;
        return 1;
    }
    return 0;
}

static void size_text(unsigned long long n, char *out, size_t outlen)
{
    if (n >= 1u << 20)
        snprintf(out, outlen, "%.0f MiB", (double)n / (1u << 20));
    else
        snprintf(out, outlen, "%llu bytes", n);
}

enum attempt_result { ATTEMPT_DONE, ATTEMPT_EMPTY, ATTEMPT_RETRY, ATTEMPT_FINAL };

/* One GET; `why` says what went wrong for RETRY and FINAL (FINAL fills e). */
static enum attempt_result read_once(struct wp_client *c, const char *path,
                                     struct wp_log_read *rd, struct err *why, struct err *e)
{
    struct http_response r;
    struct read_attempt a;
    memset(&a, 0, sizeof(a));
    http_response_init(&r, 1);
    a.rd = rd;
    a.r = &r;
    a.max = rd->max_bytes ? rd->max_bytes : wp_log_max_bytes();
    rd->bytes = 0;
    log_decoder_init(&a.dec, 0, read_on_entry, &a);
    int rc = http_request(&c->http, path, NULL, read_on_data, &a, &r, why);
    enum attempt_result res = ATTEMPT_RETRY;
    char cap[32];
    size_text(a.max, cap, sizeof(cap));
    if (a.interrupted) {
        err_set(e, EXIT_INTERRUPTED, "interrupted");
        res = ATTEMPT_FINAL;
    } else if (a.stopped) {
        if (!e->code)
            err_set(e, EXIT_FAILED, "stopped");
        res = ATTEMPT_FINAL;
    } else if (a.oversize) {
        if (r.content_length >= 0 && !a.rd->bytes)
            err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE, "the log is %lld bytes, over the "
                         "%s limit for a step log; refused", r.content_length, cap);
        else
            err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE, "the log is larger than the %s "
                         "limit for a step log; refused after %s (the output above is "
                         "incomplete)", cap, cap);
        res = ATTEMPT_FINAL;
    } else if (rc < 0) {
        if (why->code == EXIT_REFUSED || why->code == EXIT_INTERRUPTED) {
            *e = *why;
            res = ATTEMPT_FINAL;
        }
    } else if (r.status == 401 || r.status == 403) {
        err_set(e, EXIT_REFUSED, "the log endpoint answered HTTP %ld", r.status);
        err_hint(e, "is the token (%s) still valid?", c->token_source);
        res = ATTEMPT_FINAL;
    } else if (r.status == 404 || r.status == 400) {
        err_set(e, EXIT_NOT_FOUND, "the log endpoint answered HTTP %ld (no such step in the "
                "pipeline)", r.status);
        res = ATTEMPT_FINAL;
    } else if (r.status != 200) {
        err_set(why, EXIT_UNAVAILABLE, "the log endpoint answered HTTP %ld", r.status);
    } else if (a.not_json) {
        err_set(why, EXIT_UNAVAILABLE, "the log endpoint answered %s, not JSON",
                r.content_type);
    } else if (!a.rd->bytes && !a.dec.bytes) {
        res = ATTEMPT_EMPTY; /* an empty 200 body */
    } else if (log_decoder_finish(&a.dec, why) < 0) {
        /* cut or garbled: retry, resuming after what was delivered; but an
         * entry over the size cap will be just as large next time */
        if (a.dec.oversize) {
            *e = *why;
            res = ATTEMPT_FINAL;
        }
    } else {
        res = a.seen ? ATTEMPT_DONE : ATTEMPT_EMPTY;
    }
    log_decoder_release(&a.dec);
    http_response_release(&r);
    return res;
}

int wp_log_read(struct wp_client *c, long long repo_id, long long number, long long step_id,
                struct wp_log_read *rd, struct err *e)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/repos/%lld/logs/%lld/%lld", repo_id, number,
             step_id);
    int empty_max = rd->empty_attempts > 0 ? rd->empty_attempts : 4;
    int empties = 0;
    double deadline = clock_now() + c->http.retry_budget;
    rd->entries = 0;
    for (int attempt = 0;; attempt++) {
        struct err why;
        err_clear(&why);
        enum attempt_result res = read_once(c, path, rd, &why, e);
        if (res == ATTEMPT_DONE)
            return 1;
        if (res == ATTEMPT_FINAL)
            return -1;
        double wait;
        if (res == ATTEMPT_EMPTY && !rd->entries) {
            if (++empties >= empty_max)
                return 0;
            wait = http_backoff_delay(empties - 1, 0.3, 2);
        } else {
            if (res == ATTEMPT_EMPTY) /* entries came before: this answer is the flake */
                err_set(&why, EXIT_UNAVAILABLE, "an empty answer after %lld entries",
                        rd->entries);
            wait = http_backoff_delay(attempt, 0.25, 8);
            if (clock_now() + wait > deadline) {
                err_set(e, EXIT_UNAVAILABLE, "giving up on the step log after %d attempts: %s",
                        attempt + 1, why.msg);
                return -1;
            }
        }
        if (c->http.verbose)
            fprintf(stderr, "homelab: retrying the step log in %.1fs: %s\n", wait,
                    why.msg[0] ? why.msg : "empty");
        if (http_wait(&c->http, wait, e) < 0)
            return -1;
    }
}
