/*
 * ci logs --follow, for every provider (the rest of the verb is
 * ci_logs.c).
 *
 * --follow: a log that has not started is waited for; a running one is
 * streamed, or read again; a finished one's stored log is printed. The log
 * stream's protocol (its path, Last-Event-ID, the eof and error events)
 * lives in the provider (ci/provider.h: live_open/poll/close; Woodpecker's
 * is woodpecker/logstream.c); this file is the policy around it. The stream is
 * an unreliable courier: the server only ends it when the whole workflow
 * is done, may drop it, and may lose lines. So the step's state is read
 * from the run's jobs every 2 s and decides when the step is over; a
 * dropped stream is reopened after the last message seen, so the server
 * skips what was sent; every entry is also deduplicated by its line
 * number; and when the step is over the stored log is read once more for
 * any line the stream did not bring (a few can lose the race against the
 * server's eof). A stream that keeps failing, or a provider without one
 * (GitHub), is replaced by reading the stored log every 2 s (or at the
 * provider's cadence, ops->poll_every), printing only the lines not
 * printed yet.
 *
 * A provider that keeps a log per job (ops->log_per_job: GitHub) has the
 * whole log only once the job is over: a step of it is followed until its
 * job ends, and while the job has no log yet that is said once.
 */
#include <stdio.h>
#include <string.h>

#include "ci/steps.h"
#include "cmd/ci_logs.h"
#include "cmd/ci_view.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/sanitize.h"
#include "core/term.h"

#define DETAIL_INTERVAL 2.0   /* how often a followed step's state is read */
#define POLL_FALLBACK 2.0     /* stored-log polling when the stream fails */
#define STREAM_GIVE_UP 3      /* failed connections before polling instead */
#define SLICE 0.2             /* longest wait, so signals are seen promptly */

/* Polling, and the state reads around it, at the provider's cadence when
 * it has one (ops->poll_every: GitHub's poll interval), never faster than
 * the above. */
static double poll_every(const struct logs *L)
{
    double every = L->prov->ops->poll_every ? L->prov->ops->poll_every(L->prov) : 0;
    return every > POLL_FALLBACK ? every : POLL_FALLBACK;
}

static double detail_every(const struct logs *L)
{
    double every = poll_every(L);
    return every > DETAIL_INTERVAL ? every : DETAIL_INTERVAL;
}

static void stream_close(struct logs *L)
{
    ci_live_close(L->prov, &L->ls.log, CI_LIVE_KEEP);
}

/* Each streamed entry: count the lines it skipped over, then print it once. */
static int on_stream_entry(void *ud, const struct ci_log_entry *entry)
{
    struct logs *L = ud;
    if (entry->line > L->next_line)
        L->lost += entry->line - L->next_line;
    return logs_sink_entry(L, entry);
}

/* After each piece of stream: show the lines at once (unless --tail holds them). */
static int after_feed(void *ud)
{
    struct logs *L = ud;
    if (!L->tailing)
        logs_flush(L, 1);
    return L->write_failed;
}

static void stream_open(struct logs *L, const struct ci_step *st)
{
    struct lstream *ls = &L->ls;
    struct err e;
    err_clear(&e);
    if (ci_live_open(L->prov, L->run, st, &ls->sink, &ls->log, &e) < 0) {
        ls->failures++;
        ls->retry_at = clock_now() + http_backoff_delay(ls->failures, 0.5, 5);
    }
}

/* A connection ended: decide when (whether) to open the next one. */
static void stream_ended(struct logs *L, int *refresh_now)
{
    struct lstream *ls = &L->ls;
    const struct ci_live_log *stream = &ls->log;
    int verbose = L->ctx->g.verbose;
    if (verbose)
        fprintf(stderr, "homelab: log stream of %s ended after %d messages%s%s%s\n",
                L->label.data, stream->messages, stream->eof ? " (eof)" : "",
                stream->not_running ? " (step not running)" : "",
                stream->refused ? " (refused)" : "");
    stream_close(L);
    if (stream->eof || stream->not_running) {
        *refresh_now = 1; /* the step is over; the detail will say so */
        return;
    }
    if (stream->error[0]) {
        *refresh_now = 1; /* "process not found": new step ids after an approval? */
        if (verbose)
            fprintf(stderr, "homelab: log stream error: %s\n", stream->error);
    }
    if (stream->messages && !stream->refused && !stream->error[0])
        ls->failures = 0; /* it worked until it dropped: resume at once */
    else
        ls->failures++;
    ls->retry_at = clock_now() + http_backoff_delay(ls->failures, 0.2, 5);
}

/* Reads the pipeline again. -1 when that ends the command (ctx->err set). */
static int refresh(struct logs *L)
{
    struct err e;
    int changed;
    err_clear(&e);
    if (ci_load_jobs(L->prov, L->run, &changed, &e) < 0) {
        if (e.code == EXIT_REFUSED || e.code == EXIT_INTERRUPTED) {
            L->ctx->err = e;
            return -1;
        }
        if (L->ctx->g.verbose)
            fprintf(stderr, "homelab: %s (will retry)\n", e.msg);
        return 0;
    }
    return 0;
}

/* Waits up to `seconds` for stream data, or just sleeps. */
static void wait_a_little(struct logs *L, double seconds, int *ended)
{
    if (seconds > SLICE)
        seconds = SLICE;
    if (seconds < 0)
        seconds = 0;
    if (L->ls.log.open)
        *ended = ci_live_poll(L->prov, &L->ls.log, (int)(seconds * 1000));
    else
        clock_sleep(seconds);
}

/* The state of following one log across turns. */
struct follow {
    double next_detail, next_poll;
    int said_waiting, said_no_log, was_live, refresh_now, first;
    long long step_id;
};

#define TURN_AGAIN (-1)

/* The code that ends the command after a failed stored read. */
static int read_failed_code(struct logs *L)
{
    return L->write_failed ? EXIT_FAILED : term_interrupted() ? EXIT_INTERRUPTED : L->worst;
}

/* Set-up: a fresh stream state, the first detail read due in a moment. */
static void follow_setup(struct logs *L, struct follow *f)
{
    memset(f, 0, sizeof(*f));
    f->first = 1;
    f->next_detail = clock_now() + detail_every(L);
    memset(&L->ls, 0, sizeof(L->ls));
    L->ls.sink.on_entry = on_stream_entry;
    L->ls.sink.on_chunk = after_feed;
    L->ls.sink.ctx = L;
}

/* The followed log in the run as last read: its job, and its step (NULL
 * for a job's whole log); -1 when it is gone. */
static int find_log(struct logs *L, const struct ci_job **j, const struct ci_step **st)
{
    size_t ji, si;
    *st = NULL;
    if (L->step_name) {
        if (ci_step_find(L->run, L->job_name, L->step_name, &ji, &si) < 0)
            return -1;
        *j = &L->run->jobs[ji];
        *st = &(*j)->steps[si];
        return 0;
    }
    for (ji = 0; ji < L->run->njobs; ji++)
        if (!strcmp(L->run->jobs[ji].name ? L->run->jobs[ji].name : "", L->job_name)) {
            *j = &L->run->jobs[ji];
            return 0;
        }
    return -1;
}

/* Re-reads the run's jobs when due and finds the log in them; *j, *st borrowed. */
static int follow_locate(struct logs *L, struct follow *f, double now, const struct ci_job **j,
                         const struct ci_step **st)
{
    if (f->refresh_now || now >= f->next_detail) {
        if (refresh(L) < 0)
            return L->ctx->err.code;
        f->refresh_now = 0;
        f->next_detail = now + detail_every(L);
    }
    if (find_log(L, j, st) < 0) {
        struct buf run;
        buf_init(&run, 0);
        ci_view_run_name(L->prov, L->run, &run);
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "%s %s is gone from %s",
                L->step_name ? "step" : "job", L->label.data, run.data);
        buf_release(&run);
        return EXIT_NOT_FOUND;
    }
    if (f->first)
        logs_header(L, *j, *st);
    f->first = 0;
    if (*st && (*st)->id != f->step_id) {
        if (f->step_id) /* new ids (an approval): a new stream numbering */
            ci_live_close(L->prov, &L->ls.log, CI_LIVE_RESTART);
        f->step_id = (*st)->id;
    }
    return TURN_AGAIN;
}

/* "LABEL finished: failure, exit 2, 40s" after a followed step. */
static void say_finished(struct logs *L, const struct ci_step *st)
{
    char d[32] = "", ex[32] = "";
    if (st->started)
        ci_format_duration(ci_elapsed(st->started, st->finished, (long long)clock_wall()), d,
                           sizeof(d));
    if (st->exit_code >= 0)
        snprintf(ex, sizeof(ex), ", exit %d", st->exit_code);
    fflush(stdout);
    fprintf(stderr, "homelab: %s finished: %s%s%s%s\n", L->label.data, ci_view_word(st->status),
            ex, d[0] ? ", " : "", d);
}

/* End condition: the log is complete (ends()). Prints the rest. A log
 * kept per job is read whatever its step's state says. */
static int follow_finished(struct logs *L, struct follow *f, const struct ci_job *j,
                           const struct ci_step *st)
{
    int code = 0;
    int ran = L->prov->ops->log_per_job || !st || ci_step_ran(st);
    stream_close(L);
    if (ran) {
        /* the lines the stream did not bring, or the whole stored log */
        if (logs_read_stored(L, j, st, L->printed ? 2 : 0,
                        L->printed ? REPORT_NOTE : REPORT_ERROR) < 0)
            code = read_failed_code(L);
        if (!code)
            logs_read_done(L, st);
        logs_output_end(L);
        if (!code)
            logs_check_empty(L, j, st);
    }
    if (f->was_live && !code && st)
        say_finished(L, st);
    if (!ran && !L->headers && !code) {
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "%s ended %s without running, so it has no log",
                L->label.data, ci_view_word(st->status));
        code = EXIT_NOT_FOUND;
    }
    return code;
}

/* One turn while the log has not started (pending, blocked). */
static int follow_not_started(struct logs *L, struct follow *f, const char *status,
                              enum ci_state state, double now)
{
    int ended = 0;
    if (!f->said_waiting) {
        logs_note(L, "waiting for %s to start (%s%s)", L->label.data, ci_view_word(status),
             state == CI_NEEDS_PERSON ? ": awaiting approval" : "");
        f->said_waiting = 1;
    }
    wait_a_little(L, f->next_detail - now, &ended);
    if (ended)
        stream_ended(L, &f->refresh_now);
    return TURN_AGAIN;
}

/* Reads the stored log again (no stream, or none that works). */
static int follow_poll(struct logs *L, struct follow *f, const struct ci_job *j,
                       const struct ci_step *st)
{
    if (logs_read_stored(L, j, st, 1, REPORT_NONE) < 0)
        return read_failed_code(L);
    f->next_poll = clock_now() + poll_every(L);
    if (L->prov->ops->log_per_job && !L->printed && !f->said_no_log) {
        struct buf job;
        buf_init(&job, 0);
        sanitize_append(&job, L->job_name, strlen(L->job_name), 0);
        logs_note(L, "%s has no log for %s yet (%s); waiting", L->prov->ops->title, job.data,
                  ci_view_word(j->status));
        buf_release(&job);
        f->said_no_log = 1;
    }
    return TURN_AGAIN;
}

/* One turn while the log is written: stream it, or poll the stored log. */
static int follow_running(struct logs *L, struct follow *f, const struct ci_job *j,
                          const struct ci_step *st, double now)
{
    if (L->tailing) {
        /* --tail: the last N lines so far from the stored log; the stream
         * then skips them by line number */
        if (logs_read_stored(L, j, st, 1, REPORT_NONE) < 0)
            return read_failed_code(L);
        logs_output_end(L);
    }
    struct lstream *ls = &L->ls;
    int unusable = !L->prov->ops->live_open || ls->failures >= STREAM_GIVE_UP || ls->log.eof ||
                   ls->log.not_running;
    if (!ls->log.open && !unusable && now >= ls->retry_at)
        stream_open(L, st);
    if (unusable && now >= f->next_poll && follow_poll(L, f, j, st) != TURN_AGAIN)
        return read_failed_code(L);
    int ended = 0;
    wait_a_little(L, f->next_detail - clock_now(), &ended);
    if (L->write_failed)
        return EXIT_FAILED;
    if (ended)
        stream_ended(L, &f->refresh_now);
    return TURN_AGAIN;
}

/* One turn: TURN_AGAIN, or the code that ends following. The log is
 * complete when its step is over, or its job for a whole job's log or a
 * log kept per job; it is written while its step (or job) runs, and while
 * a step of a job kept per job is over but the job is not. */
static int follow_turn(struct logs *L, struct follow *f)
{
    if (term_interrupted())
        return EXIT_INTERRUPTED;
    double now = clock_now();
    const struct ci_job *j = NULL;
    const struct ci_step *st = NULL;
    int code = follow_locate(L, f, now, &j, &st);
    if (code != TURN_AGAIN)
        return code;
    int per_job = L->prov->ops->log_per_job;
    enum ci_state end = st && !per_job ? st->state : j->state;
    enum ci_state state = st ? st->state : j->state;
    const char *status = st ? st->status : j->status;
    if (ci_state_final(end)) /* a known word: safe to print */
        return follow_finished(L, f, j, st);
    if (now >= L->deadline) {
        err_set(&L->ctx->err, EXIT_TIMEOUT, "timed out after %.0fs following %s (still %s)",
                cmd_timeout(L->ctx), L->label.data, ci_view_word(status));
        return EXIT_TIMEOUT;
    }
    f->was_live = 1;
    if (state != CI_RUNNING && !(per_job && ci_state_final(state)))
        return follow_not_started(L, f, status, state, now);
    return follow_running(L, f, j, st, now);
}

/*
 * Follows the log being printed to its end. Returns 0, or an exit code
 * that ends the command (ctx->err filled where there is something to say).
 */
int logs_follow(struct logs *L)
{
    struct follow f;
    follow_setup(L, &f);
    int code;
    while ((code = follow_turn(L, &f)) == TURN_AGAIN)
        ;
    ci_live_close(L->prov, &L->ls.log, CI_LIVE_RELEASE);
    if (L->lost && !code) {
        fflush(stdout);
        fprintf(stderr, "homelab: the log stream skipped %lld lines of %s that are not shown; "
                "homelab ci logs '#%lld' --step '%s' prints the stored log\n", L->lost,
                L->label.data, L->run->number, L->label.data);
    }
    return code;
}
