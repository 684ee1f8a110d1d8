/*
 * http: the HTTPS client every server conversation goes through (libcurl).
 *
 * One struct http_client per server. It keeps one easy handle for requests
 * (so the connection and TLS session are reused) and applies the same
 * settings everywhere: TLS 1.2 at least, peer and name verification always
 * on, an extra CA added to (not replacing) the system store, "dial"
 * (connect to another address while SNI, certificate name and Host stay the
 * server's: the curl --connect-to pattern), a bearer token, connect and
 * per-request timeouts, and a cap on every body.
 *
 * http_request() makes one attempt. http_get_json() adds the retry policy:
 * connection failures, empty 200 bodies, 429, 5xx and bodies that are not
 * valid JSON are retried with exponential backoff and full jitter (honouring
 * Retry-After) until the retry budget (about a minute) is spent; 4xx is
 * never retried. The token is never printed: --verbose traces show it as
 * "Bearer <redacted>".
 *
 * One API, several files: the client and its settings (http.c), responses
 * and their headers (http_response.c), one attempt and the POST path
 * (http_request.c), streams (http_stream.c), the retry policy and waits
 * (http_retry.c); core/http_internal.h is what they share.
 *
 * Interrupts: every wait in here (a request in flight, a retry's sleep) is
 * cut within about 100 ms of SIGINT/SIGTERM (signal_interrupted()), ending
 * in EXIT_INTERRUPTED "interrupted". Long waits call the client's on_wait
 * hook about every 100 ms so a live view keeps redrawing.
 *
 * First contact and outages: a name that does not resolve, or a refused
 * connection, before the server ever answered is reported within
 * HTTP_FIRST_CONTACT_BUDGET seconds, naming the address tried (it is a
 * setting to fix, not a flake). Once the server has answered, the same
 * failures (and 5xx, 429) are an outage: retried, with
 * http_outage_since() telling since when, for progress lines and for the
 * final message.
 */
#ifndef HOMELAB_HTTP_H
#define HOMELAB_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define HTTP_BODY_CAP (64u << 20)    /* JSON responses */
#define HTTP_FIRST_CONTACT_BUDGET 3.0 /* seconds, see above */
#define HTTP_OUTAGE_SHOW_AFTER 2.0    /* seconds before an outage is shown */

struct http_client;
/* Called about every 100 ms while a request or a retry waits. */
typedef void (*http_wait_fn)(void *ud, const struct http_client *c);

struct http_opts {
    const char *base_url;  /* scheme://host[:port][/root], no trailing slash */
    const char *dial;      /* HOST[:PORT] to connect to instead, or NULL */
    const char *cacert;    /* extra CA bundle, or NULL */
    const char *token;     /* bearer token, or NULL (copied, wiped on release) */
    int verbose;           /* trace requests to stderr */
    double retry_budget;   /* seconds of retrying before giving up; 0 = 60 */
    long request_timeout;  /* seconds per one-shot request; 0 = 30 */
    size_t body_cap;       /* largest JSON body accepted; 0 = HTTP_BODY_CAP */
    /* allow http:// when the host is a loopback address (a local Vault
     * agent or dev server); anything else must be https */
    int allow_loopback_http;
};

struct http_client {
    void *easy;            /* CURL * */
    char *base_url;
    char *connect_to;      /* CURLOPT_CONNECT_TO entry */
    char *cacert;
    char *auth_header;     /* "Authorization: Bearer …" (secret) */
    int verbose;
    double retry_budget;
    long request_timeout;
    size_t body_cap;
    int dial_set;
    /*
     * clock_now() time past which no request runs and no retry waits; 0 =
     * none. A waiting verb sets its --timeout deadline here, so that a
     * server failing slowly cannot hold it past that (the retry budget
     * alone let one `ci watch --timeout 5s` run 57 s; bench/chaos).
     */
    double deadline;
    int plain_http;        /* http:// to loopback was allowed */
    int answered;          /* some HTTP response came from this server */
    int reached;           /* a connection to it was made (answered or not) */
    double outage_since;   /* clock_wall() of the first failure since the
                            * last answer, 0 when none */
    int last_curl;         /* CURLcode of the last transport failure */
    char last_error[256];  /* libcurl's words for it */
    http_wait_fn on_wait;  /* optional, with wait_ud */
    double outage_told;    /* the outage announced on stderr (no on_wait) */
    void *wait_ud;
    const char *post_body; /* set only inside http_post() */
};

struct http_response {
    long status;           /* 0 when no response arrived */
    struct buf body;
    char content_type[128];
    double retry_after;    /* seconds from Retry-After, or -1 */
    long long content_length; /* from Content-Length, -1 when absent */
    /* Extra response headers to keep (NULL = none): each value lands in its
     * buffer ("" when absent), cut to fit. Set before the request. */
    struct http_capture *capture;
    size_t ncapture;
};

struct http_capture {
    const char *name;      /* header name, matched case-insensitively */
    char *value;
    size_t cap;            /* size of value, >= 1 */
};

/*
 * Called with each piece of a streamed body; return non-zero to abort.
 * In http_request() the response's status, content_type and
 * content_length are already set when it is called, and it is also called
 * with (NULL, 0) about once a second while the transfer waits, so a caller
 * can abort a stalled transfer (e.g. on SIGINT).
 */
typedef int (*http_data_fn)(void *ud, const char *data, size_t len);

/*
 * Validates the options and prepares the client; no request is made. A
 * base URL that is not https (or http to loopback when allowed), a
 * malformed dial (not HOST[:PORT] with a host name or IP literal), or a
 * token holding a control character or space is EXIT_USAGE.
 */
int http_init(struct http_client *c, const struct http_opts *o, struct err *e);
void http_release(struct http_client *c);

void http_response_init(struct http_response *r, size_t cap);
void http_response_release(struct http_response *r);

/*
 * One GET of base_url + path (path starts with '/'). `extra_headers` is a
 * NULL-terminated list or NULL. The body goes to r->body, or to `on_data`
 * when given (then r->body stays empty). Returns 0 when an HTTP response
 * arrived (whatever its status), -1 on a transport failure (e filled: TLS
 * verification problems are EXIT_REFUSED, the rest EXIT_UNAVAILABLE; a
 * body over the cap is EXIT_UNAVAILABLE with kind ERR_TOO_LARGE, "response
 * from URL is larger than the N-byte limit; refused").
 */
int http_request(struct http_client *c, const char *path, const char *const *extra_headers,
                 http_data_fn on_data, void *ud, struct http_response *r, struct err *e);

/*
 * One POST of `body` (a JSON text, or NULL for an empty body) to base_url +
 * path, sent exactly once: a write is never retried here, and it goes out
 * on a new connection, because libcurl silently resends a request whose
 * reused connection turns out dead before any answer. Returns as
 * http_request(). After -1 (no answer) or a 5xx the server may or may not
 * have acted: the caller reads the state before deciding to send again.
 */
int http_post(struct http_client *c, const char *path, const char *body,
              struct http_response *r, struct err *e);

/* Whether a Content-Type names JSON. */
int http_is_json_type(const char *ct);

/*
 * GET with the retry policy, expecting JSON. On 2xx JSON, *out is a new
 * reference (a JSON `null` body gives json_null()). Non-retryable statuses
 * (4xx) return -1 with e->code 0 and *status set, for the caller to
 * interpret. Retries exhausted: -1 with EXIT_UNAVAILABLE (EXIT_TIMEOUT
 * when the client's deadline came first, unless the server is in an
 * outage: then EXIT_UNAVAILABLE "server unreachable since …") and what
 * failed last. TLS refusals, oversized bodies (ERR_TOO_LARGE), interrupts
 * (EXIT_INTERRUPTED) and first-contact failures (see above) are returned
 * at once. A 2xx body that is not JSON at all (an HTML page) is reported as
 * "not_json" through *status = -2 after one retry, so callers can say
 * the server does not look like the API they expect.
 */
int http_get_json(struct http_client *c, const char *path, json_t **out, long *status,
                  struct err *e);

/*
 * The retry decision for one response of http_get_json(): returns `why`
 * filled with the reason to retry ("HTTP 503", "an empty response body",
 * "a response that is not valid JSON (...)"), or NULL when the answer is
 * final (2xx JSON, then *parsed is a new reference; any other status).
 */
const char *http_retry_reason(const struct http_response *r, json_t **parsed, char *why,
                              size_t whylen);

/*
 * A long-lived streaming GET (server-sent events), driven without blocking
 * so a caller can interleave it with other work: http_stream_poll() waits
 * at most timeout_ms for data, passes what arrived to on_data, and returns
 * 0 while the stream is open, 1 once it ended (s->status holds the HTTP
 * status, 0 when none arrived; s->err says why it ended). The first call
 * of on_data comes after the headers, so s->status and s->content_type are
 * already known there. The stream shares the client's settings but has its
 * own connection.
 */
struct http_stream {
    void *easy;    /* CURL * */
    void *multi;   /* CURLM * */
    void *headers; /* struct curl_slist * */
    void *connect_to;
    struct http_response resp;
    http_data_fn on_data;
    void *ud;
    long status;
    char content_type[128];
    char errbuf[256];
    int ended;
    struct err err;
};

int http_stream_open(struct http_client *c, struct http_stream *s, const char *path,
                     const char *const *extra_headers, http_data_fn on_data, void *ud,
                     struct err *e);
int http_stream_poll(struct http_stream *s, int timeout_ms);
void http_stream_close(struct http_stream *s);

/*
 * Sleeps `seconds` in slices, calling c->on_wait (without one, an outage
 * is announced once on stderr); returns 0, or -1 with
 * EXIT_INTERRUPTED once SIGINT/SIGTERM was caught. Every retry loop that
 * talks to a server waits through this.
 */
int http_wait(struct http_client *c, double seconds, struct err *e);

/* Wall-clock time the current outage began (see above), 0 when none or
 * when it is younger than HTTP_OUTAGE_SHOW_AFTER. */
double http_outage_since(const struct http_client *c);

/* "server unreachable since 10:42:03, retrying" into buf (local time);
 * returns 1, or 0 (buf empty) when there is no outage to show. */
int http_outage_line(const struct http_client *c, char *buf, size_t n);

/* Whether `host` (as in a URL: "127.0.0.1", "[::1]", "localhost") is a
 * loopback address. */
int http_host_is_loopback(const char *host);

/* The backoff delay for a retry: min(cap, base * 2^attempt) with full jitter. */
double http_backoff_delay(int attempt, double base, double cap);

/* Percent-encodes one path segment or query value (RFC 3986 unreserved kept). */
void http_escape(struct buf *out, const char *s);

/* Percent-encodes each '/'-separated segment of a path, keeping the slashes. */
void http_escape_path(struct buf *out, const char *s);

#endif
