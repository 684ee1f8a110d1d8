/* Unit tests for cmd/deploy_render: deploy's text, rendered into a buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/deploy_render.h"
#include "core/err.h"

static struct eval_verdict verdict;

static struct deploy_view view_of(const char *sha, int color)
{
    struct deploy_view dv = { "deployment apps/web", sha, &verdict, 100.0, color, 0 };
    return dv;
}

static int setup(void **state)
{
    (void)state;
    memset(&verdict, 0, sizeof(verdict));
    verdict.phase = EVAL_COMPLETE;
    snprintf(verdict.reason, sizeof(verdict.reason), "3 of 3 replicas updated and ready");
    snprintf(verdict.image, sizeof(verdict.image), "registry.test/web:abc1234");
    verdict.image_match = IMAGE_MATCH;
    verdict.desired = verdict.updated = verdict.ready = verdict.available = 3;
    return 0;
}

static void expect_text(struct buf *b, const char *want)
{
    assert_string_equal(b->data, want);
    buf_release(b);
}

static void test_render__summary_and_progress(void **state)
{
    (void)state;
    struct deploy_view dv = view_of("abc1234def5678abc1234def5678abc1234def56", 0);
    struct buf b;
    buf_init(&b, 0);
    deploy_render_summary(&dv, "complete", &b);
    expect_text(&b, "deployment apps/web complete (abc1234): 3 of 3 replicas updated and ready");
    buf_init(&b, 0);
    deploy_render_progress(&dv, &b);
    expect_text(&b, "deployment apps/web: complete: 3 of 3 replicas updated and ready");
    /* no commit: no sha in parentheses */
    dv = view_of("", 0);
    buf_init(&b, 0);
    deploy_render_summary(&dv, "complete", &b);
    expect_text(&b, "deployment apps/web complete: 3 of 3 replicas updated and ready");
}

static void test_render__server_text_escaped_on_one_line(void **state)
{
    (void)state;
    snprintf(verdict.reason, sizeof(verdict.reason), "bad\x1b]0;title\x07\nnext\tline");
    struct deploy_view dv = view_of("", 0);
    struct buf b;
    buf_init(&b, 0);
    deploy_render_progress(&dv, &b);
    expect_text(&b, "deployment apps/web: complete: bad\\x1b]0;title\\x07 next line");
}

static void test_render__final_frame(void **state)
{
    (void)state;
    verdict.old_pods = 1;
    struct deploy_view dv = view_of("abc1234def5678abc1234def5678abc1234def56", 0);
    struct buf b;
    buf_init(&b, 0);
    deploy_render_frame(&dv, 1, EXIT_OK, 103.0, &b);
    expect_text(&b, "ok deployment apps/web  abc1234  complete  3s\n"
                    "  image     registry.test/web:abc1234  (match)\n"
                    "  replicas  3 desired, 3 updated, 3 ready, 3 available, 1 old pod\n"
                    "  3 of 3 replicas updated and ready\n");
}

static void test_render__colour_only_when_asked(void **state)
{
    (void)state;
    struct deploy_view dv = view_of("", 1);
    struct buf b;
    buf_init(&b, 0);
    deploy_render_frame(&dv, 1, EXIT_FAILED, 101.0, &b);
    assert_non_null(strstr(b.data, "\x1b["));
    buf_release(&b);
    dv.color = 0;
    buf_init(&b, 0);
    deploy_render_frame(&dv, 1, EXIT_FAILED, 101.0, &b);
    assert_null(strchr(b.data, '\x1b'));
    assert_int_equal(strncmp(b.data, "x deployment apps/web  complete", 31), 0);
    buf_release(&b);
}

static void test_render__failure_with_log(void **state)
{
    (void)state;
    struct eval_failure f;
    memset(&f, 0, sizeof(f));
    snprintf(f.pod, sizeof(f.pod), "web-7d9-x2");
    snprintf(f.container, sizeof(f.container), "app");
    snprintf(f.reason, sizeof(f.reason), "CrashLoopBackOff");
    snprintf(f.message, sizeof(f.message), "back-off restarting");
    snprintf(f.last_reason, sizeof(f.last_reason), "Error");
    f.restarts = 4;
    f.last_exit_code = 2;
    json_t *lines = json_pack("[ss]", "starting", "panic: no config");
    struct deploy_view dv = view_of("", 0);
    struct buf b;
    buf_init(&b, 0);
    deploy_render_failure(&dv, &f, lines, "previous", &b);
    expect_text(&b, "pod web-7d9-x2, container app: CrashLoopBackOff\n"
                    "  back-off restarting\n"
                    "  restarts 4, last termination Error (exit 2)\n"
                    "  last 2 log lines (previous instance):\n"
                    "  | starting\n"
                    "  | panic: no config\n");
    json_decref(lines);
    /* a pod-level failure names the workload when there is no pod */
    memset(&f, 0, sizeof(f));
    snprintf(f.reason, sizeof(f.reason), "ProgressDeadlineExceeded");
    buf_init(&b, 0);
    deploy_render_failure(&dv, &f, NULL, NULL, &b);
    expect_text(&b, "deployment apps/web: ProgressDeadlineExceeded\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_render__summary_and_progress, setup),
        cmocka_unit_test_setup(test_render__server_text_escaped_on_one_line, setup),
        cmocka_unit_test_setup(test_render__final_frame, setup),
        cmocka_unit_test_setup(test_render__colour_only_when_asked, setup),
        cmocka_unit_test_setup(test_render__failure_with_log, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
