/*
 * core/http_internal: what the files of the HTTP client share. Not part of
 * the API: nothing outside src/core/http*.c includes this; callers see
 * core/http.h only.
 *
 * The client is split by concern:
 *   http.c          the client: options, TLS and dial settings, init and
 *                   release, the settings every request gets, what a
 *                   libcurl failure means, traces, escaping
 *   http_response.c a response: init, release, and the header callback
 *                   that fills its status, type, Retry-After, length and
 *                   captured headers
 *   http_request.c  one attempt (GET or the POST path), its interrupts and
 *                   waits, and the outage bookkeeping of each answer
 *   http_stream.c   long-lived streaming GETs driven without blocking
 *   http_retry.c    the retry policy: the decision, backoff, waits, outages,
 *                   first contact, giving up (http_get_json)
 */
#ifndef HOMELAB_HTTP_INTERNAL_H
#define HOMELAB_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "core/http.h"

/*
 * Resets easy handle `h` and applies the client's settings (TLS, CA, dial,
 * timeouts, user agent, Accept, the bearer token, `extra` headers). The
 * lists it makes land in *headers and *connect_to: the caller frees them
 * with curl_slist_free_all() after the transfer.
 */
void http_apply_settings(const struct http_client *c, CURL *h, struct curl_slist **headers,
                         struct curl_slist **connect_to, const char *const *extra);

/* Fills e for a failed transfer to `url` (TLS verification: EXIT_REFUSED
 * with a hint; the rest EXIT_UNAVAILABLE); returns -1. */
int http_curl_error(CURLcode rc, const char *errbuf, const char *url, struct err *e);

/* With --verbose: the request line, the dial address and a redacted token. */
void http_trace_request(const struct http_client *c, const char *url);

/* libcurl's header callback; userp is the struct http_response to fill. */
size_t http_on_header(char *data, size_t size, size_t n, void *userp);

/* Forgets what a previous attempt left in r (body, status, headers). */
void http_response_reset(struct http_response *r);

/* One tick of a wait: the client's on_wait hook, else a one-line notice of
 * an outage on stderr (once per outage). In http_retry.c. */
void http_wait_tick(struct http_client *c);

#endif
