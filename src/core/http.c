#include "core/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/cred.h"
#include "core/signal.h"

/* The system store as a hashed directory: certificates are loaded lazily,
 * only the ones a chain needs, instead of parsing a whole bundle per run. */
#define SYSTEM_CA_DIR "/etc/ssl/certs"

static int curl_ready;

static void secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* A host name or IPv4 literal: letters, digits, '-', '.', '_' only. */
static int plain_host_ok(const char *h)
{
    for (; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
              (*h >= '0' && *h <= '9') || *h == '-' || *h == '.' || *h == '_'))
            return 0;
    return 1;
}

/* "HOST[:PORT]" (HOST may be a bracketed IPv6 literal) → host, port. */
static int split_host_port(const char *s, char **host, long *port)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return -1;
        *host = xstrndup(s, (size_t)(close - s + 1));
        colon = close[1] == ':' ? close + 1 : NULL;
        if (close[1] && !colon)
            goto bad;
    } else {
        colon = strrchr(s, ':');
        *host = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    }
    if (!**host || (**host != '[' && !plain_host_ok(*host)))
        goto bad;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (colon[1] < '0' || colon[1] > '9' || *end || p <= 0 || p > 65535)
            goto bad;
        *port = p;
    }
    return 0;
bad:
    free(*host);
    *host = NULL;
    return -1;
}

static int build_connect_to(struct http_client *c, const char *dial, struct err *e)
{
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL, *port = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, c->base_url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        err_set(e, EXIT_USAGE, "ci.server '%s' is not a URL (want https://ci.example.com)",
                c->base_url);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    long server_port = port ? strtol(port, NULL, 10) : 443;
    char *dial_host = NULL;
    long dial_port = server_port;
    if (split_host_port(dial, &dial_host, &dial_port) < 0) {
        err_set(e, EXIT_USAGE, "ci.dial '%s' is not HOST[:PORT]", dial);
        err_hint(e, "--dial (ci.dial, HOMELAB_WP_IP) takes an address such as 10.0.0.5 or "
                    "lb.internal:8443, without a scheme or path");
        goto out;
    }
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "%s:%ld:%s:%ld", host, server_port, dial_host, dial_port);
    c->connect_to = buf_detach(&b);
    free(dial_host);
    rc = 0;
out:
    curl_free(host);
    curl_free(scheme);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int http_host_is_loopback(const char *host)
{
    if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
        return 1;
    char inner[64];
    size_t n = strlen(host);
    if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof(inner)) {
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, inner, &a6) == 1 && !memcmp(&a6, &in6addr_loopback,
                                                                sizeof(a6));
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    return inet_pton(AF_INET6, host, &a6) == 1 && !memcmp(&a6, &in6addr_loopback, sizeof(a6));
}

static int url_is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int yes = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              http_host_is_loopback(host);
    curl_free(host);
    curl_url_cleanup(u);
    return yes;
}

int http_init(struct http_client *c, const struct http_opts *o, struct err *e)
{
    memset(c, 0, sizeof(*c));
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
    if (!o->base_url || strncmp(o->base_url, "https://", 8)) {
        if (o->base_url && !strncmp(o->base_url, "http://", 7)) {
            if (!o->allow_loopback_http || !url_is_loopback(o->base_url))
                return err_set(e, EXIT_USAGE, "'%s' is plain http; homelab only talks https",
                               o->base_url);
            c->plain_http = 1;
        } else {
            return err_set(e, EXIT_USAGE, "'%s' is not an https:// URL",
                           o->base_url ? o->base_url : "");
        }
    }
    if (o->token && cred_check(o->token, "the configuration", e) < 0)
        return -1;
    /* a missing CA file would surface as "TLS verification failed" */
    if (o->cacert && access(o->cacert, R_OK) < 0)
        return err_set(e, EXIT_USAGE, "cannot read the CA file %s (--cacert, ci.cacert): %s",
                       o->cacert, strerror(errno));
    c->base_url = xstrdup(o->base_url);
    if (o->dial && *o->dial && build_connect_to(c, o->dial, e) < 0) {
        http_release(c);
        return -1;
    }
    c->dial_set = c->connect_to != NULL;
    c->cacert = o->cacert ? xstrdup(o->cacert) : NULL;
    if (o->token) {
        struct buf b;
        buf_init(&b, 0);
        buf_addf(&b, "Authorization: Bearer %s", o->token);
        c->auth_header = buf_detach(&b);
    }
    c->verbose = o->verbose;
    c->retry_budget = o->retry_budget > 0 ? o->retry_budget : 60;
    c->request_timeout = o->request_timeout > 0 ? o->request_timeout : 30;
    c->body_cap = o->body_cap ? o->body_cap : HTTP_BODY_CAP;
    c->easy = curl_easy_init();
    if (!c->easy) {
        http_release(c);
        return err_set(e, EXIT_UNAVAILABLE, "cannot initialise libcurl");
    }
    return 0;
}

void http_release(struct http_client *c)
{
    if (c->easy)
        curl_easy_cleanup(c->easy);
    free(c->base_url);
    free(c->connect_to);
    free(c->cacert);
    secret_free(c->auth_header);
    memset(c, 0, sizeof(*c));
}

void http_response_init(struct http_response *r, size_t cap)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, cap ? cap : HTTP_BODY_CAP);
    r->retry_after = -1;
    r->content_length = -1;
}

void http_response_release(struct http_response *r)
{
    buf_release(&r->body);
}

int http_is_json_type(const char *ct)
{
    return !strncasecmp(ct, "application/json", 16);
}

/* ---- callbacks ---- */

struct transfer {
    struct http_response *r;
    http_data_fn on_data;
    void *ud;
    int overflow;
    int aborted;
    size_t received;
    struct http_client *c; /* for on_wait; NULL in streams */
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

static void copy_header_value(char *dst, size_t dstlen, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= dstlen)
        len = dstlen - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct transfer *t = userp;
    size_t len = size * n;
    for (size_t k = 0; k < t->r->ncapture; k++) {
        struct http_capture *cp = &t->r->capture[k];
        size_t nl = strlen(cp->name);
        if (len > nl && data[nl] == ':' && !strncasecmp(data, cp->name, nl))
            copy_header_value(cp->value, cp->cap, data + nl + 1, len - nl - 1);
    }
    char value[128];
    if (len > 13 && !strncasecmp(data, "content-type:", 13)) {
        copy_header_value(t->r->content_type, sizeof(t->r->content_type), data + 13, len - 13);
    } else if (len > 12 && !strncasecmp(data, "retry-after:", 12)) {
        copy_header_value(value, sizeof(value), data + 12, len - 12);
        char *end;
        double s = strtod(value, &end);
        if (end != value && s >= 0)
            t->r->retry_after = s > 300 ? 300 : s;
    } else if (len > 15 && !strncasecmp(data, "content-length:", 15)) {
        copy_header_value(value, sizeof(value), data + 15, len - 15);
        char *end;
        long long clen = strtoll(value, &end, 10);
        t->r->content_length = end != value && !*end && clen >= 0 ? clen : -1;
    } else if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        /* a new response (after a redirect or 100-continue) starts fresh;
         * its status is known now, before the body reaches on_data */
        const char *sp = memchr(data, ' ', len);
        t->r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        t->r->content_type[0] = '\0';
        t->r->retry_after = -1;
        t->r->content_length = -1;
        for (size_t k = 0; k < t->r->ncapture; k++)
            t->r->capture[k].value[0] = '\0';
    }
    return len;
}

static int http_outage_line_(const struct http_client *c, char *buf, size_t n);

/* While waiting: the caller's hook, else a one-line notice of an outage. */
static void wait_tick(struct http_client *c)
{
    if (c->on_wait) {
        c->on_wait(c->wait_ud, c);
        return;
    }
    char line[96];
    if (http_outage_line_(c, line, sizeof(line)) && c->outage_told != c->outage_since) {
        c->outage_told = c->outage_since;
        fprintf(stderr, "homelab: %s\n", line);
    }
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
    if (t->c && now - t->last_tick >= 0.1) {
        t->last_tick = now;
        wait_tick(t->c);
    }
    return 0;
}

/* ---- one attempt ---- */

static void apply_settings(struct http_client *c, struct curl_slist **headers,
                           struct curl_slist **connect_to, const char *const *extra)
{
    CURL *h = c->easy;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->plain_http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert); /* NULL: no bundle file */
    curl_easy_setopt(h, CURLOPT_CAPATH, SYSTEM_CA_DIR);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "homelab/" HOMELAB_VERSION);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (c->connect_to) {
        *connect_to = curl_slist_append(NULL, c->connect_to);
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, *connect_to);
    }
    int own_accept = 0;
    for (size_t i = 0; extra && extra[i]; i++)
        own_accept |= !strncasecmp(extra[i], "Accept:", 7);
    if (!own_accept)
        *headers = curl_slist_append(NULL, "Accept: application/json");
    if (c->auth_header)
        *headers = curl_slist_append(*headers, c->auth_header);
    for (size_t i = 0; extra && extra[i]; i++)
        *headers = curl_slist_append(*headers, extra[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
}

static int classify_curl_error(CURLcode rc, const char *errbuf, const char *url,
                               struct err *e)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        err_set(e, EXIT_REFUSED, "TLS verification failed for %s: %s", url, why);
        err_hint(e, "pass the server's CA with --cacert FILE (ci.cacert); verification "
                    "cannot be switched off");
        return -1;
    case CURLE_URL_MALFORMAT: /* a bad --server (a 100 KB host name): no retry helps */
        err_set(e, EXIT_USAGE, "cannot use the URL %s: %s", url, why);
        err_hint(e, "check the server URL (--server/ci.server, github.api, VAULT_ADDR)");
        return -1;
    default:
        return err_set(e, EXIT_UNAVAILABLE, "cannot reach %s: %s", url, why);
    }
}

static void trace_request(const struct http_client *c, const char *url)
{
    if (!c->verbose)
        return;
    fprintf(stderr, "homelab: > %s %s\n", c->post_body ? "POST" : "GET", url);
    if (c->connect_to)
        fprintf(stderr, "homelab: > (connect to %s)\n", strrchr(c->connect_to, ':') ?
                c->connect_to : "");
    if (c->auth_header)
        fprintf(stderr, "homelab: > Authorization: Bearer <redacted>\n");
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

int http_request(struct http_client *c, const char *path, const char *const *extra_headers,
                 http_data_fn on_data, void *ud, struct http_response *r, struct err *e)
{
    struct buf url;
    buf_init(&url, 0);
    buf_addf(&url, "%s%s", c->base_url, path);
    struct curl_slist *headers = NULL, *connect_to = NULL;
    struct transfer t = { r, on_data, ud, 0, 0, 0, c, 0, 0 };
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = c->easy;

    buf_reset(&r->body);
    r->status = 0;
    r->content_type[0] = '\0';
    r->retry_after = -1;
    r->content_length = -1;
    apply_settings(c, &headers, &connect_to, extra_headers);
    if (c->post_body) { /* http_post(): see there */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->post_body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->post_body));
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    }
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (on_data) {
        /* A long body (a big log) may take its time, but must keep moving. */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->request_timeout);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request_ms(c));
    }
    trace_request(c, url.data);
    double started = clock_now();
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    int ret = 0;
    if (t.interrupted) {
        ret = err_set(e, EXIT_INTERRUPTED, "interrupted");
        r->status = 0;
    } else if (t.overflow) {
        ret = err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE,
                           "response from %s is larger than the %zu-byte limit; refused",
                           url.data, r->body.cap);
    } else if (rc == CURLE_OPERATION_TIMEDOUT && !on_data && c->deadline > 0 &&
               clock_now() >= c->deadline - 0.01) {
        /* cut by the verb's --timeout: says nothing about the server */
        ret = err_set(e, EXIT_TIMEOUT, "the time limit ran out during a request to %s",
                      url.data);
        r->status = 0;
    } else if (rc != CURLE_OK && !(t.aborted && (rc == CURLE_WRITE_ERROR ||
                                                 rc == CURLE_ABORTED_BY_CALLBACK))) {
        ret = classify_curl_error(rc, errbuf, url.data, e);
        r->status = 0;
        c->last_curl = (int)rc;
        snprintf(c->last_error, sizeof(c->last_error), "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        if (!c->outage_since)
            c->outage_since = clock_wall();
    } else if (r->status) {
        c->answered = 1;
        if (r->status == 429 || r->status >= 500) {
            if (!c->outage_since)
                c->outage_since = clock_wall();
        } else {
            c->outage_since = 0;
        }
    }
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

/* ---- streams ---- */

static size_t on_stream_body(char *data, size_t size, size_t n, void *userp)
{
    struct http_stream *s = userp;
    size_t len = size * n;
    if (!s->status) {
        long code = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        s->status = code;
        memcpy(s->content_type, s->resp.content_type, sizeof(s->content_type));
    }
    return s->on_data(s->ud, data, len) ? 0 : len;
}

int http_stream_open(struct http_client *c, struct http_stream *s, const char *path,
                     const char *const *extra_headers, http_data_fn on_data, void *ud,
                     struct err *e)
{
    memset(s, 0, sizeof(*s));
    http_response_init(&s->resp, 1);
    s->on_data = on_data;
    s->ud = ud;
    err_clear(&s->err);
    CURL *h = curl_easy_init();
    CURLM *m = curl_multi_init();
    if (!h || !m) {
        if (h)
            curl_easy_cleanup(h);
        if (m)
            curl_multi_cleanup(m);
        return err_set(e, EXIT_UNAVAILABLE, "cannot initialise libcurl");
    }
    /* apply_settings() configures c->easy; borrow it for the new handle */
    void *saved = c->easy;
    c->easy = h;
    struct curl_slist *headers = NULL, *connect_to = NULL;
    apply_settings(c, &headers, &connect_to, extra_headers);
    c->easy = saved;
    struct buf url;
    buf_init(&url, 0);
    buf_addf(&url, "%s%s", c->base_url, path);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    s->headers = headers;
    s->connect_to = connect_to;
    s->easy = h;
    s->multi = m;
    /* on_header writes into a transfer's response; give it ours */
    struct transfer *t = xcalloc(1, sizeof(*t));
    t->r = &s->resp;
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_PRIVATE, t);
    trace_request(c, url.data);
    buf_release(&url);
    curl_multi_add_handle(m, h);
    return 0;
}

int http_stream_poll(struct http_stream *s, int timeout_ms)
{
    if (s->ended)
        return 1;
    int running = 0;
    curl_multi_perform(s->multi, &running);
    if (running)
        curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(s->multi, &running);
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s->ended = 1;
        if (!s->status)
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
        CURLcode rc = msg->data.result;
        if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
            classify_curl_error(rc, s->errbuf, "the event stream", &s->err);
        else
            err_set(&s->err, EXIT_UNAVAILABLE, "the stream ended (HTTP %ld)", s->status);
    }
    if (!running)
        s->ended = 1;
    return s->ended;
}

void http_stream_close(struct http_stream *s)
{
    if (s->multi) {
        struct transfer *t = NULL;
        curl_easy_getinfo(s->easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(s->multi, s->easy);
        curl_easy_cleanup(s->easy);
        curl_multi_cleanup(s->multi);
        free(t);
    }
    curl_slist_free_all(s->headers);
    curl_slist_free_all(s->connect_to);
    http_response_release(&s->resp);
    memset(s, 0, sizeof(*s));
}

/* ---- retry policy ---- */

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
        wait_tick(c);
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
    return http_outage_line_(c, buf, n);
}

static int http_outage_line_(const struct http_client *c, char *buf, size_t n)
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

/* A failure that will not go away by itself before anyone answered: the
 * name does not resolve, or nothing listens where we connect. */
static int first_contact_permanent(const struct http_client *c)
{
    return !c->answered && (c->last_curl == CURLE_COULDNT_RESOLVE_HOST ||
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

/* ---- escaping ---- */

static int unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

void http_escape(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            buf_addc(out, (char)*p);
        } else {
            char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            buf_add(out, enc, 3);
        }
    }
}

void http_escape_path(struct buf *out, const char *s)
{
    const char *p = s;
    for (;;) {
        const char *slash = strchr(p, '/');
        char *seg = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
        /* "." and ".." would be resolved away by the URL layer; encode them */
        if (!strcmp(seg, ".") || !strcmp(seg, ".."))
            buf_adds(out, !strcmp(seg, ".") ? "%2E" : "%2E%2E");
        else
            http_escape(out, seg);
        free(seg);
        if (!slash)
            break;
        buf_addc(out, '/');
        p = slash + 1;
    }
}
