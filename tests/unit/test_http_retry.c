/* Unit tests for core/http's retry decision: what http_get_json() retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/http.h"

/* The decision for a response with `status` and `body`; *parsed released. */
static const char *decide(long status, const char *body, char *why, size_t n, int *json)
{
    struct http_response r;
    http_response_init(&r, 0);
    r.status = status;
    buf_adds(&r.body, body);
    json_t *parsed = NULL;
    const char *reason = http_retry_reason(&r, &parsed, why, n);
    *json = parsed != NULL;
    json_decref(parsed);
    http_response_release(&r);
    return reason;
}

static void test_retry__server_trouble_is_retried(void **state)
{
    (void)state;
    char why[200];
    int json;
    assert_non_null(decide(503, "{}", why, sizeof(why), &json));
    assert_string_equal(why, "HTTP 503");
    assert_non_null(decide(500, "", why, sizeof(why), &json));
    assert_non_null(decide(429, "slow down", why, sizeof(why), &json));
    assert_string_equal(why, "HTTP 429");
}

static void test_retry__client_errors_are_final(void **state)
{
    (void)state;
    char why[200];
    int json;
    assert_null(decide(404, "not found", why, sizeof(why), &json));
    assert_null(decide(401, "", why, sizeof(why), &json));
    assert_null(decide(403, "{}", why, sizeof(why), &json));
    assert_false(json); /* not parsed: the caller reads the status */
}

static void test_retry__2xx_must_be_json(void **state)
{
    (void)state;
    char why[200];
    int json;
    assert_null(decide(200, "{\"id\": 1}", why, sizeof(why), &json));
    assert_true(json);
    assert_null(decide(200, "null", why, sizeof(why), &json));
    assert_true(json);
    assert_non_null(decide(200, "", why, sizeof(why), &json));
    assert_string_equal(why, "an empty response body");
    assert_non_null(decide(200, "{\"id\": ", why, sizeof(why), &json));
    assert_int_equal(strncmp(why, "a response that is not valid JSON (", 35), 0);
    assert_false(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry__server_trouble_is_retried),
        cmocka_unit_test(test_retry__client_errors_are_final),
        cmocka_unit_test(test_retry__2xx_must_be_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
