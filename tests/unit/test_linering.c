/* Unit tests for core/linering: the last N lines of a text of any size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/linering.h"

/* The ring's lines joined with '|', for compact comparisons. */
static const char *joined(const struct line_ring *r)
{
    static char out[4096];
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->count; i++) {
        size_t len;
        const char *l = line_ring_get(r, i, &len);
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s", i ? "|" : "", (int)len, l);
    }
    return out;
}

static void test_linering__keeps_the_last_n(void **state)
{
    (void)state;
    struct line_ring r;
    line_ring_init(&r, 3);
    line_ring_add(&r, "a\nb\n", 4);
    assert_string_equal(joined(&r), "a|b");
    line_ring_add(&r, "c\nd\ne\n", 6);
    assert_string_equal(joined(&r), "c|d|e");
    assert_int_equal(r.count, 3);
    assert_int_equal(r.total, 5);
    size_t len;
    assert_null(line_ring_get(&r, 3, &len));
    line_ring_release(&r);
}

static void test_linering__pieces_split_anywhere(void **state)
{
    (void)state;
    const char text[] = "first line\nsecond\n\nfourth, longer than the others\nlast";
    /* every split point gives the same lines */
    for (size_t cut = 0; cut <= sizeof(text) - 1; cut++) {
        struct line_ring r;
        line_ring_init(&r, 2);
        line_ring_add(&r, text, cut);
        line_ring_add(&r, text + cut, sizeof(text) - 1 - cut);
        assert_string_equal(joined(&r), "|fourth, longer than the others");
        line_ring_finish(&r);
        assert_string_equal(joined(&r), "fourth, longer than the others|last");
        assert_int_equal(r.total, 5);
        line_ring_release(&r);
    }
}

static void test_linering__byte_at_a_time(void **state)
{
    (void)state;
    struct line_ring r;
    line_ring_init(&r, 4);
    const char *text = "1\n22\n333\n4444\n55555\n";
    for (const char *p = text; *p; p++)
        line_ring_add(&r, p, 1);
    assert_string_equal(joined(&r), "22|333|4444|55555");
    line_ring_finish(&r); /* nothing unfinished: no extra line */
    assert_int_equal(r.count, 4);
    assert_int_equal(r.total, 5);
    line_ring_release(&r);
}

static void test_linering__slots_reused_with_any_length(void **state)
{
    (void)state;
    struct line_ring r;
    line_ring_init(&r, 2);
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\n';
    line_ring_add(&r, "short\n", 6);
    line_ring_add(&r, big, sizeof(big));
    line_ring_add(&r, "s\n", 2);       /* reuses the slot of "short" */
    line_ring_add(&r, "medium one\n", 11); /* and the big one's */
    assert_string_equal(joined(&r), "s|medium one");
    line_ring_add(&r, big, sizeof(big));
    size_t len;
    const char *l = line_ring_get(&r, 1, &len);
    assert_int_equal(len, sizeof(big) - 1);
    assert_int_equal(l[len], '\0');
    line_ring_release(&r);
}

static void test_linering__nul_bytes_and_empty_lines(void **state)
{
    (void)state;
    struct line_ring r;
    line_ring_init(&r, 3);
    line_ring_add(&r, "a\0b\n\n", 5);
    size_t len;
    const char *l = line_ring_get(&r, 0, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(l, "a\0b", 3);
    l = line_ring_get(&r, 1, &len);
    assert_int_equal(len, 0);
    assert_string_equal(l, "");
    line_ring_release(&r);
}

static void test_linering__zero_keeps_nothing(void **state)
{
    (void)state;
    struct line_ring r;
    line_ring_init(&r, 0);
    line_ring_add(&r, "a\nb\nc", 5);
    line_ring_finish(&r);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.total, 3);
    size_t len;
    assert_null(line_ring_get(&r, 0, &len));
    line_ring_release(&r);
}

static void test_linering__reset(void **state)
{
    (void)state;
    struct line_ring r;
    line_ring_init(&r, 2);
    line_ring_add(&r, "a\nb\nhalf", 8);
    line_ring_reset(&r);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.total, 0);
    line_ring_add(&r, "c\n", 2);
    assert_string_equal(joined(&r), "c"); /* "half" was forgotten too */
    line_ring_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linering__keeps_the_last_n),
        cmocka_unit_test(test_linering__pieces_split_anywhere),
        cmocka_unit_test(test_linering__byte_at_a_time),
        cmocka_unit_test(test_linering__slots_reused_with_any_length),
        cmocka_unit_test(test_linering__nul_bytes_and_empty_lines),
        cmocka_unit_test(test_linering__zero_keeps_nothing),
        cmocka_unit_test(test_linering__reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
