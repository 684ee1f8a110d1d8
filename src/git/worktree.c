/*
 * git/worktree: the layout of a repository (top level, common dir), its
 * worktrees and branches, info/exclude, and the work tree's status.
 * Machine-readable output (--porcelain -z) is parsed by pure functions the
 * unit tests feed captured text.
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
#include "git/internal.h"

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

/* Reading -z output: NUL-terminated fields, one after the other. */
struct z_reader {
    const char *data;
    size_t len, i;
};

/*
 * The next field and its length, moving past it; NULL when the output ends
 * before the field's NUL (git always writes one).
 */
static const char *z_next(struct z_reader *z, size_t *n)
{
    const char *f = z->data + z->i;
    *n = strnlen(f, z->len - z->i);
    if (z->i + *n >= z->len)
        return NULL;
    z->i += *n + 1;
    return f;
}

typedef int (*z_field_fn)(struct z_reader *z, const char *f, size_t n, void *ud);

/*
 * The one loop of the -z parsers: hands each field to `field` (which may
 * take the fields that belong to it with z_next()); returns -1 as soon as
 * the output is malformed or `field` says so, else 0.
 */
static int z_parse(const char *data, size_t len, z_field_fn field, void *ud)
{
    struct z_reader z = { data, len, 0 };
    while (z.i < len) {
        size_t n;
        const char *f = z_next(&z, &n);
        if (!f || field(&z, f, n, ud) < 0)
            return -1;
    }
    return 0;
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

/* Parsing `git worktree list --porcelain -z`: the list, and the record
 * being read (NULL between records). */
struct worktree_parse {
    struct git_worktree_list *wl;
    struct git_worktree *cur;
};

static int worktree_field(struct z_reader *z, const char *f, size_t n, void *ud)
{
    struct worktree_parse *p = ud;
    struct git_worktree_list *wl = p->wl;
    struct git_worktree *cur = p->cur;
    (void)z;
    if (n == 0) { /* the end of a record */
        p->cur = NULL;
        return 0;
    }
    if (!strncmp(f, "worktree ", 9)) {
        wl->v = xrealloc(wl->v, (wl->n + 1) * sizeof(*wl->v));
        p->cur = &wl->v[wl->n++];
        memset(p->cur, 0, sizeof(*p->cur));
        p->cur->path = xstrdup(f + 9);
        return 0;
    }
    if (!cur)
        return -1;
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
    return 0;
}

int git_parse_worktrees(const char *data, size_t len, struct git_worktree_list *wl)
{
    struct worktree_parse p = { wl, NULL };
    memset(wl, 0, sizeof(*wl));
    if (z_parse(data, len, worktree_field, &p) < 0) {
        git_worktree_list_release(wl);
        return -1;
    }
    return 0;
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
    git_trim_newlines(&out);
    if (rc == 0 && !strncmp(out.data, "refs/heads/", 11))
        *branch = xstrdup(out.data + 11);
    else if (rc > 1)
        rc = git_fail_with(args, &errout, EXIT_NOT_FOUND, e);
    buf_release(&out);
    buf_release(&errout);
    return rc < 0 ? -1 : 0;
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
    if (git_read_file(path.data, &text) < 0 && errno != ENOENT) {
        rc = err_set(e, EXIT_FAILED, "cannot read '%s': %s", path.data, strerror(errno));
        goto out;
    }
    if (git_has_line(text.data, line))
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

/* One "XY PATH" field of `git status --porcelain -z`, with the ORIG field
 * that follows a rename or copy; `ud` is the status. */
static int status_field(struct z_reader *z, const char *f, size_t n, void *ud)
{
    struct git_status *st = ud;
    if (n < 4 || f[2] != ' ')
        return -1;
    st->v = xrealloc(st->v, (st->n + 1) * sizeof(*st->v));
    struct git_status_entry *en = &st->v[st->n++];
    memset(en, 0, sizeof(*en));
    memcpy(en->xy, f, 2);
    en->path = xstrdup(f + 3);
    if (f[0] == 'R' || f[0] == 'C' || f[1] == 'R' || f[1] == 'C') {
        size_t on;
        const char *o = z_next(z, &on);
        if (!o || on == 0)
            return -1;
        en->orig = xstrdup(o);
    }
    return 0;
}

int git_parse_status(const char *data, size_t len, struct git_status *st)
{
    memset(st, 0, sizeof(*st));
    if (z_parse(data, len, status_field, st) < 0) {
        git_status_release(st);
        return -1;
    }
    return 0;
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
