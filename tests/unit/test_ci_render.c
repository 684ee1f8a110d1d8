/* Unit tests for the ci verbs' text (cmd/ci_common, cmd/ci_view): summary
 * line, tree, step-change lines; and a provider without a change feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/ci_common.h"
#include "cmd/ci_view.h"
#include "woodpecker/provider.h"

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

/* A server's commit that is not hex is cut on a character boundary, not in
 * the middle of "ț" (a regression input of tests/fuzz/fuzz_model). */
static void test_ci_render__commit_cut_on_a_character(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"id\":1,\"number\":3,\"status\":\"success\",\"event\":\"push\","
                           "\"branch\":\"main\",\"commit\":\"9fceb0\u021b\u03de5\"}",
                           0, NULL);
    struct wp_pipeline p;
    assert_int_equal(wp_pipeline_from_json(j, &p), 0);
    struct ci_run r;
    wp_pipeline_to_run(&p, &r);
    struct buf b;
    buf_init(&b, 0);
    ci_view_pipeline_line(&r, 1760000200, &b);
    assert_int_equal(strncmp(b.data, "#3 success push main 9fceb0 ", 28), 0);
    buf_reset(&b);
    ci_view_run_line(&r, &b);
    assert_non_null(strstr(b.data, " main 9fceb0 (run 3)"));
    buf_release(&b);
    ci_run_release(&r);
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

/* A one-job run whose steps have the given words and classes. */
static void make_run(struct ci_run *r, long long number, const char *const *words,
                     const enum ci_state *states, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->number = number;
    r->njobs = 1;
    r->jobs = calloc(1, sizeof(*r->jobs));
    r->jobs[0].name = strdup("build");
    r->jobs[0].nsteps = n;
    r->jobs[0].steps = calloc(n, sizeof(*r->jobs[0].steps));
    for (size_t i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "s%zu", i);
        r->jobs[0].steps[i].name = strdup(name);
        r->jobs[0].steps[i].status = strdup(words[i]);
        r->jobs[0].steps[i].state = states[i];
    }
}

static void collect(void *ctx, const struct ci_job *j, const struct ci_step *st)
{
    buf_addf(ctx, "%s/%s %s;", j->name, st->name, st->status);
}

/* The pipeline layout's step-change lines: what changed, by position. */
static void test_ci_render__step_changes(void **state)
{
    (void)state;
    static const char *const w0[] = { "success", "running", "pending", "blocked" };
    static const enum ci_state s0[] = { CI_SUCCESS, CI_RUNNING, CI_PENDING, CI_NEEDS_PERSON };
    static const char *const w1[] = { "success", "failure", "pending", "blocked", "running" };
    static const enum ci_state s1[] = { CI_SUCCESS, CI_FAILURE, CI_PENDING, CI_NEEDS_PERSON,
                                        CI_RUNNING };
    struct ci_run a, b, c;
    make_run(&a, 7, w0, s0, 4);
    make_run(&b, 7, w1, s1, 5);
    make_run(&c, 8, w1, s1, 5);
    struct buf out;
    buf_init(&out, 0);
    ci_view_step_changes(NULL, &a, collect, &out); /* first sight: not-started ones are no news */
    assert_string_equal(out.data, "build/s0 success;build/s1 running;");
    buf_reset(&out);
    ci_view_step_changes(&a, &b, collect, &out); /* same run: the changed and the new */
    assert_string_equal(out.data, "build/s1 failure;build/s4 running;");
    buf_reset(&out);
    ci_view_step_changes(&b, &c, collect, &out); /* another run: as at first sight */
    assert_string_equal(out.data, "build/s0 success;build/s1 failure;build/s4 running;");
    buf_reset(&out);
    ci_view_step_changes(&b, &b, collect, &out);
    assert_true(out.len == 0);
    buf_release(&out);
    ci_run_release(&a);
    ci_run_release(&b);
    ci_run_release(&c);
}

/* A provider without a change feed: waiting only waits, and says "poll". */
static void test_ci_render__no_feed(void **state)
{
    (void)state;
    static const struct ci_provider_ops ops = { .name = "none", .title = "None" };
    struct ci_provider p = { .ops = &ops };
    struct ci_feed f = { .health = CI_FEED_LIVE };
    ci_feed_wait(&p, &f, 0);
    assert_int_equal(f.health, CI_FEED_NONE);
    ci_feed_missed(&p, &f);
    ci_feed_close(&p, &f);
    assert_null(ci_provider_transport(&p));
    long long n = 0;
    struct err e;
    err_clear(&e);
    assert_int_equal(ci_newest_run(&p, "9fceb02", NULL, &n, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_render__summary_and_tree),
        cmocka_unit_test(test_ci_render__commit_cut_on_a_character),
        cmocka_unit_test(test_ci_render__shell_quote),
        cmocka_unit_test(test_ci_render__step_changes),
        cmocka_unit_test(test_ci_render__no_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
