/* Unit tests for stage sections and the repository file's trust rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

static const char repo_text[] =
    "[ship]\n"
    "    stages = build deploy live\n"
    "[stage \"build\"]\n"
    "\tprovider = github\n"
    "\trepo = acme/web\n"
    "[stage \"deploy\"]\n"
    "    provider = woodpecker\n"
    "    repo = acme/web\n"
    "    match = variable IMAGE_TAG\n"
    "    appear-timeout = 5m\n"
    "[stage \"live\"]\n"
    "    workload = apps/web\n"
    "    container = web\n"
    "[ci]\n"
    "    repo = acme/infra\n"
    "    provider = woodpecker\n"
    "[github]\n"
    "    repo = acme/web\n"
    "[work]\n"
    "    verify = make check\n";

static void test_stage_sections(void **state)
{
    (void)state;
    struct config c;
    memset(&c, 0, sizeof(c));
    struct err e;
    err_clear(&e);
    assert_int_equal(config_parse_repo_text(&c, "/r/.homelab", repo_text, strlen(repo_text), &e),
                     0);
    assert_string_equal(c.ship_stages, "build deploy live");
    assert_int_equal(c.nstages, 3);
    const struct config_stage *d = config_stage_find(&c, "deploy");
    assert_non_null(d);
    assert_string_equal(d->provider, "woodpecker");
    assert_string_equal(d->match, "variable IMAGE_TAG");
    assert_string_equal(d->appear_timeout, "5m");
    assert_string_equal(config_stage_find(&c, "live")->container, "web");
    assert_null(config_stage_find(&c, "Deploy")); /* subsection names are case-sensitive */
    assert_string_equal(c.repo, "acme/infra");
    assert_string_equal(c.verify, "make check");
    config_release(&c);
}

/* Every key that could send a token elsewhere or run a program. */
static void test_refused_keys(void **state)
{
    (void)state;
    static const char *const refused[][2] = {
        { "ci", "server = https://evil.example" },
        { "ci", "dial = 10.0.0.1" },
        { "ci", "cacert = /tmp/evil.pem" },
        { "ci", "token = x" },
        { "ci", "remote = evil" },
        { "vault", "path = secret/other" },
        { "vault", "field = other" },
        { "deploy", "kubectl = /tmp/evil" },
        { "deploy", "context = prod" },
        { "github", "dial = 10.0.0.1" },
        { "github", "api = https://evil.example" },
        { "work", "branch-prefix = x/" },
        { "ci", "servr = typo" },
        { "stage \"build\"", "kubectl = /tmp/evil" },
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "[ship]\nstages = build\n[%s]\n%s\n", refused[i][0],
                 refused[i][1]);
        struct config c;
        memset(&c, 0, sizeof(c));
        struct err e;
        err_clear(&e);
        assert_int_equal(config_parse_repo_text(&c, "/r/.homelab", text, strlen(text), &e), -1);
        assert_int_equal(e.code, EXIT_USAGE);
        assert_non_null(strstr(e.msg, "/r/.homelab"));
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)strcspn(refused[i][1], " "), refused[i][1]);
        assert_non_null(strstr(e.msg, key));
        assert_null(c.server);
        assert_null(c.kubectl);
        config_release(&c);
    }
}

/* The user's file, read after the repository's, wins key by key. */
static void test_user_wins_key_by_key(void **state)
{
    (void)state;
    struct config c;
    memset(&c, 0, sizeof(c));
    struct err e;
    err_clear(&e);
    assert_int_equal(config_parse_repo_text(&c, "/r/.homelab", repo_text, strlen(repo_text), &e),
                     0);
    const char user[] = "[stage \"deploy\"]\nrepo = acme/web-fork\n[ci]\nserver = https://ci\n";
    struct buf w;
    buf_init(&w, 0);
    assert_int_equal(config_parse_text(&c, user, strlen(user), &w, &e), 0);
    const struct config_stage *d = config_stage_find(&c, "deploy");
    assert_string_equal(d->repo, "acme/web-fork");
    assert_string_equal(d->provider, "woodpecker");
    assert_string_equal(d->match, "variable IMAGE_TAG");
    assert_string_equal(c.server, "https://ci");
    assert_int_equal(w.len, 0);
    buf_release(&w);
    config_release(&c);
}

static void test_allowed_table(void **state)
{
    (void)state;
    assert_true(config_key_repo_allowed("ship.stages"));
    assert_true(config_key_repo_allowed("stage.build.provider"));
    assert_true(config_key_repo_allowed("stage.a.b.appear-timeout"));
    assert_true(config_key_repo_allowed("ci.provider"));
    assert_true(config_key_repo_allowed("github.repo"));
    assert_true(config_key_repo_allowed("work.verify"));
    assert_false(config_key_repo_allowed("stage.workload"));
    assert_false(config_key_repo_allowed("ship.timeout"));
    assert_false(config_key_repo_allowed("ci.token"));
    assert_false(config_key_repo_allowed("github.vault-path"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_sections),
        cmocka_unit_test(test_refused_keys),
        cmocka_unit_test(test_user_wins_key_by_key),
        cmocka_unit_test(test_allowed_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
