/* Unit tests for the provider-neutral model (ci/model), the GitHub model
 * (github/model) and the job-log step splitter (github/logsplit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "ci/model.h"
#include "ci/provider.h"
#include "github/client.h"
#include "github/logsplit.h"
#include "github/model.h"
#include "github/runwatch.h"

static struct ci_runset set_of(const enum ci_state *st, size_t n)
{
    struct ci_runset s = { calloc(n ? n : 1, sizeof(struct ci_run)), n };
    for (size_t i = 0; i < n; i++)
        s.runs[i].state = st[i];
    return s;
}

static void test_verdict(void **state)
{
    (void)state;
    struct { enum ci_state s[3]; size_t n; int wait; int want; } rows[] = {
        { { 0 }, 0, 0, -1 },                                        /* no run yet */
        { { CI_SUCCESS, CI_NEUTRAL, CI_SKIPPED }, 3, 0, 0 },
        { { CI_SUCCESS, CI_RUNNING }, 2, 0, -1 },
        { { CI_FAILURE, CI_RUNNING }, 2, 0, 1 },                    /* a failure decides at once */
        { { CI_CANCELLED, CI_SUCCESS }, 2, 0, 1 },
        { { CI_NEEDS_PERSON, CI_SUCCESS }, 2, 0, 4 },
        { { CI_NEEDS_PERSON, CI_SUCCESS }, 2, 1, -1 },              /* --wait-approval */
        { { CI_NEEDS_PERSON, CI_FAILURE }, 2, 0, 1 },
        { { CI_STALE }, 1, 0, -1 },                                 /* stale is not final */
        { { CI_WAITING }, 1, 0, -1 },                               /* a wait timer */
        { { CI_UNKNOWN, CI_SUCCESS }, 2, 0, -1 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ci_runset s = set_of(rows[i].s, rows[i].n);
        assert_int_equal(ci_verdict(&s, rows[i].wait), rows[i].want);
        free(s.runs);
    }
}

static void test_state_class(void **state)
{
    (void)state;
    assert_int_equal(gh_state_class("completed", "success"), CI_SUCCESS);
    assert_int_equal(gh_state_class("completed", "startup_failure"), CI_FAILURE);
    assert_int_equal(gh_state_class("completed", "timed_out"), CI_FAILURE);
    assert_int_equal(gh_state_class("completed", "action_required"), CI_NEEDS_PERSON);
    assert_int_equal(gh_state_class("completed", "stale"), CI_STALE);
    assert_int_equal(gh_state_class("completed", NULL), CI_UNKNOWN);
    assert_int_equal(gh_state_class("completed", "brand_new"), CI_UNKNOWN);
    assert_int_equal(gh_state_class("waiting", NULL), CI_WAITING);
    assert_int_equal(gh_state_class("requested", NULL), CI_PENDING);
    assert_int_equal(gh_state_class(NULL, NULL), CI_UNKNOWN);
}

static void test_runs_grouping(void **state)
{
    (void)state;
    const char *txt =
        "{\"workflow_runs\":["
        "{\"id\":2,\"workflow_id\":7,\"event\":\"push\",\"name\":\"CI\",\"status\":\"completed\","
        "\"conclusion\":\"success\",\"created_at\":\"2026-01-01T00:10:00Z\",\"run_attempt\":2},"
        "{\"id\":1,\"workflow_id\":7,\"event\":\"push\",\"name\":\"CI\",\"status\":\"completed\","
        "\"conclusion\":\"failure\",\"created_at\":\"2026-01-01T00:00:00Z\"},"
        "{\"id\":3,\"workflow_id\":8,\"event\":\"pull_request\",\"name\":\"PR\",\"status\":"
        "\"queued\",\"created_at\":\"2026-01-01T00:00:00Z\"},"
        "{\"id\":4,\"workflow_id\":9,\"event\":\"push\",\"name\":\"L\\u001b[2J\",\"status\":"
        "\"in_progress\"}]}";
    json_t *j = json_loads(txt, 0, NULL);
    struct ci_runset s = { 0 };
    gh_runs_from_list(j, "push", &s);
    assert_int_equal(s.n, 2);                   /* the PR run filtered, the older CI run replaced */
    assert_int_equal(s.runs[0].id, 2);
    assert_int_equal(s.runs[0].attempt, 2);
    assert_string_equal(s.runs[0].status, "success");
    assert_null(strchr(s.runs[1].workflow, '\x1b')); /* control bytes never reach a terminal */
    ci_runset_release(&s);
    gh_runs_from_list(j, "any", &s);
    assert_int_equal(s.n, 3);
    ci_runset_release(&s);
    json_decref(j);
}

static void test_pending(void **state)
{
    (void)state;
    struct ci_run r = { .state = CI_WAITING };
    json_t *rev = json_loads("[{\"environment\":{\"name\":\"production\"},\"wait_timer\":0,"
                             "\"reviewers\":[{\"type\":\"User\"}]}]", 0, NULL);
    gh_apply_pending(rev, &r);
    assert_int_equal(r.state, CI_NEEDS_PERSON);
    assert_non_null(strstr(r.waiting_for, "production"));
    ci_run_release(&r);
    r = (struct ci_run){ .state = CI_WAITING };
    json_t *timer = json_loads("[{\"environment\":{\"name\":\"prod\"},\"wait_timer\":5,"
                               "\"wait_timer_started_at\":\"2026-01-01T00:00:00Z\","
                               "\"reviewers\":[]}]", 0, NULL);
    gh_apply_pending(timer, &r);
    assert_int_equal(r.state, CI_WAITING);      /* a timer is not a person */
    assert_int_equal(r.wait_until, (long long)gh_parse_time("2026-01-01T00:05:00Z"));
    ci_run_release(&r);
    json_decref(rev);
    json_decref(timer);
}

static void test_time(void **state)
{
    (void)state;
    assert_true(gh_parse_time("1970-01-01T00:00:00Z") == 0);
    assert_true(gh_parse_time("2026-01-01T00:00:01.5000000Z") == 1767225601.5);
    assert_true(gh_parse_time("2026-01-01T02:00:00+02:00") == 1767225600);
    assert_true(gh_parse_time("2026-13-01T00:00:00Z") < 0);
    assert_true(gh_parse_time("2026-01-01 00:00:00Z") < 0);
    double ts;
    size_t text;
    assert_int_equal(gh_log_line_time("\xEF\xBB\xBF" "2026-01-01T00:00:00.1234567Z hi", 35, &ts,
                                      &text), 1);
    assert_int_equal(text, 32);
    assert_int_equal(gh_log_line_time("no time", 7, &ts, &text), 0);
    assert_int_equal(text, 0);
}

#define L(sec, text) "2026-01-01T00:00:" #sec ".1000000Z " text "\n"

static const char job_log[] =
    "\xEF\xBB\xBF" L(00, "Current runner version: '2.328.0'")
    L(01, "##[group]Run actions/checkout@v4")
    L(01, "checked out")
    L(02, "##[endgroup]")
    L(03, "##[group]Run make check")
    L(03, "ok - parser")
    "continued line without a time\n"
    L(05, "##[error]Process completed with exit code 2.")
    L(05, "##[group]Run upload")   /* the next step, in the same second */
    L(06, "uploaded")
    L(07, "Cleaning up orphan processes");

static void test_split(void **state)
{
    (void)state;
    struct gh_split sp;
    double t0 = gh_parse_time("2026-01-01T00:00:00Z");
    gh_log_split(job_log, strlen(job_log), t0 + 3, t0 + 5, 3, &sp);
    assert_true(sp.found && sp.certain);
    char *sec = strndup(job_log + sp.begin, sp.end - sp.begin);
    assert_non_null(strstr(sec, "Run make check"));
    assert_non_null(strstr(sec, "continued line"));
    assert_non_null(strstr(sec, "exit code 2"));
    assert_null(strstr(sec, "Run upload"));     /* cut at the next group line */
    assert_null(strstr(sec, "checked out"));
    assert_int_equal(sp.lines, 4);
    free(sec);
    /* step 1 has no group line: still certain */
    gh_log_split(job_log, strlen(job_log), t0, t0, 1, &sp);
    assert_true(sp.found && sp.certain);
    /* times outside the log: the whole log, uncertain */
    gh_log_split(job_log, strlen(job_log), t0 + 100, t0 + 200, 4, &sp);
    assert_false(sp.found);
    assert_false(sp.certain);
    assert_int_equal(sp.begin, 0);
    assert_int_equal(sp.end, strlen(job_log));
    /* a running step (no completion): to the end */
    gh_log_split(job_log, strlen(job_log), t0 + 6, 0, 5, &sp);
    assert_true(sp.found);
    assert_int_equal(sp.end, strlen(job_log));
}

/* Link headers: only rel="next", only under the API base, whole or nothing. */
static void test_next_link(void **state)
{
    (void)state;
    const char *base = "https://ghe.test/api/v3";
    char out[64];
    gh_next_link(base, "<https://ghe.test/api/v3/repos/a/b/actions/runs?page=1>; rel=\"prev\", "
                       "<https://ghe.test/api/v3/repos/a/b/actions/runs?page=3>; rel=\"next\", "
                       "<https://ghe.test/api/v3/x?page=9>; rel=\"last\"", out, sizeof(out));
    assert_string_equal(out, "/repos/a/b/actions/runs?page=3");
    gh_next_link(base, "<https://ghe.test/api/v3/x?page=9>; rel=\"last\"", out, sizeof(out));
    assert_string_equal(out, "");
    gh_next_link(base, "<https://evil.test/api/v3/x?page=2>; rel=\"next\"", out, sizeof(out));
    assert_string_equal(out, "");
    gh_next_link(base, "<https://ghe.test/api/v3.evil.test/x>; rel=\"next\"", out, sizeof(out));
    assert_string_equal(out, "");
    gh_next_link(base, "<https://ghe.test/api/v3/x?page=2", out, sizeof(out));
    assert_string_equal(out, "");
    gh_next_link(base, "", out, sizeof(out));
    assert_string_equal(out, "");
    char tiny[8];
    gh_next_link(base, "<https://ghe.test/api/v3/repos/a/b?page=2>; rel=\"next\"", tiny,
                 sizeof(tiny));
    assert_string_equal(tiny, "");
}

static void test_provider_choice(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    cfg.github_api = "https://ghe.corp.test/api/v3";
    enum ci_provider_kind k;
    struct err e;
    err_clear(&e);
    assert_int_equal(ci_provider_choose(NULL, &cfg, "github.com", &k, &e), 0);
    assert_int_equal(k, CI_GITHUB);
    assert_int_equal(ci_provider_choose(NULL, &cfg, "ghe.corp.test", &k, &e), 0);
    assert_int_equal(k, CI_GITHUB);
    assert_int_equal(ci_provider_choose(NULL, &cfg, "forge.homelab.test", &k, &e), 0);
    assert_int_equal(k, CI_WOODPECKER);
    assert_int_equal(ci_provider_choose("woodpecker", &cfg, "github.com", &k, &e), 0);
    assert_int_equal(k, CI_WOODPECKER);
    assert_int_equal(ci_provider_choose("gitlab", &cfg, NULL, &k, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
    char host[64];
    assert_int_equal(ci_url_host("git@github.com:acme/web.git", host, sizeof(host)), 0);
    assert_string_equal(host, "github.com");
    assert_int_equal(ci_url_host("https://user:pw@github.com:443/acme/web", host, sizeof(host)), 0);
    assert_string_equal(host, "github.com");
    assert_int_equal(ci_url_host("/srv/git/web.git", host, sizeof(host)), -1);
}

/* Which list of a commit's runs is polled, and when a list by status says
 * something the last full answer does not (github/runwatch). */
static void test_runwatch(void **state)
{
    (void)state;
    const char *full_txt =
        "{\"workflow_runs\":["
        "{\"id\":1,\"run_attempt\":1,\"status\":\"in_progress\",\"conclusion\":null},"
        "{\"id\":2,\"run_attempt\":1,\"status\":\"completed\",\"conclusion\":\"success\"}]}";
    json_t *full = json_loads(full_txt, 0, NULL);
    struct gh_runwatch w = { 0 };
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 0);      /* nothing read yet */
    gh_runwatch_note(&w, "/a", full, 1);
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 0);      /* no sign that steps move it */
    unsigned gen = w.gen;
    gh_runwatch_note(&w, "/a", full, 0);                       /* a 304 */
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 0);
    gh_runwatch_note(&w, "/a", full, 1);                       /* changed, no status did */
    assert_int_equal(w.gen, gen);
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 1);      /* run 1 is in_progress */
    assert_int_equal(gh_runwatch_by_status(&w, "/b"), 0);      /* another commit or filter */

    size_t slots[GH_RUNWATCH_LISTS];
    assert_int_equal(gh_runwatch_turn(&w, slots), 3);          /* queued on the first turn */
    assert_string_equal(gh_runwatch_status[slots[2]], "queued");
    for (int i = 0; i < 3; i++)
        assert_int_equal(gh_runwatch_turn(&w, slots), 2);      /* then completed and waiting */
    assert_int_equal(gh_runwatch_turn(&w, slots), 3);

    json_t *done = json_loads("{\"workflow_runs\":[{\"id\":2,\"run_attempt\":1,"
                              "\"status\":\"completed\",\"conclusion\":\"success\"}]}", 0, NULL);
    json_t *none = json_loads("{\"workflow_runs\":[]}", 0, NULL);
    json_t *more = json_loads("{\"workflow_runs\":["
                              "{\"id\":1,\"run_attempt\":1,\"status\":\"completed\","
                              "\"conclusion\":\"failure\"},"
                              "{\"id\":2,\"run_attempt\":1,\"status\":\"completed\","
                              "\"conclusion\":\"success\"}]}", 0, NULL);
    json_t *rerun = json_loads("{\"workflow_runs\":[{\"id\":2,\"run_attempt\":2,"
                               "\"status\":\"queued\",\"conclusion\":null}]}", 0, NULL);
    json_t *fresh = json_loads("{\"workflow_runs\":[{\"id\":9,\"run_attempt\":1,"
                               "\"status\":\"queued\",\"conclusion\":null}]}", 0, NULL);
    assert_int_equal(gh_runwatch_news(&w, 0, done, 1), 0);     /* completed: as known */
    assert_int_equal(gh_runwatch_news(&w, 1, none, 1), 0);     /* waiting: none, as known */
    assert_int_equal(gh_runwatch_news(&w, 0, more, 1), 1);     /* run 1 finished */
    assert_int_equal(gh_runwatch_news(&w, 0, none, 1), 1);     /* run 2 left completed (a re-run) */
    assert_int_equal(gh_runwatch_news(&w, 2, rerun, 1), 1);    /* ... as its attempt 2, queued */
    assert_int_equal(gh_runwatch_news(&w, 2, fresh, 1), 1);    /* a run not known yet */
    assert_int_equal(gh_runwatch_news(&w, 2, fresh, 0), 0);    /* the same answer again (304) */
    gh_runwatch_note(&w, "/a", more, 1);                       /* a full read: the summary moved */
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 0);      /* nothing in_progress: full list */
    assert_int_equal(gh_runwatch_news(&w, 2, fresh, 0), 1);    /* checked again against it */
    assert_int_equal(gh_runwatch_news(&w, 0, more, 0), 0);
    json_t *junk = json_loads("{\"workflow_runs\":[1,\"x\",null]}", 0, NULL);
    assert_int_equal(gh_runwatch_news(&w, 1, junk, 1), 0);     /* not objects: no runs */
    assert_int_equal(gh_runwatch_news(&w, 7, junk, 1), 1);     /* no such list */
    gh_runwatch_note(&w, "/a", full, 1);
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 1);
    assert_int_equal(gh_runwatch_news(&w, 1, full, 1), 1);     /* "waiting" holding other runs: */
    assert_int_equal(gh_runwatch_by_status(&w, "/a"), 0);      /* filter ignored: poll in full */
    json_t *lists[] = { full, done, none, more, rerun, fresh, junk };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        json_decref(lists[i]);
    gh_runwatch_release(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict),        cmocka_unit_test(test_state_class),
        cmocka_unit_test(test_runs_grouping),  cmocka_unit_test(test_pending),
        cmocka_unit_test(test_time),           cmocka_unit_test(test_split),
        cmocka_unit_test(test_provider_choice), cmocka_unit_test(test_next_link),
        cmocka_unit_test(test_runwatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
