/* Unit tests for configuration precedence and option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/config.h"
#include "core/http.h"

static char path[64];

static void write_config(const char *text, int mode)
{
    snprintf(path, sizeof(path), "/tmp/homelab-cfg-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
    setenv("HOMELAB_CONFIG", path, 1);
}

static int setup(void **state)
{
    (void)state;
    unsetenv("WOODPECKER_SERVER");
    unsetenv("HOMELAB_WP_IP");
    unsetenv("HOMELAB_REPO");
    unsetenv("HOMELAB_VAULT_PATH");
    unsetenv("HOMELAB_KUBECTL");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    setenv("HOMELAB_CONFIG", "/nonexistent/homelab/config", 1);
    struct config c;
    struct config_flags f = { 0 };
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_null(c.server);
    assert_false(c.file_found);
    assert_string_equal(c.vault_path, "secret/ci/global");
    assert_string_equal(c.vault_field, "woodpecker_api_token");
    assert_string_equal(c.kubectl, "kubectl");
    config_release(&c);
}

static void test_precedence(void **state)
{
    (void)state;
    write_config("[ci]\n  server = https://file.example/\n  repo = file/repo\n"
                 "  dial = 10.0.0.1\n[vault]\npath = \"kv/file\"\n", 0600);
    struct config c;
    struct config_flags f = { 0 };
    struct err e;
    err_clear(&e);
    /* file only */
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_true(c.file_found);
    assert_string_equal(c.server, "https://file.example"); /* trailing slash dropped */
    assert_string_equal(c.vault_path, "kv/file");          /* quotes removed */
    config_release(&c);
    /* environment beats the file */
    setenv("WOODPECKER_SERVER", "https://env.example", 1);
    setenv("HOMELAB_REPO", "env/repo", 1);
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_string_equal(c.server, "https://env.example");
    assert_string_equal(c.repo, "env/repo");
    assert_string_equal(c.dial, "10.0.0.1");               /* untouched keys stay */
    config_release(&c);
    /* flags beat the environment */
    f.server = "https://flag.example";
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_string_equal(c.server, "https://flag.example");
    assert_string_equal(c.repo, "env/repo");
    config_release(&c);
    unsetenv("WOODPECKER_SERVER");
    unsetenv("HOMELAB_REPO");
}

static void test_empty_env_is_unset(void **state)
{
    (void)state;
    write_config("[ci]\nserver = https://file.example\n", 0600);
    setenv("WOODPECKER_SERVER", "", 1);
    struct config c;
    struct config_flags f = { 0 };
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_string_equal(c.server, "https://file.example");
    config_release(&c);
    unsetenv("WOODPECKER_SERVER");
}

static void test_malformed_names_line(void **state)
{
    (void)state;
    write_config("[ci]\nserver = https://x\nthis line is broken\n", 0600);
    struct config c;
    struct config_flags f = { 0 };
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load(&c, &f, &e), -1);
    assert_int_equal(e.code, 2);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, ":3:"));
    config_release(&c);
}

static void test_token_file_permissions(void **state)
{
    (void)state;
    write_config("[ci]\ntoken = abc\n", 0644);
    struct config c;
    struct config_flags f = { 0 };
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_true(c.file_insecure);
    assert_string_equal(c.file_token, "abc");
    config_release(&c);
    write_config("[ci]\ntoken = abc\n", 0600);
    assert_int_equal(config_load(&c, &f, &e), 0);
    assert_false(c.file_insecure);
    config_release(&c);
}

static void test_durations(void **state)
{
    (void)state;
    double s;
    assert_int_equal(cli_parse_duration("90s", &s), 0);
    assert_true(s == 90);
    assert_int_equal(cli_parse_duration("20m", &s), 0);
    assert_true(s == 1200);
    assert_int_equal(cli_parse_duration("1h30m", &s), 0);
    assert_true(s == 5400);
    assert_int_equal(cli_parse_duration("250ms", &s), 0);
    assert_true(s == 0.25);
    assert_int_equal(cli_parse_duration("45", &s), 0);
    assert_true(s == 45);
    assert_int_equal(cli_parse_duration("", &s), -1);
    assert_int_equal(cli_parse_duration("5x", &s), -1);
    assert_int_equal(cli_parse_duration("-5s", &s), -1);
    assert_int_equal(cli_parse_duration("m", &s), -1);
    /* strict: what strtod() used to let through */
    static const char *const bad[] = { "nan", "inf", "0x1p3", "1e2", " 5s", "5s ", "5s5",
                                       "0", "0s", "1.5s", "+5s", "5m1h", "1s1s", "8d",
                                       "9999999999s", "169h" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = -1;
        assert_int_equal(cli_parse_duration(bad[i], &s), -1);
        assert_true(s == -1);
    }
    assert_int_equal(cli_parse_duration("1s500ms", &s), 0);
    assert_true(s == 1.5);
    assert_int_equal(cli_parse_duration("168h", &s), 0);
}

static void test_cli_parse(void **state)
{
    (void)state;
    int json = 0;
    const char *server = NULL;
    long limit = 0;
    const struct opt t[] = {
        { "json", OPT_BOOL, &json, NULL, "" },
        { "server", OPT_STRING, &server, "URL", "" },
        { "limit", OPT_INT, &limit, "N", "" },
        OPT_END,
    };
    const struct opt *tables[] = { t, NULL };
    char *argv[] = { "a", "--json", "--server=https://x", "b", "--limit", "5", "--", "--c" };
    struct strvec pos = STRVEC_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(cli_parse(tables, 8, argv, &pos, &e), 0);
    assert_true(json);
    assert_string_equal(server, "https://x");
    assert_int_equal(limit, 5);
    assert_int_equal(pos.n, 3);
    assert_string_equal(pos.v[2], "--c");
    strvec_clear(&pos);

    char *bad[] = { "--jsno" };
    assert_int_equal(cli_parse(tables, 1, bad, &pos, &e), -1);
    assert_int_equal(e.code, 2);
    assert_non_null(strstr(e.msg, "did you mean '--json'"));
    char *missing[] = { "--limit" };
    assert_int_equal(cli_parse(tables, 1, missing, &pos, &e), -1);
    char *notnum[] = { "--limit", "x" };
    assert_int_equal(cli_parse(tables, 2, notnum, &pos, &e), -1);
    strvec_clear(&pos);
}

static void test_escape(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    http_escape_path(&b, "group/sub/my repo");
    assert_string_equal(b.data, "group/sub/my%20repo");
    buf_reset(&b);
    http_escape_path(&b, "../x?y#z");
    assert_string_equal(b.data, "%2E%2E/x%3Fy%23z");
    buf_reset(&b);
    http_escape(&b, "a/b&c=d");
    assert_string_equal(b.data, "a%2Fb%26c%3Dd");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_env_is_unset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_names_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_permissions, setup, teardown),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_cli_parse),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
