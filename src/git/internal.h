/*
 * git/internal: helpers the files in src/git/ share (defined in git/run.c).
 * Not part of the API: nothing outside src/git/ includes this.
 */
#ifndef HOMELAB_GIT_INTERNAL_H
#define HOMELAB_GIT_INTERNAL_H

#include "git/git.h"

/* Drops trailing newlines from `b`. */
void git_trim_newlines(struct buf *b);
/*
 * Fills e from git's stderr `errout` for the failed `args`: "not a git
 * repository" (kind ERR_NOT_A_REPO, EXIT_NOT_FOUND), else `code` with
 * "git ARGS0: first complaint". Returns -1.
 */
int git_fail_with(const char *const *args, const struct buf *errout, int code, struct err *e);
/*
 * git_run() accepting exit statuses up to `max_ok` (1 for yes/no commands
 * and grep): returns the status, or -1 with e filled as git_fail_with()
 * does (with `code`) or as git_run() does.
 */
int git_run_upto(const struct git *g, const char *const *args, struct buf *out, int max_ok,
                 int code, struct err *e);
/* git_ok() handing the trimmed stdout over as a string (*s, caller frees). */
int git_string(const struct git *g, const char *const *args, int code, char **s,
               struct err *e);
/* Runs a yes/no git command: 0 → 1, 1 → 0, else -1 with git's reason. */
int git_yes_no(const struct git *g, const char *const *args, struct err *e);
/* Whether `text` has a line equal to `word`. */
int git_has_line(const char *text, const char *word);
/* Appends the file at `path` to b; -1 when it cannot be read. */
int git_read_file(const char *path, struct buf *b);
/* Starts git with `args` as a stream (traced like git_run()); proc_stream_start's result. */
int git_start(const struct git *g, const char *const *args, struct proc_stream *ps,
              struct err *e);

#endif
