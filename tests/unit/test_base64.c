/* Unit tests for core/base64: strict standard-alphabet decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/base64.h"

static void expect_ok(const char *in, const char *want, size_t want_len)
{
    struct buf b;
    buf_init(&b, 0);
    if (base64_decode_buf(&b, in, strlen(in)) != 0)
        fail_msg("'%s' was rejected", in);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.data, want, want_len);
    assert_int_equal(b.data[b.len], '\0');
    buf_release(&b);
}

static void expect_bad(const char *in, size_t len)
{
    struct buf b;
    buf_init(&b, 0);
    buf_adds(&b, "kept");
    if (base64_decode_buf(&b, in, len) != -1)
        fail_msg("'%.*s' was accepted", (int)len, in);
    assert_string_equal(b.data, "kept");
    buf_release(&b);
}

#define OK(in, want) expect_ok(in, want, sizeof(want) - 1)
#define BAD(in) expect_bad(in, sizeof(in) - 1)

static void test_base64__rfc4648_vectors(void **state)
{
    (void)state;
    OK("", "");
    OK("Zg==", "f");
    OK("Zm8=", "fo");
    OK("Zm9v", "foo");
    OK("Zm9vYg==", "foob");
    OK("Zm9vYmE=", "fooba");
    OK("Zm9vYmFy", "foobar");
}

static void test_base64__log_lines(void **state)
{
    (void)state;
    OK("KyBtYWtlIGJ1aWxk", "+ make build");
    OK("Z286IGRvd25sb2FkaW5nIGV4YW1wbGUuY29tL21vZCB2MS4yLjM=",
       "go: downloading example.com/mod v1.2.3");
    OK("G1szMW1yZWQbWzBt", "\x1b[31mred\x1b[0m");
    OK("AP8A", "\x00\xff\x00");
    OK("+/+/", "\xfb\xff\xbf");
}

static void test_base64__all_bytes_roundtrip(void **state)
{
    (void)state;
    /* every byte value in every position of a group */
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[258];
    char enc[344 + 1];
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(i * 7 + 3);
    size_t o = 0;
    for (size_t i = 0; i < sizeof(raw); i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        enc[o++] = alpha[v >> 18 & 63];
        enc[o++] = alpha[v >> 12 & 63];
        enc[o++] = alpha[v >> 6 & 63];
        enc[o++] = alpha[v & 63];
    }
    unsigned char out[258];
    size_t n = 0;
    assert_int_equal(base64_decode(enc, o, out, &n), 0);
    assert_int_equal(n, sizeof(raw));
    assert_memory_equal(out, raw, sizeof(raw));
    assert_int_equal(base64_decoded_max(o), sizeof(raw));
}

static void test_base64__rejects_bad_length(void **state)
{
    (void)state;
    BAD("Z");
    BAD("Zg");
    BAD("Zg=");
    BAD("Zm9vY");
}

static void test_base64__rejects_bad_characters(void **state)
{
    (void)state;
    BAD("Zm9v!A==");
    BAD("Zm9v\nYg==");
    BAD("Zm 9");
    BAD("Zm-_");   /* URL alphabet */
    BAD("Zm9\x80");
    BAD("Zm9\0");
}

static void test_base64__rejects_bad_padding(void **state)
{
    (void)state;
    BAD("====");
    BAD("Z===");
    BAD("Zg=A");
    BAD("Zg==Zg==");  /* padding before the end */
    BAD("Zm=v");
    BAD("=Zm9");
}

static void test_base64__rejects_noncanonical(void **state)
{
    (void)state;
    BAD("Zh==");  /* 'f' with leftover bits set */
    BAD("Zm9=");
    OK("Zg==", "f");
}

static void test_base64__respects_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(base64_decode_buf(&b, "Zm9vYmFy", 8), -1);
    assert_int_equal(b.len, 0);
    assert_int_equal(base64_decode_buf(&b, "Zm9v", 4), 0);
    assert_string_equal(b.data, "foo");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64__rfc4648_vectors),
        cmocka_unit_test(test_base64__log_lines),
        cmocka_unit_test(test_base64__all_bytes_roundtrip),
        cmocka_unit_test(test_base64__rejects_bad_length),
        cmocka_unit_test(test_base64__rejects_bad_characters),
        cmocka_unit_test(test_base64__rejects_bad_padding),
        cmocka_unit_test(test_base64__rejects_noncanonical),
        cmocka_unit_test(test_base64__respects_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
