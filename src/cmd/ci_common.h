/*
 * ci_common: what the ci verbs share: opening the provider for the current
 * repo, naming a pipeline (REV, hex id or #N), and rendering a Woodpecker
 * pipeline as a summary line or a workflow/step tree.
 */
#ifndef HOMELAB_CI_COMMON_H
#define HOMELAB_CI_COMMON_H

#include <jansson.h>

#include "git/git.h"

#include "ci/provider.h"
#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/term.h"
#include "woodpecker/client.h"
#include "woodpecker/logs.h"
#include "woodpecker/logread.h"

/* What the user asked for: a commit (full or prefix) or a pipeline number. */
struct ci_target {
    char *sha;          /* lower-case hex, full when known locally */
    long long number;   /* > 0 when "#N" was given */
    char label[64];     /* "abc1234" or "#42", for messages */
    struct git_rev_job *job; /* between ci_target_start() and _finish() */
};

/*
 * The provider this command talks to (ci/provider.h's choice: --provider,
 * HOMELAB_CI_PROVIDER, ci.provider, the remote's host), as its ops table
 * (valid before anything is opened, for ops->check_filter); NULL with
 * ctx->err on a usage error.
 */
const struct ci_provider_ops *ci_chosen_provider(struct cmd_ctx *ctx);
/* The repo the command names for that provider: ci.repo (--repo,
 * HOMELAB_REPO) for Woodpecker, github.repo for GitHub, else the git
 * remote; -1 with e saying why (EXIT_USAGE and a hint when it cannot be told). */
int ci_provider_repo_name(struct cmd_ctx *ctx, const struct ci_provider_ops *ops, char **name,
                          struct err *e);
/*
 * Opens that provider for the repo the command names (each provider's
 * keys: ci.repo for Woodpecker, github.repo for GitHub, else the git
 * remote). A target begun with ci_target_start() (`t`, may be NULL) is
 * finished while the remote is read, so the two git commands run side by
 * side; its error, if any, is the one reported, and a commit id that the
 * provider cannot match (ops->full_sha_only) is refused before anything is
 * sent. --timeout bounds every request. On failure nothing is left open
 * and ctx->err says why.
 */
int ci_open_provider(struct cmd_ctx *ctx, const struct ci_provider_ops *ops, struct ci_target *t,
                     struct ci_provider *p);

/* The repo's full name from configuration or the git remote. */
int ci_repo_name(struct cmd_ctx *ctx, char **full_name, struct err *e);

/* Parses REV | #N | hex id (default HEAD). Usage errors are EXIT_USAGE. */
int ci_target_parse(const char *arg, struct ci_target *t, struct err *e);
/*
 * ci_target_parse() in two halves: _start() reports usage errors at once
 * and launches `git rev-parse` without waiting; _finish() collects it.
 * ci_target_release() finishes a target that was only started.
 */
int ci_target_start(const char *arg, struct ci_target *t, struct err *e);
int ci_target_finish(struct ci_target *t, struct err *e);
void ci_target_release(struct ci_target *t);

/*
 * `ci watch` (cmd/ci_watch.c over cmd/ci_follow.c), for the verbs that
 * follow a run after they acted (live view, JSON lines, failure report,
 * exit code exactly as `ci watch TARGET` has them); `extra` (borrowed,
 * may be NULL) adds its fields to the JSON result line.
 * ci_watch_run: '#number' on the provider the caller opened (borrowed;
 *   the watch sets its deadline).
 * ci_watch_as: REV or '#N' (`arg`, NULL = HEAD) on a provider of `ops`
 *   opened for it (a fresh one: nothing the caller's provider cached
 *   between its conditional reads leaks into the watch); a read showing
 *   a run of `floors` (cmd/ci_follow.h) at an older attempt is not taken.
 * ci_watch_sha: `ci watch SHA` on the provider the command chose.
 */
int ci_watch_run(struct cmd_ctx *ctx, struct ci_provider *p, long long number,
                 const json_t *extra);
struct ci_attempt_floor;
int ci_watch_as(struct cmd_ctx *ctx, const struct ci_provider_ops *ops, const char *arg,
                const json_t *extra, const struct ci_attempt_floor *floors, size_t nfloors);

/* "#42 failure push main 9fceb02 1m57s Fix flaky test" (no newline). */
void ci_summary_line(const struct wp_pipeline *p, long long now, struct buf *out);

/* The workflow and step tree, one line each, coloured when `color`. */
void ci_render_tree(const struct wp_pipeline *p, long long now, int color, struct buf *out);

/*
 * Appends `s` quoted for a POSIX shell: as is when it holds only
 * [A-Za-z0-9_./:@%+=,-] and not `always`, else in single quotes
 * ('it'\''s'); a control
 * byte (never in a value typed on a command line, but possible from a
 * script) becomes $'\xNN', so the printed text is safe on a terminal.
 */
void ci_shell_quote(struct buf *out, const char *s, int always);

/*
 * Appends the command-line flags that chose the provider, server and repo
 * (--provider, --server, --dial, --cacert, --repo, --remote), each as
 * " --flag VALUE" quoted with ci_shell_quote(): a "full log:" or "next:"
 * hint then works as printed, from where it was printed. Values from the
 * environment or a config file are left out; they still apply there.
 */
void ci_hint_flags(const struct cmd_ctx *ctx, struct buf *out);

/* ANSI colour for a status, "" when colour is off. */
enum term_color ci_status_tone(const char *status);
/* Appends `status` padded to `width`, in its colour when `color`. */
void ci_paint_status(struct buf *out, int color, const char *status, int width);

/* ---- the GitHub provider's side of the verbs (cmd/ci_github.c) ---- */

/* Flags the GitHub provider reads (--event), and ci logs --job, which both read. */
struct ci_gh_opts {
    const char *event;  /* --event NAME|any */
    const char *job;    /* ci logs --job (both providers) */
};
extern struct ci_gh_opts ci_gh_opts;

/*
 * Whether this command talks to GitHub (ci/provider.h's choice): 1 yes,
 * 0 Woodpecker, -1 a usage error in ctx->err.
 */
int ci_github_selected(struct cmd_ctx *ctx);
/* github.repo (--repo), else the first GitHub remote, else the chosen remote. */
int ci_gh_repo_name(struct cmd_ctx *ctx, char **repo, struct err *e);
/* Opens the GitHub provider for `repo`, its rate-limit waits told on stderr. */
int ci_gh_open_repo(struct cmd_ctx *ctx, const char *repo, struct ci_provider *p);
/* For the write verbs: the provider opened for this command, and REV or
 * #ID from ctx->pos (GitHub needs a full commit id). */
int ci_gh_open(struct cmd_ctx *ctx, struct ci_provider *p);
int ci_gh_target(struct cmd_ctx *ctx, struct ci_target *t);

/* The write verbs' flags, for their provider-interface half (ci_act_gh.c). */
struct ci_act_opts {
    int no_watch, dry_run;
    const char *branch, *workflow;
    char **inputs;       /* ci run --input KEY=VALUE, checked */
    size_t ninputs;
};
/* A write verb on the GitHub provider: exit code, ctx->err on failure. */
int ci_act_gh(struct cmd_ctx *ctx, enum ci_action a, const struct ci_act_opts *o);

/* What both providers' write verbs (ci_act.c, ci_act_gh.c) do alike. */
/* --dry-run: the request `act` would send (ci_act_describe), printed as
 * "POST PATH" and the body line, or with j != NULL returned in *j as a new
 * object {method, path, body} for the verb's JSON line. 0, or -1 with
 * ctx->err filled (nothing printed). */
int ci_act_show_request(struct cmd_ctx *ctx, struct ci_provider *p,
                        const struct ci_act_req *req, json_t **j);
/* The progress lines after a write, on stderr: res->what (unless ""),
 * then, when the answer was lost and reading back showed the effect, that. */
void ci_act_tell(enum ci_action a, const struct ci_act_result *res);

#endif
