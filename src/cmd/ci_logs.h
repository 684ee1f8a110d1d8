/*
 * ci_logs: what the two halves of `ci logs` share, internal to them:
 * ci_logs.c (choosing the logs, printing stored logs, the verb) and
 * ci_logs_follow.c (--follow). struct logs is the state of one command;
 * the runs, their jobs and steps, the choice of logs, the stored logs and
 * --follow's live log all come through the provider interface
 * (ci/provider.h, the model of ci/model.h), whichever provider it is.
 * Every log entry, stored or streamed, goes through logs_sink_entry(),
 * which prints each line once (by its number) and holds lines for --tail.
 * Messages on stderr name the log by L->label, which is escaped.
 */
#ifndef HOMELAB_CI_LOGS_H
#define HOMELAB_CI_LOGS_H

#include "ci/logrender.h"
#include "ci/provider.h"
#include "ci/steps.h"
#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "core/linering.h"

/* Following one log's live log: the provider's live log (ci_live_log),
 * the sink it feeds, and the reconnect policy's state. */
struct lstream {
    struct ci_live_log log;
    struct ci_log_sink sink;
    int failures;           /* connections in a row that brought nothing */
    double retry_at;        /* clock_now() when the next may be opened */
};

struct logs {
    struct cmd_ctx *ctx;
    struct ci_provider *prov; /* the runs and their logs */
    struct ci_runset runs;   /* the target's runs, with their jobs and steps */
    struct ci_log_choice choice; /* the logs to print (ops->choose_logs) */
    unsigned flags;          /* ci_log_render flags */
    int color;               /* colour on stdout */
    int headers;             /* a header line per log */
    int follow;
    double deadline;

    /* the log being printed: a step's, or a job's whole log (no step_name) */
    struct ci_run *run;      /* its run, in runs */
    char *job_name, *step_name; /* to find it again after a refresh */
    struct buf label;        /* its name (ci_view_log_label), escaped */
    struct buf header;       /* its header line, not yet printed */
    struct ci_log_render render;
    struct buf text;         /* rendered, not yet written */
    struct line_ring ring;   /* --tail: the lines held back */
    int tailing;             /* text goes to the ring */
    long long next_line;     /* every line below was printed */
    long long printed;       /* entries printed for the log */
    long long lost;          /* lines the stream skipped over */
    int read_empty;          /* the last stored read found no log */
    int read_found;          /* the last stored read: the provider has the log
                              * (ops->log_per_job: read_log returned 1) */
    long long delivered;     /* entries the current stored read delivered */
    struct lstream ls;

    /* totals */
    int steps_done;
    int any_printed;
    int worst;               /* the worst error exit code, 0 = none */
    int empty;               /* steps whose log stayed empty */
    struct strvec no_log;    /* "has no log yet" notes said at the end */
    int write_failed;
};

/* What read_stored() does with an error that does not end the command. */
enum report { REPORT_NONE, REPORT_NOTE, REPORT_ERROR };

/* Writes the rendered text to stdout (flushing it when `sync`); returns
 * L->write_failed. */
int logs_flush(struct logs *L, int sync);
/* The ci_log_sink on_entry callback; ctx is the struct logs. */
int logs_sink_entry(void *ctx, const struct ci_log_entry *entry);
/* The end of what is known of a log: the held progress line, the tail. */
void logs_output_end(struct logs *L);
/* The log's header line (when there are headers), printed at once. */
void logs_header(struct logs *L, const struct ci_job *j, const struct ci_step *st);
/* "homelab: ..." on stderr; arguments printed as given. */
void logs_note(struct logs *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "homelab: BEFORE LABEL AFTER: MSG", the message sanitized. */
void logs_note_error(struct logs *L, const char *before, const char *after, const char *msg);
/* Prints the stored log's lines not printed yet; 0, or -1 when the error
 * ends the whole command (refused, interrupted, stdout). */
int logs_read_stored(struct logs *L, const struct ci_job *j, const struct ci_step *st,
                     int empty_attempts, enum report report);
/* After a stored read that ends a log: a header still held, and whether
 * the step's lines were told apart for sure. */
void logs_read_done(struct logs *L, const struct ci_step *st);
/* After a log was read to its end: say so when there was none. */
void logs_check_empty(struct logs *L, const struct ci_job *j, const struct ci_step *st);

/* --follow: follows the log being printed to its end (L->label set by
 * the caller). Returns 0, or an exit code that ends the command
 * (ctx->err filled where there is something to say). */
int logs_follow(struct logs *L);

#endif
