/* Unit tests for core/sanitize: what reaches the terminal from a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/sanitize.h"

#define KEEP SANITIZE_KEEP_SGR

/* Sanitizes a string literal (embedded NULs included) and compares. */
#define CHECK(in, flags, want) check(in, sizeof(in) - 1, flags, want, sizeof(want) - 1)

static void check(const char *in, size_t len, unsigned flags, const char *want, size_t want_len)
{
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(sanitize_append(&out, in, len, flags), 0);
    if (out.len != want_len || memcmp(out.data, want, want_len) != 0)
        fail_msg("got \"%s\" (%zu bytes), want \"%s\"", out.data, out.len, want);
    buf_release(&out);
}

static void test_sanitize__plain_text_unchanged(void **state)
{
    (void)state;
    CHECK("", 0, "");
    CHECK("+ make build", 0, "+ make build");
    CHECK("go: downloading example.com/mod v1.2.3", KEEP,
          "go: downloading example.com/mod v1.2.3");
    CHECK("a\tb", 0, "a\tb");
    CHECK("line one\nline two", 0, "line one\nline two");
    CHECK("~!@#$%^&*()_+{}|:\"<>?`-=[];',./", 0, "~!@#$%^&*()_+{}|:\"<>?`-=[];',./");
}

static void test_sanitize__appends(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 0);
    buf_adds(&out, "[1s] ");
    assert_int_equal(sanitize_append(&out, "a\x07z", 3, 0), 0);
    assert_string_equal(out.data, "[1s] a\\x07z");
    buf_release(&out);
}

static void test_sanitize__c0_controls(void **state)
{
    (void)state;
    CHECK("a\x00z", 0, "a\\x00z");
    CHECK("bell\x07", 0, "bell\\x07");
    CHECK("back\x08space", 0, "back\\x08space");
    CHECK("\x0b\x0c\x0e\x1f", KEEP, "\\x0b\\x0c\\x0e\\x1f");
    CHECK("del\x7f", 0, "del\\x7f");
}

static void test_sanitize__backslash(void **state)
{
    (void)state;
    /* literal "\x1b" text must not read like an escaped ESC */
    CHECK("\\x1b", 0, "\\x5cx1b");
    CHECK("C:\\Users\\ci", 0, "C:\\Users\\ci");
    CHECK("end\\", 0, "end\\");
    CHECK("\\\\", 0, "\\\\");
    CHECK("\\\x1b", 0, "\\\\x1b");
    CHECK("\\X", 0, "\\X");
}

static void test_sanitize__csi_escaped(void **state)
{
    (void)state;
    CHECK("\x1b[2J", 0, "\\x1b[2J");
    CHECK("\x1b[2J", KEEP, "\\x1b[2J");
    CHECK("\x1b[?1049h", KEEP, "\\x1b[?1049h");
    CHECK("\x1b[1A\x1b[K", KEEP, "\\x1b[1A\\x1b[K");
    CHECK("\x1b[31m", 0, "\\x1b[31m");
    CHECK("x\x1b" "c", KEEP, "x\\x1bc");
}

static void test_sanitize__sgr_kept(void **state)
{
    (void)state;
    CHECK("\x1b[31mred\x1b[0m", KEEP, "\x1b[31mred\x1b[0m");
    CHECK("\x1b[38;5;1mx\x1b[m", KEEP, "\x1b[38;5;1mx\x1b[m");
    CHECK("\x1b[38:2::255:0:0mx\x1b[0m", KEEP, "\x1b[38:2::255:0:0mx\x1b[0m");
    CHECK("\x1b[1;32mok\x1b[0;0m", KEEP, "\x1b[1;32mok\x1b[0;0m");
    /* a palette index 8 is a colour, not conceal */
    CHECK("\x1b[38;5;8mx\x1b[0m", KEEP, "\x1b[38;5;8mx\x1b[0m");
    CHECK("\x1b[48;2;8;8;8mx\x1b[0m", KEEP, "\x1b[48;2;8;8;8mx\x1b[0m");
}

static void test_sanitize__sgr_refused(void **state)
{
    (void)state;
    /* conceal would hide text */
    CHECK("\x1b[8mhidden", KEEP, "\\x1b[8mhidden");
    CHECK("\x1b[1;8mhidden", KEEP, "\\x1b[1;8mhidden");
    /* intermediates or private markers are not plain colour */
    CHECK("\x1b[ m", KEEP, "\\x1b[ m");
    CHECK("\x1b[>4;2m", KEEP, "\\x1b[>4;2m");
    /* absurdly long parameter lists */
    char in[80], want[90];
    memset(in, '1', sizeof(in));
    in[0] = 0x1b, in[1] = '[', in[sizeof(in) - 1] = 'm';
    memcpy(want, "\\x1b", 4);
    memcpy(want + 4, in + 1, sizeof(in) - 1);
    check(in, sizeof(in), KEEP, want, sizeof(in) + 3);
}

static void test_sanitize__sgr_dropped(void **state)
{
    (void)state;
    CHECK("\x1b[31mred\x1b[0m", SANITIZE_DROP_SGR, "red");
    CHECK("\x1b[38;5;1mx\x1b[m y", SANITIZE_DROP_SGR, "x y");
    CHECK("\x1b[31mred", SANITIZE_DROP_SGR, "red");  /* nothing to close */
    /* only colour goes; everything else is still shown */
    CHECK("\x1b[2J\x1b[8mx\x1b]0;t\x07", SANITIZE_DROP_SGR, "\\x1b[2J\\x1b[8mx\\x1b]0;t\\x07");
    /* keeping wins over dropping */
    CHECK("\x1b[31mred\x1b[0m", SANITIZE_DROP_SGR | KEEP, "\x1b[31mred\x1b[0m");
}

static void test_sanitize__colour_closed_at_end(void **state)
{
    (void)state;
    CHECK("\x1b[31mred", KEEP, "\x1b[31mred\x1b[0m");
    CHECK("\x1b[0mplain", KEEP, "\x1b[0mplain");
    CHECK("\x1b[31mred\x1b[0m then \x1b[1mbold", KEEP,
          "\x1b[31mred\x1b[0m then \x1b[1mbold\x1b[0m");
}

static void test_sanitize__osc(void **state)
{
    (void)state;
    /* clipboard write, terminated by BEL */
    CHECK("\x1b]52;c;cm0gLXJmIC8=\x07", KEEP, "\\x1b]52;c;cm0gLXJmIC8=\\x07");
    /* hyperlink, terminated by ST (ESC \) */
    CHECK("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", KEEP,
          "\\x1b]8;;http://evil/\\x1b\\click\\x1b]8;;\\x1b\\");
    /* window title */
    CHECK("\x1b]0;pwned\x07rest", 0, "\\x1b]0;pwned\\x07rest");
}

static void test_sanitize__dcs_apc_pm_sos(void **state)
{
    (void)state;
    CHECK("\x1bP+q544e\x1b\\", KEEP, "\\x1bP+q544e\\x1b\\");
    CHECK("\x1b_Gf=100;AAAA\x1b\\", KEEP, "\\x1b_Gf=100;AAAA\\x1b\\");
    CHECK("\x1b^pm\x1b\\", 0, "\\x1b^pm\\x1b\\");
    CHECK("\x1bXsos\x1b\\", 0, "\\x1bXsos\\x1b\\");
}

static void test_sanitize__unterminated_at_end(void **state)
{
    (void)state;
    CHECK("text\x1b", KEEP, "text\\x1b");
    CHECK("text\x1b[", KEEP, "text\\x1b[");
    CHECK("text\x1b[31", KEEP, "text\\x1b[31");
    CHECK("text\x1b[38;5", KEEP, "text\\x1b[38;5");
    CHECK("text\x1b]0;title", KEEP, "text\\x1b]0;title");
    CHECK("text\x1bP", 0, "text\\x1bP");
}

static void test_sanitize__c1_controls(void **state)
{
    (void)state;
    /* raw C1 bytes: 8-bit CSI, OSC, ST */
    CHECK("\x9b" "2J", KEEP, "\\x9b2J");
    CHECK("\x9d" "52;c;x\x9c", 0, "\\x9d52;c;x\\x9c");
    CHECK("\x80\x9f", 0, "\\x80\\x9f");
    /* the same as UTF-8: U+009B, U+0085, U+0080 */
    CHECK("\xc2\x9b" "2J", KEEP, "\\xc2\\x9b2J");
    CHECK("a\xc2\x85z", 0, "a\\xc2\\x85z");
    CHECK("\xc2\x80", 0, "\\xc2\\x80");
    /* U+00A0 is the first character past C1 */
    CHECK("\xc2\xa0", 0, "\xc2\xa0");
}

static void test_sanitize__cr(void **state)
{
    (void)state;
    CHECK("done\r", 0, "done");
    CHECK("done\r\r", 0, "done");
    CHECK("one\r\ntwo", 0, "one\ntwo");
    CHECK("safe\rEVIL", 0, "safe\\x0dEVIL");
    CHECK("10%\r20%\r", 0, "10%\\x0d20%");
    CHECK("\r", 0, "");
    CHECK("a\r\rb", KEEP, "a\\x0d\\x0db");
}

static void test_sanitize__utf8_valid(void **state)
{
    (void)state;
    CHECK("caf\xc3\xa9", 0, "caf\xc3\xa9");
    CHECK("\xe2\x9c\x93 done", 0, "\xe2\x9c\x93 done");
    CHECK("\xf0\x9f\x9a\x80 launch", 0, "\xf0\x9f\x9a\x80 launch");
    CHECK("\xe4\xb8\xad\xe6\x96\x87", KEEP, "\xe4\xb8\xad\xe6\x96\x87");
    CHECK("\xef\xbf\xbd", 0, "\xef\xbf\xbd");
    CHECK("\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    CHECK("\xed\x9f\xbf", 0, "\xed\x9f\xbf");         /* U+D7FF */
}

static void test_sanitize__utf8_invalid(void **state)
{
    (void)state;
    CHECK("\xc0\xaf", 0, "\\xc0\\xaf");                   /* overlong '/' */
    CHECK("\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf");          /* overlong, 3 bytes */
    CHECK("\xf0\x80\x80\xaf", 0, "\\xf0\\x80\\x80\\xaf"); /* overlong, 4 bytes */
    CHECK("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");          /* surrogate D800 */
    CHECK("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    CHECK("\xf5\x80\x80\x80", 0, "\\xf5\\x80\\x80\\x80");
    CHECK("\xff\xfe", 0, "\\xff\\xfe");
    CHECK("a\xbf" "b", 0, "a\\xbfb");                     /* stray continuation */
}

static void test_sanitize__utf8_truncated(void **state)
{
    (void)state;
    CHECK("end\xe2\x9c", 0, "end\\xe2\\x9c");
    CHECK("end\xf0\x9f\x9a", 0, "end\\xf0\\x9f\\x9a");
    CHECK("end\xc3", 0, "end\\xc3");
    /* cut short by an ASCII byte: the ASCII survives */
    CHECK("\xe2\x9c" "x", 0, "\\xe2\\x9cx");
    CHECK("\xf0\x9f\x9a\x80\xf0\x9f", 0, "\xf0\x9f\x9a\x80\\xf0\\x9f");
}

static void test_sanitize__cap(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 8);
    assert_int_equal(sanitize_append(&out, "abc\x1b[2J", 7, 0), -1);
    assert_true(out.len <= 8);
    assert_string_equal(out.data, "abc\\x1b");
    buf_release(&out);
}

/* Into a fixed field: the longest prefix that fits, cut before a
 * character (here before "\xcf\x9e"), also in place. */
static void test_sanitize__into(void **state)
{
    (void)state;
    char field[10];
    sanitize_into(field, sizeof(field), "9fceb0\xc8\x9b\xcf\x9e", 10);
    assert_string_equal(field, "9fceb0\xc8\x9b");
    sanitize_into(field, sizeof(field), "process not found, and more", 27);
    assert_string_equal(field, "process n");
    snprintf(field, sizeof(field), "a\x1b[2J");
    sanitize_into(field, sizeof(field), field, strlen(field));
    assert_string_equal(field, "a\\x1b[2J");
    char one[1] = { 'x' };
    sanitize_into(one, sizeof(one), "abc", 3);
    assert_int_equal(one[0], '\0');
}

static void test_sanitize__every_byte_is_safe(void **state)
{
    (void)state;
    /* whatever the input, only tab, newline and printable bytes come out
     * (no ESC unless kept as colour), and every \x is followed by hex */
    unsigned char in[512];
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof(in); i++) {
            seed = seed * 1103515245 + 12345;
            in[i] = (unsigned char)(seed >> 16);
        }
        struct buf out;
        buf_init(&out, 0);
        assert_int_equal(sanitize_append(&out, (char *)in, sizeof(in), 0), 0);
        for (size_t i = 0; i < out.len; i++) {
            unsigned char c = (unsigned char)out.data[i];
            assert_true(c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f));
            if (c == '\\' && i + 1 < out.len && out.data[i + 1] == 'x') {
                assert_true(i + 3 < out.len);
                assert_non_null(strchr("0123456789abcdef", out.data[i + 2]));
                assert_non_null(strchr("0123456789abcdef", out.data[i + 3]));
            }
        }
        buf_release(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitize__plain_text_unchanged),
        cmocka_unit_test(test_sanitize__appends),
        cmocka_unit_test(test_sanitize__c0_controls),
        cmocka_unit_test(test_sanitize__backslash),
        cmocka_unit_test(test_sanitize__csi_escaped),
        cmocka_unit_test(test_sanitize__sgr_kept),
        cmocka_unit_test(test_sanitize__sgr_refused),
        cmocka_unit_test(test_sanitize__sgr_dropped),
        cmocka_unit_test(test_sanitize__colour_closed_at_end),
        cmocka_unit_test(test_sanitize__osc),
        cmocka_unit_test(test_sanitize__dcs_apc_pm_sos),
        cmocka_unit_test(test_sanitize__unterminated_at_end),
        cmocka_unit_test(test_sanitize__c1_controls),
        cmocka_unit_test(test_sanitize__cr),
        cmocka_unit_test(test_sanitize__utf8_valid),
        cmocka_unit_test(test_sanitize__utf8_invalid),
        cmocka_unit_test(test_sanitize__utf8_truncated),
        cmocka_unit_test(test_sanitize__cap),
        cmocka_unit_test(test_sanitize__into),
        cmocka_unit_test(test_sanitize__every_byte_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
