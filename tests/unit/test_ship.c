/* Unit tests for ship's plan and its pipeline matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kube/image.h"
#include "ship/stages.h"
#include "woodpecker/provider.h"

#define SHA "3f9c2e1a7b4d5e6f708192a3b4c5d6e7f8091a2b"

static int plan_of(const char *text, struct config *c, struct ship_plan *p, struct err *e)
{
    memset(c, 0, sizeof(*c));
    err_clear(e);
    if (config_parse_repo_text(c, ".homelab", text, strlen(text), e) < 0)
        return -2;
    return ship_plan_load(c, "acme/infra", p, e);
}

static void test_plan(void **state)
{
    (void)state;
    struct config c;
    struct ship_plan p;
    struct err e;
    assert_int_equal(plan_of("[ship]\nstages = build, deploy live\n"
                             "[stage \"build\"]\nprovider = woodpecker\n"
                             "[stage \"deploy\"]\nprovider = woodpecker\nrepo = acme/web\n"
                             "match = variable   IMAGE_TAG\nappear-timeout = 90s\nevent = any\n"
                             "[stage \"live\"]\nworkload = apps/web\ncontainer = web\n",
                             &c, &p, &e), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.stages[0].repo, "acme/infra"); /* ci.repo for Woodpecker */
    assert_int_equal(p.stages[0].match, SHIP_MATCH_COMMIT);
    assert_float_equal(p.stages[0].appear_timeout, SHIP_DEFAULT_APPEAR, 0.001);
    assert_int_equal(p.stages[1].match, SHIP_MATCH_VARIABLE);
    assert_string_equal(p.stages[1].variable, "IMAGE_TAG");
    assert_float_equal(p.stages[1].appear_timeout, 90, 0.001);
    assert_null(p.stages[1].event);
    assert_int_equal(p.stages[2].kind, SHIP_LIVE);
    assert_string_equal(p.stages[2].container, "web");
    config_release(&c);
}

static void test_plan_errors(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        { "", "no stages configured" },
        { "[ship]\nstages = build\n", "no [stage \"build\"] section" },
        { "[ship]\nstages = a a\n[stage \"a\"]\nworkload = x/y\n", "twice" },
        { "[ship]\nstages = a\n[stage \"a\"]\nprovider = gitlab\nrepo = a/b\n", "provider" },
        { "[ship]\nstages = a\n[stage \"a\"]\nprovider = github\n", "repo" },
        { "[ship]\nstages = a\n[stage \"a\"]\nprovider = github\nrepo = a/b\nmatch = variable X\n",
          "woodpecker only" },
        { "[ship]\nstages = a\n[stage \"a\"]\nprovider = woodpecker\nrepo = a/b\nmatch = tag\n",
          "match must be" },
        { "[ship]\nstages = a\n[stage \"a\"]\nprovider = woodpecker\nrepo = a/b\n"
          "appear-timeout = soon\n", "not a duration" },
        { "[ship]\nstages = a\n[stage \"a\"]\nprovider = woodpecker\nrepo = a/b\nworkload = x/y\n",
          "not both" },
        { "[ship]\nstages = a\n[stage \"a\"]\nworkload = x/y\nmatch = commit\n", "rollout stage" },
        { "[ship]\nstages = a\n[stage \"a\"]\ncontainer = web\n", "neither" },
        { "[ship]\nstages = a;b\n", "not a stage name" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct config c;
        struct ship_plan p;
        struct err e;
        assert_int_equal(plan_of(bad[i][0], &c, &p, &e), -1);
        assert_int_equal(e.code, EXIT_USAGE);
        if (!strstr(e.msg, bad[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, bad[i][1]);
        config_release(&c);
    }
}

/* ship_run_matches over the run a provider makes of pipeline JSON j. */
static int run_matches_json(const struct ship_stage *st, json_t *j, const char *sha)
{
    struct wp_pipeline pl;
    struct ci_run r;
    json_object_set_new(j, "number", json_integer(1));
    wp_pipeline_from_json(j, &pl);
    wp_pipeline_to_run(&pl, &r);
    int m = ship_run_matches(st, &r, sha);
    ci_run_release(&r);
    wp_pipeline_release(&pl);
    return m;
}

static void test_variable_match(void **state)
{
    (void)state;
    struct ship_stage st;
    memset(&st, 0, sizeof(st));
    st.provider = SHIP_WOODPECKER;
    st.match = SHIP_MATCH_VARIABLE;
    strcpy(st.variable, "IMAGE_TAG");
    static const struct { const char *json; int want; } cases[] = {
        { "{\"variables\":{\"IMAGE_TAG\":\"3f9c2e1a\"}}", 1 },
        { "{\"variables\":{\"IMAGE_TAG\":\"v1.2.0-4-g3f9c2e1\"}}", 1 },
        { "{\"variables\":{\"IMAGE_TAG\":\"sha-3f9c2e1\"}}", 1 },
        { "{\"variables\":{\"IMAGE_TAG\":\"ghcr.io/acme/web:3f9c2e1a\"}}", 1 },
        { "{\"variables\":{\"IMAGE_TAG\":\"3f9c2e1f\"}}", 0 },       /* another commit */
        { "{\"variables\":{\"IMAGE_TAG\":\"x3f9c2e1\"}}", 0 },
        { "{\"variables\":{\"IMAGE_TAG\":\"latest\"}}", 0 },
        { "{\"variables\":{\"IMAGE_TAG\":\"3f9c2e1a;rm\"}}", 0 },    /* not a tag */
        { "{\"commit\":\"" SHA "\",\"variables\":{\"IMAGE_TAG\":\"0123abcd\"}}", 0 },
        { "{\"commit\":\"" SHA "\"}", 0 },                           /* no variable */
        { "{\"variables\":{\"IMAGE_NAME\":\"3f9c2e1a\"}}", 0 },
        { "{\"variables\":{\"IMAGE_TAG\":7}}", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = json_loads(cases[i].json, 0, NULL);
        if (ship_wp_matches(&st, j, SHA) != cases[i].want)
            fail_msg("case %zu: %s", i, cases[i].json);
        /* the same rule over the model (ship's stage reads runs) */
        if (run_matches_json(&st, j, SHA) != cases[i].want)
            fail_msg("case %zu (model): %s", i, cases[i].json);
        json_decref(j);
    }
    st.match = SHIP_MATCH_COMMIT;
    st.event = "push";
    json_t *j = json_loads("{\"commit\":\"" SHA "\",\"event\":\"push\"}", 0, NULL);
    assert_true(ship_wp_matches(&st, j, "3f9c2e1"));
    json_object_set_new(j, "event", json_string("manual"));
    assert_false(ship_wp_matches(&st, j, "3f9c2e1"));
    assert_false(run_matches_json(&st, j, "3f9c2e1"));
    json_object_set_new(j, "event", json_string("push"));
    assert_true(run_matches_json(&st, j, "3f9c2e1"));
    json_decref(j);
    assert_int_equal(image_tag_match_sha("v1.4.0-12-g3f9c2e1", "3f9c2e1a"), IMAGE_MATCH);
    assert_int_equal(image_tag_match_sha("3f9c2e1f", SHA), IMAGE_OTHER);
    assert_int_equal(image_tag_match_sha("", SHA), IMAGE_UNKNOWN);
    assert_int_equal(image_tag_match_sha("-3f9c2e1", SHA), IMAGE_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_variable_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
