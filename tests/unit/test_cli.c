/* Unit tests for core/cli: options as data, parsed from anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cli.h"

static int o_json, o_help;
static const char *o_repo;
static long o_limit;
static double o_timeout;
static struct strvec o_deploy = STRVEC_INIT;

static const struct opt global_t[] = {
    { "json", OPT_BOOL, &o_json, NULL, "JSON Lines" },
    { "help", OPT_BOOL, &o_help, NULL, "this help" },
    { "repo", OPT_STRING, &o_repo, "OWNER/NAME", "the repo" },
    { "timeout", OPT_DURATION, &o_timeout, "DURATION", "give up after" },
    OPT_END,
};
static const struct opt verb_t[] = {
    { "limit", OPT_INT, &o_limit, "N", "at most N" },
    { "deploy", OPT_LIST, &o_deploy, "NS/NAME", "wait for it" },
    OPT_END,
};
static const struct opt *const tables[] = { global_t, verb_t, NULL };

static int reset(void **state)
{
    (void)state;
    o_json = o_help = 0;
    o_repo = NULL;
    o_limit = -1;
    o_timeout = -1;
    strvec_clear(&o_deploy);
    return 0;
}

/*
 * Parses a space-separated command line; returns cli_parse's result.
 * Values point into argv, so the words stay in a static buffer until the
 * next parse.
 */
static int parse(const char *line, struct strvec *pos, struct err *e)
{
    static char words[256];
    char *argv[32];
    int argc = 0;
    snprintf(words, sizeof(words), "%s", line);
    for (char *p = words; *p && argc < 32;) {
        argv[argc++] = p;
        p += strcspn(p, " ");
        if (*p)
            *p++ = '\0';
    }
    err_clear(e);
    return cli_parse(tables, argc, argv, pos, e);
}

static void test_cli__flags_anywhere(void **state)
{
    (void)state;
    struct strvec pos = STRVEC_INIT;
    struct err e;
    assert_int_equal(parse("x --json --limit=5 y --repo a/b --timeout 1h30m --deploy n/a "
                           "--deploy n/b", &pos, &e), 0);
    assert_int_equal(o_json, 1);
    assert_int_equal(o_limit, 5);
    assert_string_equal(o_repo, "a/b");
    assert_true(o_timeout == 5400);
    assert_int_equal(o_deploy.n, 2);
    assert_string_equal(o_deploy.v[1], "n/b");
    assert_int_equal(pos.n, 2);
    assert_string_equal(pos.v[0], "x");
    assert_string_equal(pos.v[1], "y");
    strvec_clear(&pos);
}

static void test_cli__double_dash_ends_options(void **state)
{
    (void)state;
    struct strvec pos = STRVEC_INIT;
    struct err e;
    assert_int_equal(parse("-h -- --json -5", &pos, &e), 0);
    assert_int_equal(o_help, 1);
    assert_int_equal(o_json, 0);
    assert_int_equal(pos.n, 2);
    assert_string_equal(pos.v[0], "--json");
    strvec_clear(&pos);
    /* a negative number is an argument, not a flag */
    assert_int_equal(parse("-5", &pos, &e), 0);
    assert_int_equal(pos.n, 1);
    strvec_clear(&pos);
}

static void expect_usage(const char *line, const char *msg)
{
    struct strvec pos = STRVEC_INIT;
    struct err e;
    assert_int_equal(parse(line, &pos, &e), -1);
    assert_int_equal(e.code, EXIT_USAGE);
    assert_string_equal(e.msg, msg);
    strvec_clear(&pos);
}

static void test_cli__usage_errors(void **state)
{
    (void)state;
    expect_usage("--jsn", "unknown flag '--jsn' (did you mean '--json'?)");
    expect_usage("--zzzzzzzzzz", "unknown flag '--zzzzzzzzzz'");
    expect_usage("-j", "unknown flag '-j' (short flags: -R --repo, -L --limit, -q --quiet, "
                       "-v --verbose, -h --help; the rest are long)");
    expect_usage("-h=1", "-h (--help) takes no value: '-h=1'");
    expect_usage("-L", "-L (--limit) needs a value (N)");
    expect_usage("--json=1", "--json takes no value");
    expect_usage("--limit", "--limit needs a value (N)");
    expect_usage("--limit -3", "--limit wants a whole number from 0 to 1000000000, not '-3'");
    expect_usage("--limit=5x", "--limit wants a whole number from 0 to 1000000000, not '5x'");
    expect_usage("--timeout soon",
                 "--timeout wants a duration from 1ms to 7 days such as 90s, 20m, 1h30m or 500ms, not 'soon'");
}

/* -R, -L, -h: short forms of long flags, where the long flag exists. */
static void test_cli__short_flags(void **state)
{
    (void)state;
    struct strvec pos = STRVEC_INIT;
    struct err e;
    assert_int_equal(parse("x -R a/b -L5 -h", &pos, &e), 0);
    assert_string_equal(o_repo, "a/b");
    assert_int_equal(o_limit, 5);
    assert_int_equal(o_help, 1);
    assert_int_equal(pos.n, 1);
    strvec_clear(&pos);
    assert_int_equal(parse("-Rc/d -L 7", &pos, &e), 0);
    assert_string_equal(o_repo, "c/d");
    assert_int_equal(o_limit, 7);
    strvec_clear(&pos);
    /* -q has no --quiet in these tables */
    expect_usage("-q", "unknown flag '-q' (short flags: -R --repo, -L --limit, -q --quiet, "
                       "-v --verbose, -h --help; the rest are long)");
    /* how many words a flag takes, for flags before a verb */
    char *argv[] = { "--repo", "a/b", "--repo=a/b", "-R", "x", "-Rx", "--json", "--nope", "ci",
                     "-R" };
    assert_int_equal(cli_flag_words(tables, 10, argv, 0), 2);
    assert_int_equal(cli_flag_words(tables, 10, argv, 2), 1);
    assert_int_equal(cli_flag_words(tables, 10, argv, 3), 2);
    assert_int_equal(cli_flag_words(tables, 10, argv, 5), 1);
    assert_int_equal(cli_flag_words(tables, 10, argv, 6), 1);
    assert_int_equal(cli_flag_words(tables, 10, argv, 7), 0);
    assert_int_equal(cli_flag_words(tables, 10, argv, 8), 0);
    assert_int_equal(cli_flag_words(tables, 10, argv, 9), 1); /* its missing value: cli_parse says */
}

static void test_cli__durations(void **state)
{
    (void)state;
    double s;
    assert_int_equal(cli_parse_duration("90s", &s), 0);
    assert_true(s == 90);
    assert_int_equal(cli_parse_duration("20m", &s), 0);
    assert_true(s == 1200);
    assert_int_equal(cli_parse_duration("500ms", &s), 0);
    assert_true(s == 0.5);
    assert_int_equal(cli_parse_duration("45", &s), 0);
    assert_true(s == 45);
    assert_int_equal(cli_parse_duration("", &s), -1);
    assert_int_equal(cli_parse_duration("1x", &s), -1);
}

static void test_cli__edit_distance_and_describe(void **state)
{
    (void)state;
    assert_int_equal(cli_edit_distance("json", "json"), 0);
    assert_int_equal(cli_edit_distance("jsn", "json"), 1);
    assert_int_equal(cli_edit_distance("", "abc"), 3);
    struct buf b;
    buf_init(&b, 0);
    cli_describe(verb_t, &b);
    assert_string_equal(b.data, "  -L, --limit N                 at most N\n"
                                "      --deploy NS/NAME          wait for it\n");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cli__flags_anywhere, reset),
        cmocka_unit_test_setup(test_cli__double_dash_ends_options, reset),
        cmocka_unit_test_setup(test_cli__usage_errors, reset),
        cmocka_unit_test_setup(test_cli__short_flags, reset),
        cmocka_unit_test_setup(test_cli__durations, reset),
        cmocka_unit_test_setup(test_cli__edit_distance_and_describe, reset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    strvec_clear(&o_deploy);
    return rc;
}
