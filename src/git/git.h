/*
 * git: everything homelab asks of git, through the git CLI (never a shell).
 *
 * Each function runs `git` (with `-C dir` when dir is not NULL) through
 * core/proc and returns 0 or -1 with `e` filled: "not a git repository"
 * and missing revisions are EXIT_NOT_FOUND, a git that cannot run is
 * EXIT_UNAVAILABLE. Strings returned are owned by the caller (free()).
 * Arguments from users (revs, branch names, topics) always reach git as
 * single arguments, after `--end-of-options` where git supports it.
 */
#ifndef HOMELAB_GIT_H
#define HOMELAB_GIT_H

#include "core/err.h"

/* `git rev-parse --verify --end-of-options REV^{commit}`: the full sha. */
int git_rev_parse_commit(const char *dir, const char *rev, char **sha, struct err *e);

/*
 * The remote to use: `preferred` when given (it must exist), else "forgejo",
 * else "origin", else the first remote listed. EXIT_NOT_FOUND when the
 * repository has no remote.
 */
int git_choose_remote(const char *dir, const char *preferred, char **remote, struct err *e);

/* `git remote get-url REMOTE`. */
int git_remote_url(const char *dir, const char *remote, char **url, struct err *e);

/*
 * Parses a remote URL into the repo's full name ("owner/name", nested
 * groups kept: "group/sub/name"), without a trailing ".git" or slash.
 * Accepts https://host[:port]/owner/name(.git), http://, ssh://[user@]host[:port]/owner/name,
 * git://, scp-like [user@]host:owner/name(.git), and file paths are rejected.
 * Pure: no git involved. Returns 0, or -1 when the URL names no owner/name.
 */
int git_remote_full_name(const char *url, char **full_name);

/* Whether `s` looks like a hex commit id of at least 7 characters. */
int git_is_hex_id(const char *s);

#endif
