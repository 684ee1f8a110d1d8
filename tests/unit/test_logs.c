/* Unit tests for woodpecker/logs: the incremental step-log decoder and the line renderer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "core/base64.h"
#include "ci/logrender.h"
#include "woodpecker/logs.h"

/* "line:time:type:step:data" per entry, data raw. */
struct record {
    struct buf log;
    int stop_after;
    int n;
};

static int record_entry(void *ctx, const struct log_entry *en)
{
    struct record *r = ctx;
    assert_int_equal(en->data[en->len], '\0');
    buf_addf(&r->log, "%lld:%lld:%d:%lld:", en->line, en->time, en->type, en->step_id);
    buf_add(&r->log, en->data, en->len);
    buf_addc(&r->log, '\n');
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

/*
 * Decodes `body` fed in chunks of `chunk` bytes (0 = whole). Returns the
 * transcript; *rc is the first non-zero feed result, else finish's.
 */
static char *decode(const char *body, size_t len, size_t chunk, size_t max, int *rc,
                    struct err *e)
{
    struct record r = {.n = 0};
    struct log_decoder d;
    buf_init(&r.log, 0);
    err_clear(e);
    log_decoder_init(&d, max, record_entry, &r);
    *rc = 0;
    if (!chunk)
        chunk = len ? len : 1;
    for (size_t i = 0; i < len && *rc == 0; i += chunk)
        *rc = log_decoder_feed(&d, body + i, len - i < chunk ? len - i : chunk, e);
    if (*rc == 0)
        *rc = log_decoder_finish(&d, e);
    log_decoder_release(&d);
    return buf_detach(&r.log);
}

static void expect_decoded(const char *body, size_t len, const char *want)
{
    struct err e;
    int rc;
    for (size_t chunk = 0; chunk <= 7; chunk++) {
        char *got = decode(body, len, chunk, 0, &rc, &e);
        if (rc != 0)
            fail_msg("chunk %zu: rc %d: %s", chunk, rc, e.msg);
        assert_string_equal(got, want);
        free(got);
    }
}

#define EXPECT(body, want) expect_decoded(body, sizeof(body) - 1, want)

static void expect_error(const char *body, size_t len, size_t max, const char *msg_part)
{
    struct err e;
    int rc;
    size_t chunks[] = {0, 1, 5};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        char *got = decode(body, len, chunks[k], max, &rc, &e);
        assert_int_equal(rc, -1);
        assert_int_equal(e.code, EXIT_UNAVAILABLE);
        if (!strstr(e.msg, msg_part))
            fail_msg("message '%s' lacks '%s'", e.msg, msg_part);
        free(got);
    }
}

#define EXPECT_ERROR(body, part) expect_error(body, sizeof(body) - 1, 0, part)

static const char sample[] =
    "[{\"id\":5501,\"step_id\":902,\"time\":0,\"line\":0,\"data\":\"KyBtYWtlIGJ1aWxk\",\"type\":0},\n"
    " {\"id\":5502,\"step_id\":902,\"time\":1,\"line\":1,"
    "\"data\":\"Z286IGRvd25sb2FkaW5nIGV4YW1wbGUuY29tL21vZCB2MS4yLjM=\",\"type\":0},"
    "{\"id\":5503,\"step_id\":902,\"time\":3,\"line\":2,\"data\":null,\"type\":0},"
    "{\"id\":5504,\"step_id\":902,\"time\":3,\"line\":3,\"data\":\"\",\"type\":1},"
    "{\"id\":5505,\"step_id\":902,\"time\":4,\"line\":4,\"data\":\"MQ==\",\"type\":2}]";

static const char sample_want[] =
    "0:0:0:902:+ make build\n"
    "1:1:0:902:go: downloading example.com/mod v1.2.3\n"
    "2:3:0:902:\n"
    "3:3:1:902:\n"
    "4:4:2:902:1\n";

static void test_logs__sample_body(void **state)
{
    (void)state;
    EXPECT(sample, sample_want);
}

static void test_logs__split_at_every_byte(void **state)
{
    (void)state;
    size_t len = sizeof(sample) - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        struct record r = {.n = 0};
        struct log_decoder d;
        struct err e;
        buf_init(&r.log, 0);
        log_decoder_init(&d, 0, record_entry, &r);
        assert_int_equal(log_decoder_feed(&d, sample, cut, &e), 0);
        assert_int_equal(log_decoder_feed(&d, sample + cut, len - cut, &e), 0);
        assert_int_equal(log_decoder_finish(&d, &e), 0);
        if (strcmp(r.log.data, sample_want) != 0)
            fail_msg("cut at %zu: got '%s'", cut, r.log.data);
        buf_release(&r.log);
        log_decoder_release(&d);
    }
}

static void test_logs__null_body(void **state)
{
    (void)state;
    EXPECT("null", "");
    EXPECT(" null\n", "");
    EXPECT_ERROR("nul", "truncated");
    EXPECT_ERROR("nulL", "invalid JSON");
    EXPECT_ERROR("null []", "after the log array");
}

static void test_logs__empty_array(void **state)
{
    (void)state;
    EXPECT("[]", "");
    EXPECT(" [ \n ] \n", "");
    EXPECT_ERROR("[", "truncated");
    EXPECT_ERROR("[,]", "expected an entry");
    EXPECT_ERROR("[]]", "after the log array");
}

static void test_logs__empty_body(void **state)
{
    (void)state;
    struct err e;
    int rc;
    char *got = decode("", 0, 0, 0, &rc, &e);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "empty body"));
    free(got);
    EXPECT_ERROR("  \n", "empty body");
}

static void test_logs__json_escapes(void **state)
{
    (void)state;
    /* escaped key and value ("aGVsbG8=" is "hello"), a \/ as Go never writes
     * but JSON allows, and strings holding braces, brackets and quotes */
    EXPECT("[{\"line\":7,\"data\":\"aGk\\/\"}]", "7:0:0:0:hi?\n");
    EXPECT("[{\"line\":7,\"d\\u0061ta\":\"\\u0061GVsbG8=\",\"type\":0}]", "7:0:0:0:hello\n");
    EXPECT("[{\"x\":\"}]\\\"{[\\\\\",\"line\":1,\"data\":\"aGk=\"},"
           "{\"meta\":{\"a\":[1,{\"b\":\"]}\"}]},\"line\":2,\"data\":\"eW8=\"}]",
           "1:0:0:0:hi\n2:0:0:0:yo\n");
    EXPECT("[{\"step\\u005fid\":5,\"line\":1,\"data\":\"4pyTIOKcqA==\"}]",
           "1:0:0:5:\xe2\x9c\x93 \xe2\x9c\xa8\n");
}

static void test_logs__base64_padding(void **state)
{
    (void)state;
    EXPECT("[{\"data\":\"Zg==\"},{\"data\":\"Zm8=\"},{\"data\":\"Zm9v\"}]",
           "0:0:0:0:f\n0:0:0:0:fo\n0:0:0:0:foo\n");
    /* binary data with a NUL stays whole */
    struct err e;
    int rc;
    char *got = decode("[{\"data\":\"AGEA\"}]", 17, 0, 0, &rc, &e);
    assert_int_equal(rc, 0);
    assert_memory_equal(got, "0:0:0:0:\0a\0\n", 12);
    free(got);
}

static void test_logs__invalid_base64(void **state)
{
    (void)state;
    EXPECT_ERROR("[{\"data\":\"aGk=\"},{\"data\":\"aGk\"}]", "entry 2");
    EXPECT_ERROR("[{\"data\":\"a!k=\"}]", "not valid base64");
    EXPECT_ERROR("[{\"data\":\"aG\\nk=\"}]", "not valid base64");
}

static void test_logs__invalid_entries(void **state)
{
    (void)state;
    EXPECT_ERROR("{\"data\":\"aGk=\"}", "not a JSON array");
    EXPECT_ERROR("[1]", "expected an entry");
    EXPECT_ERROR("[null]", "expected an entry");
    EXPECT_ERROR("[{\"line\":\"7\"}]", "\"line\" is not an integer");
    EXPECT_ERROR("[{\"type\":1.5}]", "\"type\" is not an integer");
    EXPECT_ERROR("[{\"data\":42}]", "\"data\" is not a string");
    EXPECT_ERROR("[{\"line\":1,}]", "entry 1");
    EXPECT_ERROR("[{\"line\":1}{\"line\":2}]", "expected ',' or ']'");
    EXPECT_ERROR("[{\"line\":1}]x", "after the log array");
}

static void test_logs__truncated_body(void **state)
{
    (void)state;
    size_t len = sizeof(sample) - 1;
    for (size_t cut = 0; cut < len; cut++) {
        struct err e;
        int rc;
        char *got = decode(sample, cut, 0, 0, &rc, &e);
        if (rc != -1)
            fail_msg("prefix of %zu bytes accepted", cut);
        assert_non_null(strstr(e.msg, cut ? "truncated body" : "empty body"));
        free(got);
    }
}

static void test_logs__oversize_element(void **state)
{
    (void)state;
    char body[256];
    int n = snprintf(body, sizeof(body), "[{\"line\":1,\"data\":\"aGk=\"},{\"line\":2,\"data\":\"");
    memset(body + n, 'A', 100);
    memcpy(body + n + 100, "\"}]", 4);
    expect_error(body, strlen(body), 64, "entry 2 is larger than 64 bytes");

    /* a cap just large enough passes */
    struct err e;
    int rc;
    char *got = decode(body, strlen(body), 3, 200, &rc, &e);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(got, "2:0:0:0:"));
    free(got);
}

static void test_logs__callback_stops(void **state)
{
    (void)state;
    struct record r = {.stop_after = 2};
    struct log_decoder d;
    struct err e;
    buf_init(&r.log, 0);
    log_decoder_init(&d, 0, record_entry, &r);
    assert_int_equal(log_decoder_feed(&d, sample, sizeof(sample) - 1, &e), 1);
    assert_int_equal(r.n, 2);
    assert_int_equal(log_decoder_feed(&d, "garbage", 7, &e), 1);
    assert_int_equal(log_decoder_finish(&d, &e), 0);
    buf_release(&r.log);
    log_decoder_release(&d);
}

static void test_logs__failed_stays_failed(void **state)
{
    (void)state;
    struct record r = {.n = 0};
    struct log_decoder d;
    struct err e;
    buf_init(&r.log, 0);
    log_decoder_init(&d, 0, record_entry, &r);
    assert_int_equal(log_decoder_feed(&d, "[{\"data\":\"!\"}", 13, &e), -1);
    assert_string_equal(e.msg, "reading step log: entry 1: \"data\" is not valid base64");
    err_clear(&e);
    assert_int_equal(log_decoder_feed(&d, "]", 1, &e), -1);
    assert_string_equal(e.msg, "reading step log: entry 1: \"data\" is not valid base64");
    err_clear(&e);
    assert_int_equal(log_decoder_finish(&d, &e), -1);
    assert_int_equal(e.code, EXIT_UNAVAILABLE);
    assert_string_equal(e.msg, "reading step log: entry 1: \"data\" is not valid base64");
    buf_release(&r.log);
    log_decoder_release(&d);
}

static void test_logs__entry_parse(void **state)
{
    (void)state;
    static const char json[] =
        "{\"id\":0,\"step_id\":902,\"time\":1,\"line\":1,"
        "\"data\":\"Z286IGRvd25sb2FkaW5nIGV4YW1wbGUuY29tL21vZCB2MS4yLjM=\",\"type\":0}";
    struct log_entry en;
    struct buf data;
    struct err e;
    buf_init(&data, 0);
    assert_int_equal(log_entry_parse(json, sizeof(json) - 1, &en, &data, &e), 0);
    assert_int_equal(en.line, 1);
    assert_int_equal(en.time, 1);
    assert_int_equal(en.step_id, 902);
    assert_int_equal(en.type, LOG_STDOUT);
    assert_string_equal(en.data, "go: downloading example.com/mod v1.2.3");
    assert_int_equal(en.len, 38);

    assert_int_equal(log_entry_parse("{\"data\":null}", 13, &en, &data, &e), 0);
    assert_int_equal(en.len, 0);
    assert_string_equal(en.data, "");

    assert_int_equal(log_entry_parse("eof", 3, &en, &data, &e), -1);
    assert_non_null(strstr(e.msg, "log entry"));
    assert_int_equal(log_entry_parse("[]", 2, &en, &data, &e), -1);
    assert_non_null(strstr(e.msg, "not an object"));
    buf_release(&data);
}


/*
 * Differential check of the decoder's fast path: log_entry_parse() must
 * accept exactly what a plain jansson reading accepts, with the same
 * fields. The reference below is written independently of logs.c.
 */
static int ref_int(json_t *o, const char *key, long long *v)
{
    json_t *x = json_object_get(o, key);
    *v = 0;
    if (!x || json_is_null(x))
        return 0;
    if (!json_is_integer(x))
        return -1;
    *v = json_integer_value(x);
    return 0;
}

static int ref_parse(const char *json, size_t len, long long f[4], struct buf *data)
{
    json_t *o = json_loadb(json, len, 0, NULL);
    int rc = -1;
    buf_reset(data);
    if (!json_is_object(o))
        goto out;
    if (ref_int(o, "line", &f[0]) || ref_int(o, "time", &f[1]) || ref_int(o, "type", &f[2]) ||
        ref_int(o, "step_id", &f[3]) || f[2] < -2147483647 - 1 || f[2] > 2147483647)
        goto out;
    json_t *d = json_object_get(o, "data");
    if (d && !json_is_null(d) &&
        (!json_is_string(d) ||
         base64_decode_buf(data, json_string_value(d), json_string_length(d)) < 0))
        goto out;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static void expect_same_as_jansson(const char *json, size_t len)
{
    long long f[4];
    struct buf want, got;
    struct log_entry en;
    struct err e;
    buf_init(&want, 0);
    buf_init(&got, 0);
    int ref = ref_parse(json, len, f, &want);
    int rc = log_entry_parse(json, len, &en, &got, &e);
    if (rc != ref)
        fail_msg("'%.*s': log_entry_parse %d, jansson %d", (int)len, json, rc, ref);
    if (rc == 0) {
        assert_int_equal(en.line, f[0]);
        assert_int_equal(en.time, f[1]);
        assert_int_equal(en.type, f[2]);
        assert_int_equal(en.step_id, f[3]);
        assert_int_equal(en.len, want.len);
        assert_memory_equal(en.data, want.data, want.len);
    }
    buf_release(&want);
    buf_release(&got);
}

static void test_logs__fast_path_matches_jansson(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{\"id\":1,\"step_id\":902,\"time\":3,\"line\":4,\"data\":\"aGk=\",\"type\":0}",
        "{}", " { } ", "{ \"line\" : 1 ,\n\t\"data\" : \"aGk=\" }\r\n",
        "{\"line\":-0}", "{\"line\":01}", "{\"line\":1.0}", "{\"line\":1e3}", "{\"line\":-}",
        "{\"line\":123456789012345678}", "{\"line\":-123456789012345678}",
        "{\"line\":1234567890123456789}", "{\"line\":99999999999999999999}",
        "{\"line\":1,\"line\":2}", "{\"data\":\"aGk=\",\"data\":null}",
        "{\"type\":2147483647}", "{\"type\":2147483648}", "{\"type\":-2147483649}",
        "{\"data\":0}", "{\"data\":true}", "{\"data\":{}}", "{\"data\":[]}", "{\"data\":\"aGk\"}",
        "{\"data\":\"aG\\u0041=\"}", "{\"data\":null}", "{\"data\":\"\"}",
        "{\"id\":\"x\"}", "{\"id\":null}", "{\"id\":1.5}", "{\"id\":[1,2]}",
        "{\"x\":true,\"y\":false,\"z\":{\"a\":[]},\"w\":\"caf\xc3\xa9\"}",
        "{\"x\":\"bad\xc3\"}", "{\"x\":\"tab\tinside\"}", "{\"x\":\"del\x7f\"}",
        "{\"li\\u006ee\":5}", "{\"line\":nul}", "{\"line\":nullx}", "{\"line\":null}",
        "{", "{\"a\"}", "{\"a\":}", "{,}", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{} x", "{}}",
        "[]", "null", "\"str\"", "", "{\"a\":1}\0",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_same_as_jansson(cases[i], strlen(cases[i]));

    /* random one-byte mutations of a typical entry */
    static const char base[] =
        "{\"id\":5502,\"step_id\":902,\"time\":1,\"line\":1,\"data\":\"Z286IGRvd24=\",\"type\":0}";
    static const char alphabet[] = "{}[]\",:0123456789-.eE \\nulatrfsxZ=+/\x01\x80";
    char buf[sizeof(base)];
    unsigned seed = 7;
    for (int round = 0; round < 20000; round++) {
        size_t len = sizeof(base) - 1;
        memcpy(buf, base, len);
        for (int m = 0; m < 1 + round % 3; m++) {
            seed = seed * 1103515245 + 12345;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245 + 12345;
            char c = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
            if (round % 5 == 0 && len > 1) { /* delete */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            } else {
                buf[at] = c;
            }
        }
        expect_same_as_jansson(buf, len);
    }
}

/* Rendering */

/* A Woodpecker entry of `type`, as the provider hands it on (neutral kind). */
static struct ci_log_entry entry(int type, long long time, const char *text)
{
    struct log_entry en = {.type = type, .time = time, .data = text, .len = strlen(text)};
    struct ci_log_entry ce;
    wp_log_entry_neutral(&en, &ce);
    return ce;
}

static void render_all(unsigned flags, const struct ci_log_entry *entries, size_t n, const char *want)
{
    struct ci_log_render r;
    struct buf out;
    ci_log_render_init(&r, flags);
    buf_init(&out, 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ci_log_render_entry(&r, &entries[i], &out), 0);
    assert_int_equal(ci_log_render_flush(&r, &out), 0);
    assert_string_equal(out.data, want);
    buf_release(&out);
    ci_log_render_release(&r);
}

static void test_logs__render_lines(void **state)
{
    (void)state;
    struct ci_log_entry es[] = {
        entry(LOG_STDOUT, 0, "+ make"),
        entry(LOG_STDERR, 1, "warning: \x1b[33mdeprecated\x1b[0m"),
        entry(LOG_METADATA, 1, "{\"k\":1}"),
        entry(LOG_STDOUT, 2, ""),
        entry(LOG_EXIT_CODE, 75, "2"),
    };
    render_all(0, es, 5,
               "+ make\n"
               "warning: \\x1b[33mdeprecated\\x1b[0m\n"
               "\n"
               "[exit code 2]\n");
    /* a type a newer server may add is shown as output */
    struct ci_log_entry later = entry(9, 3, "new kind");
    assert_int_equal(later.kind, CI_LOG_OUTPUT);
    render_all(0, &later, 1, "new kind\n");
    render_all(CI_LOG_RENDER_COLOR, es, 2,
               "+ make\nwarning: \x1b[33mdeprecated\x1b[0m\n");
    render_all(CI_LOG_RENDER_NO_COLOR, es, 2, "+ make\nwarning: deprecated\n");
    render_all(CI_LOG_RENDER_TIME, es, 5,
               "[   0s] + make\n"
               "[   1s] warning: \\x1b[33mdeprecated\\x1b[0m\n"
               "[   2s] \n"
               "[  75s] [exit code 2]\n");
}

/* A log with its own time stamps (GitHub's job log lines): the stamp is
 * skipped, or with --timestamps shown as the log wrote it (no offset). */
static void test_logs__render_own_time(void **state)
{
    (void)state;
    const char *l1 = "2026-12-04T10:00:01.0000000Z ok - \x1b[31mparser";
    struct ci_log_entry es[] = {
        { .line = 0, .kind = CI_LOG_OUTPUT, .data = l1, .len = strlen(l1), .own_time = 1,
          .stamp = 29 },
        { .line = 1, .kind = CI_LOG_OUTPUT, .data = "no stamp", .len = 8, .own_time = 1 },
    };
    render_all(CI_LOG_RENDER_NO_COLOR, es, 2, "ok - parser\nno stamp\n");
    render_all(CI_LOG_RENDER_NO_COLOR | CI_LOG_RENDER_TIME, es, 2,
               "2026-12-04T10:00:01.0000000Z ok - parser\nno stamp\n");
    render_all(CI_LOG_RENDER_RAW, es, 1, "ok - \x1b[31mparser\n");
}

static void test_logs__render_raw(void **state)
{
    (void)state;
    struct ci_log_entry es[] = {
        entry(LOG_STDOUT, 0, "\x1b]0;title\x07\x1b[2J"),
        entry(LOG_EXIT_CODE, 0, "\x1b[2J"), /* the exit code is never raw */
        entry(LOG_EXIT_CODE, 0, ""),
    };
    render_all(CI_LOG_RENDER_RAW, es, 3,
               "\x1b]0;title\x07\x1b[2J\n[exit code \\x1b[2J]\n[exit code ?]\n");
}

static void test_logs__render_progress_collapses(void **state)
{
    (void)state;
    struct ci_log_entry es[] = {
        entry(LOG_STDOUT, 0, "Pulling image"),
        entry(LOG_PROGRESS, 1, "10%"),
        entry(LOG_PROGRESS, 2, "50%"),
        entry(LOG_METADATA, 2, "meta"),
        entry(LOG_PROGRESS, 3, "100%"),
        entry(LOG_STDOUT, 4, "Pulled"),
        entry(LOG_PROGRESS, 5, "1/3"),
        entry(LOG_PROGRESS, 6, "3/3"),
    };
    render_all(0, es, 8, "Pulling image\n100%\nPulled\n3/3\n");
    render_all(CI_LOG_RENDER_TIME, es, 6, "[   0s] Pulling image\n[   3s] 100%\n[   4s] Pulled\n");

    /* nothing held: flush adds nothing */
    struct ci_log_render r;
    struct buf out;
    ci_log_render_init(&r, 0);
    buf_init(&out, 0);
    assert_int_equal(ci_log_render_entry(&r, &es[1], &out), 0);
    assert_string_equal(out.data, "");
    assert_int_equal(ci_log_render_flush(&r, &out), 0);
    assert_int_equal(ci_log_render_flush(&r, &out), 0);
    assert_string_equal(out.data, "10%\n");
    buf_release(&out);
    ci_log_render_release(&r);
}

static int render_entry_cb(void *ctx, const struct log_entry *en)
{
    void **pair = ctx;
    struct ci_log_entry ce;
    wp_log_entry_neutral(en, &ce);
    return ci_log_render_entry(pair[0], &ce, pair[1]) < 0;
}

static void test_logs__decode_and_render(void **state)
{
    (void)state;
    /* "\x1b[31mFAIL\x1b[0m" and "safe\rEVIL", base64 */
    static const char body[] =
        "[{\"line\":0,\"time\":9,\"data\":\"G1szMW1GQUlMG1swbQ==\",\"type\":0},"
        "{\"line\":1,\"time\":9,\"data\":\"c2FmZQ1FVklM\",\"type\":0}]";
    struct ci_log_render r;
    struct log_decoder d;
    struct buf out;
    struct err e;
    void *pair[2] = {&r, &out};
    ci_log_render_init(&r, CI_LOG_RENDER_TIME);
    buf_init(&out, 0);
    log_decoder_init(&d, 0, render_entry_cb, pair);
    assert_int_equal(log_decoder_feed(&d, body, sizeof(body) - 1, &e), 0);
    assert_int_equal(log_decoder_finish(&d, &e), 0);
    assert_int_equal(ci_log_render_flush(&r, &out), 0);
    assert_string_equal(out.data, "[   9s] \\x1b[31mFAIL\\x1b[0m\n[   9s] safe\\x0dEVIL\n");
    buf_release(&out);
    log_decoder_release(&d);
    ci_log_render_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logs__sample_body),
        cmocka_unit_test(test_logs__split_at_every_byte),
        cmocka_unit_test(test_logs__null_body),
        cmocka_unit_test(test_logs__empty_array),
        cmocka_unit_test(test_logs__empty_body),
        cmocka_unit_test(test_logs__json_escapes),
        cmocka_unit_test(test_logs__base64_padding),
        cmocka_unit_test(test_logs__invalid_base64),
        cmocka_unit_test(test_logs__invalid_entries),
        cmocka_unit_test(test_logs__truncated_body),
        cmocka_unit_test(test_logs__oversize_element),
        cmocka_unit_test(test_logs__callback_stops),
        cmocka_unit_test(test_logs__failed_stays_failed),
        cmocka_unit_test(test_logs__entry_parse),
        cmocka_unit_test(test_logs__fast_path_matches_jansson),
        cmocka_unit_test(test_logs__render_lines),
        cmocka_unit_test(test_logs__render_raw),
        cmocka_unit_test(test_logs__render_own_time),
        cmocka_unit_test(test_logs__render_progress_collapses),
        cmocka_unit_test(test_logs__decode_and_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
