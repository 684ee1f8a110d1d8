/*
 * http: the client itself (see core/http.h for the contract and
 * core/http_internal.h for how the files of the client divide the work).
 * Here: validating the options, the settings every request and stream
 * gets (so TLS verification cannot be forgotten on one path), what a
 * libcurl failure means for the user, --verbose traces, and escaping.
 */
#include "core/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cred.h"
#include "core/http_internal.h"

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

/* ---- what every request shares ---- */

void http_apply_settings(const struct http_client *c, CURL *h, struct curl_slist **headers,
                         struct curl_slist **connect_to, const char *const *extra)
{
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

int http_curl_error(CURLcode rc, const char *errbuf, const char *url, struct err *e)
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

void http_trace_request(const struct http_client *c, const char *url)
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
