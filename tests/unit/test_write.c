/* Unit tests for the Woodpecker write requests (what --dry-run prints) and
 * the provider adapter over them (woodpecker/act.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "woodpecker/act.h"
#include "woodpecker/provider.h"
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

/* Every neutral action maps to its Woodpecker write on the pipeline's number. */
static void test_act_mapping(void **state)
{
    (void)state;
    struct ci_run run = { .id = 42, .number = 42, .status = "failure" };
    struct wp_repo repo = { .id = 7, .full_name = "acme/web", .default_branch = "main" };
    const struct { enum ci_action a; enum wp_action w; } map[] = {
        { CI_ACT_RESTART, WP_RESTART }, { CI_ACT_APPROVE, WP_APPROVE },
        { CI_ACT_DECLINE, WP_DECLINE }, { CI_ACT_CANCEL, WP_CANCEL },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        struct ci_act_req req = { .action = map[i].a, .run = &run };
        struct wp_write w;
        json_t *vars;
        struct err e;
        err_clear(&e);
        assert_int_equal(wp_write_from_req(&req, &repo, &w, &vars, &e), 0);
        assert_int_equal(w.action, map[i].w);
        assert_int_equal(w.number, 42);
        assert_null(vars);
        assert_string_equal(ci_action_name(map[i].a), wp_action_name(map[i].w));
    }
    /* a write on a pipeline needs the pipeline */
    struct ci_act_req none = { .action = CI_ACT_CANCEL };
    struct wp_write w;
    json_t *vars;
    struct err e;
    err_clear(&e);
    assert_int_equal(wp_write_from_req(&none, &repo, &w, &vars, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
}

/* restart --failed is GitHub's: a usage error, before and in the adapter. */
static void test_act_restart_failed(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(wp_act_supported(CI_ACT_RESTART, &e), 0);
    assert_int_equal(wp_act_supported(CI_ACT_RUN, &e), 0);
    assert_int_equal(wp_act_supported(CI_ACT_RESTART_FAILED, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
    assert_non_null(strstr(e.msg, "whole pipelines"));
    struct ci_run run = { .id = 2, .number = 2 };
    struct wp_repo repo = { .id = 7, .full_name = "acme/web", .default_branch = "main" };
    struct ci_act_req req = { .action = CI_ACT_RESTART_FAILED, .run = &run };
    struct wp_write w;
    json_t *vars;
    err_clear(&e);
    assert_int_equal(wp_write_from_req(&req, &repo, &w, &vars, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
}

/* run: a manual pipeline, the default branch unless named, the variables
 * as an object (an empty one without any), the body --dry-run shows. */
static void test_act_run(void **state)
{
    (void)state;
    struct wp_repo repo = { .id = 7, .full_name = "acme/web", .default_branch = "main" };
    const char *kv[] = { "IMAGE_TAG=abc1234", "EMPTY=", "EQ=a=b" };
    struct ci_act_req req = { .action = CI_ACT_RUN, .workflow = "ignored.yml", .vars = kv,
                              .nvars = 3 };
    struct wp_write w;
    json_t *vars;
    struct err e;
    err_clear(&e);
    assert_int_equal(wp_write_from_req(&req, &repo, &w, &vars, &e), 0);
    assert_int_equal(w.action, WP_CREATE);
    assert_int_equal(w.number, 0);
    assert_string_equal(w.branch, "main");
    assert_ptr_equal(w.variables, vars);
    struct buf path, body;
    request(&w, &path, &body);
    assert_string_equal(path.data, "/api/repos/7/pipelines");
    assert_string_equal(body.data, "{\"branch\":\"main\",\"variables\":{\"EMPTY\":\"\","
                        "\"EQ\":\"a=b\",\"IMAGE_TAG\":\"abc1234\"}}");
    buf_release(&path);
    buf_release(&body);
    json_decref(vars);

    struct ci_act_req plain = { .action = CI_ACT_RUN, .branch = "release" };
    assert_int_equal(wp_write_from_req(&plain, &repo, &w, &vars, &e), 0);
    assert_string_equal(w.branch, "release");
    assert_int_equal(json_object_size(vars), 0);
    json_decref(vars);

    const char *bad[] = { "=x" };
    struct ci_act_req malformed = { .action = CI_ACT_RUN, .vars = bad, .nvars = 1 };
    assert_int_equal(wp_write_from_req(&malformed, &repo, &w, &vars, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
    assert_null(vars);

    struct wp_repo bare = { .id = 7, .full_name = "acme/web" };
    err_clear(&e);
    assert_int_equal(wp_write_from_req(&plain, &bare, &w, &vars, &e), 0); /* named branch */
    json_decref(vars);
    struct ci_act_req unnamed = { .action = CI_ACT_RUN };
    assert_int_equal(wp_write_from_req(&unnamed, &bare, &w, &vars, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
    assert_null(vars);
}

/* The result: the pipeline made or acted on, the progress sentence the
 * verbs print, the send count, and a filtered run said as its status. */
static void test_act_result(void **state)
{
    (void)state;
    const struct {
        struct wp_write w;
        long long run_id;
        const char *what;
    } cases[] = {
        { { .action = WP_RESTART, .number = 2, .result_number = 6, .sends = 1,
            .status = "pending" }, 6, "restarted #2 as #6" },
        { { .action = WP_CREATE, .branch = "main", .result_number = 9, .sends = 2,
            .recovered = 1, .status = "pending" }, 9, "started #9 on main" },
        { { .action = WP_APPROVE, .number = 3, .result_number = 3, .sends = 1,
            .status = "pending" }, 3, "approved #3" },
        { { .action = WP_CANCEL, .number = 4, .result_number = 4, .sends = 1,
            .status = "running" }, 4, "cancel of #4 accepted" },
        { { .action = WP_DECLINE, .number = 5, .result_number = 5, .sends = 1,
            .status = "declined" }, 5, "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ci_act_result r;
        memset(&r, 0x5a, sizeof(r)); /* everything is filled */
        wp_act_result(&cases[i].w, &r);
        assert_int_equal(r.run_id, cases[i].run_id);
        assert_int_equal(r.attempt, 1);
        assert_string_equal(r.status, cases[i].w.status);
        assert_string_equal(r.what, cases[i].what);
        assert_int_equal(r.recovered, cases[i].w.recovered);
        assert_int_equal(r.sends, cases[i].w.sends);
    }
    struct wp_write filtered = { .action = WP_CREATE, .branch = "docs", .filtered = 1,
                                 .sends = 1 };
    struct ci_act_result r;
    wp_act_result(&filtered, &r);
    assert_string_equal(r.status, "filtered");
    assert_string_equal(r.what, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_paths),
        cmocka_unit_test(test_manual_body),
        cmocka_unit_test(test_action_names),
        cmocka_unit_test(test_act_mapping),
        cmocka_unit_test(test_act_restart_failed),
        cmocka_unit_test(test_act_run),
        cmocka_unit_test(test_act_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
