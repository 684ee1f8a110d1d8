/*
 * git: the git CLI as a library of small, typed steps.
 *
 * Every command is an argv (core/proc), never a shell line. Output that
 * git documents as machine-readable (--porcelain, -z, --symref) is parsed by
 * pure functions below so the unit tests can feed them captured text; the
 * rest is a status code and git's own first line of complaint, passed up in
 * a struct err.
 */
#include "git/git.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sanitize.h"

const char *const git_crypt_config[] = {
    "filter.git-crypt.smudge=cat",
    "filter.git-crypt.clean=cat",
    "filter.git-crypt.required=false",
    NULL,
};

/* ---- running git ---- */

static int trace_forced;

void git_set_trace(int on)
{
    trace_forced = on;
}

static int trace_enabled(void)
{
    if (trace_forced)
        return 1;
    const char *t = getenv("GIT_TRACE");
    return t && (!strcmp(t, "1") || !strcmp(t, "2") || !strcasecmp(t, "true"));
}

void git_build_argv(const struct git *g, const char *const *args, struct strvec *argv)
{
    strvec_push(argv, "git");
    if (g && g->dir)
        strvec_pushl(argv, "-C", g->dir, NULL);
    if (g && g->crypt)
        for (size_t i = 0; git_crypt_config[i]; i++)
            strvec_pushl(argv, "-c", git_crypt_config[i], NULL);
    for (size_t i = 0; args[i]; i++)
        strvec_push(argv, args[i]);
}

/* Appends `arg` as a POSIX shell would need it written (for traces only). */
static void sq_append(struct buf *b, const char *arg)
{
    int plain = *arg != '\0';
    for (const char *p = arg; *p && plain; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./=:@%+,^{}", *p))
            plain = 0;
    if (plain) {
        buf_adds(b, arg);
        return;
    }
    buf_addc(b, '\'');
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            buf_adds(b, "'\\''");
        else
            buf_addc(b, *p);
    }
    buf_addc(b, '\'');
}

static void trace_argv(const struct strvec *argv)
{
    struct buf line, shown;
    buf_init(&line, 0);
    buf_init(&shown, 0);
    for (size_t i = 0; i < argv->n; i++) {
        if (i)
            buf_addc(&line, ' ');
        sq_append(&line, argv->v[i]);
    }
    buf_adds(&shown, "trace: homelab: ");
    sanitize_append(&shown, line.data, line.len, 0);
    fprintf(stderr, "%s\n", shown.data);
    fflush(stderr);
    buf_release(&line);
    buf_release(&shown);
}

/* git's own trace lines (GIT_TRACE) from a child's captured stderr, to ours. */
static void forward_traces(const char *text)
{
    struct buf line;
    buf_init(&line, 0);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (memmem(p, n, " trace: ", 8)) {
            buf_reset(&line);
            sanitize_append(&line, p, n, 0);
            fprintf(stderr, "%s\n", line.data);
        }
        p += n;
        if (*p)
            p++;
    }
    buf_release(&line);
}

int git_run(const struct git *g, const char *const *args, struct buf *out, struct buf *errout,
            struct err *e)
{
    struct strvec argv = STRVEC_INIT;
    git_build_argv(g, args, &argv);
    int tracing = trace_enabled();
    struct buf own;
    buf_init(&own, 0);
    if (tracing) {
        trace_argv(&argv);
        if (!errout)
            errout = &own;
    }
    size_t err_start = errout ? errout->len : 0;
    int rc = proc_run((const char *const *)argv.v, NULL, out, errout, e);
    if (tracing)
        forward_traces(errout->data + err_start);
    buf_release(&own);
    strvec_clear(&argv);
    return rc < 0 ? -1 : rc;
}

static void trim_newlines(struct buf *b)
{
    while (b && b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
        b->data[--b->len] = '\0';
}

/*
 * The line of git's stderr worth showing: the first "fatal:" or "error:"
 * line, else the first line that is not a hint; prefix dropped.
 */
static void complaint(const char *text, struct buf *msg)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n && strncmp(p, "hint:", 5)) {
            int strong = !strncmp(p, "fatal: ", 7) || !strncmp(p, "error: ", 7);
            if (!best || (strong && strncmp(best, "fatal: ", 7) && strncmp(best, "error: ", 7))) {
                best = p;
                best_len = n;
            }
            if (strong)
                break;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    if (!best)
        return;
    if (!strncmp(best, "fatal: ", 7) || !strncmp(best, "error: ", 7)) {
        best += 7;
        best_len -= 7;
    }
    while (best_len && (best[best_len - 1] == ' ' || best[best_len - 1] == '\r'))
        best_len--;
    sanitize_append(msg, best, best_len, 0);
}

static int fail_with(const char *const *args, const struct buf *errout, int code, struct err *e)
{
    struct buf why;
    buf_init(&why, 0);
    complaint(errout->data, &why);
    /* git's own words are the only place this failure can be told apart */
    if (strstr(why.data, "not a git repository"))
        err_set_kind(e, ERR_NOT_A_REPO, EXIT_NOT_FOUND, "not a git repository");
    else
        err_set(e, code, "git %s: %s", args[0], why.len ? why.data : "failed");
    buf_release(&why);
    return -1;
}

int git_ok(const struct git *g, const char *const *args, struct buf *out, int code,
           struct err *e)
{
    struct buf errout;
    buf_init(&errout, 0);
    int rc = git_run(g, args, out, &errout, e);
    if (rc > 0)
        rc = fail_with(args, &errout, code, e);
    buf_release(&errout);
    trim_newlines(out);
    return rc < 0 ? -1 : 0;
}

/* git_ok() handing the trimmed stdout over as a string. */
static int git_string(const struct git *g, const char *const *args, int code, char **s,
                      struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    int rc = git_ok(g, args, &out, code, e);
    if (rc == 0)
        *s = buf_detach(&out);
    buf_release(&out);
    return rc;
}

/* ---- the first API ---- */

static int run_git(const char *dir, const char *const *args, struct buf *out, struct err *e)
{
    struct git g = { dir, 0 };
    return git_ok(&g, args, out, EXIT_NOT_FOUND, e);
}

void git_rev_parse_commit_start(const char *dir, const char *rev, struct git_rev_job *j)
{
    memset(j, 0, sizeof(*j));
    j->dir = dir;
    j->rev = xstrdup(rev);
    struct buf spec;
    buf_init(&spec, 0);
    buf_addf(&spec, "%s^{commit}", rev);
    const char *args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options", spec.data,
                           NULL };
    struct git g = { dir, 0 };
    struct strvec argv = STRVEC_INIT;
    git_build_argv(&g, args, &argv);
    if (trace_enabled())
        trace_argv(&argv);
    err_clear(&j->err);
    j->running = proc_stream_start(&j->ps, (const char *const *)argv.v, NULL, &j->err) == 0;
    strvec_clear(&argv);
    buf_release(&spec);
}

int git_rev_parse_commit_finish(struct git_rev_job *j, char **sha, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    int rc = 0;
    if (!j->running) {
        *e = j->err;
        rc = -1;
    } else {
        int status = proc_stream_finish(&j->ps, &out);
        if (status != 0) {
            const char *args[] = { "rev-parse", NULL };
            rc = fail_with(args, &j->ps.errbuf, EXIT_NOT_FOUND, e);
        }
        trim_newlines(&out);
    }
    buf_release(&j->ps.errbuf);
    const char *rev = j->rev;
    if (rc == 0 && out.len == 0)
        rc = err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
    if (rc == 0) {
        *sha = buf_detach(&out);
    } else {
        /* --quiet hides the reason: tell "no repository" from "no such rev" */
        if (e->code == EXIT_NOT_FOUND && e->kind != ERR_NOT_A_REPO) {
            const char *probe[] = { "rev-parse", "--git-dir", NULL };
            struct err pe;
            err_clear(&pe);
            if (run_git(j->dir, probe, NULL, &pe) < 0 && pe.code)
                *e = pe;
            else
                err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
        }
        buf_release(&out);
    }
    free(j->rev);
    j->rev = NULL;
    j->running = 0;
    return rc;
}

int git_rev_parse_commit(const char *dir, const char *rev, char **sha, struct err *e)
{
    struct git_rev_job j;
    git_rev_parse_commit_start(dir, rev, &j);
    return git_rev_parse_commit_finish(&j, sha, e);
}

static int has_line(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p;) {
        if (!strncmp(p, word, n) && (p[n] == '\n' || p[n] == '\0'))
            return 1;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return 0;
}

/* The DESIGN's choice among remote names (one per line, as `git remote` lists
 * them): `preferred` when given, else forgejo, else origin, else the first. */
static int choose_from(const char *names, const char *preferred, char **remote, struct err *e)
{
    if (preferred && *preferred) {
        if (has_line(names, preferred))
            *remote = xstrdup(preferred);
        else
            return err_set(e, EXIT_NOT_FOUND, "no git remote named '%s'", preferred);
    } else if (has_line(names, "forgejo")) {
        *remote = xstrdup("forgejo");
    } else if (has_line(names, "origin")) {
        *remote = xstrdup("origin");
    } else if (*names) {
        *remote = xstrndup(names, strcspn(names, "\n"));
    } else {
        return err_set(e, EXIT_NOT_FOUND, "this repository has no git remote");
    }
    return 0;
}

int git_choose_remote(const char *dir, const char *preferred, char **remote, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    const char *args[] = { "remote", NULL };
    if (run_git(dir, args, &out, e) < 0) {
        buf_release(&out);
        return -1;
    }
    int rc = choose_from(out.data, preferred, remote, e);
    buf_release(&out);
    return rc;
}

int git_parse_remote_v(const char *text, struct buf *names, struct strvec *urls)
{
    int n = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        const char *tab = memchr(p, '\t', len);
        if (tab && tab > p) {
            size_t nlen = (size_t)(tab - p);
            const char *u = tab + 1;
            size_t ulen = len - nlen - 1;
            int fetch = ulen >= 8 && !memcmp(u + ulen - 8, " (fetch)", 8);
            /* a remote without a URL is listed as "name\t" alone */
            int bare = ulen == 0;
            if (fetch || bare) {
                buf_add(names, p, nlen);
                buf_addc(names, '\n');
                char *url = fetch ? xstrndup(u, ulen - 8) : xstrndup(p, nlen);
                strvec_push(urls, url);
                free(url);
                n++;
            }
        }
        p += len;
        if (*p)
            p++;
    }
    return n;
}

int git_choose_remote_url(const char *dir, const char *preferred, char **remote, char **url,
                          struct err *e)
{
    struct buf out, names;
    buf_init(&out, 0);
    buf_init(&names, 0);
    struct strvec urls = STRVEC_INIT;
    const char *args[] = { "remote", "-v", NULL };
    int rc = run_git(dir, args, &out, e);
    if (rc == 0) {
        git_parse_remote_v(out.data, &names, &urls);
        rc = choose_from(names.data, preferred, remote, e);
    }
    if (rc == 0) {
        /* names and urls are in step: find the chosen one's line */
        size_t i = 0;
        for (const char *p = names.data; *p; i++) {
            size_t len = strcspn(p, "\n");
            if (len == strlen(*remote) && !strncmp(p, *remote, len))
                break;
            p += len + (p[len] != '\0');
        }
        *url = xstrdup(i < urls.n ? urls.v[i] : *remote);
    }
    strvec_clear(&urls);
    buf_release(&names);
    buf_release(&out);
    return rc;
}

int git_remote_url(const char *dir, const char *remote, char **url, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    const char *args[] = { "remote", "get-url", "--", remote, NULL };
    int rc = run_git(dir, args, &out, e);
    if (rc == 0)
        *url = buf_detach(&out);
    buf_release(&out);
    return rc;
}

/* The path part of a remote URL, or NULL when it has no host part. */
static const char *url_path(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (scheme) {
        for (const char *p = url; p < scheme; p++)
            if (!isalnum((unsigned char)*p) && !strchr("+-.", *p))
                return NULL; /* "./a://b" is a path, not a scheme */
        if (scheme == url || !strncasecmp(url, "file://", 7))
            return NULL;
        const char *host = scheme + 3;
        const char *slash = strchr(host, '/');
        if (!slash || slash == host || slash[-1] == '@')
            return NULL;
        return slash + 1;
    }
    /* scp-like [user@]host:path, [user@][v6]:path; not a path with a colon later */
    const char *start = strchr(url, '@');
    const char *slash = strchr(url, '/');
    if (start && slash && slash < start)
        start = NULL;
    start = start ? start + 1 : url;
    const char *colon;
    if (*start == '[') {
        const char *close = strchr(start, ']');
        if (!close || close[1] != ':')
            return NULL;
        colon = close + 1;
    } else {
        colon = strchr(start, ':');
    }
    if (!colon || colon == start || (slash && slash < colon))
        return NULL;
    return colon + 1;
}

/* owner/name with at least two components, none empty, "." or "..". */
static int full_name_ok(const char *name)
{
    if (!strchr(name, '/'))
        return 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
            return 0;
        p += n;
        if (*p == '/' && !*++p)
            return 0;
    }
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ' || *p == '\\')
            return 0;
    return 1;
}

int git_remote_full_name(const char *url, char **full_name)
{
    *full_name = NULL;
    if (!url || !*url)
        return -1;
    const char *path = url_path(url);
    if (!path)
        return -1;
    size_t n = strcspn(path, "?#");
    while (n && path[n - 1] == '/')
        n--;
    if (n >= 4 && !strncmp(path + n - 4, ".git", 4))
        n -= 4;
    while (n && *path == '/') {
        path++;
        n--;
    }
    if (n >= 2 && path[0] == '~' && path[1] != '/') {
        /* ssh://host/~user/repo: the user's home, not an owner we can name */
        return -1;
    }
    char *name = xstrndup(path, n);
    if (!full_name_ok(name)) {
        free(name);
        return -1;
    }
    *full_name = name;
    return 0;
}

int git_is_hex_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n >= 7 && n <= 64;
}

/* ---- layout ---- */

int git_toplevel(const struct git *g, char **path, struct err *e)
{
    const char *args[] = { "rev-parse", "--show-toplevel", NULL };
    if (git_string(g, args, EXIT_NOT_FOUND, path, e) < 0)
        return -1;
    if (!**path) {
        free(*path);
        *path = NULL;
        return err_set(e, EXIT_NOT_FOUND, "not inside a work tree");
    }
    return 0;
}

int git_common_dir(const struct git *g, char **path, struct err *e)
{
    const char *args[] = { "rev-parse", "--path-format=absolute", "--git-common-dir", NULL };
    if (git_string(g, args, EXIT_NOT_FOUND, path, e) < 0)
        return -1;
    if (**path != '/') { /* a git older than 2.31 ignores --path-format */
        char cwd[4096];
        struct buf abs;
        buf_init(&abs, 0);
        if (g && g->dir && g->dir[0] == '/')
            buf_addf(&abs, "%s/%s", g->dir, *path);
        else if (getcwd(cwd, sizeof(cwd)))
            buf_addf(&abs, "%s/%s%s%s", cwd, g && g->dir ? g->dir : "", g && g->dir ? "/" : "",
                     *path);
        else
            buf_adds(&abs, *path);
        free(*path);
        *path = buf_detach(&abs);
    }
    return 0;
}

/*
 * The NUL-terminated field of -z output at *i, moving *i past it; NULL
 * when the output ends before the field's NUL (git always writes one).
 */
static const char *z_field(const char *data, size_t len, size_t *i, size_t *n)
{
    const char *f = data + *i;
    *n = strnlen(f, len - *i);
    if (*i + *n >= len)
        return NULL;
    *i += *n + 1;
    return f;
}

void git_worktree_list_release(struct git_worktree_list *wl)
{
    for (size_t i = 0; i < wl->n; i++) {
        free(wl->v[i].path);
        free(wl->v[i].head);
        free(wl->v[i].branch);
    }
    free(wl->v);
    wl->v = NULL;
    wl->n = 0;
}

int git_parse_worktrees(const char *data, size_t len, struct git_worktree_list *wl)
{
    wl->v = NULL;
    wl->n = 0;
    struct git_worktree *cur = NULL;
    size_t i = 0;
    while (i < len) {
        size_t n;
        const char *f = z_field(data, len, &i, &n);
        if (!f)
            goto bad;
        if (n == 0) {
            cur = NULL;
            continue;
        }
        if (!strncmp(f, "worktree ", 9)) {
            wl->v = xrealloc(wl->v, (wl->n + 1) * sizeof(*wl->v));
            cur = &wl->v[wl->n++];
            memset(cur, 0, sizeof(*cur));
            cur->path = xstrdup(f + 9);
            continue;
        }
        if (!cur)
            goto bad;
        if (!strncmp(f, "HEAD ", 5)) {
            free(cur->head);
            cur->head = xstrdup(f + 5);
        } else if (!strncmp(f, "branch ", 7)) {
            free(cur->branch);
            cur->branch = xstrdup(f + 7);
        } else if (!strcmp(f, "bare")) {
            cur->bare = 1;
        } else if (!strcmp(f, "detached")) {
            cur->detached = 1;
        } else if (!strncmp(f, "prunable", 8) && (f[8] == '\0' || f[8] == ' ')) {
            cur->prunable = 1;
        }
    }
    return 0;
bad:
    git_worktree_list_release(wl);
    return -1;
}

int git_worktrees(const struct git *g, struct git_worktree_list *wl, struct err *e)
{
    const char *args[] = { "worktree", "list", "--porcelain", "-z", NULL };
    struct buf out;
    buf_init(&out, 0);
    int rc = git_ok(g, args, &out, EXIT_NOT_FOUND, e);
    if (rc == 0 && git_parse_worktrees(out.data, out.len, wl) < 0)
        rc = err_set(e, EXIT_UNAVAILABLE, "cannot read 'git worktree list' output");
    buf_release(&out);
    return rc;
}

int git_current_branch(const struct git *g, char **branch, struct err *e)
{
    *branch = NULL;
    struct buf out, errout;
    buf_init(&out, 0);
    buf_init(&errout, 0);
    const char *args[] = { "symbolic-ref", "--quiet", "HEAD", NULL };
    int rc = git_run(g, args, &out, &errout, e);
    trim_newlines(&out);
    if (rc == 0 && !strncmp(out.data, "refs/heads/", 11))
        *branch = xstrdup(out.data + 11);
    else if (rc > 1)
        rc = fail_with(args, &errout, EXIT_NOT_FOUND, e);
    buf_release(&out);
    buf_release(&errout);
    return rc < 0 ? -1 : 0;
}

/* ---- refs and names ---- */

int git_rev_parse(const struct git *g, const char *spec, char **oid, struct err *e)
{
    *oid = NULL;
    struct buf out, errout;
    buf_init(&out, 0);
    buf_init(&errout, 0);
    const char *args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options", spec, NULL };
    int rc = git_run(g, args, &out, &errout, e);
    trim_newlines(&out);
    if (rc == 0 && out.len)
        *oid = buf_detach(&out);
    else if (rc >= 0 && strstr(errout.data, "not a git repository"))
        rc = err_set_kind(e, ERR_NOT_A_REPO, EXIT_NOT_FOUND, "not a git repository");
    else if (rc >= 0)
        rc = err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", spec);
    buf_release(&out);
    buf_release(&errout);
    return rc < 0 ? -1 : 0;
}

/* Runs a yes/no git command: 0 → 1, 1 → 0, else -1 with git's reason. */
static int git_yes_no(const struct git *g, const char *const *args, struct err *e)
{
    struct buf errout;
    buf_init(&errout, 0);
    int rc = git_run(g, args, NULL, &errout, e);
    if (rc > 1)
        fail_with(args, &errout, EXIT_FAILED, e);
    buf_release(&errout);
    return rc < 0 || rc > 1 ? -1 : rc == 0;
}

int git_ref_exists(const struct git *g, const char *ref, struct err *e)
{
    const char *args[] = { "show-ref", "--verify", "--quiet", ref, NULL };
    if (strncmp(ref, "refs/", 5))
        return err_set(e, EXIT_USAGE, "'%s' is not a full ref name", ref);
    return git_yes_no(g, args, e);
}

int git_is_ancestor(const struct git *g, const char *a, const char *b, struct err *e)
{
    const char *args[] = { "merge-base", "--is-ancestor", "--end-of-options", a, b, NULL };
    return git_yes_no(g, args, e);
}

int git_count_missing(const struct git *g, const char *a, const char *b, long *n, struct err *e)
{
    struct buf range, out;
    buf_init(&range, 0);
    buf_init(&out, 0);
    buf_addf(&range, "%s..%s", a, b);
    const char *args[] = { "rev-list", "--count", "--end-of-options", range.data, NULL };
    int rc = git_ok(g, args, &out, EXIT_FAILED, e);
    if (rc == 0) {
        char *end;
        *n = strtol(out.data, &end, 10);
        if (end == out.data || *end)
            rc = err_set(e, EXIT_FAILED, "git rev-list: unexpected output");
    }
    buf_release(&range);
    buf_release(&out);
    return rc;
}

int git_check_topic(const char *t, struct err *e)
{
#define BAD(...) err_set(e, EXIT_USAGE, __VA_ARGS__)
    size_t n = strlen(t);
    if (n == 0)
        return BAD("the topic is empty");
    if (n > 200)
        return BAD("the topic is longer than 200 bytes");
    for (const char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return BAD("the topic contains a control character (byte 0x%02x)", c);
        if (c == ' ')
            return BAD("the topic contains a space");
        if (strchr("~^:?*[\\", c))
            return BAD("the topic contains '%c', which git does not allow in branch names", c);
    }
    if (t[0] == '-')
        return BAD("the topic starts with '-'");
    if (strstr(t, ".."))
        return BAD("the topic contains '..'");
    if (strstr(t, "@{") || !strcmp(t, "@"))
        return BAD("the topic is or contains git revision syntax ('@', '@{')");
    if (t[0] == '/' || t[n - 1] == '/' || strstr(t, "//"))
        return BAD("the topic has a leading, trailing or doubled '/'");
    for (const char *p = t; *p;) {
        size_t len = strcspn(p, "/");
        if (p[0] == '.')
            return BAD("a part of the topic starts with '.'");
        if (p[len - 1] == '.')
            return BAD("a part of the topic ends with '.'");
        if (len >= 5 && !strncmp(p + len - 5, ".lock", 5))
            return BAD("a part of the topic ends with '.lock'");
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
#undef BAD
}

int git_check_branch_name(const struct git *g, const char *name, struct err *e)
{
    if (name[0] == '-')
        return err_set(e, EXIT_USAGE, "'%s' is not a valid branch name (leading '-')", name);
    const char *args[] = { "check-ref-format", "--branch", name, NULL };
    struct buf errout;
    buf_init(&errout, 0);
    int rc = git_run(g, args, NULL, &errout, e);
    buf_release(&errout);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        struct buf shown;
        buf_init(&shown, 0);
        sanitize_append(&shown, name, strlen(name), 0);
        err_set(e, EXIT_USAGE, "'%s' is not a valid branch name", shown.data);
        buf_release(&shown);
        return -1;
    }
    return 0;
}

/* ---- remotes ---- */

int git_fetch(const struct git *g, const char *remote, struct err *e)
{
    const char *args[] = { "fetch", "--quiet", "--", remote, NULL };
    if (git_ok(g, args, NULL, EXIT_UNAVAILABLE, e) < 0)
        return err_wrap(e, "fetching '%s'", remote);
    return 0;
}

int git_parse_symref_head(const char *text, char **branch)
{
    *branch = NULL;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        size_t len = n;
        while (len && p[len - 1] == '\r')
            len--;
        /* "ref: refs/heads/NAME\tHEAD" */
        if (len > 21 && !strncmp(p, "ref: refs/heads/", 16) && !strncmp(p + len - 5, "\tHEAD", 5)) {
            size_t name_len = len - 16 - 5;
            if (!memchr(p + 16, '\t', name_len)) {
                *branch = xstrndup(p + 16, name_len);
                return 0;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    return -1;
}

/* "refs/remotes/REMOTE/" + branch */
static char *tracking_ref(const char *remote, const char *branch)
{
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "refs/remotes/%s/%s", remote, branch);
    return buf_detach(&b);
}

int git_default_branch(const struct git *g, const char *remote, char **branch, struct err *e)
{
    *branch = NULL;
    char *head = tracking_ref(remote, "HEAD");
    char *prefix = tracking_ref(remote, "");
    struct buf out;
    buf_init(&out, 0);
    struct err ignored;
    err_clear(&ignored);

    /* 1. what the clone recorded as the remote's HEAD */
    const char *symref[] = { "symbolic-ref", "--quiet", head, NULL };
    if (git_run(g, symref, &out, NULL, &ignored) == 0) {
        trim_newlines(&out);
        size_t plen = strlen(prefix);
        if (!strncmp(out.data, prefix, plen) && out.data[plen] &&
            git_ref_exists(g, out.data, &ignored) == 1)
            *branch = xstrdup(out.data + plen);
    }
    /* 2. what the remote advertises now */
    if (!*branch) {
        buf_reset(&out);
        const char *ls[] = { "ls-remote", "--symref", "--", remote, "HEAD", NULL };
        if (git_run(g, ls, &out, NULL, &ignored) == 0)
            git_parse_symref_head(out.data, branch);
    }
    /* 3. the conventional names, as far as the remote has them */
    static const char *const guesses[] = { "main", "master" };
    for (size_t i = 0; !*branch && i < 2; i++) {
        char *ref = tracking_ref(remote, guesses[i]);
        if (git_ref_exists(g, ref, &ignored) == 1)
            *branch = xstrdup(guesses[i]);
        free(ref);
    }
    buf_release(&out);
    free(head);
    free(prefix);
    if (!*branch) {
        err_set(e, EXIT_NOT_FOUND, "cannot tell the default branch of remote '%s'", remote);
        err_hint(e, "it has no HEAD and neither main nor master; 'git remote set-head %s BRANCH' "
                    "records one", remote);
        return -1;
    }
    return 0;
}

/* ---- worktrees and branches ---- */

int git_worktree_add(const struct git *g, const char *path, const char *branch,
                     const char *start, struct err *e)
{
    const char *args[] = { "worktree", "add", "--quiet", "--no-track", "-b", branch, "--",
                           path, start, NULL };
    return git_ok(g, args, NULL, EXIT_FAILED, e);
}

int git_worktree_remove(const struct git *g, const char *path, int force, struct err *e)
{
    const char *plain[] = { "worktree", "remove", "--", path, NULL };
    const char *forced[] = { "worktree", "remove", "--force", "--", path, NULL };
    return git_ok(g, force ? forced : plain, NULL, EXIT_FAILED, e);
}

int git_worktree_prune(const struct git *g, struct err *e)
{
    const char *args[] = { "worktree", "prune", NULL };
    return git_ok(g, args, NULL, EXIT_FAILED, e);
}

int git_branch_delete(const struct git *g, const char *branch, struct err *e)
{
    const char *args[] = { "branch", "-D", "--", branch, NULL };
    return git_ok(g, args, NULL, EXIT_FAILED, e);
}

static int read_file(const char *path, struct buf *b)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

int git_exclude_add(const struct git *g, const char *line, struct err *e)
{
    char *common = NULL;
    if (git_common_dir(g, &common, e) < 0)
        return -1;
    struct buf path, text;
    buf_init(&path, 0);
    buf_init(&text, 0);
    buf_addf(&path, "%s/info", common);
    int rc = 0;
    if (mkdir(path.data, 0777) < 0 && errno != EEXIST) {
        rc = err_set(e, EXIT_FAILED, "cannot create '%s': %s", path.data, strerror(errno));
        goto out;
    }
    buf_adds(&path, "/exclude");
    if (read_file(path.data, &text) < 0 && errno != ENOENT) {
        rc = err_set(e, EXIT_FAILED, "cannot read '%s': %s", path.data, strerror(errno));
        goto out;
    }
    if (has_line(text.data, line))
        goto out;
    FILE *f = fopen(path.data, "a");
    if (!f) {
        rc = err_set(e, EXIT_FAILED, "cannot write '%s': %s", path.data, strerror(errno));
        goto out;
    }
    if (text.len && text.data[text.len - 1] != '\n')
        fputc('\n', f);
    fprintf(f, "%s\n", line);
    if (fclose(f) != 0)
        rc = err_set(e, EXIT_FAILED, "cannot write '%s': %s", path.data, strerror(errno));
out:
    free(common);
    buf_release(&path);
    buf_release(&text);
    return rc;
}

/* ---- status ---- */

void git_status_release(struct git_status *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->v[i].path);
        free(st->v[i].orig);
    }
    free(st->v);
    st->v = NULL;
    st->n = 0;
}

int git_parse_status(const char *data, size_t len, struct git_status *st)
{
    st->v = NULL;
    st->n = 0;
    size_t i = 0;
    while (i < len) {
        size_t n, on;
        const char *f = z_field(data, len, &i, &n);
        if (!f || n < 4 || f[2] != ' ')
            goto bad;
        st->v = xrealloc(st->v, (st->n + 1) * sizeof(*st->v));
        struct git_status_entry *en = &st->v[st->n++];
        memset(en, 0, sizeof(*en));
        memcpy(en->xy, f, 2);
        en->path = xstrdup(f + 3);
        if (f[0] == 'R' || f[0] == 'C' || f[1] == 'R' || f[1] == 'C') {
            const char *o = z_field(data, len, &i, &on);
            if (!o || on == 0)
                goto bad;
            en->orig = xstrdup(o);
        }
    }
    return 0;
bad:
    git_status_release(st);
    return -1;
}

int git_status(const struct git *g, struct git_status *st, struct err *e)
{
    st->v = NULL;
    st->n = 0;
    const char *args[] = { "status", "--porcelain", "-z", "--untracked-files=normal", NULL };
    struct buf out;
    buf_init(&out, 0);
    int rc = git_ok(g, args, &out, EXIT_FAILED, e);
    if (rc == 0 && git_parse_status(out.data, out.len, st) < 0)
        rc = err_set(e, EXIT_FAILED, "cannot read 'git status' output");
    buf_release(&out);
    return rc;
}

void git_status_describe(const struct git_status *st, size_t max, struct buf *out)
{
    for (size_t i = 0; i < st->n && i < max; i++) {
        if (i)
            buf_adds(out, ", ");
        sanitize_append(out, st->v[i].path, strlen(st->v[i].path), 0);
    }
    if (st->n > max)
        buf_addf(out, " (+%zu more)", st->n - max);
}

/* ---- merge ---- */

int git_merge_abort(const struct git *g, struct err *e)
{
    const char *args[] = { "merge", "--abort", NULL };
    return git_ok(g, args, NULL, EXIT_FAILED, e);
}

/* Appends NUL-separated names to sv. */
static void split_z(const struct buf *b, struct strvec *sv)
{
    for (size_t i = 0; i < b->len;) {
        size_t n = strnlen(b->data + i, b->len - i);
        if (n)
            strvec_push(sv, b->data + i);
        i += n + 1;
    }
}

int git_merge(const struct git *g, const char *rev, struct strvec *conflicts, struct err *e)
{
    struct buf out, errout;
    buf_init(&out, 0);
    buf_init(&errout, 0);
    /* --ff: a merge.ff=only in the user's config must not turn a merge into an error */
    const char *args[] = { "merge", "--no-edit", "--ff", "--end-of-options", rev, NULL };
    int rc = git_run(g, args, &out, &errout, e);
    if (rc <= 0)
        goto out;
    struct err probe;
    err_clear(&probe);
    const char *in_merge[] = { "rev-parse", "--verify", "--quiet", "MERGE_HEAD", NULL };
    if (git_run(g, in_merge, NULL, NULL, &probe) != 0) {
        /* git refused to start: local changes, untracked files in the way… */
        buf_add(&errout, "\n", 1);
        buf_add(&errout, out.data, out.len);
        rc = fail_with(args, &errout, EXIT_FAILED, e);
        goto out;
    }
    buf_reset(&out);
    const char *unmerged[] = { "diff", "--name-only", "--diff-filter=U", "-z", NULL };
    if (git_run(g, unmerged, &out, NULL, &probe) == 0)
        split_z(&out, conflicts);
    rc = git_merge_abort(g, e) < 0 ? -1 : GIT_MERGE_CONFLICT;
out:
    buf_release(&out);
    buf_release(&errout);
    return rc;
}

/* ---- push ---- */

void git_push_result_release(struct git_push_result *r)
{
    free(r->summary);
    free(r->reason);
    free(r->remote);
    memset(r, 0, sizeof(*r));
}

static int is_non_ff(const char *summary, const char *reason)
{
    if (!reason)
        return 0;
    if (!strcmp(summary, "[rejected]"))
        return !strcmp(reason, "non-fast-forward") || !strcmp(reason, "fetch first") ||
               !strcmp(reason, "stale info");
    /* the server lost a race between its own check and the ref update */
    return !strcmp(summary, "[remote rejected]") && strstr(reason, "cannot lock ref") &&
           strstr(reason, "but expected");
}

enum git_push_status git_parse_push(const char *out, const char *dst, struct git_push_result *r)
{
    memset(r, 0, sizeof(*r));
    r->status = GIT_PUSH_ERROR;
    size_t dlen = strlen(dst);
    for (const char *p = out; *p;) {
        size_t n = strcspn(p, "\n");
        /* FLAG \t FROM:TO \t SUMMARY[ (REASON)] */
        const char *t1 = memchr(p, '\t', n);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - p)) : NULL;
        if (t1 == p + 1 && t2) {
            const char *to = t2 - dlen;
            if (to > t1 && to[-1] == ':' && !strncmp(to, dst, dlen)) {
                const char *s = t2 + 1, *end = p + n;
                while (end > s && end[-1] == '\r')
                    end--;
                const char *paren = NULL;
                if (end > s && end[-1] == ')')
                    for (const char *q = end - 1; q > s; q--)
                        if (*q == '(' && q[-1] == ' ') {
                            paren = q;
                            break;
                        }
                r->summary = xstrndup(s, (size_t)((paren ? paren - 1 : end) - s));
                if (paren)
                    r->reason = xstrndup(paren + 1, (size_t)(end - 1 - (paren + 1)));
                switch (*p) {
                case ' ': case '+': case '*': case '-':
                    r->status = GIT_PUSH_OK;
                    break;
                case '=':
                    r->status = GIT_PUSH_UP_TO_DATE;
                    break;
                case '!':
                    r->status = is_non_ff(r->summary, r->reason) ? GIT_PUSH_NON_FF
                                                                 : GIT_PUSH_REJECTED;
                    break;
                default:
                    r->status = GIT_PUSH_ERROR;
                }
                return r->status;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    return r->status;
}

/* The "remote: " lines of git's stderr, sanitized, or NULL. */
static char *remote_lines(const char *text)
{
    struct buf b;
    buf_init(&b, 16 << 10);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (!strncmp(p, "remote: ", 8)) {
            size_t len = n - 8;
            while (len && (p[8 + len - 1] == ' ' || p[8 + len - 1] == '\r'))
                len--;
            if (b.len)
                buf_addc(&b, '\n');
            sanitize_append(&b, p + 8, len, 0);
        }
        p += n;
        if (*p)
            p++;
    }
    if (!b.len) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

int git_push(const struct git *g, const char *remote, const char *src, const char *dst,
             struct git_push_result *r, struct err *e)
{
    struct buf spec, out, errout;
    buf_init(&spec, 0);
    buf_init(&out, 0);
    buf_init(&errout, 0);
    buf_addf(&spec, "%s:%s", src, dst);
    const char *args[] = { "push", "--porcelain", "--", remote, spec.data, NULL };
    int rc = git_run(g, args, &out, &errout, e);
    if (rc >= 0) {
        git_parse_push(out.data, dst, r);
        r->remote = remote_lines(errout.data);
        if (r->status == GIT_PUSH_ERROR)
            rc = fail_with(args, &errout, EXIT_UNAVAILABLE, e);
        else
            rc = 0;
    } else {
        memset(r, 0, sizeof(*r));
        r->status = GIT_PUSH_ERROR;
    }
    if (rc < 0)
        err_wrap(e, "pushing to '%s'", remote);
    buf_release(&spec);
    buf_release(&out);
    buf_release(&errout);
    return rc;
}

/* ---- git-crypt ---- */

int git_attributes_use_crypt(const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        const char *q = p, *end = p + n;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q != '#') {
            /* skip the pattern (possibly "quoted"), then look at each attribute */
            if (*q == '"') {
                for (q++; q < end && *q != '"'; q++)
                    if (*q == '\\' && q + 1 < end)
                        q++;
                if (q < end)
                    q++;
            } else {
                while (q < end && *q != ' ' && *q != '\t')
                    q++;
            }
            while (q < end) {
                while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
                    q++;
                const char *a = q;
                while (q < end && *q != ' ' && *q != '\t' && *q != '\r')
                    q++;
                if (q - a == 16 && !strncmp(a, "filter=git-crypt", 16))
                    return 1;
            }
        }
        p = end;
        if (*p)
            p++;
    }
    return 0;
}

/* `git grep` for the attribute in .gitattributes files: matching lines only. */
static int grep_attributes(const struct git *g, const char *rev, struct buf *out, struct err *e)
{
    const char *args[] = { "grep", "--no-color", "-h", "-I", "-F", "-e", "filter=git-crypt",
                           rev ? rev : "--", rev ? "--" : ":(glob)**/.gitattributes",
                           rev ? ":(glob)**/.gitattributes" : NULL, NULL };
    struct buf errout;
    buf_init(&errout, 0);
    int rc = git_run(g, args, out, &errout, e);
    if (rc > 1)
        rc = fail_with(args, &errout, EXIT_FAILED, e);
    buf_release(&errout);
    return rc < 0 ? -1 : 0;
}

int git_detect_crypt(const struct git *g, const char *const *revs, int *uses, struct err *e)
{
    /* the detection itself never runs a filter, so plain git will do */
    struct git plain = { g ? g->dir : NULL, 0 };
    struct buf found;
    buf_init(&found, 0);
    *uses = 0;
    int rc = grep_attributes(&plain, NULL, &found, e);
    for (size_t i = 0; rc == 0 && revs && revs[i]; i++) {
        struct err ignored;
        err_clear(&ignored);
        char *oid = NULL;
        if (git_rev_parse(&plain, revs[i], &oid, &ignored) < 0)
            continue;
        rc = grep_attributes(&plain, oid, &found, e);
        free(oid);
    }
    char *common = NULL;
    if (rc == 0 && git_common_dir(&plain, &common, e) == 0) {
        struct buf path;
        buf_init(&path, 0);
        buf_addf(&path, "%s/info/attributes", common);
        read_file(path.data, &found);
        buf_release(&path);
        free(common);
    } else {
        rc = -1;
    }
    if (rc == 0)
        *uses = git_attributes_use_crypt(found.data);
    buf_release(&found);
    return rc;
}
