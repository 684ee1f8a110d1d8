/*
 * model: Woodpecker's pipelines, workflows and steps as C structs, decoded
 * from API JSON (list items, detail, and stream events), and the status
 * rules of DESIGN.md. Pure: no I/O.
 *
 * Decoding treats JSON as hostile: missing or mistyped fields become zero
 * or empty strings, never a crash; control characters in strings become
 * '?' (newlines kept in messages and errors), so no field can drive a
 * terminal; strings are copied and owned by the struct
 * (wp_pipeline_release frees them). Both v3 time keys
 * (created/started/finished) and v2 ones (created_at, start_time…) are read.
 */
#ifndef HOMELAB_WP_MODEL_H
#define HOMELAB_WP_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "ci/model.h"

struct wp_step {
    long long id;      /* the id the log endpoints want (not pid) */
    int pid, ppid;
    char *name, *state, *error, *type;
    int exit_code;
    long long started, finished;
};

struct wp_workflow {
    long long id;
    int pid;
    char *name, *state, *error;
    long long started, finished;
    struct wp_step *steps;
    size_t nsteps;
};

struct wp_pipeline {
    long long id, number, parent;
    char *status, *event, *branch, *commit, *message, *author, *ref, *forge_url;
    long long created, started, finished;
    struct wp_workflow *workflows;
    size_t nworkflows;
    int has_workflows;   /* the detail carried a workflows array */
    char *errors;        /* first config error message, if any */
    struct ci_var *vars; /* "variables" with string values (a manual pipeline's) */
    size_t nvars;
};

struct wp_repo {
    long long id;
    char *full_name;
    char *default_branch;
    int active;
};

int wp_pipeline_from_json(json_t *j, struct wp_pipeline *p);
void wp_pipeline_release(struct wp_pipeline *p);
int wp_repo_from_json(json_t *j, struct wp_repo *r);
void wp_repo_release(struct wp_repo *r);

/* Status classes (reference §8). */
int wp_status_terminal(const char *status);
int wp_status_failed(const char *status);  /* failure error killed canceled declined */

/*
 * The exit code a finished or blocked pipeline status stands for:
 * success 0; failure, error, killed, canceled, declined 1; blocked 4;
 * anything else (pending, running, created) -1 meaning "not decided".
 */
int wp_status_exit_code(const char *status);

/* Whether `commit` matches a full or abbreviated id `want` (hex, >= 7). */
int wp_commit_matches(const char *commit, const char *want);

/* "4s", "2m05s", "1h02m": a compact duration. */
void wp_format_duration(long long seconds, char *out, size_t outlen);

/* First line of a commit message, cut to `max` bytes on a UTF-8 boundary. */
void wp_first_line(const char *msg, size_t max, char *out, size_t outlen);

/* A step's duration at `now` (unix s): finished-started, or now-started. */
long long wp_elapsed(long long started, long long finished, long long now);

#endif
