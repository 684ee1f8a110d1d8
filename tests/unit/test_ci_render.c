/* Unit tests for the ci verbs' text (cmd/ci_common): summary line and tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/ci_common.h"

static const char *doc =
    "{\"id\":1234,\"number\":42,\"status\":\"failure\",\"event\":\"push\","
    "\"commit\":\"9fceb02d0ae598e95dc970b74767f19372d61af8\",\"branch\":\"main\","
    "\"message\":\"Fix flaky test\\n\\nbody\","
    "\"created\":1760000000,\"started\":1760000003,\"finished\":1760000120,"
    "\"workflows\":[{\"id\":310,\"pid\":1,\"name\":\"build\",\"state\":\"failure\","
    "\"started\":1760000003,\"finished\":1760000120,"
    "\"children\":[{\"id\":902,\"pid\":4,\"ppid\":1,\"name\":\"test\",\"state\":\"failure\","
    "\"exit_code\":2,\"started\":1760000010,\"finished\":1760000119}]}]}";

static void test_ci_render__summary_and_tree(void **state)
{
    (void)state;
    json_t *j = json_loads(doc, 0, NULL);
    struct wp_pipeline p;
    assert_int_equal(wp_pipeline_from_json(j, &p), 0);
    struct buf b;
    buf_init(&b, 0);
    ci_summary_line(&p, 1760000200, &b);
    assert_int_equal(strncmp(b.data, "#42 failure push main 9fceb02 ", 30), 0);
    assert_non_null(strstr(b.data, "Fix flaky test"));
    assert_null(strchr(b.data, '\n'));
    buf_reset(&b);
    ci_render_tree(&p, 1760000200, 0, &b);
    assert_string_equal(b.data,
                        "  build                      failure   1m57s\n"
                        "    test                     failure   1m49s  exit 2\n");
    buf_release(&b);
    wp_pipeline_release(&p);
    json_decref(j);
}

/* Values in a printed next command: safe for the shell and the terminal. */
static void test_ci_render__shell_quote(void **state)
{
    (void)state;
    static const struct { const char *in; int always; const char *want; } cases[] = {
        { "acme/web", 0, "acme/web" },
        { "build/test", 1, "'build/test'" },
        { "/tmp/the ca's.pem", 0, "'/tmp/the ca'\\''s.pem'" },
        { "", 0, "''" },
        { "a\x1b[31m'\\b", 0, "$'a\\x1b[31m\\x27\\x5cb'" },
    };
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&b);
        ci_shell_quote(&b, cases[i].in, cases[i].always);
        assert_string_equal(b.data, cases[i].want);
    }
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_render__summary_and_tree),
        cmocka_unit_test(test_ci_render__shell_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
