/* Unit tests for core/err: kinds travel with the error, not in its text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"

static void test_err__set_leaves_kind_other(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(err_set_kind(&e, ERR_TOO_LARGE, EXIT_UNAVAILABLE, "big %d", 1), -1);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_string_equal(e.msg, "big 1");
    /* a later error replaces the kind along with the message */
    assert_int_equal(err_set(&e, EXIT_NOT_FOUND, "gone"), -1);
    assert_int_equal(e.kind, ERR_OTHER);
    assert_int_equal(e.code, EXIT_NOT_FOUND);
}

static void test_err__wrap_keeps_kind(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set_kind(&e, ERR_NOT_A_REPO, EXIT_NOT_FOUND, "not a git repository");
    err_wrap(&e, "reading %s", "x");
    assert_int_equal(e.kind, ERR_NOT_A_REPO);
    assert_string_equal(e.msg, "reading x: not a git repository");
    err_clear(&e);
    assert_int_equal(e.kind, ERR_OTHER);
    assert_int_equal(e.code, 0);
}

static void test_err__fail_returns_the_code(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(err_fail(&e, EXIT_USAGE, "'%s' takes no arguments", "doctor"), EXIT_USAGE);
    assert_int_equal(e.code, EXIT_USAGE);
    assert_string_equal(e.msg, "'doctor' takes no arguments");
}

/* A huge echoed value is cut in its middle; the cause after it stays. */
static void test_err__long_values_are_shortened(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    big[0] = 'A';
    big[n - 1] = 'Z';
    err_set(&e, EXIT_UNAVAILABLE, "GET https://h/api/repos/lookup/acme/%s answered HTTP 414", big);
    assert_true(strlen(e.msg) < 300);
    assert_non_null(strstr(e.msg, "https://h/api/repos/lookup/acme/A"));
    assert_non_null(strstr(e.msg, "xxx...xxx"));
    assert_non_null(strstr(e.msg, "xZ answered HTTP 414"));
    err_hint(&e, "pass '%s'", big);
    assert_true(strlen(e.hint) < 200);
    assert_non_null(strstr(e.hint, "Z'"));
    /* short words are left alone, UTF-8 is not cut inside a character */
    err_set(&e, EXIT_USAGE, "a b  c");
    assert_string_equal(e.msg, "a b  c");
    for (size_t i = 0; i + 2 < n; i += 2)
        memcpy(big + i, "\xc3\xa9", 2); /* é */
    big[n - 1] = '\0';
    err_set(&e, EXIT_USAGE, "'%s'", big);
    const char *dots = strstr(e.msg, "...");
    assert_non_null(dots);
    assert_true(((unsigned char)dots[-1] & 0xC0) != 0xC0); /* not a lead byte alone */
    assert_true(((unsigned char)dots[3] & 0xC0) != 0x80);  /* not a continuation */
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err__set_leaves_kind_other),
        cmocka_unit_test(test_err__wrap_keeps_kind),
        cmocka_unit_test(test_err__fail_returns_the_code),
        cmocka_unit_test(test_err__long_values_are_shortened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
