/*
 * Unit tests for kube/transport: targets and names, argv and paths,
 * kubectl's stderr, the line splitter, watch events, and the watch state
 * machine driven by a scripted stand-in for kubectl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/clock.h"
#include "kube/transport.h"

/* ---- targets ---- */

static void test_target__forms(void **state)
{
    (void)state;
    struct kube_target t;
    struct err e;
    err_clear(&e);
    assert_int_equal(kube_parse_target("apps/web", &t, &e), 0);
    assert_int_equal(t.kind, KUBE_DEPLOYMENT);
    assert_string_equal(t.ns, "apps");
    assert_string_equal(t.name, "web");
    assert_int_equal(kube_parse_target("deployment/apps/web", &t, &e), 0);
    assert_int_equal(t.kind, KUBE_DEPLOYMENT);
    assert_int_equal(kube_parse_target("statefulset/data/db-0.x", &t, &e), 0);
    assert_int_equal(t.kind, KUBE_STATEFULSET);
    assert_string_equal(t.name, "db-0.x");
    assert_int_equal(kube_parse_target("daemonset/kube-system/agent", &t, &e), 0);
    assert_int_equal(t.kind, KUBE_DAEMONSET);
    assert_int_equal(kube_parse_target("sts/a/b", &t, &e), 0);
    assert_int_equal(t.kind, KUBE_STATEFULSET);
    assert_int_equal(kube_parse_target("ds/a/b", &t, &e), 0);
    assert_int_equal(t.kind, KUBE_DAEMONSET);
}

static void test_target__hostile(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "web", "apps/", "/web", "apps/web/x", "pod/apps/web", "a/b/c/d",
        "apps/web;rm -rf x", "apps/$(touch pwned)", "apps/we b", "-n/web", "apps/-web",
        "apps/--context=evil", "Apps/web", "apps/Web", "apps/web-", "ap_ps/web",
        "apps/web\x1b[31m", "apps/web..x", "apps/.web", "",
        "a123456789012345678901234567890123456789012345678901234567890123/web",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kube_target t;
        struct err e;
        err_clear(&e);
        if (kube_parse_target(bad[i], &t, &e) != -1 || e.code != EXIT_USAGE)
            fail_msg("accepted '%s'", bad[i]);
        /* the message never carries raw control characters */
        for (const char *p = e.msg; *p; p++)
            assert_true((unsigned char)*p >= 0x20);
    }
}

static void test_names__dns1123(void **state)
{
    (void)state;
    assert_true(kube_valid_label("a"));
    assert_true(kube_valid_label("kube-system"));
    assert_true(kube_valid_label("0abc9"));
    assert_false(kube_valid_label("-a"));
    assert_false(kube_valid_label("a-"));
    assert_false(kube_valid_label("a.b"));
    assert_false(kube_valid_label(""));
    assert_true(kube_valid_subdomain("a.b-c.d"));
    assert_false(kube_valid_subdomain("a..b"));
    assert_false(kube_valid_subdomain("a.-b"));
}

static void test_escape(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    kube_escape(&b, "app.kubernetes.io/name=web,tier=x y;$(z)");
    assert_string_equal(b.data, "app.kubernetes.io%2Fname%3Dweb%2Ctier%3Dx%20y%3B%24%28z%29");
    buf_release(&b);
    char q[64];
    kube_quote(q, sizeof(q), "a\x1b[2Jb");
    assert_string_equal(q, "a\\x1b[2Jb");
}

/* ---- argv and paths ---- */

static void test_argv(void **state)
{
    (void)state;
    struct kube_client kc;
    kube_client_init(&kc, NULL, "-x; rm -rf /");
    struct strvec av = STRVEC_INIT;
    kube_argv(&kc, "/apis/apps/v1/namespaces/a/deployments/b", 0, &av);
    assert_int_equal(av.n, 6);
    assert_string_equal(av.v[0], "kubectl");
    assert_string_equal(av.v[1], "--context=-x; rm -rf /");
    assert_string_equal(av.v[2], "--request-timeout=10s");
    assert_string_equal(av.v[3], "get");
    assert_string_equal(av.v[4], "--raw");
    assert_string_equal(av.v[5], "/apis/apps/v1/namespaces/a/deployments/b");
    strvec_clear(&av);

    kube_client_init(&kc, "/opt/kubectl", NULL);
    kube_argv(&kc, "/x", 1, &av); /* a watch: never --request-timeout */
    assert_int_equal(av.n, 4);
    assert_string_equal(av.v[0], "/opt/kubectl");
    assert_string_equal(av.v[1], "get");
    strvec_clear(&av);
}

static void test_paths(void **state)
{
    (void)state;
    struct kube_target t;
    struct err e;
    struct buf b;
    buf_init(&b, 0);
    kube_parse_target("statefulset/data/db", &t, &e);
    kube_collection_path(&t, &b);
    assert_string_equal(b.data, "/apis/apps/v1/namespaces/data/statefulsets");

    struct kube_client kc;
    kube_client_init(&kc, NULL, NULL);
    struct kube_watch w;
    struct buf sel;
    buf_init(&sel, 0);
    kube_name_selector(&sel, "db");
    kube_watch_init(&w, &kc, b.data, sel.data);
    buf_release(&sel);
    buf_reset(&b);
    kube_watch_path(&w, &b);
    assert_string_equal(b.data, "/apis/apps/v1/namespaces/data/statefulsets?watch=1"
                                "&fieldSelector=metadata.name%3Ddb"
                                "&allowWatchBookmarks=true&timeoutSeconds=60");
    w.rv = strdup("1000");
    buf_reset(&b);
    kube_watch_path(&w, &b);
    assert_non_null(strstr(b.data, "&resourceVersion=1000&"));
    kube_watch_release(&w);

    kube_watch_init(&w, &kc, "/api/v1/namespaces/data/pods", "labelSelector=app%3Ddb");
    buf_reset(&b);
    kube_watch_path(&w, &b);
    assert_string_equal(b.data, "/api/v1/namespaces/data/pods?watch=1&labelSelector=app%3Ddb"
                                "&allowWatchBookmarks=true&timeoutSeconds=60");
    kube_watch_release(&w);

    json_t *labels = json_loads("{\"matchLabels\":{\"app\":\"web\",\"app.kubernetes.io/part-of\":\"shop\"}}",
                             0, NULL);
    buf_reset(&b);
    kube_label_selector(labels, &b);
    assert_string_equal(b.data, "app%3Dweb%2Capp.kubernetes.io%2Fpart-of%3Dshop");
    json_decref(labels);
    buf_release(&b);
}

/* ---- kubectl's stderr ---- */

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code, transient;
        const char *line;
    } rows[] = {
        { "Error from server (NotFound): deployments.apps \"web\" not found\n", EXIT_NOT_FOUND, 0,
          "Error from server (NotFound): deployments.apps \"web\" not found" },
        { "error: You must be logged in to the server (Unauthorized)\n", EXIT_REFUSED, 0, NULL },
        { "Error from server (Forbidden): deployments.apps is forbidden: User cannot get\n",
          EXIT_REFUSED, 0, NULL },
        { "Unable to connect to the server: tls: failed to verify certificate: x509: certificate "
          "signed by unknown authority\n", EXIT_REFUSED, 0, NULL },
        { "The connection to the server 127.0.0.1:18999 was refused - did you specify the right "
          "host or port?\n", EXIT_UNAVAILABLE, 1, NULL },
        { "Unable to connect to the server: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection "
          "reset by peer\n", EXIT_UNAVAILABLE, 1, NULL },
        { "Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded "
          "while awaiting headers)\n", EXIT_UNAVAILABLE, 1, NULL },
        { "Error from server (InternalError): an error on the server (\"boom\") has prevented "
          "the request from succeeding\n", EXIT_UNAVAILABLE, 1, NULL },
        { "Error from server (ServiceUnavailable): the server is currently unable\n",
          EXIT_UNAVAILABLE, 0, NULL },
        { "Error from server (TooManyRequests): slow down\n", EXIT_UNAVAILABLE, 0, NULL },
        { "error: unexpected EOF\n", EXIT_UNAVAILABLE, 1, "error: unexpected EOF" },
        { "error: context \"nope\" does not exist\n", EXIT_USAGE, 0, NULL },
        { "Warning: v1 ComponentStatus is deprecated\nError from server (NotFound): x\n",
          EXIT_NOT_FOUND, 0, "Error from server (NotFound): x" },
        { "", EXIT_UNAVAILABLE, 0, "kubectl failed without a message" },
        { "Error from server (NotFound): \x1b]0;pwned\x07 not found\r\n", EXIT_NOT_FOUND, 0,
          "Error from server (NotFound): \\x1b]0;pwned\\x07 not found" },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int transient = -1;
        char line[700];
        int code = kube_classify(rows[i].text, &transient, line, sizeof(line));
        if (code != rows[i].code || transient != rows[i].transient)
            fail_msg("row %zu: code %d transient %d", i, code, transient);
        if (rows[i].line)
            assert_string_equal(line, rows[i].line);
        assert_null(strchr(line, '\n'));
    }
}

/* ---- lines and events ---- */

struct collected {
    char lines[16][128];
    int n;
};

static void collect(void *arg, const char *line, size_t len)
{
    struct collected *c = arg;
    if (c->n < 16)
        snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%.*s", (int)len, line);
}

static void test_lines__split(void **state)
{
    (void)state;
    struct kube_lines l;
    struct collected c = { .n = 0 };
    kube_lines_init(&l, 1024);
    kube_lines_feed(&l, "{\"a\":", 5, collect, &c); /* an event spans reads */
    assert_int_equal(c.n, 0);
    kube_lines_feed(&l, "1}\n{\"b\":2}\n{\"c\"", 15, collect, &c); /* several per read */
    assert_int_equal(c.n, 2);
    assert_string_equal(c.lines[0], "{\"a\":1}");
    assert_string_equal(c.lines[1], "{\"b\":2}");
    kube_lines_feed(&l, ":3}\n\n", 5, collect, &c); /* empty lines are skipped */
    assert_int_equal(c.n, 3);
    assert_string_equal(c.lines[2], "{\"c\":3}");
    kube_lines_release(&l);
}

static void test_lines__cap(void **state)
{
    (void)state;
    struct kube_lines l;
    struct collected c = { .n = 0 };
    kube_lines_init(&l, 8);
    kube_lines_feed(&l, "12345", 5, collect, &c);
    kube_lines_feed(&l, "6789abcdef", 10, collect, &c); /* over the cap: dropped whole */
    kube_lines_feed(&l, "ghij\nok\n", 8, collect, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.lines[0], "ok");
    assert_int_equal(l.dropped, 1);
    kube_lines_release(&l);
}

static void test_event_parse(void **state)
{
    (void)state;
    struct kube_event ev;
    const char *added = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"web\"}}}";
    assert_int_equal(kube_event_parse(added, strlen(added), &ev), 0);
    assert_int_equal(ev.type, KUBE_ADDED);
    assert_non_null(ev.object);
    kube_event_release(&ev);
    const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
                       "\"reason\":\"Expired\"}}";
    assert_int_equal(kube_event_parse(gone, strlen(gone), &ev), 0);
    assert_int_equal(ev.type, KUBE_ERROR);
    assert_int_equal(ev.code, 410);
    kube_event_release(&ev);
    const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}";
    assert_int_equal(kube_event_parse(bm, strlen(bm), &ev), 0);
    assert_int_equal(ev.type, KUBE_BOOKMARK);
    kube_event_release(&ev);
    assert_int_equal(kube_event_parse("{\"type\":\"ADDED\"", 15, &ev), -1); /* truncated */
    assert_int_equal(kube_event_parse("{\"type\":\"NOPE\",\"object\":{}}", 27, &ev), -1);
    assert_int_equal(kube_event_parse("[]", 2, &ev), -1);
}

/* ---- the watch state machine against a scripted kubectl ---- */

/*
 * The stand-in answers by the path argument: a list gives resourceVersion
 * 10 (then 20 after the first watch expired); the watch from 10 writes an
 * ADDED event in two pieces and a BOOKMARK, then ends cleanly; the watch
 * from 11 answers ERROR 410; the watch from 20 writes MODIFIED and hangs.
 */
static const char *script =
    "#!/bin/sh\n"
    "for a; do path=$a; done\n"
    "state=$(dirname \"$0\")/state\n"
    "echo \"$path\" >> \"$(dirname \"$0\")/calls\"\n"
    "case $path in\n"
    "*watch=1*resourceVersion=10*)\n"
    "  printf '{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"web\",'\n"
    "  sleep 0.1\n"
    "  printf '\"resourceVersion\":\"11\"}}}\\n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"11\"}}}\\n'\n"
    "  ;;\n"
    "*watch=1*resourceVersion=11*)\n"
    "  echo expired > \"$state\"\n"
    "  printf '{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\\n'\n"
    "  ;;\n"
    "*watch=1*resourceVersion=20*)\n"
    "  printf '{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"web\",\"resourceVersion\":\"21\"}}}\\n'\n"
    "  exec sleep 30\n"
    "  ;;\n"
    "*watch=1*) echo 'error: unexpected path' >&2; exit 1 ;;\n"
    "*)\n"
    "  if [ -f \"$state\" ]; then rv=20; else rv=10; fi\n"
    "  printf '{\"kind\":\"DeploymentList\",\"metadata\":{\"resourceVersion\":\"%s\"},\"items\":[{\"metadata\":{\"name\":\"web\",\"resourceVersion\":\"5\"}}]}' $rv\n"
    "  ;;\n"
    "esac\n";

static void test_watch__restarts_and_relists(void **state)
{
    (void)state;
    char dir[] = "/tmp/homelab-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char prog[256];
    snprintf(prog, sizeof(prog), "%s/kubectl", dir);
    FILE *f = fopen(prog, "w");
    fputs(script, f);
    fclose(f);
    chmod(prog, 0755);

    struct kube_client kc;
    kube_client_init(&kc, prog, NULL);
    struct kube_watch w;
    struct err e;
    err_clear(&e);
    kube_watch_init(&w, &kc, "/apis/apps/v1/namespaces/apps/deployments",
                    "fieldSelector=metadata.name%3Dweb");
    json_t *items = NULL;
    assert_int_equal(kube_watch_list(&w, &items, &e), 0);
    assert_non_null(kube_find_item(items, "web"));
    assert_null(kube_find_item(items, "api"));
    assert_string_equal(w.rv, "10");
    json_decref(items);

    int added = 0, relisted = 0, modified = 0;
    double until = clock_now() + 8;
    while (clock_now() < until && !modified) {
        assert_int_equal(kube_watch_pump(&w, clock_now(), &e), 0);
        struct kube_event ev;
        while (kube_watch_next(&w, &ev)) {
            if (ev.type == KUBE_ADDED)
                added++;
            if (ev.type == KUBE_RELISTED) {
                relisted++;
                assert_non_null(kube_find_item(ev.object, "web"));
            }
            if (ev.type == KUBE_MODIFIED)
                modified++;
            assert_true(ev.type != KUBE_BOOKMARK && ev.type != KUBE_ERROR);
            kube_event_release(&ev);
        }
        clock_sleep(0.02);
    }
    assert_int_equal(added, 1);
    assert_int_equal(relisted, 1);
    assert_int_equal(modified, 1);
    assert_int_equal(w.relists, 1);
    assert_string_equal(w.rv, "21");
    assert_true(w.running);
    pid_t child = w.ps.pid;
    kube_watch_release(&w); /* kills and reaps the hanging child */
    assert_int_equal(kill(child, 0), -1);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_get__classifies_failures(void **state)
{
    (void)state;
    char dir[] = "/tmp/homelab-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char prog[256];
    snprintf(prog, sizeof(prog), "%s/kubectl", dir);
    FILE *f = fopen(prog, "w");
    fputs("#!/bin/sh\necho x >> \"$(dirname \"$0\")/calls\"\n"
          "echo 'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?' >&2\n"
          "exit 1\n", f);
    fclose(f);
    chmod(prog, 0755);
    struct kube_client kc;
    kube_client_init(&kc, prog, NULL);
    kc.retries = 2; /* keep the test short; the policy default is longer */
    struct buf out;
    buf_init(&out, 0);
    struct err e;
    err_clear(&e);
    assert_int_equal(kube_get_raw(&kc, "/api", &out, &e), -1);
    assert_int_equal(e.code, EXIT_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "was refused"));
    char calls[300];
    snprintf(calls, sizeof(calls), "%s/calls", dir);
    f = fopen(calls, "r");
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    assert_int_equal(n, 3); /* one try and two retries */

    kube_client_init(&kc, "/nonexistent/kubectl", NULL);
    assert_int_equal(kube_get_raw(&kc, "/api", &out, &e), -1);
    assert_int_equal(e.code, EXIT_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "cannot run"));
    buf_release(&out);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target__forms),
        cmocka_unit_test(test_target__hostile),
        cmocka_unit_test(test_names__dns1123),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_lines__split),
        cmocka_unit_test(test_lines__cap),
        cmocka_unit_test(test_event_parse),
        cmocka_unit_test(test_watch__restarts_and_relists),
        cmocka_unit_test(test_get__classifies_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
