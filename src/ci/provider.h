/*
 * ci/provider: the one interface the ci verbs talk to. A provider
 * (src/woodpecker/provider.c, src/github/provider.c) fills the neutral
 * model of ci/model.h; the verbs keep flags, rendering and exit codes.
 *
 * Every operation returns 0 (or the documented positive value) or -1 with
 * `e` filled and e->code chosen per DESIGN.md (EXIT_REFUSED for a
 * rejected token, EXIT_NOT_FOUND for a missing repo/run, EXIT_UNAVAILABLE
 * when the server cannot be reached, EXIT_INTERRUPTED on a signal). An
 * operation a provider does not have is NULL in its ops table.
 *
 * Cost rule: operations that are called repeatedly (runs_of_commit,
 * load_jobs) are cheap when nothing changed: conditional requests where
 * the server has them, and *changed = 0 so the caller need not redraw.
 */
#ifndef HOMELAB_CI_PROVIDER_H
#define HOMELAB_CI_PROVIDER_H

#include <stddef.h>

#include "ci/model.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/http.h"

enum ci_provider_kind { CI_WOODPECKER = 1, CI_GITHUB = 2 };

/* Which runs of a commit count. */
struct ci_filter {
    const char *event;   /* NULL = the provider's default ("push" on GitHub); "any" = all */
    const char *branch;  /* NULL = any */
    const char *status;  /* NULL = any; the provider's word (list_runs) */
};

/*
 * One entry of a log whose lines are numbered entries (Woodpecker's step
 * logs), for a verb that renders them itself: each line once by its
 * number, a run of progress lines as its last one, --timestamps as the
 * offset from the step's start. `data` is borrowed (valid during the
 * call), NUL-terminated, may hold NULs, not yet sanitised.
 */
enum ci_log_kind {
    CI_LOG_OUTPUT = 0,   /* a line of output (stdout, stderr, a kind not known) */
    CI_LOG_EXIT_CODE,    /* the step's exit code as text ("" when unknown) */
    CI_LOG_META,         /* metadata, not shown */
    CI_LOG_PROGRESS,     /* a progress line: a later one replaces it */
};

struct ci_log_entry {
    long long line;      /* 0-based, within the step (or the job's log) */
    long long time;      /* seconds since the step's log started */
    enum ci_log_kind kind;
    const char *data;
    size_t len;
    /* A log that carries its own time stamps (GitHub's job logs): own_time
     * is 1, `time` is unused, and the first `stamp` bytes of data are the
     * line's stamp and its space ("2026-12-04T10:00:01.0000000Z "; 0 when
     * the line has none): --timestamps shows the line whole, else the
     * stamp is skipped. */
    int own_time;
    size_t stamp;
};

/*
 * A log as lines. on_line gets one line without its newline, borrowed
 * (valid during the call), not yet sanitised; `ts` is the line's own time
 * (unix seconds, fractional) or 0 when the log has none, and `text` the
 * offset where the line's text starts after that time stamp (0 when
 * none): a verb that strips time stamps needs no provider's format. Returning
 * non-zero stops the read (the read then returns -1 with e as the
 * callback left it, or EXIT_FAILED "stopped").
 *
 * The rest is optional (zero: unused). A provider whose log is numbered
 * entries hands each to on_entry instead of on_line when it is set (a
 * provider without entries, GitHub, always calls on_line). on_chunk is
 * called after each piece of the log arrived (a moment to flush output);
 * non-zero stops the read like on_line. empty_attempts: how many reads an
 * empty log gets in all before it counts as empty (a server may answer
 * empty while a running step's log is being written; 0 = the provider's
 * default). A log that stayed empty is not an error: the read returns 0
 * with no line delivered.
 */
struct ci_log_sink {
    int (*on_line)(void *ctx, const char *line, size_t len, double ts, size_t text);
    void *ctx;
    int (*on_entry)(void *ctx, const struct ci_log_entry *entry);
    int (*on_chunk)(void *ctx);
    int empty_attempts;
};

/*
 * Write verbs (`ci restart/approve/decline/cancel/run`). A provider's `act`
 * sends one write so that it takes effect at most once: the POST goes out
 * once (core/http.h http_post); when its answer is lost (no answer, a
 * 5xx) the state is read back, and only when the write did not take
 * effect is it sent once more. Errors: EXIT_REFUSED when the token lacks
 * the permission (the message names it), EXIT_NOT_FOUND for a missing
 * run/workflow, EXIT_FAILED when the run's state does not allow the write
 * (the message says the state), EXIT_UNAVAILABLE when no usable answer
 * came after the second send.
 */
enum ci_action { CI_ACT_RESTART = 1, CI_ACT_RESTART_FAILED, CI_ACT_APPROVE, CI_ACT_DECLINE,
                 CI_ACT_CANCEL, CI_ACT_RUN };

struct ci_act_req {
    enum ci_action action;
    const struct ci_run *run;   /* the run acted on, as just read; NULL for CI_ACT_RUN */
    const char *branch;         /* CI_ACT_RUN: the branch, NULL = the repo's default */
    const char *workflow;       /* CI_ACT_RUN on GitHub: the workflow file name or id */
    const char *const *vars;    /* CI_ACT_RUN: "KEY=VALUE" strings (inputs, variables) */
    size_t nvars;
};

struct ci_act_result {
    long long run_id;           /* the run acted on, or the one CI_ACT_RUN created */
    int attempt;                /* its attempt after the write (a re-run's new one) */
    char status[32];            /* its status as answered or read back; "" unknown
                                 * (Woodpecker keeps it on failure: the state that refused) */
    char what[256];             /* what was done, for the progress line; "" when the
                                 * result line says it all (Woodpecker's decline) */
    int recovered;              /* the answer was lost; reading back showed the effect */
    int sends;                  /* POSTs sent: 1, or 2 after one without effect */
};

/* "restart", "approve", "decline", "cancel", "run" (--failed is a restart). */
const char *ci_action_name(enum ci_action a);

/*
 * `doctor`: a provider checks its own setup (token, server, the token
 * accepted, the repo, what else it needs) and reports each check as one
 * line through a sink, in the order a setup is built. `fix` is what to do
 * when it is not ok (NULL: nothing to say); `detail` may carry what a
 * server sent (the sink shows it escaped).
 */
enum ci_check_result { CI_CHECK_OK, CI_CHECK_WARN, CI_CHECK_FAIL, CI_CHECK_SKIP };

struct ci_check_sink {
    void (*report)(void *ctx, const char *name, enum ci_check_result r, const char *fix,
                   const char *detail);
    void *ctx;
};

/* Formats the detail and hands the check to the sink. */
void ci_check_report(const struct ci_check_sink *s, const char *name, enum ci_check_result r,
                     const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* What `doctor` gives a provider: the configuration, the repo the command
 * names (NULL when it cannot be told: repo_err says why, in the repo
 * check's words), and where to report. */
struct ci_diagnosis {
    const struct config *cfg;
    const char *repo;
    const struct err *repo_err;
    int verbose;
    const struct ci_check_sink *sink;
};

/* The repo check when the command could not name a repo: reports it
 * failed with repo_err's words and returns -1; 0 when d->repo is set. */
int ci_check_repo_named(const struct ci_diagnosis *d);

struct ci_provider;
struct ci_log_query;   /* ci/steps.h: --job and --step */
struct ci_log_choice;  /* ci/steps.h: the logs a query names */

/*
 * How a provider's runs are shown (cmd/ci_view.c). Both are documented
 * output contracts (DESIGN.md), kept for the scripts that read them:
 * PIPELINE: one run per commit, its line with times and message, a tree
 * with durations and exit codes, JSON {"repo": {...}, "pipeline": {...}}
 * (Woodpecker); RUNS: several runs per commit, each line naming its
 * workflow and run id, JSON {"provider", "repo", "sha", "runs", "verdict"}
 * (GitHub).
 */
enum ci_layout { CI_LAYOUT_PIPELINE = 1, CI_LAYOUT_RUNS };

/*
 * A step's live log (`ci logs --follow`), for a provider that streams one
 * (Woodpecker; GitHub has none: its ops are NULL and the verb re-reads the
 * job log). One connection at a time: live_open connects, resuming after
 * the last entry an earlier connection brought; live_poll hands what
 * arrives to the sink's on_entry (then on_chunk); the fields below say
 * how the connection went, for the caller's reconnect policy, which stays
 * the caller's. A stream may drop, lose or repeat entries: the caller
 * dedupes by line number and reads the stored log once the step is over.
 */
struct ci_live_log {
    int open;            /* a connection is open */
    int messages;        /* entries the current (or last) connection brought */
    int eof;             /* the server ended the step's log (sticky) */
    int not_running;     /* the server does not (or no longer) stream the step (sticky) */
    int refused;         /* the last connection was refused */
    char error[200];     /* another error the server sent on it, "" none */
    void *impl;          /* the provider's; NULL before the first live_open */
};

/* What live_close does besides ending the connection. */
enum ci_live_close {
    CI_LIVE_KEEP,        /* the next live_open resumes where this one was */
    CI_LIVE_RESTART,     /* the next live_open reads from the start (the step
                          * was renumbered, e.g. after an approval) */
    CI_LIVE_RELEASE,     /* done: free what the live log holds */
};

/*
 * A change feed: what a provider hears between reads (Woodpecker: its
 * event stream; GitHub has none), for a follow loop that reads a run only
 * when it is worth it. A feed hands over *hints*, never verdicts: each
 * event's picture of one run of the repo (its status, and its jobs when
 * the event carried them). Events may come late, out of order, twice or
 * never; only a read is the truth. `health` says how far the feed can be
 * relied on, so the caller can pick how often it reads (that policy stays
 * the caller's):
 *   CI_FEED_NONE      no feed now (none, closed, dropped, refused, or
 *                     caught missing a change): poll;
 *   CI_FEED_STARTING  just (re)connected, not heard from yet: give it a moment;
 *   CI_FEED_LIVE      data flowing and not caught missing a change: read
 *                     when a hint says so, and now and then to reconcile.
 */
enum ci_feed_health { CI_FEED_NONE = 0, CI_FEED_STARTING, CI_FEED_LIVE };

struct ci_feed {
    /* One event's picture of a run of the repo (has_jobs when it carried
     * them). The callee may take it (move it out, leave *r zeroed); what is
     * left is released after the call. */
    void (*on_run)(void *ctx, struct ci_run *r);
    void *ctx;
    double poll_every;   /* the caller's interval without a feed, for --verbose lines */
    enum ci_feed_health health; /* as of the end of the last feed_wait */
    void *impl;          /* the provider's; NULL before the first feed_wait */
};

struct ci_provider_ops {
    const char *name;  /* "woodpecker" | "github" */
    const char *title; /* for people: "Woodpecker" | "GitHub" */
    enum ci_layout layout;
    /* runs_of_commit matches only a full commit id (GitHub's head_sha);
     * else a 7+ hex prefix is enough. */
    int full_sha_only;
    /* How long `ci watch` waits for a pushed commit's first run by
     * default, in seconds (a push-mirror in front of GitHub adds delay). */
    double appear_timeout;

    /* Checks a list filter's words before anything is sent (NULL: every
     * word goes to the server as is). -1 with EXIT_USAGE naming the word. */
    int (*check_filter)(const struct ci_filter *f, struct err *e);

    /* Fills e (EXIT_NOT_FOUND) for a commit (`label`) with no run matching
     * f, in the provider's words, with `after` appended to the message
     * (e.g. " within 3m"); may use what the last runs_of_commit saw. */
    void (*no_runs)(struct ci_provider *p, const char *label, const struct ci_filter *f,
                    const char *after, struct err *e);

    /* `doctor`'s checks of this provider (above), before anything is
     * opened; 0 when the verbs can work, -1 when a check failed. */
    int (*diagnose)(const struct ci_diagnosis *d);

    /* The runs of commit `sha` (full 40-hex when known) matching f. The
     * set replaces *out (released first). *changed = 0 when the server
     * said nothing changed since the previous call (out is then left as
     * it was; GitHub, while a run is in progress: no run appeared or
     * changed its status). A re-run replaces its earlier attempt. */
    int (*runs_of_commit)(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                          struct ci_runset *out, int *changed, struct err *e);

    /* One run by the id the user typed after '#': a GitHub run id, a
     * Woodpecker pipeline number. */
    int (*run_by_id)(struct ci_provider *p, long long id, struct ci_run *out, struct err *e);
    /* Optional: run_by_id for a verb that reads the run again and again
     * (`ci watch #ID`). *changed = 0 (out left untouched, not filled)
     * when the run's attempt, status and conclusion are as this op last
     * handed them out; the first call for an id always fills out. NULL:
     * run_by_id is read every turn, as changed. */
    int (*poll_run)(struct ci_provider *p, long long id, struct ci_run *out, int *changed,
                    struct err *e);

    /* The repo's newest runs matching f (event NULL = any here), newest
     * first, at most `limit`: filters go to the server, pages are followed. */
    int (*list_runs)(struct ci_provider *p, const struct ci_filter *f, size_t limit,
                     struct ci_runset *out, struct err *e);

    /* Loads (or refreshes) r's jobs and steps; *changed as above. */
    int (*load_jobs)(struct ci_provider *p, struct ci_run *r, int *changed, struct err *e);

    /* The log of a job (st == NULL) or of one step, line by line. */
    int (*read_log)(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                    const struct ci_step *st, const struct ci_log_sink *sink, struct err *e);

    /* `ci logs`: the logs --job/--step name in the runs of the target
     * (jobs loaded), by this provider's naming rule (ci/steps.h:
     * ci_logs_choose_steps, ci_logs_choose_jobs). 0, or -1 with e filled. */
    int (*choose_logs)(const struct ci_runset *s, const struct ci_log_query *q,
                       struct ci_log_choice *out, struct err *e);
    /* How the provider keeps logs. 0: a log per step, there once the step
     * ran (Woodpecker). 1: a log per job (GitHub): a step's lines are cut
     * from its job's log, whether the log exists is known only by reading
     * it (read_log returns 1 when it does, 0 while it does not), and it
     * is complete only once the job is over. */
    int log_per_job;

    /* A step's live log (above). live_open: 0 connected, -1 could not
     * (e filled; the caller decides when to try again). sink is borrowed
     * until the next live_open or live_close. live_poll waits at most
     * timeout_ms; 1 once the connection ended. */
    int (*live_open)(struct ci_provider *p, const struct ci_run *r, const struct ci_step *st,
                     const struct ci_log_sink *sink, struct ci_live_log *l, struct err *e);
    int (*live_poll)(struct ci_provider *p, struct ci_live_log *l, int timeout_ms);
    void (*live_close)(struct ci_provider *p, struct ci_live_log *l, enum ci_live_close how);

    /* Waits until something may have changed, at most `max` seconds
     * (Woodpecker: its event stream; GitHub: the poll interval). Returns
     * 0; a caught signal returns early (term_interrupted() tells). */
    int (*wait_change)(struct ci_provider *p, double max);
    /* For a verb that reads again on its own clock (`ci logs --follow`
     * without a live log): the least interval between reads the provider
     * asks for, in seconds (GitHub: its poll interval, longer when the
     * server says so). NULL: the verb's own. */
    double (*poll_every)(struct ci_provider *p);

    /* The number of the newest run of commit `sha` (full, or a 7+ hex
     * prefix where full_sha_only is 0) matching f, without reading the run
     * itself: 1 with *number set, 0 none, -1 error. What a follow loop
     * asks now and then to notice a restart. */
    int (*newest_run)(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                      long long *number, struct err *e);

    /* Hands the runs of commit `sha` (as newest_run matches it) to `each`,
     * newest first, as the repo's run list shows them (no jobs), looking
     * through at most `max` of the repo's newest runs, and stops when `each`
     * returns non-zero. 0, or -1 with e. For a verb that picks one of a
     * commit's runs by its state (the write verbs). */
    int (*commit_runs)(struct ci_provider *p, const char *sha, size_t max,
                       int (*each)(void *ctx, const struct ci_run *r), void *ctx, struct err *e);

    /* The change feed (above). feed_wait connects on its first call,
     * (re)connects when due and notices a dead, silent or buffering feed,
     * then waits at most `max` seconds, handing each event to f->on_run,
     * and sets f->health; a caught signal returns early. feed_missed: the
     * caller's read found a change of a run that the feed did not
     * announce: the feed cannot see this repo and is not relied on again.
     * feed_close ends it and frees what it holds. */
    void (*feed_wait)(struct ci_provider *p, struct ci_feed *f, double max);
    void (*feed_missed)(struct ci_provider *p, struct ci_feed *f);
    void (*feed_close)(struct ci_provider *p, struct ci_feed *f);

    /* The HTTP client the provider talks through (core/http.h), for a verb
     * that shows an outage (http_outage_since) and keeps its view moving
     * while a request waits (on_wait); NULL: nothing to show. */
    struct http_client *(*transport)(struct ci_provider *p);

    /* Write verbs (above): sends req's write; out says what it did. */
    int (*act)(struct ci_provider *p, const struct ci_act_req *req, struct ci_act_result *out,
               struct err *e);
    /* The request `act` would send, for --dry-run: method POST, the URL
     * path as sent (appended to `path`) and the JSON body ("" for none);
     * reads that resolve the request are allowed, no write is sent. */
    int (*describe)(struct ci_provider *p, const struct ci_act_req *req, struct buf *path,
                    struct buf *body, struct err *e);

    void (*close)(struct ci_provider *p);
};

struct ci_provider {
    const struct ci_provider_ops *ops;
    enum ci_provider_kind kind;
    char *repo;          /* OWNER/NAME the provider talks about */
    long long repo_id;   /* the server's id of the repo, 0 when it has none to show */
    char *web_base;      /* for links: html base of the repo, or NULL */
    char *default_branch; /* the repo's default branch as the server names it, or NULL */
    int verbose;
    double deadline;     /* clock_now() past which no request runs; 0 = none */
    /* Set by a provider that is waiting out a rate limit: clock_wall()
     * time it lasts until (the verb prints "rate-limited until HH:MM:SS"). */
    double rate_limited_until;
    /* Set by read_log of one step: the step's lines could not be told
     * apart for sure, the whole job log was handed over. */
    int log_cut_uncertain;
    void *impl;          /* the provider's own state */
};

/*
 * Which provider serves this command: flag `--provider`, else
 * HOMELAB_CI_PROVIDER, else ci.provider, else github when the chosen
 * remote's host (`remote_host`, may be NULL) is github.com or the host of
 * github.api, else woodpecker. Unknown names: -1, EXIT_USAGE.
 */
int ci_provider_choose(const char *flag, const struct config *cfg, const char *remote_host,
                       enum ci_provider_kind *out, struct err *e);

/* The host of a URL (https://, ssh://, scp-like user@host:path); -1 if none. */
int ci_url_host(const char *url, char *out, size_t outlen);
/* Whether `host` is github.com or the host of `github_api` (api.HOST counts for HOST). */
int ci_host_is_github(const char *host, const char *github_api);

/* Convenience wrappers; each checks for a NULL op (EXIT_USAGE "not supported by NAME"). */
int ci_runs_of_commit(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                      struct ci_runset *out, int *changed, struct err *e);
int ci_load_jobs(struct ci_provider *p, struct ci_run *r, int *changed, struct err *e);
int ci_list_runs(struct ci_provider *p, const struct ci_filter *f, size_t limit,
                 struct ci_runset *out, struct err *e);
int ci_read_log(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                const struct ci_step *st, const struct ci_log_sink *sink, struct err *e);
/* live_open is EXIT_USAGE "not supported" without the op; live_poll then
 * says the (never opened) connection ended, live_close does nothing. */
int ci_live_open(struct ci_provider *p, const struct ci_run *r, const struct ci_step *st,
                 const struct ci_log_sink *sink, struct ci_live_log *l, struct err *e);
int ci_live_poll(struct ci_provider *p, struct ci_live_log *l, int timeout_ms);
void ci_live_close(struct ci_provider *p, struct ci_live_log *l, enum ci_live_close how);
int ci_act(struct ci_provider *p, const struct ci_act_req *req, struct ci_act_result *out,
           struct err *e);
int ci_act_describe(struct ci_provider *p, const struct ci_act_req *req, struct buf *path,
                    struct buf *body, struct err *e);
void ci_provider_close(struct ci_provider *p);
/* newest_run, commit_runs: -1 EXIT_USAGE "not supported" without the op. Without a
 * feed, ci_feed_wait sleeps `max` (health CI_FEED_NONE), ci_feed_missed
 * and ci_feed_close do nothing; ci_provider_transport is then NULL. */
int ci_newest_run(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                  long long *number, struct err *e);
int ci_commit_runs(struct ci_provider *p, const char *sha, size_t max,
                   int (*each)(void *ctx, const struct ci_run *r), void *ctx, struct err *e);
void ci_feed_wait(struct ci_provider *p, struct ci_feed *f, double max);
void ci_feed_missed(struct ci_provider *p, struct ci_feed *f);
void ci_feed_close(struct ci_provider *p, struct ci_feed *f);
struct http_client *ci_provider_transport(struct ci_provider *p);

#endif
