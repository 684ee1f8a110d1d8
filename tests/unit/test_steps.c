/* Unit tests for ci/steps: which steps `ci logs` prints, over the model
 * as the Woodpecker provider fills it (wp_pipeline_to_run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "ci/steps.h"
#include "woodpecker/provider.h"

/*
 * A pipeline like reference §7's example: build (clone, test), lint (clone,
 * vet with failure: ignore, which fails without failing lint), docs
 * (publish, skipped). `status` and test's state vary per case.
 */
static void load(struct ci_run *p, const char *status, const char *test_state,
                 const char *build_state)
{
    struct wp_pipeline pl;
    json_error_t jerr;
    json_t *j = json_pack_ex(&jerr, 0,
        "{s:i, s:s, s:[{s:s, s:s, s:[{s:i, s:s, s:s, s:i}, {s:i, s:s, s:s, s:i}]},"
        "               {s:s, s:s, s:[{s:i, s:s, s:s, s:i}, {s:i, s:s, s:s, s:i}]},"
        "               {s:s, s:s, s:[{s:i, s:s, s:s}]}]}",
        "number", 42, "status", status, "workflows",
        "name", "build", "state", build_state, "children",
        "id", 901, "name", "clone", "state", "success", "started", 10,
        "id", 902, "name", "test", "state", test_state, "started", 11,
        "name", "lint", "state", "success", "children",
        "id", 904, "name", "clone", "state", "success", "started", 10,
        "id", 905, "name", "vet", "state", "failure", "started", 11,
        "name", "docs", "state", "skipped", "children",
        "id", 906, "name", "publish", "state", "skipped");
    assert_non_null(j);
    assert_int_equal(wp_pipeline_from_json(j, &pl), 0);
    json_decref(j);
    wp_pipeline_to_run(&pl, p);
    wp_pipeline_release(&pl);
}

static const char *described(const struct ci_run *p, const struct ci_step_list *l)
{
    static char out[512];
    struct buf b;
    buf_init(&b, 0);
    ci_steps_describe(p, l, &b);
    snprintf(out, sizeof(out), "%s", b.data);
    buf_release(&b);
    return out;
}

static void test_steps__named(void **state)
{
    (void)state;
    struct ci_run p;
    load(&p, "failure", "failure", "failure");
    struct ci_step_list l = CI_STEP_LIST_INIT;
    assert_int_equal(ci_steps_named(&p, "test", &l), 1);
    assert_string_equal(described(&p, &l), "build/test");
    l.n = 0;
    assert_int_equal(ci_steps_named(&p, "lint/clone", &l), 1);
    assert_string_equal(described(&p, &l), "lint/clone");
    l.n = 0;
    assert_int_equal(ci_steps_named(&p, "clone", &l), 2); /* ambiguous */
    assert_string_equal(described(&p, &l), "build/clone, lint/clone");
    l.n = 0;
    assert_int_equal(ci_steps_named(&p, "Test", &l), 0);   /* exact: case matters */
    assert_int_equal(ci_steps_named(&p, "build", &l), 0);  /* a workflow is not a step */
    assert_int_equal(ci_steps_named(&p, "build/", &l), 0);
    assert_int_equal(ci_steps_named(&p, "/test", &l), 0);
    assert_int_equal(ci_steps_named(&p, "lint/test", &l), 0);
    assert_int_equal(ci_steps_named(&p, "", &l), 0);
    ci_step_list_release(&l);
    ci_run_release(&p);
}

static void test_steps__named_with_slash_in_step_name(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:i, s:s, s:[{s:s, s:s, s:[{s:i, s:s, s:s}]}]}", "number", 1,
                          "status", "success", "workflows", "name", "ci", "state", "success",
                          "children", "id", 1, "name", "go/test", "state", "success");
    struct wp_pipeline pl;
    struct ci_run p;
    assert_int_equal(wp_pipeline_from_json(j, &pl), 0);
    json_decref(j);
    wp_pipeline_to_run(&pl, &p);
    wp_pipeline_release(&pl);
    struct ci_step_list l = CI_STEP_LIST_INIT;
    assert_int_equal(ci_steps_named(&p, "go/test", &l), 1);
    assert_int_equal(ci_steps_named(&p, "ci/go/test", &l), 1);
    ci_step_list_release(&l);
    ci_run_release(&p);
}

static void test_steps__default_failed(void **state)
{
    (void)state;
    struct ci_run p;
    load(&p, "failure", "failure", "failure");
    struct ci_step_list l = CI_STEP_LIST_INIT;
    /* lint/vet failed under failure: ignore (lint succeeded): not listed */
    assert_int_equal(ci_steps_default(&p, &l), 1);
    assert_string_equal(described(&p, &l), "build/test");
    ci_step_list_release(&l);
    ci_run_release(&p);

    load(&p, "killed", "killed", "killed");
    assert_int_equal(ci_steps_default(&p, &l), 1);
    assert_string_equal(described(&p, &l), "build/test");
    ci_step_list_release(&l);
    ci_run_release(&p);
}

static void test_steps__default_everything_otherwise(void **state)
{
    (void)state;
    struct ci_run p;
    struct ci_step_list l = CI_STEP_LIST_INIT;
    const char *all = "build/clone, build/test, lint/clone, lint/vet, docs/publish";
    load(&p, "success", "success", "success");
    assert_int_equal(ci_steps_default(&p, &l), 5);
    assert_string_equal(described(&p, &l), all);
    ci_step_list_release(&l);
    ci_run_release(&p);

    load(&p, "running", "running", "running");
    assert_int_equal(ci_steps_default(&p, &l), 5);
    ci_step_list_release(&l);
    ci_run_release(&p);

    /* failed, but no failing step that ran (canceled before it started) */
    load(&p, "canceled", "canceled", "canceled");
    assert_int_equal(ci_steps_default(&p, &l), 5);
    assert_string_equal(described(&p, &l), all);
    ci_step_list_release(&l);
    ci_run_release(&p);
}

static void test_steps__describe_all(void **state)
{
    (void)state;
    struct ci_run p;
    load(&p, "success", "success", "success");
    struct buf b;
    buf_init(&b, 0);
    ci_steps_describe_all(&p, &b);
    assert_string_equal(b.data, "build/clone, build/test, lint/clone, lint/vet, docs/publish");
    buf_release(&b);
    ci_run_release(&p);
}

static void test_steps__ran_and_waiting(void **state)
{
    (void)state;
    struct ci_step st;
    memset(&st, 0, sizeof(st));
    const struct {
        const char *state;
        long long started;
        int ran, waiting;
    } cases[] = {
        { "pending", 0, 0, 1 },  { "blocked", 0, 0, 1 },  { "created", 0, 0, 1 },
        { "skipped", 0, 0, 0 },  { "canceled", 0, 0, 0 }, { "declined", 0, 0, 0 },
        { "running", 0, 1, 0 },  { "running", 5, 1, 0 },  { "success", 5, 1, 0 },
        { "failure", 5, 1, 0 },  { "killed", 5, 1, 0 },   { "error", 0, 1, 0 },
        { "canceled", 5, 1, 0 }, /* canceled after it started: it has a log */
        { "what-is-this", 0, 1, 0 }, /* a word not known: it may have a log */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        st.state = wp_state_class(cases[i].state, 0);
        st.started = cases[i].started;
        if (ci_step_ran(&st) != cases[i].ran || ci_step_waiting(&st) != cases[i].waiting)
            fail_msg("%s started %lld: ran %d waiting %d", cases[i].state, cases[i].started,
                     ci_step_ran(&st), ci_step_waiting(&st));
    }
}

/* A pipeline that ran nothing ("skipped": a failure at the pipeline level)
 * has no failing step: every step is listed, as before the model. */
static void test_steps__default_skipped_pipeline(void **state)
{
    (void)state;
    struct ci_run p;
    struct ci_step_list l = CI_STEP_LIST_INIT;
    load(&p, "skipped", "skipped", "skipped");
    assert_int_equal(ci_steps_default(&p, &l), 5);
    ci_step_list_release(&l);
    ci_run_release(&p);
}

/* ---- the providers' log choices (choose_logs) ---- */

/* Woodpecker's rule over the same pipeline: --step, --job WORKFLOW,
 * --job with --step, and the errors' exit codes. */
static void test_steps__choose_steps(void **state)
{
    (void)state;
    struct ci_run p;
    load(&p, "failure", "failure", "failure");
    struct ci_runset s = { &p, 1 };
    struct {
        const char *job, *step;
        int rc, code;
        size_t n;
    } cases[] = {
        { NULL, NULL, 0, 0, 1 },            /* the failing step, build/test */
        { NULL, "test", 0, 0, 1 },
        { NULL, "clone", -1, EXIT_USAGE, 0 }, /* in build and lint */
        { "lint", "clone", 0, 0, 1 },
        { "lint", NULL, 0, 0, 2 },          /* every step of lint */
        { NULL, "nosuch", -1, EXIT_USAGE, 0 },
        { "nosuch", NULL, -1, EXIT_USAGE, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ci_log_query q = { cases[i].job, cases[i].step };
        struct ci_log_choice c;
        struct err e;
        err_clear(&e);
        ci_log_choice_init(&c);
        assert_int_equal(ci_logs_choose_steps(&s, &q, &c, &e), cases[i].rc);
        assert_int_equal(e.code, cases[i].code);
        assert_int_equal(c.n, cases[i].n);
        assert_int_equal(c.before.len, 0);
        ci_log_choice_release(&c);
    }
    ci_run_release(&p);
}

static void add_job(struct ci_run *r, const char *name, const char *status, enum ci_state state,
                    const char *const *steps, const enum ci_state *states, size_t n)
{
    r->jobs = xrealloc(r->jobs, (r->njobs + 1) * sizeof(*r->jobs));
    struct ci_job *j = &r->jobs[r->njobs++];
    memset(j, 0, sizeof(*j));
    j->name = xstrdup(name);
    j->status = xstrdup(status);
    j->state = state;
    j->steps = xcalloc(n, sizeof(*j->steps));
    j->nsteps = n;
    for (size_t k = 0; k < n; k++) {
        j->steps[k].name = xstrdup(steps[k]);
        j->steps[k].state = states[k];
        j->steps[k].number = (int)k + 1;
        j->steps[k].exit_code = -1;
    }
}

/* Two GitHub runs of one commit: CI (build, test) failed in test's "Run
 * tests"; Deploy's reusable workflow has a job "call / deploy" whose step
 * is named "x/y". */
static void load_gh(struct ci_runset *s)
{
    static const char *const steps[] = { "Set up job", "Run tests" };
    static const enum ci_state ok[] = { CI_SUCCESS, CI_SUCCESS };
    static const enum ci_state bad[] = { CI_SUCCESS, CI_FAILURE };
    static const char *const dsteps[] = { "Set up job", "x/y" };
    s->n = 2;
    s->runs = xcalloc(2, sizeof(*s->runs));
    s->runs[0].state = CI_FAILURE;
    s->runs[0].workflow = xstrdup("CI");
    add_job(&s->runs[0], "build", "success", CI_SUCCESS, steps, ok, 2);
    add_job(&s->runs[0], "test", "failure", CI_FAILURE, steps, bad, 2);
    s->runs[1].state = CI_SUCCESS;
    s->runs[1].workflow = xstrdup("Deploy");
    add_job(&s->runs[1], "call / deploy", "success", CI_SUCCESS, dsteps, ok, 2);
}

static void test_steps__choose_jobs(void **state)
{
    (void)state;
    struct ci_runset s;
    load_gh(&s);
    struct {
        const char *job, *step;
        int rc, code;
        size_t run, job_i;
        long step_i;
    } cases[] = {
        { NULL, NULL, 0, 0, 0, 1, 1 },                   /* the failing step */
        { NULL, "test/Run tests", 0, 0, 0, 1, 1 },
        { "test", "Run tests", 0, 0, 0, 1, 1 },
        { "build", NULL, 0, 0, 0, 0, -1 },               /* the whole job */
        { NULL, "call / deploy/x/y", 0, 0, 1, 0, 1 },    /* every split tried */
        { NULL, "x/y", 0, 0, 1, 0, 1 },                  /* a step name with a '/' */
        { NULL, "Run tests", -1, EXIT_USAGE, 0, 0, 0 },  /* in build and test */
        { NULL, "nosuch", -1, EXIT_NOT_FOUND, 0, 0, 0 },
        { "nosuch", NULL, -1, EXIT_NOT_FOUND, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ci_log_query q = { cases[i].job, cases[i].step };
        struct ci_log_choice c;
        struct err e;
        err_clear(&e);
        ci_log_choice_init(&c);
        assert_int_equal(ci_logs_choose_jobs(&s, &q, &c, &e), cases[i].rc);
        assert_int_equal(e.code, cases[i].code);
        if (cases[i].rc == 0) {
            assert_int_equal(c.n, 1);
            assert_int_equal(c.v[0].run, cases[i].run);
            assert_int_equal(c.v[0].job, cases[i].job_i);
            assert_int_equal(c.v[0].step, cases[i].step_i);
        }
        if (cases[i].code == EXIT_USAGE)
            assert_string_equal(c.before.data, "'Run tests' names 2 steps or jobs:\n"
                                               "  --job 'build' --step 'Run tests'\n"
                                               "  --job 'test' --step 'Run tests'\n");
        ci_log_choice_release(&c);
    }
    ci_runset_release(&s);
}

/* No run failed: every job's whole log; no job at all: not found. */
static void test_steps__choose_jobs_default(void **state)
{
    (void)state;
    struct ci_runset s;
    load_gh(&s);
    s.runs[0].state = CI_SUCCESS;
    s.runs[0].jobs[1].state = CI_SUCCESS;
    struct ci_log_query q = { NULL, NULL };
    struct ci_log_choice c;
    struct err e;
    err_clear(&e);
    ci_log_choice_init(&c);
    assert_int_equal(ci_logs_choose_jobs(&s, &q, &c, &e), 0);
    assert_int_equal(c.n, 3);
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(c.v[i].step, -1);
    ci_log_choice_release(&c);
    ci_runset_release(&s);
    struct ci_run none = { 0 };
    struct ci_runset empty = { &none, 1 };
    ci_log_choice_init(&c);
    assert_int_equal(ci_logs_choose_jobs(&empty, &q, &c, &e), -1);
    assert_int_equal(e.code, EXIT_NOT_FOUND);
    ci_log_choice_release(&c);
}

/* A job name with control characters is escaped in the candidates. */
static void test_steps__choose_jobs_escapes(void **state)
{
    (void)state;
    struct ci_runset s;
    load_gh(&s);
    free(s.runs[0].jobs[0].name);
    s.runs[0].jobs[0].name = xstrdup("b\x1b[2Jx");
    struct ci_log_query q = { NULL, "Run tests" };
    struct ci_log_choice c;
    struct err e;
    err_clear(&e);
    ci_log_choice_init(&c);
    assert_int_equal(ci_logs_choose_jobs(&s, &q, &c, &e), -1);
    assert_null(strchr(c.before.data, '\x1b'));
    ci_log_choice_release(&c);
    ci_runset_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps__named),
        cmocka_unit_test(test_steps__named_with_slash_in_step_name),
        cmocka_unit_test(test_steps__default_failed),
        cmocka_unit_test(test_steps__default_everything_otherwise),
        cmocka_unit_test(test_steps__describe_all),
        cmocka_unit_test(test_steps__ran_and_waiting),
        cmocka_unit_test(test_steps__default_skipped_pipeline),
        cmocka_unit_test(test_steps__choose_steps),
        cmocka_unit_test(test_steps__choose_jobs),
        cmocka_unit_test(test_steps__choose_jobs_default),
        cmocka_unit_test(test_steps__choose_jobs_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
