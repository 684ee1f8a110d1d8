/* Unit tests for the Woodpecker write requests (what --dry-run prints). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "woodpecker/write.h"

static void request(const struct wp_write *w, struct buf *path, struct buf *body)
{
    buf_init(path, 0);
    buf_init(body, 0);
    wp_write_request(7, w, path, body);
}

static void test_pipeline_paths(void **state)
{
    (void)state;
    const char *want[] = { "/api/repos/7/pipelines/42", "/api/repos/7/pipelines/42/approve",
                           "/api/repos/7/pipelines/42/decline",
                           "/api/repos/7/pipelines/42/cancel" };
    enum wp_action a[] = { WP_RESTART, WP_APPROVE, WP_DECLINE, WP_CANCEL };
    for (size_t i = 0; i < 4; i++) {
        struct wp_write w = { .action = a[i], .number = 42 };
        struct buf path, body;
        request(&w, &path, &body);
        assert_string_equal(path.data, want[i]);
        assert_int_equal(body.len, 0); /* these writes carry no body */
        buf_release(&path);
        buf_release(&body);
    }
}

static void test_manual_body(void **state)
{
    (void)state;
    json_t *vars = json_pack("{s:s, s:s, s:s}", "Z", "last", "IMAGE_TAG", "3f9c2e1", "Q",
                             "a \"quoted\" <value>\n");
    struct wp_write w = { .action = WP_CREATE, .branch = "release/1.x", .variables = vars };
    struct buf path, body;
    request(&w, &path, &body);
    assert_string_equal(path.data, "/api/repos/7/pipelines");
    /* keys sorted, strings JSON-escaped: the body is stable and safe to print */
    assert_string_equal(body.data, "{\"branch\":\"release/1.x\",\"variables\":{\"IMAGE_TAG\":"
                        "\"3f9c2e1\",\"Q\":\"a \\\"quoted\\\" <value>\\n\",\"Z\":\"last\"}}");
    buf_release(&path);
    buf_release(&body);
    json_decref(vars);

    struct wp_write none = { .action = WP_CREATE, .branch = "main" };
    request(&none, &path, &body);
    assert_string_equal(body.data, "{\"branch\":\"main\",\"variables\":{}}");
    buf_release(&path);
    buf_release(&body);
}

static void test_action_names(void **state)
{
    (void)state;
    assert_string_equal(wp_action_name(WP_RESTART), "restart");
    assert_string_equal(wp_action_name(WP_CREATE), "run");
    assert_string_equal(wp_action_name(WP_CANCEL), "cancel");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_paths),
        cmocka_unit_test(test_manual_body),
        cmocka_unit_test(test_action_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
