/*
 * http_response: a response as the client keeps it, and the libcurl header
 * callback that fills it. Headers are read as they arrive, so a caller
 * streaming the body (on_data) already knows the status, the type and the
 * length when the first piece comes. Only the headers something decides
 * on are kept: Content-Type, Retry-After (capped: a server cannot park us
 * for hours), Content-Length, and those a caller asked to capture.
 */
#include "core/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/http_internal.h"

#define RETRY_AFTER_MAX 300.0 /* seconds */

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

/* What the headers of one response set, back to "none seen". */
static void forget_headers(struct http_response *r)
{
    r->content_type[0] = '\0';
    r->retry_after = -1;
    r->content_length = -1;
    for (size_t k = 0; k < r->ncapture; k++)
        r->capture[k].value[0] = '\0';
}

void http_response_reset(struct http_response *r)
{
    buf_reset(&r->body);
    r->status = 0;
    forget_headers(r);
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

/* The value of header `name` (with its colon) when `data` is that header. */
static int header_is(const char *data, size_t len, const char *name, char *dst, size_t dstlen)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(data, name, nl))
        return 0;
    copy_header_value(dst, dstlen, data + nl, len - nl);
    return 1;
}

static void capture_headers(struct http_response *r, const char *data, size_t len)
{
    for (size_t k = 0; k < r->ncapture; k++) {
        struct http_capture *cp = &r->capture[k];
        size_t nl = strlen(cp->name);
        if (len > nl && data[nl] == ':' && !strncasecmp(data, cp->name, nl))
            copy_header_value(cp->value, cp->cap, data + nl + 1, len - nl - 1);
    }
}

size_t http_on_header(char *data, size_t size, size_t n, void *userp)
{
    struct http_response *r = userp;
    size_t len = size * n;
    char value[128];
    char *end;
    capture_headers(r, data, len);
    if (header_is(data, len, "content-type:", r->content_type, sizeof(r->content_type))) {
        /* kept as it came */
    } else if (header_is(data, len, "retry-after:", value, sizeof(value))) {
        double s = strtod(value, &end);
        if (end != value && s >= 0)
            r->retry_after = s > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : s;
    } else if (header_is(data, len, "content-length:", value, sizeof(value))) {
        long long clen = strtoll(value, &end, 10);
        r->content_length = end != value && !*end && clen >= 0 ? clen : -1;
    } else if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        /* a new response (after a redirect or 100-continue) starts fresh;
         * its status is known now, before the body reaches on_data */
        const char *sp = memchr(data, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        forget_headers(r);
    }
    return len;
}
