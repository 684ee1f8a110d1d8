/*
 * git: everything homelab asks of git, through the git CLI (never a shell).
 *
 * One API: every function that runs git takes a `struct git` (where, and
 * whether with the git-crypt flags; &git_here for the current directory),
 * runs `git` through core/proc and returns 0 or -1 with `e` filled: "not a
 * git repository" (kind ERR_NOT_A_REPO) and missing revisions are
 * EXIT_NOT_FOUND, a git that cannot run is EXIT_UNAVAILABLE. Strings returned are owned by the caller (free()).
 * Arguments from users (revs, branch names, topics) always reach git as
 * single arguments, after `--end-of-options` or `--` where git supports it.
 *
 * Tracing: when GIT_TRACE is "1", "2" or "true" (as for git itself), or
 * after git_set_trace(1) (--verbose), each git command line homelab runs is
 * printed to stderr as "trace: homelab: git ARGS", quoted like a shell
 * would need it, before it runs.
 *
 * The implementation is split by concern: git/run.c (running git), url.c
 * (pure parsing of URLs and names), refs.c (revisions, refs, remotes),
 * worktree.c (layout, worktrees, status), merge.c (merge, push), crypt.c
 * (git-crypt); each section below names its file.
 */
#ifndef HOMELAB_GIT_H
#define HOMELAB_GIT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/proc.h"

/* ---- running git (git/run.c) ---- */

/*
 * Where and how git runs. `dir` is borrowed. With `crypt` set every command
 * gets the git-crypt passthrough flags (git_crypt_config below) on its
 * command line, so a repository whose files use `filter=git-crypt` can be
 * checked out, merged and pushed whether or not git-crypt is installed or
 * the repository is unlocked: encrypted files stay as they are in the
 * objects. Nothing is ever written to a git config file.
 */
struct git {
    const char *dir; /* `git -C dir`; NULL = the current directory */
    int crypt;       /* add the git-crypt passthrough flags */
};

/* The current directory, no git-crypt flags. */
extern const struct git git_here;

/* The `-c` values added when git.crypt is set, NULL-terminated. */
extern const char *const git_crypt_config[];

/* Turns command tracing to stderr on or off (also on with GIT_TRACE). */
void git_set_trace(int on);

/*
 * The full argv for `args`: "git", "-C", dir, the `-c` pairs when crypt,
 * then args. Pure: for tests and traces.
 */
void git_build_argv(const struct git *g, const char *const *args, struct strvec *argv);

/*
 * Runs git with `args` (NULL-terminated). Captures stdout into `out` and
 * stderr into `errout` (either may be NULL to discard). Returns git's exit
 * status (0-255), or -1 when git could not be run (e filled,
 * EXIT_UNAVAILABLE).
 */
int git_run(const struct git *g, const char *const *args, struct buf *out, struct buf *errout,
            struct err *e);

/*
 * Runs git and expects exit status 0. Returns 0 with stdout in `out` (when
 * not NULL; trailing newlines trimmed), or -1 with e set to `code` and the
 * first line of git's complaint: "git ARGS0: MESSAGE" ("not a git
 * repository" is always EXIT_NOT_FOUND).
 */
int git_ok(const struct git *g, const char *const *args, struct buf *out, int code,
           struct err *e);

/* ---- revisions (git/refs.c) ---- */

/*
 * `git rev-parse --verify --end-of-options SPEC`: the object id SPEC names
 * (any rev-parse syntax), full hex. A repository git cannot use is its
 * reason ("not a git repository" has kind ERR_NOT_A_REPO); otherwise a
 * SPEC that names nothing is EXIT_NOT_FOUND "unknown revision 'SPEC'".
 */
int git_rev_parse(const struct git *g, const char *spec, char **oid, struct err *e);
/* The same for REV^{commit}: the full sha of a commit, errors naming REV. */
int git_rev_parse_commit(const struct git *g, const char *rev, char **sha, struct err *e);

/*
 * Either in two halves, so git runs while the caller does other work:
 * _start() launches it (a failure to launch is kept for _finish()), and
 * git_rev_parse_finish() waits for it and gives the result exactly as
 * above. Every started job must be finished. `g` is copied; g->dir is
 * borrowed until _finish().
 */
struct git_rev_job {
    struct proc_stream ps;
    struct git g;
    char *rev; /* what errors name */
    int running;
    struct err err;
};
void git_rev_parse_start(const struct git *g, const char *spec, struct git_rev_job *j);
void git_rev_parse_commit_start(const struct git *g, const char *rev, struct git_rev_job *j);
int git_rev_parse_finish(struct git_rev_job *j, char **oid, struct err *e);

/* ---- remotes (git/refs.c) ---- */

/*
 * The remote to use: `preferred` when given (it must exist), else "forgejo",
 * else "origin", else the first remote listed. EXIT_NOT_FOUND when the
 * repository has no remote.
 */
int git_choose_remote(const struct git *g, const char *preferred, char **remote, struct err *e);

/* `git remote get-url REMOTE`. */
int git_remote_url(const struct git *g, const char *remote, char **url, struct err *e);

/*
 * git_choose_remote() and git_remote_url() in one git process (`git remote
 * -v`: the same sorted names, the same first URL with url.*.insteadOf
 * applied). A remote without a URL gets its own name, as get-url prints.
 */
int git_choose_remote_url(const struct git *g, const char *preferred, char **remote, char **url,
                          struct err *e);

/* ---- names and URLs, pure (git/url.c) ---- */

/*
 * Parses `git remote -v` output: appends each remote's name and a newline to
 * `names` and its fetch URL to `urls`, in order. Pure. Returns the count.
 */
int git_parse_remote_v(const char *text, struct buf *names, struct strvec *urls);

/*
 * Parses a remote URL into the repo's full name ("owner/name", nested
 * groups kept: "group/sub/name"), without a trailing ".git" or slash.
 * Accepts https://[user[:password]@]host[:port]/owner/name(.git), http://,
 * ssh://[user@]host[:port]/owner/name, git://, scp-like
 * [user@]host:owner/name(.git) (also [v6addr]:owner/name); a query or
 * fragment is ignored, credentials are dropped. Rejects local paths
 * (/srv/x.git, ./x, ../x), file:// URLs, URLs with fewer than two path
 * components, and components that are empty, "." or "..", or hold spaces,
 * backslashes or control characters.
 * Pure: no git involved. Returns 0, or -1 when the URL names no owner/name.
 */
int git_remote_full_name(const char *url, char **full_name);

/* Whether `s` looks like a hex commit id of 7 to 64 characters. */
int git_is_hex_id(const char *s);

/* ---- layout (git/worktree.c) ---- */

/* `rev-parse --show-toplevel`: the work tree holding g->dir. */
int git_toplevel(const struct git *g, char **path, struct err *e);
/* The common git directory (shared by all worktrees), absolute. */
int git_common_dir(const struct git *g, char **path, struct err *e);

struct git_worktree {
    char *path;
    char *head;    /* commit id, NULL when bare */
    char *branch;  /* "refs/heads/x", NULL when detached or bare */
    int bare;
    int detached;
    int prunable;  /* its directory is gone */
};

struct git_worktree_list {
    struct git_worktree *v;
    size_t n;
};

/*
 * Parses `git worktree list --porcelain -z` (records of NUL-terminated
 * "key value" fields, each record ended by an empty field). The main
 * worktree comes first. Returns 0 or -1 when malformed (wl emptied).
 */
int git_parse_worktrees(const char *data, size_t len, struct git_worktree_list *wl);
int git_worktrees(const struct git *g, struct git_worktree_list *wl, struct err *e);
void git_worktree_list_release(struct git_worktree_list *wl);

/*
 * The branch checked out (short name, "me/topic"), or NULL in *branch when
 * HEAD is detached (returns 0 then).
 */
int git_current_branch(const struct git *g, char **branch, struct err *e);

/* ---- refs and names (git/refs.c; git_check_topic in git/url.c) ---- */

/* 1 when `ref` (a full ref name) exists, 0 when not, -1 on error. */
int git_ref_exists(const struct git *g, const char *ref, struct err *e);
/* 1 when commit `a` is an ancestor of (or equal to) `b`, 0 when not, -1 on error. */
int git_is_ancestor(const struct git *g, const char *a, const char *b, struct err *e);
/* The number of commits in `b` that `a` lacks (`rev-list --count a..b`). */
int git_count_missing(const struct git *g, const char *a, const char *b, long *n, struct err *e);

/*
 * Whether `topic` can name a work topic: a branch component and a directory
 * under .worktrees/. Pure checks: not empty, no leading '-' or '.', no "..",
 * no control characters or spaces, no '~', '^', ':', '?', '*', '[', '\\',
 * no "@{" nor "@" alone, no leading, trailing or doubled '/', no component
 * ending in ".lock" or '.', at most 200 bytes. Returns 0, or -1 with e
 * (EXIT_USAGE) saying why.
 */
int git_check_topic(const char *topic, struct err *e);
/* `git check-ref-format --branch NAME`; EXIT_USAGE when git rejects it. */
int git_check_branch_name(const struct git *g, const char *name, struct err *e);

/* ---- fetching (git/refs.c) ---- */

/* `git fetch --prune --quiet -- REMOTE`; failures are EXIT_UNAVAILABLE. */
int git_fetch(const struct git *g, const char *remote, struct err *e);

/*
 * Parses `git ls-remote --symref REMOTE HEAD` output ("ref: refs/heads/X\tHEAD"
 * first): returns 0 with the branch ("X") or -1 when absent.
 */
int git_parse_symref_head(const char *text, char **branch);

/*
 * The remote's default branch: the target of refs/remotes/REMOTE/HEAD when
 * that exists, else the HEAD the remote advertises (`ls-remote --symref`),
 * else "main" or "master", whichever refs/remotes/REMOTE/ has (main first).
 * EXIT_NOT_FOUND when none applies. Call after git_fetch().
 */
int git_default_branch(const struct git *g, const char *remote, char **branch, struct err *e);

/* ---- worktrees and branches (git/worktree.c) ---- */

/* `git worktree add --no-track -b BRANCH -- PATH START`. */
int git_worktree_add(const struct git *g, const char *path, const char *branch,
                     const char *start, struct err *e);
/* `git worktree remove [--force] -- PATH`. */
int git_worktree_remove(const struct git *g, const char *path, int force, struct err *e);
/* `git worktree prune`. */
int git_worktree_prune(const struct git *g, struct err *e);
/* `git branch -D -- BRANCH` (callers check "merged" themselves). */
int git_branch_delete(const struct git *g, const char *branch, struct err *e);

/*
 * Adds `line` to the common git directory's info/exclude unless a line
 * equal to it is there already (creating info/ and the file as needed).
 * Tracked files are never touched.
 */
int git_exclude_add(const struct git *g, const char *line, struct err *e);

/* ---- status (git/worktree.c) ---- */

struct git_status_entry {
    char xy[3];  /* the two status letters, "??" untracked, "UU" conflict */
    char *path;
    char *orig;  /* the source of a rename or copy, else NULL */
};

struct git_status {
    struct git_status_entry *v;
    size_t n;
};

/*
 * Parses `git status --porcelain -z` (v1): "XY PATH\0", renames and copies
 * followed by "ORIG\0". Returns 0 or -1 when malformed (st emptied).
 */
int git_parse_status(const char *data, size_t len, struct git_status *st);
/* Changes and untracked files (not ignored ones) of the work tree. */
int git_status(const struct git *g, struct git_status *st, struct err *e);
void git_status_release(struct git_status *st);
/* "a.c, b.c (+3 more)" for messages: at most `max` names. */
void git_status_describe(const struct git_status *st, size_t max, struct buf *out);

/* ---- merge (git/merge.c) ---- */

enum git_merge_result {
    GIT_MERGE_DONE = 0,      /* merged, or already up to date */
    GIT_MERGE_CONFLICT = 1,  /* conflicted: aborted, files listed */
};

/*
 * `git merge --no-edit --ff --end-of-options REV`. On conflict, the unmerged
 * paths go into `conflicts`, the merge is aborted (`git merge --abort`),
 * leaving the checkout as it was, and GIT_MERGE_CONFLICT is returned. A
 * merge git refuses to start (it would overwrite local changes…) is -1
 * with git's reason (EXIT_FAILED).
 */
int git_merge(const struct git *g, const char *rev, struct strvec *conflicts, struct err *e);
/* `git merge --abort`. */
int git_merge_abort(const struct git *g, struct err *e);

/* ---- push (git/merge.c) ---- */

enum git_push_status {
    GIT_PUSH_OK,          /* updated (fast-forward, new ref) */
    GIT_PUSH_UP_TO_DATE,  /* the remote already had it */
    GIT_PUSH_NON_FF,      /* rejected: the remote moved on (non-fast-forward, fetch first) */
    GIT_PUSH_REJECTED,    /* rejected otherwise: hook, protection, permissions */
    GIT_PUSH_ERROR,       /* no verdict for the ref: could not talk to the remote */
};

struct git_push_result {
    enum git_push_status status;
    char *summary;  /* "[rejected]", "[remote rejected]", "abc..def", … */
    char *reason;   /* "non-fast-forward", "pre-receive hook declined", or NULL */
    char *remote;   /* what the remote said ("remote: " lines), sanitized, or NULL */
};

/*
 * Parses `git push --porcelain` stdout for the line of `dst` (a full ref
 * name): "FLAG\tFROM:TO\tSUMMARY (REASON)". Classifies: ' ', '+', '*'
 * OK; '=' up to date; '!' with "[rejected]" and reason non-fast-forward,
 * fetch first or stale info, or a remote "cannot lock ref … but expected"
 * race: NON_FF; any other '!': REJECTED. No line for dst: ERROR.
 * Fills summary and reason; returns r->status.
 */
enum git_push_status git_parse_push(const char *out, const char *dst, struct git_push_result *r);

/*
 * `git push --porcelain -- REMOTE SRC:DST`. Returns 0 with r filled when
 * the push got a verdict (r->status says which, rejections included), or
 * -1 when it did not (EXIT_UNAVAILABLE with git's reason; r->status ERROR).
 */
int git_push(const struct git *g, const char *remote, const char *src, const char *dst,
             struct git_push_result *r, struct err *e);
void git_push_result_release(struct git_push_result *r);

/* ---- git-crypt (git/crypt.c) ---- */

/*
 * Whether .gitattributes text assigns `filter=git-crypt` to anything
 * (comments ignored). Pure.
 */
int git_attributes_use_crypt(const char *text);

/*
 * Whether the repository uses git-crypt: any .gitattributes in the work
 * tree, in each of `revs` (NULL-terminated, may be NULL; revs that do not
 * exist are skipped), or the common dir's info/attributes, assigns
 * filter=git-crypt. Sets *uses to 1 or 0; returns 0 or -1.
 */
int git_detect_crypt(const struct git *g, const char *const *revs, int *uses, struct err *e);

#endif
