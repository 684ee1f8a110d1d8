/*
 * work: what the work verbs (cmd/work.c: start, clean; cmd/work_land.c:
 * land) share. Private to those files.
 */
#ifndef HOMELAB_CMD_WORK_H
#define HOMELAB_CMD_WORK_H

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "git/git.h"

#define WORKTREES_DIR ".worktrees"

/* What every verb works out first. */
struct work {
    struct cmd_ctx *ctx;
    struct git g;   /* runs in `dir` with the git-crypt flags when needed */
    char *dir;      /* the work tree git runs in */
    char *remote;
    char *def;      /* the remote's default branch */
    char *def_ref;  /* refs/remotes/REMOTE/DEFAULT */
    char *def_name; /* REMOTE/DEFAULT, for messages */
};

void work_release(struct work *w);
/* The exit code of a failed step (its error always carries one). */
int work_err_code(const struct cmd_ctx *ctx);
/* Text from git (paths, names) made safe to print. */
void work_shown(struct buf *out, const char *s);
/*
 * Chooses the remote, fetches it (a failed fetch is an error only when
 * `must_fetch`) and finds its default branch. Returns 0 or -1 (ctx->err).
 */
int work_remote(struct work *w, int must_fetch);
/* "refs/heads/BRANCH", to free. */
char *work_heads_ref(const char *branch);
/* Prints j as a JSON line when `on` (and j is not NULL), then frees it. */
void work_json_out(int on, json_t *j);

#endif
