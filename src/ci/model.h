/*
 * ci/model: the provider-neutral picture of CI for one commit, and the
 * verdict over it. Pure: no I/O.
 *
 * Words: a *run* is what one provider starts for a commit (a Woodpecker
 * pipeline, a GitHub workflow run); a commit may have several (GitHub:
 * one per workflow and event). A run has *jobs* (Woodpecker workflows,
 * GitHub jobs), a job has *steps*. Every status keeps the provider's own
 * word (`status`, printed as is) and a neutral class (`state`) that the
 * verdict and the colours are computed from, so the verbs never compare
 * provider words.
 *
 * Ownership: every string is owned by its struct; ci_run_release() frees
 * a run with its jobs and steps; ci_runset_release() every run.
 */
#ifndef HOMELAB_CI_MODEL_H
#define HOMELAB_CI_MODEL_H

#include <stddef.h>

/* The neutral class of a status. Order matters only within the groups. */
enum ci_state {
    CI_UNKNOWN = 0,   /* a word we do not know: treated as not final */
    CI_PENDING,       /* created, queued, requested, pending */
    CI_RUNNING,       /* in_progress, running */
    CI_WAITING,       /* waits on something that will pass by itself (a wait timer) */
    CI_NEEDS_PERSON,  /* blocked / action_required / a deployment review */
    CI_SUCCESS,       /* success */
    CI_NEUTRAL,       /* GitHub neutral: counts as passing */
    CI_SKIPPED,       /* skipped: passing on GitHub; Woodpecker pipeline-level: failed */
    CI_STALE,         /* GitHub stale: finished but not final, keep polling */
    CI_FAILURE,       /* failure, error, timed_out, startup_failure, killed */
    CI_CANCELLED,     /* cancelled, canceled, declined */
};

/* Whether a state is an end state (STALE is not: it may still change). */
int ci_state_final(enum ci_state s);
/* Whether a final state fails the verdict. */
int ci_state_failed(enum ci_state s);

struct ci_step {
    long long id;          /* Woodpecker step id; GitHub: 0 */
    int number;            /* GitHub step number; Woodpecker pid */
    char *name;
    char *status;          /* provider word (GitHub: conclusion when completed) */
    enum ci_state state;
    int exit_code;         /* -1 when unknown */
    long long started, finished; /* unix seconds, 0 = not yet */
    char *type;            /* Woodpecker step type ("commands", "clone"…); GitHub: NULL */
    char *error;           /* the provider's error text for the step, or NULL */
};

struct ci_job {
    long long id;          /* Woodpecker workflow id; GitHub job id (int64) */
    char *name;
    char *status;
    enum ci_state state;
    char *error;           /* the provider's error text for the job, or NULL */
    long long started, finished;
    struct ci_step *steps;
    size_t nsteps;
};

/* A variable a run was started with (a Woodpecker manual pipeline's). */
struct ci_var {
    char *name, *value;
};

struct ci_run {
    long long id;          /* GitHub run id (ci status #ID); Woodpecker pipeline id */
    long long number;      /* Woodpecker pipeline number (#N); GitHub run_number */
    int attempt;           /* GitHub run_attempt; 1 elsewhere */
    char *workflow;        /* GitHub workflow name; Woodpecker: NULL */
    char *status;          /* provider word */
    enum ci_state state;
    char *event, *branch, *sha, *message;
    char *url;             /* the run's web page, or NULL */
    char *author, *ref;    /* who pushed, the full git ref; NULL when unknown */
    char *error;           /* a run-level error (Woodpecker: a config error), or NULL */
    long long parent;      /* Woodpecker: the pipeline this one restarted, 0 none */
    char *waiting_for;     /* who/what a CI_NEEDS_PERSON or CI_WAITING run waits for */
    long long wait_until;  /* a wait timer's end (unix s), 0 = unknown */
    long long created, started, finished;
    struct ci_job *jobs;
    size_t njobs;
    int has_jobs;          /* jobs were loaded (else: not asked yet) */
    struct ci_var *vars;   /* the variables it was started with (string values), */
    size_t nvars;          /* as the provider shows them; none when unknown */
};

struct ci_runset {
    struct ci_run *runs;
    size_t n;
};

void ci_run_release(struct ci_run *r);
void ci_runset_release(struct ci_runset *s);

/*
 * The verdict over all runs of a commit, as an exit code (DESIGN.md):
 *   EXIT_FAILED (1) as soon as any run is final and failed/cancelled;
 *   EXIT_NEEDS_PERSON (4) when a run needs a person and none failed;
 *   0 when at least one run exists and every run is SUCCESS, NEUTRAL or
 *   SKIPPED (skipped_passes: GitHub; Woodpecker's pipeline-level
 *   "skipped" is a failure and maps to CI_FAILURE there);
 *   -1 while undecided (no run, or a run pending/running/waiting/stale).
 * `wait_person`: treat NEEDS_PERSON as undecided (keep waiting).
 */
int ci_verdict(const struct ci_runset *s, int wait_person);

/* The first failing job/step of a run, or NULL. */
const struct ci_job *ci_run_failed_job(const struct ci_run *r);
const struct ci_step *ci_job_failed_step(const struct ci_job *j);

/* Text for people, the same for every provider (woodpecker/model.h's
 * wp_format_duration, wp_first_line and wp_elapsed are these). */
/* "4s", "2m05s", "1h02m", "2d03h": a compact duration. */
void ci_format_duration(long long seconds, char *out, size_t outlen);
/* The first line of `msg` (NULL: ""), cut to `max` bytes on a UTF-8
 * boundary, control characters as spaces. */
void ci_first_line(const char *msg, size_t max, char *out, size_t outlen);
/* A step's duration at `now` (unix s): finished-started, or now-started;
 * 0 when it has not started. */
long long ci_elapsed(long long started, long long finished, long long now);

#endif
