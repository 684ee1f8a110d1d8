/*
 * work: start a topic in its own worktree, land it on the remote's default
 * branch, clean it up.
 *
 *   work start TOPIC   fetch, then branch PREFIX/TOPIC off REMOTE/DEFAULT
 *                      in REPO/.worktrees/TOPIC; stdout is only that path
 *   work land          (inside the branch) merge REMOTE/DEFAULT in, verify,
 *                      push HEAD to DEFAULT (retrying when the default moved
 *                      on), else push the branch for review; then watch CI
 *                      and, with --deploy, the rollouts of the landed commit
 *   work clean TOPIC   remove the worktree and the branch, once merged
 *
 * This file holds start, clean and what the verbs share (cmd/work.h);
 * land is cmd/work_land.c.
 *
 * Every git step is an argv through git/git.h. The one shell is the
 * verification command the user configured (--verify-cmd, work.verify): a
 * command line by nature, written by the user for their own repository, so
 * it runs as `sh -c CMD` in the work tree's top directory. Nothing from a
 * topic name, a branch or a server is ever put into it. Its output (and an
 * auto-detected suite's) streams to stderr: stdout carries only the result.
 *
 * The landing never rewrites history: a conflicting merge is aborted so the
 * checkout is exactly as before, nothing is pushed without the verification
 * passing on the very tree being pushed, and a rejection other than
 * "the branch moved on" ends in a review branch, never a force push.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/work.h"
#include "core/buf.h"
#include "core/sanitize.h"
#include "core/term.h"
#include "git/git.h"
#include "git/suite.h"
#include "kube/transport.h"


static struct {
    int force;
} opt;

const struct opt work_start_opts[] = { OPT_END };

const struct opt work_clean_opts[] = {
    { "force", OPT_BOOL, &opt.force, NULL, "remove even when dirty or not merged" },
    OPT_END,
};

/* ---- shared ---- */

void work_release(struct work *w)
{
    free(w->dir);
    free(w->remote);
    free(w->def);
    free(w->def_ref);
    free(w->def_name);
    memset(w, 0, sizeof(*w));
}

/* The exit code of a failed step (its error always carries one). */
int work_err_code(const struct cmd_ctx *ctx)
{
    return ctx->err.code ? ctx->err.code : EXIT_FAILED;
}

/* Text from git (paths, names) made safe to print. */
void work_shown(struct buf *out, const char *s)
{
    sanitize_append(out, s, strlen(s), 0);
}

/* Whether the repository uses git-crypt, as seen from HEAD and `rev`. */
static int detect_crypt(struct work *w, const char *rev)
{
    const char *revs[] = { "HEAD", rev, NULL };
    int uses = 0;
    if (git_detect_crypt(&w->g, revs, &uses, &w->ctx->err) < 0)
        return -1;
    w->g.crypt = w->g.crypt || uses;
    return 0;
}

/* Chooses the remote, fetches it and finds its default branch. */
int work_remote(struct work *w, int must_fetch)
{
    struct err *e = &w->ctx->err;
    if (git_choose_remote(&w->g, w->ctx->cfg.remote, &w->remote, e) < 0)
        return -1;
    if (detect_crypt(w, NULL) < 0)
        return -1;
    if (git_fetch(&w->g, w->remote, e) < 0) {
        if (must_fetch)
            return -1;
        fprintf(stderr, "homelab: warning: %s; using what is known locally\n", e->msg);
        err_clear(e);
    }
    if (git_default_branch(&w->g, w->remote, &w->def, e) < 0)
        return -1;
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "refs/remotes/%s/%s", w->remote, w->def);
    w->def_ref = buf_detach(&b);
    buf_addf(&b, "%s/%s", w->remote, w->def);
    w->def_name = buf_detach(&b);
    if (git_ref_exists(&w->g, w->def_ref, e) != 1) {
        if (!e->code)
            err_set(e, EXIT_NOT_FOUND, "remote '%s' has no branch '%s' (no %s)", w->remote,
                    w->def, w->def_ref);
        return -1;
    }
    return detect_crypt(w, w->def_ref);
}

/* The main worktree of the repository holding the current directory. */
static int main_worktree(struct cmd_ctx *ctx, char **repo)
{
    struct git here = { NULL, 0 };
    struct git_worktree_list wl;
    if (git_worktrees(&here, &wl, &ctx->err) < 0) {
        if (ctx->err.kind == ERR_NOT_A_REPO) {
            err_set_kind(&ctx->err, ERR_NOT_A_REPO, EXIT_USAGE, "not in a git repository");
            err_hint(&ctx->err, "run it inside a clone of the repository");
        }
        return -1;
    }
    int rc = 0;
    if (wl.n == 0)
        rc = err_set_kind(&ctx->err, ERR_NOT_A_REPO, EXIT_USAGE, "not in a git repository");
    else if (wl.v[0].bare)
        rc = err_set(&ctx->err, EXIT_USAGE,
                     "the repository is bare; work needs one with a work tree");
    else
        *repo = xstrdup(wl.v[0].path);
    git_worktree_list_release(&wl);
    return rc;
}

/* PREFIX/TOPIC, the prefix from work.branch-prefix, else $USER. */
static int topic_branch(struct work *w, const char *topic, char **branch)
{
    const char *prefix = w->ctx->cfg.branch_prefix;
    if (!prefix)
        prefix = getenv("USER");
    if (!prefix)
        return err_set(&w->ctx->err, EXIT_USAGE, "no branch prefix: set work.branch-prefix "
                                                 "(or USER)");
    size_t n = strlen(prefix);
    while (n && prefix[n - 1] == '/')
        n--;
    struct buf b;
    buf_init(&b, 0);
    if (n)
        buf_addf(&b, "%.*s/", (int)n, prefix);
    buf_adds(&b, topic);
    if (git_check_branch_name(&w->g, b.data, &w->ctx->err) < 0) {
        if (n)
            err_hint(&w->ctx->err, "the prefix comes from work.branch-prefix, else $USER");
        buf_release(&b);
        return -1;
    }
    *branch = buf_detach(&b);
    return 0;
}

static char *topic_path(const char *repo, const char *topic)
{
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "%s/%s/%s", repo, WORKTREES_DIR, topic);
    return buf_detach(&b);
}

char *work_heads_ref(const char *branch)
{
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "refs/heads/%s", branch);
    return buf_detach(&b);
}

static int path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Prints j as a JSON line when `on` (and j is not NULL: text that is not UTF-8), then frees it. */
void work_json_out(int on, json_t *j)
{
    if (on && j)
        term_json_line(j);
    json_decref(j);
}

/* The TOPIC of `work start` and `work clean`, and the names it gives. */
struct topic {
    const char *name;
    char *branch; /* PREFIX/TOPIC */
    char *path;   /* REPO/.worktrees/TOPIC */
    char *ref;    /* refs/heads/PREFIX/TOPIC */
};

static void topic_release(struct topic *t)
{
    free(t->branch);
    free(t->path);
    free(t->ref);
    memset(t, 0, sizeof(*t));
}

/*
 * What `work start` and `work clean` do first: check the one TOPIC
 * argument, find the main worktree and name the topic's branch, path and
 * ref. Returns 0, or -1 with ctx->err set; w and t are to be released
 * either way.
 */
static int topic_open(struct cmd_ctx *ctx, const char *verb, struct work *w, struct topic *t)
{
    memset(w, 0, sizeof(*w));
    memset(t, 0, sizeof(*t));
    w->ctx = ctx;
    git_set_trace(ctx->g.verbose);
    if (ctx->npos != 1)
        return err_set(&ctx->err, EXIT_USAGE, "'work %s' takes one TOPIC", verb);
    t->name = ctx->pos[0];
    if (git_check_topic(t->name, &ctx->err) < 0)
        return -1;
    if (main_worktree(ctx, &w->dir) < 0)
        return -1;
    w->g.dir = w->dir;
    if (topic_branch(w, t->name, &t->branch) < 0)
        return -1;
    t->path = topic_path(w->dir, t->name);
    t->ref = work_heads_ref(t->branch);
    return 0;
}

/* ---- work start ---- */

int cmd_work_start(struct cmd_ctx *ctx)
{
    struct work w;
    struct topic t;
    char *base = NULL;
    int code = EXIT_OK;
    if (topic_open(ctx, "start", &w, &t) < 0)
        goto fail;
    const char *topic = t.name, *branch = t.branch, *path = t.path;
    if (path_exists(path)) {
        err_set(&ctx->err, EXIT_USAGE, "topic '%s' exists: %s", topic, path);
        err_hint(&ctx->err, "cd into it, or 'homelab work clean %s'", topic);
        goto fail;
    }
    int has = git_ref_exists(&w.g, t.ref, &ctx->err);
    if (has != 0) {
        if (has == 1) {
            err_set(&ctx->err, EXIT_USAGE, "branch '%s' exists", branch);
            err_hint(&ctx->err, "pick another topic, or delete the branch");
        }
        goto fail;
    }
    if (work_remote(&w, 1) < 0)
        goto fail;
    if (git_rev_parse(&w.g, w.def_ref, &base, &ctx->err) < 0)
        goto fail;
    if (git_exclude_add(&w.g, WORKTREES_DIR "/", &ctx->err) < 0)
        goto fail;
    if (git_worktree_add(&w.g, path, branch, w.def_ref, &ctx->err) < 0)
        goto fail;
    struct buf msg;
    buf_init(&msg, 0);
    buf_addf(&msg, "work: branch %s off %s (%.7s)%s in ", branch, w.def_name, base,
             w.g.crypt ? " with git-crypt passthrough" : "");
    work_shown(&msg, path);
    fprintf(stderr, "%s\n", msg.data);
    buf_release(&msg);
    if (ctx->mode == OUTPUT_JSON) {
        work_json_out(1, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "topic", topic, "branch",
                              branch, "path", path, "remote", w.remote, "base", w.def_name, "sha",
                              base));
    } else {
        printf("%s\n", path);
    }
    goto out;
fail:
    code = work_err_code(ctx);
out:
    free(base);
    topic_release(&t);
    work_release(&w);
    return code;
}

/* ---- work clean ---- */

/* Removes now-empty directories between the worktree and .worktrees/. */
static void remove_empty_parents(const char *repo, const char *path)
{
    struct buf stop, cur;
    buf_init(&stop, 0);
    buf_init(&cur, 0);
    buf_addf(&stop, "%s/%s", repo, WORKTREES_DIR);
    buf_adds(&cur, path);
    for (;;) {
        char *slash = strrchr(cur.data, '/');
        if (!slash)
            break;
        *slash = '\0';
        cur.len = (size_t)(slash - cur.data);
        if (cur.len <= stop.len || rmdir(cur.data) < 0)
            break;
    }
    buf_release(&stop);
    buf_release(&cur);
}

/* The registered worktree at `path`, or NULL. */
static const struct git_worktree *find_worktree(const struct git_worktree_list *wl,
                                                const char *path)
{
    for (size_t i = 0; i < wl->n; i++)
        if (!strcmp(wl->v[i].path, path))
            return &wl->v[i];
    return NULL;
}

/* Refuses to drop uncommitted work. Returns 0 or -1. */
static int clean_check_dirty(struct work *w, const char *path)
{
    struct git there = { path, w->g.crypt };
    struct git_status st;
    if (git_status(&there, &st, &w->ctx->err) < 0)
        return -1;
    int rc = 0;
    if (st.n && !opt.force) {
        struct buf list;
        buf_init(&list, 0);
        git_status_describe(&st, 5, &list);
        struct buf p;
        buf_init(&p, 0);
        work_shown(&p, path);
        rc = err_set(&w->ctx->err, EXIT_FAILED, "%s has uncommitted changes: %s", p.data,
                     list.data);
        err_hint(&w->ctx->err, "commit them (and land), or pass --force to throw them away");
        buf_release(&p);
        buf_release(&list);
    }
    git_status_release(&st);
    return rc;
}

/* Refuses to drop commits the remote's default branch lacks. Returns 0 or -1. */
static int clean_check_merged(struct work *w, const char *branch, const char *ref)
{
    struct cmd_ctx *ctx = w->ctx;
    if (work_remote(w, 0) < 0) {
        if (!opt.force)
            return -1;
        err_clear(&ctx->err);
        return 0;
    }
    int merged = git_is_ancestor(&w->g, ref, w->def_ref, &ctx->err);
    if (merged < 0)
        return -1;
    if (merged || opt.force)
        return 0;
    long n = 0;
    git_count_missing(&w->g, w->def_ref, ref, &n, &ctx->err);
    err_set(&ctx->err, EXIT_FAILED, "branch '%s' is not merged into %s (%ld commit%s only "
                                    "there)", branch, w->def_name, n, n == 1 ? "" : "s");
    err_hint(&ctx->err, "land it first ('homelab work land' in its worktree), or pass --force");
    return -1;
}

int cmd_work_clean(struct cmd_ctx *ctx)
{
    struct work w;
    struct topic t;
    struct git_worktree_list wl = { 0 };
    int code = EXIT_OK;
    if (topic_open(ctx, "clean", &w, &t) < 0)
        goto fail;
    const char *topic = t.name, *branch = t.branch, *path = t.path, *ref = t.ref;
    if (git_worktrees(&w.g, &wl, &ctx->err) < 0)
        goto fail;
    const struct git_worktree *wt = find_worktree(&wl, path);
    int dir_there = path_exists(path);
    int branch_there = git_ref_exists(&w.g, ref, &ctx->err);
    if (branch_there < 0)
        goto fail;
    if (!wt && !dir_there && !branch_there) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "no topic '%s': neither %s nor branch '%s' exists",
                topic, path, branch);
        goto fail;
    }
    if (dir_there && !wt) {
        err_set(&ctx->err, EXIT_FAILED, "%s is not a worktree of this repository; not touching "
                                        "it", path);
        goto fail;
    }
    if (detect_crypt(&w, NULL) < 0)
        goto fail;
    if (wt && dir_there && clean_check_dirty(&w, path) < 0)
        goto fail;
    if (branch_there && clean_check_merged(&w, branch, ref) < 0)
        goto fail;
    if (wt && (dir_there ? git_worktree_remove(&w.g, path, opt.force, &ctx->err)
                         : git_worktree_prune(&w.g, &ctx->err)) < 0)
        goto fail;
    if (wt)
        remove_empty_parents(w.dir, path);
    if (branch_there && git_branch_delete(&w.g, branch, &ctx->err) < 0)
        goto fail;
    if (ctx->mode == OUTPUT_JSON) {
        work_json_out(1, json_pack("{s:s, s:s, s:s, s:b, s:b}", "topic", topic, "branch", branch,
                              "path", path, "removed_worktree", wt != NULL, "deleted_branch",
                              branch_there));
    } else {
        struct buf msg;
        buf_init(&msg, 0);
        buf_addf(&msg, "cleaned %s:", topic);
        if (wt) {
            buf_adds(&msg, " removed ");
            work_shown(&msg, path);
        }
        if (branch_there)
            buf_addf(&msg, "%s deleted branch %s", wt ? " and" : "", branch);
        printf("%s\n", msg.data);
        buf_release(&msg);
    }
    goto out;
fail:
    code = work_err_code(ctx);
out:
    git_worktree_list_release(&wl);
    topic_release(&t);
    work_release(&w);
    return code;
}
