/* Unit tests for core/term: frames rendered into buffers, colours, plain lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/term.h"

static void setup_term(struct term *t, int rows, int cols, int color)
{
    term_init(t, -1, color);
    t->rows = rows;
    t->cols = cols;
    t->utf8 = 0;
}

static void test_term__first_frame(void **state)
{
    (void)state;
    struct term t;
    struct buf out = BUF_INIT;
    setup_term(&t, 24, 80, 0);
    buf_init(&out, 0);
    term_render(&t, "one\ntwo\n", &out);
    assert_string_equal(out.data, "\x1b[?2026h\r\x1b[Jone\ntwo\n\x1b[?2026l");
    assert_int_equal(t.drawn, 2);
    buf_release(&out);
    term_release(&t);
}

static void test_term__redraw_moves_up(void **state)
{
    (void)state;
    struct term t;
    struct buf out;
    setup_term(&t, 24, 80, 0);
    buf_init(&out, 0);
    term_render(&t, "a\nb\nc", &out); /* no trailing newline: still 3 lines */
    assert_int_equal(t.drawn, 3);
    buf_reset(&out);
    term_render(&t, "x\n", &out);
    assert_string_equal(out.data, "\x1b[?2026h\r\x1b[3A\x1b[Jx\n\x1b[?2026l");
    assert_int_equal(t.drawn, 1);
    buf_reset(&out);
    term_render(&t, "", &out);
    assert_string_equal(out.data, "\x1b[?2026h\r\x1b[1A\x1b[J\x1b[?2026l");
    assert_int_equal(t.drawn, 0);
    buf_release(&out);
    term_release(&t);
}

static void test_term__cuts_wide_lines(void **state)
{
    (void)state;
    struct term t;
    struct buf out;
    setup_term(&t, 24, 10, 0);
    buf_init(&out, 0);
    term_render(&t, "0123456789abcdef\nshort\n", &out);
    /* width 9 (last column stays empty): 8 characters and a marker */
    assert_non_null(strstr(out.data, "\x1b[J01234567~\nshort\n"));
    buf_release(&out);
    term_release(&t);
}

static void test_term__cut_keeps_colour_closed(void **state)
{
    (void)state;
    struct term t;
    struct buf out, line;
    setup_term(&t, 24, 6, 1);
    buf_init(&out, 0);
    buf_init(&line, 0);
    term_paint(&line, 1, TERM_RED, "abcdefghij");
    term_render(&t, line.data, &out);
    assert_non_null(strstr(out.data, "\x1b[31mabcd\x1b[0m~"));
    buf_release(&line);
    buf_release(&out);
    term_release(&t);
}

static void test_term__tall_frame(void **state)
{
    (void)state;
    struct term t;
    struct buf out;
    setup_term(&t, 5, 80, 0);
    buf_init(&out, 0);
    term_render(&t, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", &out);
    assert_string_equal(out.data, "\x1b[?2026h\r\x1b[J1\n2\n3\n... 7 more lines\n\x1b[?2026l");
    assert_int_equal(t.drawn, 4); /* rows - 1: the cursor line stays free */
    buf_release(&out);
    term_release(&t);
}

static void test_term__width(void **state)
{
    (void)state;
    const char *s = "\x1b[32m\xe2\x9c\x93 ok\x1b[0m";
    assert_int_equal(term_width(s, strlen(s)), 4);
    assert_int_equal(term_width("", 0), 0);
}

static void test_term__paint(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    term_paint(&b, 0, TERM_RED, "failed");
    assert_string_equal(b.data, "failed");
    buf_reset(&b);
    term_paint(&b, 1, TERM_RED, "failed");
    assert_string_equal(b.data, "\x1b[31mfailed\x1b[0m");
    buf_reset(&b);
    term_paintf(&b, 1, TERM_PLAIN, "%d", 7);
    assert_string_equal(b.data, "7");
    buf_reset(&b);
    term_paintf(&b, 0, TERM_GREEN, "%s-%d", "x", 1);
    assert_string_equal(b.data, "x-1");
    buf_release(&b);
}

static void test_term__spinner(void **state)
{
    (void)state;
    assert_string_equal(term_spinner(0, 0.0), "|");
    assert_string_equal(term_spinner(0, 0.1), "/");
    assert_string_equal(term_spinner(0, 0.35), "\\");
    assert_int_equal(strlen(term_spinner(1, 0.3)), 3);
}

static void test_term__duration(void **state)
{
    (void)state;
    char d[32];
    term_fmt_duration(d, sizeof(d), 0.85);
    assert_string_equal(d, "850ms");
    term_fmt_duration(d, sizeof(d), 12.7);
    assert_string_equal(d, "12s");
    term_fmt_duration(d, sizeof(d), 184);
    assert_string_equal(d, "3m04s");
    term_fmt_duration(d, sizeof(d), 3720);
    assert_string_equal(d, "1h02m");
}

static void test_term__live_rate_limit(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct term t;
    term_init(&t, p[1], 0);
    t.rows = 24;
    t.cols = 80;
    assert_int_equal(term_live(&t, "a\n", 10.0, 0), 1);
    assert_int_equal(term_live(&t, "a\n", 10.5, 0), 0);  /* identical */
    assert_int_equal(term_live(&t, "b\n", 10.05, 0), 0); /* too soon */
    assert_int_equal(term_live(&t, "c\n", 10.2, 0), 1);
    assert_int_equal(term_live(&t, "d\n", 10.21, 1), 1); /* forced */
    assert_int_equal(term_live(&t, "e\n", 10.22, 0), 0);
    term_live_done(&t); /* draws the pending "e", shows the cursor */
    close(p[1]);
    char got[4096];
    ssize_t n = read(p[0], got, sizeof(got) - 1);
    assert_true(n > 0);
    got[n] = '\0';
    assert_non_null(strstr(got, "\x1b[?25l"));
    assert_null(strstr(got, "b\n"));
    assert_non_null(strstr(got, "e\n\x1b[?2026l\x1b[?25h"));
    assert_int_equal(t.drawn, 0);
    close(p[0]);
    term_release(&t);
}

static void test_term__plain_dedup(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct term_plain p = TERM_PLAIN_INIT;
    assert_int_equal(term_plain_line(&p, f, "waiting"), 1);
    assert_int_equal(term_plain_line(&p, f, "waiting"), 0);
    assert_int_equal(term_plain_line(&p, f, "rolling"), 1);
    assert_int_equal(term_plain_line(&p, f, "waiting"), 1);
    rewind(f);
    char got[128];
    size_t n = fread(got, 1, sizeof(got) - 1, f);
    got[n] = '\0';
    assert_string_equal(got, "waiting\nrolling\nwaiting\n");
    term_plain_release(&p);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term__first_frame),
        cmocka_unit_test(test_term__redraw_moves_up),
        cmocka_unit_test(test_term__cuts_wide_lines),
        cmocka_unit_test(test_term__cut_keeps_colour_closed),
        cmocka_unit_test(test_term__tall_frame),
        cmocka_unit_test(test_term__width),
        cmocka_unit_test(test_term__paint),
        cmocka_unit_test(test_term__spinner),
        cmocka_unit_test(test_term__duration),
        cmocka_unit_test(test_term__live_rate_limit),
        cmocka_unit_test(test_term__plain_dedup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
