/* Unit tests for core/http_response: what the header callback keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/http_internal.h"

/* Feeds one header line to the callback as libcurl does (with its CRLF). */
static void header(struct http_response *r, const char *line)
{
    char copy[256];
    size_t n = (size_t)snprintf(copy, sizeof(copy), "%s\r\n", line);
    assert_int_equal(http_on_header(copy, 1, n, r), n);
}

/* A response that captures one header. */
static void start(struct http_response *r, struct http_capture *cap)
{
    http_response_init(r, 0);
    r->capture = cap;
    r->ncapture = 1;
}

static void test_response__keeps_what_decisions_need(void **state)
{
    (void)state;
    char etag[8];
    struct http_capture cap = { "ETag", etag, sizeof(etag) };
    struct http_response r;
    start(&r, &cap);
    header(&r, "HTTP/1.1 429 Too Many Requests");
    header(&r, "content-type:   application/json; charset=utf-8");
    header(&r, "Retry-After: 7200");
    header(&r, "Content-Length: 12");
    header(&r, "etag: \"0123456789\"");
    header(&r, "X-Other: ignored");
    assert_int_equal(r.status, 429);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_true(http_is_json_type(r.content_type));
    assert_true(r.retry_after == 300); /* capped: a server cannot park us for hours */
    assert_int_equal(r.content_length, 12);
    assert_string_equal(etag, "\"012345"); /* cut to fit its buffer */
    http_response_release(&r);
}

static void test_response__a_new_response_starts_fresh(void **state)
{
    (void)state;
    char loc[64];
    struct http_capture cap = { "Location", loc, sizeof(loc) };
    struct http_response r;
    start(&r, &cap);
    header(&r, "HTTP/1.1 302 Found");
    header(&r, "Location: https://logs.example/blob");
    header(&r, "Retry-After: 1");
    header(&r, "Content-Length: nonsense");
    assert_int_equal(r.content_length, -1);
    header(&r, "HTTP/2 200");
    assert_int_equal(r.status, 200);
    assert_string_equal(loc, "");
    assert_true(r.retry_after < 0);
    assert_string_equal(r.content_type, "");
    buf_adds(&r.body, "left over");
    r.status = 500;
    http_response_reset(&r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body.len, 0);
    http_response_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response__keeps_what_decisions_need),
        cmocka_unit_test(test_response__a_new_response_starts_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
