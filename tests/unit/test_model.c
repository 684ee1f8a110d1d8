/* Unit tests for the Woodpecker model: status rules, sha matching, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "woodpecker/model.h"

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(wp_status_exit_code("success"), 0);
    const char *failed[] = { "failure", "error", "killed", "canceled", "declined" };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(wp_status_exit_code(failed[i]), 1);
    assert_int_equal(wp_status_exit_code("blocked"), 4);
    const char *open[] = { "pending", "running", "created", "skipped", "", "bogus" };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(wp_status_exit_code(open[i]), -1);
    assert_int_equal(wp_status_exit_code(NULL), -1);
}

static void test_terminal(void **state)
{
    (void)state;
    assert_true(wp_status_terminal("success"));
    assert_true(wp_status_terminal("killed"));
    assert_false(wp_status_terminal("running"));
    assert_false(wp_status_terminal("blocked"));
    assert_false(wp_status_terminal("pending"));
}

static void test_commit_matches(void **state)
{
    (void)state;
    const char *full = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    assert_true(wp_commit_matches(full, full));
    assert_true(wp_commit_matches(full, "9fceb02"));
    assert_true(wp_commit_matches(full, "9FCEB02D"));
    assert_false(wp_commit_matches(full, "9fceb0"));        /* too short */
    assert_false(wp_commit_matches(full, "9fceb03"));
    assert_false(wp_commit_matches(full, "fceb02d"));       /* not a prefix */
    assert_false(wp_commit_matches("9fceb02", full));       /* longer than the commit */
    assert_false(wp_commit_matches(NULL, "9fceb02"));
}

static void test_duration(void **state)
{
    (void)state;
    char b[32];
    wp_format_duration(0, b, sizeof(b));
    assert_string_equal(b, "0s");
    wp_format_duration(59, b, sizeof(b));
    assert_string_equal(b, "59s");
    wp_format_duration(125, b, sizeof(b));
    assert_string_equal(b, "2m05s");
    wp_format_duration(3720, b, sizeof(b));
    assert_string_equal(b, "1h02m");
    wp_format_duration(90000, b, sizeof(b));
    assert_string_equal(b, "1d01h");
    wp_format_duration(-5, b, sizeof(b));
    assert_string_equal(b, "0s");
}

static void test_first_line(void **state)
{
    (void)state;
    char b[16];
    wp_first_line("Fix flaky test\n\nbody", 72, b, sizeof(b));
    assert_string_equal(b, "Fix flaky test");
    wp_first_line("a\tb\x1b[31m", 72, b, sizeof(b));
    assert_string_equal(b, "a b [31m");
    /* never cut inside a UTF-8 sequence: "é" is two bytes */
    wp_first_line("abcd\xc3\xa9", 5, b, sizeof(b));
    assert_string_equal(b, "abcd");
    wp_first_line(NULL, 5, b, sizeof(b));
    assert_string_equal(b, "");
}

static void test_decode_hostile(void **state)
{
    (void)state;
    struct wp_pipeline p;
    json_t *j = json_loads("{\"number\":42,\"status\":7,\"workflows\":[1,{\"name\":\"b\","
                           "\"children\":\"x\"}],\"started_at\":5}", 0, NULL);
    assert_int_equal(wp_pipeline_from_json(j, &p), 0);
    assert_string_equal(p.status, "");      /* mistyped: empty, not a crash */
    assert_int_equal(p.nworkflows, 1);      /* the non-object entry is skipped */
    assert_int_equal(p.workflows[0].nsteps, 0);
    assert_int_equal(p.started, 5);         /* v2 time key */
    wp_pipeline_release(&p);
    json_decref(j);
    assert_int_equal(wp_pipeline_from_json(NULL, &p), -1);
    wp_pipeline_release(&p);
}

static void test_decode_detail(void **state)
{
    (void)state;
    const char *doc =
        "{\"id\":1234,\"number\":42,\"status\":\"failure\",\"event\":\"push\","
        "\"commit\":\"9fceb02d0ae598e95dc970b74767f19372d61af8\",\"branch\":\"main\","
        "\"created\":1760000000,\"started\":1760000003,\"finished\":1760000120,"
        "\"errors\":[{\"type\":\"linter\",\"message\":\"bad yaml\"}],"
        "\"workflows\":[{\"id\":310,\"pid\":1,\"name\":\"build\",\"state\":\"failure\","
        "\"children\":[{\"id\":902,\"pid\":4,\"ppid\":1,\"name\":\"test\",\"state\":\"failure\","
        "\"exit_code\":2,\"started\":1760000010,\"finished\":1760000119}]}]}";
    json_t *j = json_loads(doc, 0, NULL);
    struct wp_pipeline p;
    assert_int_equal(wp_pipeline_from_json(j, &p), 0);
    assert_int_equal(p.number, 42);
    assert_string_equal(p.errors, "bad yaml");
    assert_int_equal(p.workflows[0].steps[0].id, 902);
    assert_int_equal(p.workflows[0].steps[0].exit_code, 2);
    assert_int_equal(wp_elapsed(p.started, p.finished, 0), 117);
    assert_int_equal(wp_elapsed(p.started, 0, 1760000013), 10);
    wp_pipeline_release(&p);
    json_decref(j);
}

static void test_control_characters_replaced(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"number\":1,\"branch\":\"ma\\u001b[2Jin\",\"message\":"
                           "\"line1\\nline2\\u0007\",\"status\":\"ok\\u009b\","
                           "\"workflows\":[{\"name\":\"w\\r\",\"children\":[{\"name\":"
                           "\"s\\u001b]52;c;x\\u0007\",\"error\":\"e\\u007f\"}]}]}", 0, NULL);
    assert_non_null(j);
    struct wp_pipeline p;
    assert_int_equal(wp_pipeline_from_json(j, &p), 0);
    assert_string_equal(p.branch, "ma?[2Jin");
    assert_string_equal(p.message, "line1\nline2?");
    assert_string_equal(p.status, "ok?");
    assert_string_equal(p.workflows[0].name, "w?");
    assert_string_equal(p.workflows[0].steps[0].name, "s?]52;c;x?");
    assert_string_equal(p.workflows[0].steps[0].error, "e?");
    wp_pipeline_release(&p);
    json_decref(j);
}

/* Found by tests/fuzz/fuzz_model: "now - created" overflowed on -2^63. */
static void test_time_out_of_range(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"number\":1,\"created\":-9223372036854775808,"
                           "\"started\":9223372036854775807,\"finished\":-1,"
                           "\"created_at\":1760000000}", 0, NULL);
    struct wp_pipeline p;
    assert_int_equal(wp_pipeline_from_json(j, &p), 0);
    assert_int_equal(p.created, 0);   /* unknown, not the v2 key's value either */
    assert_int_equal(p.started, 0);
    assert_int_equal(p.finished, 0);
    assert_int_equal(wp_elapsed(p.started, p.finished, 1760000000), 0);
    wp_pipeline_release(&p);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),    cmocka_unit_test(test_terminal),
        cmocka_unit_test(test_commit_matches), cmocka_unit_test(test_duration),
        cmocka_unit_test(test_first_line),    cmocka_unit_test(test_decode_hostile),
        cmocka_unit_test(test_decode_detail),
        cmocka_unit_test(test_control_characters_replaced),
        cmocka_unit_test(test_time_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
