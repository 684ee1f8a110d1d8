/* Unit tests for woodpecker/logstream: what each event of a step's live log means. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "woodpecker/logstream.h"

struct seen {
    int entries;
    long long line;
    char data[64];
    int stop;          /* what on_entry returns */
};

static int on_entry(void *ud, const struct log_entry *entry)
{
    struct seen *s = ud;
    s->entries++;
    s->line = entry->line;
    snprintf(s->data, sizeof(s->data), "%s", entry->data);
    return s->stop;
}

static int event(struct wp_logstream *ls, const char *type, const char *data, const char *id)
{
    struct sse_event ev = { type, data, strlen(data), id };
    return wp_logstream_event(ls, &ev);
}

static void test_logstream__message_delivers_entry_and_keeps_id(void **state)
{
    (void)state;
    struct seen s = { 0 };
    struct wp_logstream ls;
    wp_logstream_init(&ls, on_entry, NULL, &s);
    /* "KyBtYWtl" is the base64 of "+ make" */
    assert_int_equal(event(&ls, "message",
                           "{\"id\":1,\"step_id\":9,\"time\":0,\"line\":4,\"data\":\"KyBtYWtl\","
                           "\"type\":0}", "17"), 0);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.line, 4);
    assert_string_equal(s.data, "+ make");
    assert_string_equal(ls.last_id, "17");
    assert_int_equal(ls.messages, 1);
    s.stop = 1;
    assert_int_equal(event(&ls, "message", "{\"id\":2,\"step_id\":9,\"time\":1,\"line\":5,\"data\":\"\",\"type\":0}", "18"), 1);
    wp_logstream_restart(&ls);
    assert_string_equal(ls.last_id, "");
    wp_logstream_release(&ls);
}

static void test_logstream__bad_message_is_skipped_but_counted(void **state)
{
    (void)state;
    struct seen s = { 0 };
    struct wp_logstream ls;
    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "message", "not json", "3"), 0);
    assert_int_equal(s.entries, 0);
    assert_int_equal(ls.messages, 1);
    assert_string_equal(ls.last_id, "3"); /* resuming must not ask for it again */
    assert_int_equal(event(&ls, "ping", "whatever", "3"), 0); /* unknown: ignored */
    assert_int_equal(ls.messages, 1);
    wp_logstream_release(&ls);
}

static void test_logstream__in_band_ends(void **state)
{
    (void)state;
    struct seen s = { 0 };
    struct wp_logstream ls;
    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "eof", "", ""), 1);
    assert_true(ls.eof);
    wp_logstream_release(&ls);

    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "error", "eof", ""), 1); /* servers before v3.12 */
    assert_true(ls.eof);
    wp_logstream_release(&ls);

    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "error", "step not running anymore", ""), 1);
    assert_true(ls.not_running);
    assert_false(ls.eof);
    assert_string_equal(ls.error, "");
    wp_logstream_release(&ls);

    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "error", "process not found", ""), 1);
    assert_string_equal(ls.error, "process not found");
    assert_false(ls.eof || ls.not_running);
    assert_int_equal(s.entries, 0);
    wp_logstream_release(&ls);

    /* the server's text reaches a terminal (--verbose): escaped */
    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "error", "gone \x1b]52;c;aGk=\x07", ""), 1);
    assert_string_equal(ls.error, "gone \\x1b]52;c;aGk=\\x07");
    wp_logstream_release(&ls);

    /* a long one keeps its start (it must still read as an error) */
    char longer[300];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    wp_logstream_init(&ls, on_entry, NULL, &s);
    assert_int_equal(event(&ls, "error", longer, ""), 1);
    assert_int_equal(strlen(ls.error), sizeof(ls.error) - 1);
    wp_logstream_release(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logstream__message_delivers_entry_and_keeps_id),
        cmocka_unit_test(test_logstream__bad_message_is_skipped_but_counted),
        cmocka_unit_test(test_logstream__in_band_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
