/* Unit tests for git/suite: which check suite `work land` finds on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "git/suite.h"

static void test_suite__makefile_targets(void **state)
{
    (void)state;
    assert_true(suite_makefile_has_target("check:\n\t./run\n", "check"));
    assert_true(suite_makefile_has_target("all: prog\ncheck: all\n\t./t\n", "check"));
    assert_true(suite_makefile_has_target("all check test: x\n", "test"));
    assert_true(suite_makefile_has_target("check:: one\ncheck:: two\n", "check"));
    assert_true(suite_makefile_has_target("all \\\n  check: deps\n", "check"));
    assert_true(suite_makefile_has_target("check: ; ./run --x=1\n", "check"));
    assert_true(suite_makefile_has_target("  check : all\n", "check"));
    assert_true(suite_makefile_has_target("checkout:\ncheck:\n", "check"));
    /* not rules for the target */
    assert_false(suite_makefile_has_target("", "check"));
    assert_false(suite_makefile_has_target(".PHONY: check test\n", "check"));
    assert_false(suite_makefile_has_target("checkout: x\nprecheck: y\n", "check"));
    assert_false(suite_makefile_has_target("check := yes\n", "check"));
    assert_false(suite_makefile_has_target("check ::= yes\n", "check"));
    assert_false(suite_makefile_has_target("URL = http://x/check:1\n", "check"));
    assert_false(suite_makefile_has_target("check ?= a:b\n", "check"));
    assert_false(suite_makefile_has_target("all:\n\tcheck: nothing\n", "check"));
    assert_false(suite_makefile_has_target("# check: commented\n", "check"));
    assert_false(suite_makefile_has_target("check: CFLAGS = -O0\n", "check"));
    assert_false(suite_makefile_has_target("define RULE\ncheck:\n\tfoo\nendef\n", "check"));
    assert_true(suite_makefile_has_target("define RULE\nx:\nendef\ncheck:\n", "check"));
}

static void test_suite__makefile_includes(void **state)
{
    (void)state;
    struct strvec names = STRVEC_INIT;
    suite_makefile_includes("include common.mk rules.mk\n-include local.mk\nsinclude s.mk\n"
                            "include $(DEPS)\ninclude *.d\nincluded: x\n# include no.mk\n",
                            &names);
    assert_int_equal(names.n, 4);
    assert_string_equal(names.v[0], "common.mk");
    assert_string_equal(names.v[1], "rules.mk");
    assert_string_equal(names.v[2], "local.mk");
    assert_string_equal(names.v[3], "s.mk");
    strvec_clear(&names);
}

static void test_suite__package_json(void **state)
{
    (void)state;
    assert_true(suite_package_json_has_test("{\"scripts\":{\"test\":\"jest\"}}"));
    assert_false(suite_package_json_has_test("{\"scripts\":{\"build\":\"tsc\"}}"));
    assert_false(suite_package_json_has_test("{\"name\":\"x\"}"));
    assert_false(suite_package_json_has_test(
        "{\"scripts\":{\"test\":\"echo \\\"Error: no test specified\\\" && exit 1\"}}"));
    assert_false(suite_package_json_has_test("{\"scripts\":{\"test\":\"  \"}}"));
    assert_false(suite_package_json_has_test("{\"scripts\":{\"test\":42}}"));
    assert_false(suite_package_json_has_test("not json"));
    assert_false(suite_package_json_has_test(""));
}

/* ---- detection in a directory ---- */

static char dir[256];

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_dir(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/suite-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *detect(void)
{
    static char label[64];
    struct suite s;
    struct err e;
    err_clear(&e);
    int rc = suite_detect(dir, &s, &e);
    assert_int_not_equal(rc, -1);
    snprintf(label, sizeof(label), "%s", rc ? s.label : "none");
    if (rc) {
        struct buf joined;
        buf_init(&joined, 0);
        for (size_t i = 0; i < s.argv.n; i++)
            buf_addf(&joined, "%s%s", i ? " " : "", s.argv.v[i]);
        assert_string_equal(joined.data, s.label);
        buf_release(&joined);
    }
    suite_release(&s);
    return label;
}

static void test_suite__detect_order(void **state)
{
    (void)state;
    assert_string_equal(detect(), "none");
    char path[512];
    snprintf(path, sizeof(path), "%s/build", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof(path), "%s/build/meson-private", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    assert_string_equal(detect(), "meson test -C build");
    put("package.json",
        "{\"scripts\":{\"test\":\"echo \\\"Error: no test specified\\\" && exit 1\"}}");
    assert_string_equal(detect(), "meson test -C build");
    put("package.json", "{\"scripts\":{\"test\":\"node t.js\"}}");
    assert_string_equal(detect(), "npm test");
    put("Cargo.toml", "[package]\n");
    assert_string_equal(detect(), "cargo test");
    put("go.mod", "module x\n");
    assert_string_equal(detect(), "go test ./...");
    put("Makefile", "all:\n\tcc x.c\n"); /* no test rule: not a suite */
    assert_string_equal(detect(), "go test ./...");
    put("Makefile", "include rules.mk\n-include missing.mk\n");
    put("rules.mk", "test:\n\t./t\n");
    assert_string_equal(detect(), "make test");
    put("Makefile", "test:\n\t./t\ncheck: test\n");
    assert_string_equal(detect(), "make check");
    /* GNU make reads GNUmakefile first */
    put("GNUmakefile", "all:\n");
    assert_string_equal(detect(), "go test ./...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite__makefile_targets),
        cmocka_unit_test(test_suite__makefile_includes),
        cmocka_unit_test(test_suite__package_json),
        cmocka_unit_test_setup_teardown(test_suite__detect_order, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
