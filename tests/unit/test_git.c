/*
 * Unit tests for git's pure parts: remote URL → repo name, hex ids, topic
 * names, and the parsers of git's machine-readable output (ls-remote
 * --symref, status -z, push --porcelain, worktree list -z, .gitattributes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "git/git.h"

/* ---- git_remote_full_name ---- */

static void name_is(const char *url, const char *want)
{
    char *got = NULL;
    if (git_remote_full_name(url, &got) != 0)
        fail_msg("'%s' was rejected, want '%s'", url, want);
    if (strcmp(got, want))
        fail_msg("'%s' gave '%s', want '%s'", url, got, want);
    free(got);
}

static void name_rejected(const char *url)
{
    char *got = (char *)"untouched";
    if (git_remote_full_name(url, &got) != -1)
        fail_msg("'%s' was accepted as '%s'", url ? url : "(null)", got ? got : "(null)");
    assert_null(got);
}

static void test_git__full_name_https(void **state)
{
    (void)state;
    name_is("https://forge.example.com/acme/web.git", "acme/web");
    name_is("https://forge.example.com/acme/web", "acme/web");
    name_is("https://forge.example.com/acme/web/", "acme/web");
    name_is("https://forge.example.com/acme/web.git/", "acme/web");
    name_is("http://forge.example.com:3000/acme/web.git", "acme/web");
    name_is("HTTPS://forge.example.com/acme/web.git", "acme/web");
    name_is("https://forge.example.com//acme/web.git", "acme/web");
}

static void test_git__full_name_drops_credentials(void **state)
{
    (void)state;
    name_is("https://bot:s3cr3t@forge.example.com/acme/web.git", "acme/web");
    name_is("https://oauth2:tok@forge.example.com:8443/acme/web", "acme/web");
    char *got = NULL;
    assert_int_equal(
        git_remote_full_name("https://u:pa@ss@forge.example.com/acme/web.git", &got), 0);
    assert_null(strstr(got, "ss"));
    free(got);
}

static void test_git__full_name_ssh(void **state)
{
    (void)state;
    name_is("ssh://git@forge.example.com/acme/web.git", "acme/web");
    name_is("ssh://git@forge.example.com:2222/acme/web.git", "acme/web");
    name_is("ssh://forge.example.com/acme/web", "acme/web");
    name_is("git://forge.example.com/acme/web.git", "acme/web");
    name_is("git+ssh://git@forge.example.com/acme/web.git", "acme/web");
    name_is("git@forge.example.com:acme/web.git", "acme/web");
    name_is("forge.example.com:acme/web", "acme/web");
    name_is("git@[2001:db8::1]:acme/web.git", "acme/web");
    name_is("ssh://git@[2001:db8::1]:2222/acme/web.git", "acme/web");
}

static void test_git__full_name_nested_groups(void **state)
{
    (void)state;
    name_is("https://gitlab.example.com/group/sub/web.git", "group/sub/web");
    name_is("git@gitlab.example.com:group/sub/deeper/web.git", "group/sub/deeper/web");
}

static void test_git__full_name_query_fragment(void **state)
{
    (void)state;
    name_is("https://forge.example.com/acme/web.git?ref=main", "acme/web");
    name_is("https://forge.example.com/acme/web#readme", "acme/web");
    name_is("https://forge.example.com/acme/web/?x=1#y", "acme/web");
}

static void test_git__full_name_rejects(void **state)
{
    (void)state;
    name_rejected(NULL);
    name_rejected("");
    name_rejected("host:");
    name_rejected("git@host:");
    name_rejected("/srv/repo.git");
    name_rejected("/srv/acme/web.git");
    name_rejected("./x");
    name_rejected("../acme/web");
    name_rejected("x");
    name_rejected("file:///srv/acme/web.git");
    name_rejected("FILE:///srv/acme/web.git");
    name_rejected("https://forge.example.com");
    name_rejected("https://forge.example.com/");
    name_rejected("https://forge.example.com/web.git");
    name_rejected("https:///acme/web.git");
    name_rejected("https://forge.example.com/acme/../web");
    name_rejected("https://forge.example.com/acme/./web");
    name_rejected("git@host:acme/web with space");
    name_rejected("git@host:acme\\web/x");
    name_rejected("git@host:acme/we\x01b");
    name_rejected("ssh://host/~user/web.git");
    name_rejected("./a://b/c");
    name_rejected("git@[2001:db8::1:acme/web.git");
}

/* ---- git_is_hex_id ---- */

/* ---- git_parse_remote_v ---- */

static void test_git__remote_v(void **state)
{
    (void)state;
    /* as git 2.39 prints it: sorted, fetch then push lines, a remote with
     * two URLs, one with a dot in its name, one without any URL */
    const char *text = "alpha\tgit@x:c/d (fetch)\n"
                       "alpha\tgit@x:c/d (push)\n"
                       "my.dot\thttps://github.com/e/f (fetch)\n"
                       "my.dot\thttps://github.com/e/f (push)\n"
                       "nourl\t\n"
                       "zeta\thttps://z.example/a/b.git (fetch)\n"
                       "zeta\thttps://z.example/a/b.git (push)\n"
                       "zeta\thttps://second/x/y (push)\n";
    struct buf names;
    buf_init(&names, 0);
    struct strvec urls = STRVEC_INIT;
    assert_int_equal(git_parse_remote_v(text, &names, &urls), 4);
    assert_string_equal(names.data, "alpha\nmy.dot\nnourl\nzeta\n");
    assert_int_equal(urls.n, 4);
    assert_string_equal(urls.v[0], "git@x:c/d");
    assert_string_equal(urls.v[1], "https://github.com/e/f");
    assert_string_equal(urls.v[2], "nourl"); /* what `git remote get-url` prints */
    assert_string_equal(urls.v[3], "https://z.example/a/b.git");
    strvec_clear(&urls);
    buf_reset(&names);
    assert_int_equal(git_parse_remote_v("", &names, &urls), 0);
    assert_int_equal(git_parse_remote_v("no tab here\n\n", &names, &urls), 0);
    assert_string_equal(names.data, "");
    buf_release(&names);
    strvec_clear(&urls);
}

static void test_git__hex_id(void **state)
{
    (void)state;
    assert_true(git_is_hex_id("abcdef0"));
    assert_true(git_is_hex_id("ABCDEF0123"));
    assert_true(git_is_hex_id("0123456789abcdef0123456789abcdef01234567"));
    assert_true(git_is_hex_id(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")); /* sha256 */
    assert_false(git_is_hex_id(""));
    assert_false(git_is_hex_id("abcdef"));   /* too short */
    assert_false(git_is_hex_id("abcdefg1")); /* not hex */
    assert_false(git_is_hex_id("HEAD~1234"));
    assert_false(git_is_hex_id(" abcdef0"));
    assert_false(git_is_hex_id("abcdef0 "));
    assert_false(git_is_hex_id(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
}

/* ---- git_check_topic ---- */

static void topic_ok(const char *t)
{
    struct err e;
    err_clear(&e);
    if (git_check_topic(t, &e) != 0)
        fail_msg("'%s' was rejected: %s", t, e.msg);
}

static void topic_bad(const char *t, const char *why)
{
    struct err e;
    err_clear(&e);
    if (git_check_topic(t, &e) != -1)
        fail_msg("'%s' was accepted", t);
    assert_int_equal(e.code, EXIT_USAGE);
    if (!strstr(e.msg, why))
        fail_msg("'%s': message '%s' lacks '%s'", t, e.msg, why);
}

static void test_git__topic_names(void **state)
{
    (void)state;
    topic_ok("login-fix");
    topic_ok("fix_42");
    topic_ok("fix/login");
    topic_ok("v1.2");
    topic_ok("$(x)"); /* legal in git; it stays one literal argument */
    topic_bad("", "empty");
    topic_bad("-x", "'-'");
    topic_bad("--force", "'-'");
    topic_bad(";rm -rf", "space");
    topic_bad("a\nb", "control");
    topic_bad("a\tb", "control");
    topic_bad("a\x7f", "control");
    topic_bad("a..b", "'..'");
    topic_bad("..", "'..'");
    topic_bad("/a", "'/'");
    topic_bad("a/", "'/'");
    topic_bad("a//b", "'/'");
    topic_bad(".hidden", "starts with '.'");
    topic_bad("a/.b", "starts with '.'");
    topic_bad("a.", "ends with '.'");
    topic_bad("a.lock", ".lock");
    topic_bad("a.lock/b", ".lock");
    topic_bad("@", "'@'");
    topic_bad("a@{1}", "'@{'");
    topic_bad("a~1", "'~'");
    topic_bad("a^", "'^'");
    topic_bad("a:b", "':'");
    topic_bad("a?", "'?'");
    topic_bad("a*", "'*'");
    topic_bad("a[b", "'['");
    topic_bad("a\\b", "'\\'");
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    topic_bad(longname, "200");
}

/* ---- git_parse_symref_head ---- */

static void test_git__symref_head(void **state)
{
    (void)state;
    char *b = NULL;
    assert_int_equal(git_parse_symref_head("ref: refs/heads/main\tHEAD\n"
                                           "0123456789abcdef0123456789abcdef01234567\tHEAD\n",
                                           &b), 0);
    assert_string_equal(b, "main");
    free(b);
    assert_int_equal(git_parse_symref_head("ref: refs/heads/release/2.x\tHEAD\r\n", &b), 0);
    assert_string_equal(b, "release/2.x");
    free(b);
    assert_int_equal(git_parse_symref_head("", &b), -1);
    assert_null(b);
    assert_int_equal(git_parse_symref_head("0123456789abcdef\tHEAD\n", &b), -1);
    assert_int_equal(git_parse_symref_head("ref: refs/heads/main\trefs/heads/x\n", &b), -1);
    assert_int_equal(git_parse_symref_head("ref: refs/tags/v1\tHEAD\n", &b), -1);
    assert_int_equal(git_parse_symref_head("ref: refs/heads/\tHEAD\n", &b), -1);
    assert_null(b);
}

/* ---- git_parse_status ---- */

static void test_git__status(void **state)
{
    (void)state;
    static const char z[] = " M src/a.c\0?? new file.txt\0R  new.c\0old.c\0UU both.c\0";
    struct git_status st;
    assert_int_equal(git_parse_status(z, sizeof(z) - 1, &st), 0);
    assert_int_equal(st.n, 4);
    assert_string_equal(st.v[0].xy, " M");
    assert_string_equal(st.v[0].path, "src/a.c");
    assert_null(st.v[0].orig);
    assert_string_equal(st.v[1].xy, "??");
    assert_string_equal(st.v[1].path, "new file.txt");
    assert_string_equal(st.v[2].path, "new.c");
    assert_string_equal(st.v[2].orig, "old.c");
    assert_string_equal(st.v[3].xy, "UU");
    struct buf d;
    buf_init(&d, 0);
    git_status_describe(&st, 2, &d);
    assert_string_equal(d.data, "src/a.c, new file.txt (+2 more)");
    buf_release(&d);
    git_status_release(&st);

    assert_int_equal(git_parse_status("", 0, &st), 0);
    assert_int_equal(st.n, 0);
    static const char trunc[] = " M a.c"; /* no NUL at the end */
    assert_int_equal(git_parse_status(trunc, sizeof(trunc) - 1, &st), -1);
    assert_int_equal(st.n, 0);
    static const char rename_cut[] = "R  new.c\0";
    assert_int_equal(git_parse_status(rename_cut, sizeof(rename_cut) - 1, &st), -1);
    static const char junk[] = "XYZ\0";
    assert_int_equal(git_parse_status(junk, sizeof(junk) - 1, &st), -1);
}

static void test_git__status_describe_escapes(void **state)
{
    (void)state;
    static const char z[] = "?? evil\x1b]0;x\x07.txt\0";
    struct git_status st;
    assert_int_equal(git_parse_status(z, sizeof(z) - 1, &st), 0);
    struct buf d;
    buf_init(&d, 0);
    git_status_describe(&st, 5, &d);
    assert_null(strchr(d.data, '\x1b'));
    assert_non_null(strstr(d.data, "\\x1b"));
    buf_release(&d);
    git_status_release(&st);
}

/* ---- git_parse_push ---- */

/* reason NULL: must have none; "*": any */
static void push_is(const char *out, enum git_push_status want, const char *summary,
                    const char *reason)
{
    struct git_push_result r;
    assert_int_equal(git_parse_push(out, "refs/heads/main", &r), want);
    assert_int_equal(r.status, want);
    if (summary)
        assert_string_equal(r.summary, summary);
    if (reason && !strcmp(reason, "*"))
        assert_non_null(r.reason);
    else if (reason)
        assert_string_equal(r.reason, reason);
    else if (want != GIT_PUSH_ERROR)
        assert_null(r.reason);
    git_push_result_release(&r);
}

static void test_git__push_porcelain(void **state)
{
    (void)state;
    push_is("To /srv/r.git\n \tHEAD:refs/heads/main\t1a2b3c4..5d6e7f8\nDone\n", GIT_PUSH_OK,
            "1a2b3c4..5d6e7f8", NULL);
    push_is("To /srv/r.git\n*\tHEAD:refs/heads/main\t[new branch]\nDone\n", GIT_PUSH_OK,
            "[new branch]", NULL);
    push_is("To /srv/r.git\n=\trefs/remotes/origin/main:refs/heads/main\t[up to date]\nDone\n",
            GIT_PUSH_UP_TO_DATE, "[up to date]", NULL);
    push_is("To /srv/r.git\n!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\nDone\n",
            GIT_PUSH_NON_FF, "[rejected]", "non-fast-forward");
    push_is("To /srv/r.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n",
            GIT_PUSH_NON_FF, "[rejected]", "fetch first");
    push_is("To /srv/r.git\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook "
            "declined)\nDone\n",
            GIT_PUSH_REJECTED, "[remote rejected]", "pre-receive hook declined");
    push_is("!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)\n",
            GIT_PUSH_REJECTED, "[remote rejected]", "protected branch hook declined");
    push_is("!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': "
            "is at 1234 but expected 5678)\n",
            GIT_PUSH_NON_FF, "[remote rejected]", "*");
    push_is("!\tHEAD:refs/heads/main\t[remote failure] (remote failed to report status)\n",
            GIT_PUSH_REJECTED, "[remote failure]", "remote failed to report status");
    push_is("!\tHEAD:refs/heads/main\t[rejected] (already exists)\n", GIT_PUSH_REJECTED,
            "[rejected]", "already exists");
    /* only the line for our destination counts */
    push_is("!\tHEAD:refs/heads/other\t[rejected] (non-fast-forward)\n"
            " \tHEAD:refs/heads/main\taaa..bbb\n",
            GIT_PUSH_OK, "aaa..bbb", NULL);
    push_is("!\tHEAD:refs/heads/mainline\t[rejected] (non-fast-forward)\n", GIT_PUSH_ERROR, NULL,
            NULL);
    push_is("", GIT_PUSH_ERROR, NULL, NULL);
    push_is("fatal: could not read from remote repository\n", GIT_PUSH_ERROR, NULL, NULL);
    push_is("To x\r\n!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\r\nDone\r\n",
            GIT_PUSH_NON_FF, "[rejected]", "non-fast-forward");
}

/* ---- git_parse_worktrees ---- */

static void test_git__worktree_list(void **state)
{
    (void)state;
    static const char z[] =
        "worktree /srv/repo\0HEAD 1111111111111111111111111111111111111111\0"
        "branch refs/heads/main\0\0"
        "worktree /srv/repo/.worktrees/login fix\0HEAD 2222222222222222222222222222222222222222\0"
        "branch refs/heads/me/login fix\0locked\0\0"
        "worktree /srv/gone\0HEAD 3333333333333333333333333333333333333333\0detached\0"
        "prunable gitdir file points to non-existent location\0\0";
    struct git_worktree_list wl;
    assert_int_equal(git_parse_worktrees(z, sizeof(z) - 1, &wl), 0);
    assert_int_equal(wl.n, 3);
    assert_string_equal(wl.v[0].path, "/srv/repo");
    assert_string_equal(wl.v[0].branch, "refs/heads/main");
    assert_false(wl.v[0].bare);
    assert_string_equal(wl.v[1].path, "/srv/repo/.worktrees/login fix");
    assert_string_equal(wl.v[1].branch, "refs/heads/me/login fix");
    assert_string_equal(wl.v[2].head, "3333333333333333333333333333333333333333");
    assert_null(wl.v[2].branch);
    assert_true(wl.v[2].detached);
    assert_true(wl.v[2].prunable);
    git_worktree_list_release(&wl);

    static const char bare[] = "worktree /srv/repo.git\0bare\0\0";
    assert_int_equal(git_parse_worktrees(bare, sizeof(bare) - 1, &wl), 0);
    assert_int_equal(wl.n, 1);
    assert_true(wl.v[0].bare);
    assert_null(wl.v[0].head);
    git_worktree_list_release(&wl);

    static const char orphan[] = "HEAD 1111\0\0";
    assert_int_equal(git_parse_worktrees(orphan, sizeof(orphan) - 1, &wl), -1);
    static const char cut[] = "worktree /srv/repo\0HEAD 11";
    assert_int_equal(git_parse_worktrees(cut, sizeof(cut) - 1, &wl), -1);
    assert_int_equal(wl.n, 0);
}

/* ---- .gitattributes ---- */

static void test_git__attributes_crypt(void **state)
{
    (void)state;
    assert_true(git_attributes_use_crypt("secrets/** filter=git-crypt diff=git-crypt\n"));
    assert_true(git_attributes_use_crypt("*.md text\n*.key\tfilter=git-crypt\n"));
    assert_true(git_attributes_use_crypt("\"with space.key\" filter=git-crypt\r\n"));
    assert_true(git_attributes_use_crypt("  *.pem -text filter=git-crypt"));
    assert_false(git_attributes_use_crypt(""));
    assert_false(git_attributes_use_crypt("# *.key filter=git-crypt\n"));
    assert_false(git_attributes_use_crypt("*.key filter=lfs diff=lfs\n"));
    assert_false(git_attributes_use_crypt("*.key filter=git-crypt-ish\n"));
    assert_false(git_attributes_use_crypt("filter=git-crypt\n")); /* that is the pattern */
    assert_false(git_attributes_use_crypt("*.key diff=git-crypt\n"));
}

/* ---- argv building ---- */

static void test_git__argv(void **state)
{
    (void)state;
    const char *args[] = { "merge", "--no-edit", "--end-of-options", "$(x);rm -rf /", NULL };
    struct git g = { "/srv/repo dir", 1 };
    struct strvec argv = STRVEC_INIT;
    git_build_argv(&g, args, &argv);
    const char *want[] = { "git", "-C", "/srv/repo dir", "-c", "filter.git-crypt.smudge=cat",
                           "-c", "filter.git-crypt.clean=cat", "-c",
                           "filter.git-crypt.required=false", "merge", "--no-edit",
                           "--end-of-options", "$(x);rm -rf /" };
    assert_int_equal(argv.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < argv.n; i++)
        assert_string_equal(argv.v[i], want[i]);
    assert_null(argv.v[argv.n]);
    strvec_clear(&argv);

    struct git plain = { NULL, 0 };
    git_build_argv(&plain, args, &argv);
    assert_int_equal(argv.n, 5);
    assert_string_equal(argv.v[1], "merge");
    strvec_clear(&argv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_git__full_name_https),
        cmocka_unit_test(test_git__full_name_drops_credentials),
        cmocka_unit_test(test_git__full_name_ssh),
        cmocka_unit_test(test_git__full_name_nested_groups),
        cmocka_unit_test(test_git__full_name_query_fragment),
        cmocka_unit_test(test_git__full_name_rejects),
        cmocka_unit_test(test_git__remote_v),
        cmocka_unit_test(test_git__hex_id),
        cmocka_unit_test(test_git__topic_names),
        cmocka_unit_test(test_git__symref_head),
        cmocka_unit_test(test_git__status),
        cmocka_unit_test(test_git__status_describe_escapes),
        cmocka_unit_test(test_git__push_porcelain),
        cmocka_unit_test(test_git__worktree_list),
        cmocka_unit_test(test_git__attributes_crypt),
        cmocka_unit_test(test_git__argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
