/* Unit tests for core/sse: the event-stream parser, fed in every possible split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/sse.h"

/* What the callbacks saw, as text: "<type|id|data>" per event, "#text" per comment. */
struct transcript {
    struct buf log;
    int stop_after; /* stop parsing after this many events, 0 = never */
    int events;
};

static int record_event(void *ctx, const struct sse_event *ev)
{
    struct transcript *t = ctx;
    buf_addf(&t->log, "<%s|%s|", ev->type, ev->id);
    buf_add(&t->log, ev->data, ev->data_len);
    assert_int_equal(ev->data[ev->data_len], '\0');
    buf_adds(&t->log, ">");
    t->events++;
    return t->stop_after && t->events >= t->stop_after;
}

static int record_comment(void *ctx, const char *text, size_t len)
{
    struct transcript *t = ctx;
    buf_adds(&t->log, "#");
    buf_add(&t->log, text, len);
    buf_adds(&t->log, "\n");
    return 0;
}

static void transcript_init(struct transcript *t)
{
    memset(t, 0, sizeof(*t));
    buf_init(&t->log, 0);
}

/* Feeds `in` in chunks of the sizes given by `next` and returns the transcript. */
static char *parse_chunked(const char *in, size_t len, size_t (*next)(size_t *), size_t seed,
                           size_t max_event, struct sse_parser *out_p)
{
    struct transcript t;
    struct sse_parser p;
    struct err e;
    transcript_init(&t);
    err_clear(&e);
    sse_init(&p, max_event, record_event, record_comment, &t);
    for (size_t i = 0; i < len;) {
        size_t n = next ? next(&seed) : len;
        if (n > len - i)
            n = len - i;
        assert_int_equal(sse_feed(&p, in + i, n, &e), 0);
        i += n;
    }
    if (out_p)
        *out_p = p;
    else
        sse_release(&p);
    return buf_detach(&t.log);
}

static char *parse(const char *in, size_t len)
{
    return parse_chunked(in, len, NULL, 0, 0, NULL);
}

#define EXPECT(in, want)                                     \
    do {                                                     \
        char *got_ = parse(in, sizeof(in) - 1);              \
        assert_string_equal(got_, want);                     \
        free(got_);                                          \
    } while (0)

static size_t one_byte(size_t *seed)
{
    (void)seed;
    return 1;
}

static size_t random_size(size_t *seed)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (*seed >> 33) % 17 + 1;
}

/* Same transcript whole, byte by byte, split once at every point, in random chunks. */
static void expect_split_invariant(const char *in, size_t len, const char *want)
{
    char *got = parse(in, len);
    assert_string_equal(got, want);
    free(got);
    got = parse_chunked(in, len, one_byte, 0, 0, NULL);
    assert_string_equal(got, want);
    free(got);
    for (size_t cut = 0; cut <= len; cut++) {
        struct transcript t;
        struct sse_parser p;
        struct err e;
        transcript_init(&t);
        sse_init(&p, 0, record_event, record_comment, &t);
        assert_int_equal(sse_feed(&p, in, cut, &e), 0);
        assert_int_equal(sse_feed(&p, in + cut, len - cut, &e), 0);
        if (strcmp(t.log.data, want) != 0)
            fail_msg("split at %zu: got '%s'", cut, t.log.data);
        buf_release(&t.log);
        sse_release(&p);
    }
    for (size_t seed = 1; seed < 200; seed++) {
        got = parse_chunked(in, len, random_size, seed, 0, NULL);
        assert_string_equal(got, want);
        free(got);
    }
}

static void test_sse__woodpecker_log_stream(void **state)
{
    (void)state;
    static const char in[] =
        ": ping\n\n"
        "id: 2\n"
        "data: {\"id\":0,\"step_id\":902,\"time\":1,\"line\":1,\"data\":\"Z28=\",\"type\":0}\n\n"
        ": ping\n\n"
        "event: eof\n"
        "data: eof\n\n";
    expect_split_invariant(in, sizeof(in) - 1,
                           "# ping\n"
                           "<message|2|{\"id\":0,\"step_id\":902,\"time\":1,\"line\":1,"
                           "\"data\":\"Z28=\",\"type\":0}>"
                           "# ping\n"
                           "<eof|2|eof>");
}

static void test_sse__split_everywhere(void **state)
{
    (void)state;
    /* BOM, all three line endings (CRLF split too), comments, ids, multi-line data */
    static const char in[] =
        "\xef\xbb\xbf: hello\r\n"
        "\r\n"
        "event: a\r"
        "data: one\r"
        "data:two\r\n"
        "id: 9\n"
        "\n"
        "data\r\n"
        "\r"
        "retry: 1500\n"
        "id: 10\r\n"
        "data: three\n"
        "\n"
        "data: partial";
    expect_split_invariant(in, sizeof(in) - 1,
                           "# hello\n"
                           "<a|9|one\ntwo>"
                           "<message|9|>"
                           "<message|10|three>");
}

static void test_sse__multiline_data(void **state)
{
    (void)state;
    EXPECT("data: a\ndata:b\ndata\ndata:  c\n\n", "<message||a\nb\n\n c>");
    EXPECT("data: {\"x\":\n\n", "<message||{\"x\":>");
}

static void test_sse__comments(void **state)
{
    (void)state;
    EXPECT(": ping\n\n", "# ping\n");
    EXPECT(":\n", "#\n");
    EXPECT(":no space\ndata: x\n: between\n\n", "#no space\n# between\n<message||x>");
}

static void test_sse__comments_without_callback(void **state)
{
    (void)state;
    struct transcript t;
    struct sse_parser p;
    struct err e;
    transcript_init(&t);
    sse_init(&p, 0, record_event, NULL, &t);
    assert_int_equal(sse_feed(&p, ": ping\n\ndata: x\n\n", 17, &e), 0);
    assert_string_equal(t.log.data, "<message||x>");
    buf_release(&t.log);
    sse_release(&p);
}

static void test_sse__line_endings(void **state)
{
    (void)state;
    EXPECT("data: x\r\n\r\n", "<message||x>");
    EXPECT("data: x\r\r", "<message||x>");
    EXPECT("data: x\n\n", "<message||x>");
    EXPECT("data: a\r\ndata: b\rdata: c\n\r\n", "<message||a\nb\nc>");
    /* CR LF is one line end, LF CR two */
    EXPECT("data: x\n\rdata: y\n\n", "<message||x><message||y>");
}

static void test_sse__field_parsing(void **state)
{
    (void)state;
    EXPECT("data:no-space\n\n", "<message||no-space>");
    EXPECT("data:  two spaces\n\n", "<message|| two spaces>");
    EXPECT("data: a: b\n\n", "<message||a: b>");
    EXPECT("event\ndata: x\n\n", "<message||x>");  /* empty type: message */
    EXPECT("unknown: y\ndata: x\n\n", "<message||x>");
    EXPECT("Data: x\n\n", "");                     /* field names are case-sensitive */
    EXPECT("data : x\n\n", "");                    /* field "data " */
}

static void test_sse__empty_events_not_dispatched(void **state)
{
    (void)state;
    EXPECT("\n\n\n", "");
    EXPECT("event: foo\n\ndata: x\n\n", "<message||x>"); /* type reset by the blank line */
    EXPECT("data\n\n", "<message||>");                   /* one empty data line counts */
    EXPECT("data: x\n", "");                             /* never terminated */
}

static void test_sse__id_persists(void **state)
{
    (void)state;
    EXPECT("id: 7\ndata: a\n\ndata: b\n\n", "<message|7|a><message|7|b>");
    EXPECT("id: 7\ndata: a\n\nid\ndata: b\n\n", "<message|7|a><message||b>");
    EXPECT("id: 7\n\ndata: b\n\n", "<message|7|b>");      /* set without data */
    EXPECT("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n", "<message|1|a><message|1|b>");

    struct sse_parser p;
    char *got = parse_chunked("id: 4\ndata: a\n\nid: 5\ndata: cut", 30, NULL, 0, 0, &p);
    assert_string_equal(p.last_id.data, "4"); /* 5 never dispatched */
    free(got);
    sse_release(&p);
}

static void test_sse__bom(void **state)
{
    (void)state;
    EXPECT("\xef\xbb\xbf" "data: x\n\n", "<message||x>");
    /* only one BOM is skipped; the second makes the field name unknown */
    EXPECT("\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\n", "");
    /* a partial BOM is text */
    EXPECT("\xef\xbb" "data: x\n\n", "");
    EXPECT("\xef" "data: x\n\n", "");
    char *got = parse_chunked("\xef\xbb" "data: x\n\ndata: y\n\n", 20, one_byte, 0, 0, NULL);
    assert_string_equal(got, "<message||y>");
    free(got);
}

static void test_sse__retry(void **state)
{
    (void)state;
    struct sse_parser p;
    struct err e;
    char *got = parse_chunked("retry: 3000\n\n", 13, NULL, 0, 0, &p);
    assert_int_equal(p.retry_ms, 3000);
    free(got);
    assert_int_equal(sse_feed(&p, "retry: 3x\nretry\nretry: -1\nretry: \n", 34, &e), 0);
    assert_int_equal(p.retry_ms, 3000);
    assert_int_equal(sse_feed(&p, "retry:0\n", 8, &e), 0);
    assert_int_equal(p.retry_ms, 0);
    sse_release(&p);

    got = parse_chunked("data: x\n\n", 9, NULL, 0, 0, &p);
    assert_int_equal(p.retry_ms, -1);
    free(got);
    sse_release(&p);
}

static void test_sse__callback_stops(void **state)
{
    (void)state;
    struct transcript t;
    struct sse_parser p;
    struct err e;
    transcript_init(&t);
    t.stop_after = 1;
    sse_init(&p, 0, record_event, NULL, &t);
    assert_int_equal(sse_feed(&p, "data: a\n\ndata: b\n\n", 18, &e), 1);
    assert_string_equal(t.log.data, "<message||a>");
    buf_release(&t.log);
    sse_release(&p);
}

static void expect_too_big(struct sse_parser *p, const char *in, size_t len, size_t chunk)
{
    struct err e;
    int rc = 0;
    err_clear(&e);
    for (size_t i = 0; i < len && rc == 0; i += chunk)
        rc = sse_feed(p, in + i, len - i < chunk ? len - i : chunk, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, EXIT_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "larger than 64 bytes"));
    /* stays failed until restarted */
    assert_int_equal(sse_feed(p, "\n", 1, &e), -1);
}

static void test_sse__oversize_event(void **state)
{
    (void)state;
    char in[256];
    struct transcript t;
    struct sse_parser p;
    struct err e;
    transcript_init(&t);
    sse_init(&p, 64, record_event, NULL, &t);

    /* one long line, whole and in small chunks */
    memcpy(in, "data: ", 6);
    memset(in + 6, 'x', 100);
    memcpy(in + 106, "\n\n", 2);
    expect_too_big(&p, in, 108, 108);
    sse_restart(&p);
    expect_too_big(&p, in, 108, 7);
    /* a long line that never ends */
    sse_restart(&p);
    expect_too_big(&p, in + 6, 100, 10);
    /* many short data lines adding up */
    sse_restart(&p);
    size_t n = 0;
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "data: %07d\n", i);
    expect_too_big(&p, in, n, n);

    /* after a restart, a fitting event passes */
    sse_restart(&p);
    assert_int_equal(sse_feed(&p, "data: ok\n\n", 10, &e), 0);
    assert_string_equal(t.log.data, "<message||ok>");
    buf_release(&t.log);
    sse_release(&p);
}

static void test_sse__restart_keeps_last_id(void **state)
{
    (void)state;
    struct transcript t;
    struct sse_parser p;
    struct err e;
    transcript_init(&t);
    sse_init(&p, 0, record_event, NULL, &t);
    assert_int_equal(sse_feed(&p, "id: 3\ndata: a\n\ndata: cut-", 25, &e), 0);
    sse_restart(&p);
    assert_string_equal(p.last_id.data, "3");
    assert_int_equal(sse_feed(&p, "\xef\xbb\xbf" "data: b\n\n", 12, &e), 0);
    assert_string_equal(t.log.data, "<message|3|a><message|3|b>");
    buf_release(&t.log);
    sse_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse__woodpecker_log_stream),
        cmocka_unit_test(test_sse__split_everywhere),
        cmocka_unit_test(test_sse__multiline_data),
        cmocka_unit_test(test_sse__comments),
        cmocka_unit_test(test_sse__comments_without_callback),
        cmocka_unit_test(test_sse__line_endings),
        cmocka_unit_test(test_sse__field_parsing),
        cmocka_unit_test(test_sse__empty_events_not_dispatched),
        cmocka_unit_test(test_sse__id_persists),
        cmocka_unit_test(test_sse__bom),
        cmocka_unit_test(test_sse__retry),
        cmocka_unit_test(test_sse__callback_stops),
        cmocka_unit_test(test_sse__oversize_event),
        cmocka_unit_test(test_sse__restart_keeps_last_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
