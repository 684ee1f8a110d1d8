/* cred_clean()/cred_check(): tokens that could inject header lines, and
 * http_host_is_loopback() for Vault's plain-http exception. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core/cred.h"
#include "core/http.h"

static void test_trim(void **state)
{
    (void)state;
    struct err e;
    char a[] = "  tok-123\n";
    err_clear(&e);
    assert_int_equal(cred_clean(a, "X", &e), 0);
    assert_string_equal(a, "tok-123");
    char b[] = "\ttok\r\n";
    assert_int_equal(cred_clean(b, "X", &e), 0);
    assert_string_equal(b, "tok");
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = { "tok\r\nX-Evil: 1", "to k", "tok\033[31m", "tok\x7f",
                                       "\n\n", "", "a\tb" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", bad[i]);
        struct err e;
        err_clear(&e);
        assert_int_equal(cred_clean(buf, "WOODPECKER_TOKEN", &e), -1);
        assert_int_equal(e.code, EXIT_USAGE);
        assert_non_null(strstr(e.msg, "WOODPECKER_TOKEN"));
        assert_null(strstr(e.msg, "Evil"));
    }
    struct err e;
    err_clear(&e);
    assert_int_equal(cred_check("tok\n", "x", &e), -1); /* no trimming there */
}

static void test_http_init_refuses_injection(void **state)
{
    (void)state;
    struct http_client c;
    struct http_opts o = { .base_url = "https://ci.example.com", .token = "a\r\nX-Evil: 1" };
    struct err e;
    err_clear(&e);
    assert_int_equal(http_init(&c, &o, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(http_host_is_loopback("127.0.0.1"));
    assert_true(http_host_is_loopback("127.1.2.3"));
    assert_true(http_host_is_loopback("[::1]"));
    assert_true(http_host_is_loopback("localhost"));
    assert_true(http_host_is_loopback("LOCALHOST"));
    assert_false(http_host_is_loopback("128.0.0.1"));
    assert_false(http_host_is_loopback("10.0.0.1"));
    assert_false(http_host_is_loopback("localhost.example.com"));
    assert_false(http_host_is_loopback("[::2]"));
    assert_false(http_host_is_loopback("vault"));
}

static void test_plain_http(void **state)
{
    (void)state;
    struct http_client c;
    struct err e;
    struct http_opts o = { .base_url = "http://127.0.0.1:8200", .allow_loopback_http = 1 };
    err_clear(&e);
    assert_int_equal(http_init(&c, &o, &e), 0);
    http_release(&c);
    o.base_url = "http://vault.example.com:8200";
    assert_int_equal(http_init(&c, &o, &e), -1);
    assert_non_null(strstr(e.msg, "plain http"));
    o.base_url = "http://127.0.0.1:8200";
    o.allow_loopback_http = 0; /* Woodpecker: https only */
    assert_int_equal(http_init(&c, &o, &e), -1);
}

static void test_dial_forms(void **state)
{
    (void)state;
    static const char *const bad[] = { "http://127.0.0.1:8443", "10.0.0.1:", "10.0.0.1:x",
                                       "10.0.0.1:-5", "a/b", "host:99999", " 10.0.0.1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_client c;
        struct http_opts o = { .base_url = "https://ci.example.com", .dial = bad[i] };
        struct err e;
        err_clear(&e);
        assert_int_equal(http_init(&c, &o, &e), -1);
        assert_int_equal(e.code, EXIT_USAGE);
    }
    static const char *const good[] = { "10.0.0.1", "lb.internal:8443", "[::1]:443" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct http_client c;
        struct http_opts o = { .base_url = "https://ci.example.com", .dial = good[i] };
        struct err e;
        err_clear(&e);
        assert_int_equal(http_init(&c, &o, &e), 0);
        http_release(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_http_init_refuses_injection),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_plain_http),
        cmocka_unit_test(test_dial_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
