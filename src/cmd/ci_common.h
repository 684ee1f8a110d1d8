/*
 * ci_common: what the ci verbs share: opening the client for the current
 * repo, naming a pipeline (REV, hex id or #N), and rendering a pipeline as
 * a summary line, a workflow/step tree, or JSON.
 */
#ifndef HOMELAB_CI_COMMON_H
#define HOMELAB_CI_COMMON_H

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "woodpecker/client.h"

struct ci_session {
    struct wp_client client;
    struct wp_repo repo;
};

/* What the user asked for: a commit (full or prefix) or a pipeline number. */
struct ci_target {
    char *sha;          /* lower-case hex, full when known locally */
    long long number;   /* > 0 when "#N" was given */
    char label[64];     /* "abc1234" or "#42", for messages */
};

/* Resolves the repo (flag/env/config, else the git remote) and looks it up. */
int ci_session_open(struct cmd_ctx *ctx, struct ci_session *s);
void ci_session_close(struct ci_session *s);

/* The repo's full name from configuration or the git remote. */
int ci_repo_name(struct cmd_ctx *ctx, char **full_name, struct err *e);

/* Parses REV | #N | hex id (default HEAD). Usage errors are EXIT_USAGE. */
int ci_target_parse(const char *arg, struct ci_target *t, struct err *e);
void ci_target_release(struct ci_target *t);

/*
 * Finds the newest pipeline for the target and loads its detail. Returns 1
 * found (p filled), 0 not found (e filled with EXIT_NOT_FOUND naming the
 * commit and the newest pipeline), -1 error.
 */
int ci_find(struct ci_session *s, const struct ci_target *t, struct wp_pipeline *p,
            struct err *e);

/* "#42 failure push main 9fceb02 1m57s Fix flaky test" (no newline). */
void ci_summary_line(const struct wp_pipeline *p, long long now, struct buf *out);

/* The workflow and step tree, one line each, coloured when `color`. */
void ci_render_tree(const struct wp_pipeline *p, long long now, int color, struct buf *out);

/* The pipeline as JSON (workflows and steps included when loaded). */
json_t *ci_pipeline_json(const struct ci_session *s, const struct wp_pipeline *p);

/* The web URL of a pipeline. */
void ci_pipeline_url(const struct ci_session *s, long long number, struct buf *out);

/*
 * The last `n` lines of a step's log, sanitized for the terminal (colour
 * kept only when `keep_color`), each a string in `lines`. An empty log is
 * retried with backoff a few times (the endpoint answers empty bodies
 * intermittently); still empty gives 0 lines. Returns 0 or -1.
 */
int ci_log_tail(struct ci_session *s, long long number, long long step_id, size_t n,
                int keep_color, struct strvec *lines, struct err *e);

/* ANSI colour for a status, "" when colour is off. */
const char *ci_status_color(const char *status, int color);

#endif
