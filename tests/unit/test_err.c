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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err__set_leaves_kind_other),
        cmocka_unit_test(test_err__wrap_keeps_kind),
        cmocka_unit_test(test_err__fail_returns_the_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
