/*
 * ci logs --follow on Woodpecker (the rest of the verb is ci_logs.c).
 *
 * --follow: a step that has not started is waited for; a running step is
 * streamed; a finished step's stored log is printed. The log stream's
 * protocol (its path, Last-Event-ID, the eof and error events) lives in
 * the provider (ci/provider.h: live_open/poll/close; Woodpecker's is
 * woodpecker/logstream.c); this file is the policy around it. The stream is
 * an unreliable courier: the server only ends it when the whole workflow
 * is done, may drop it, and may lose lines. So the step's state is read
 * from the pipeline detail every 2 s and decides when the step is over; a
 * dropped stream is reopened after the last message seen, so the server
 * skips what was sent; every entry is also deduplicated by its line
 * number; and when the step is over the stored log is read once more for
 * any line the stream did not bring (a few can lose the race against the
 * server's eof). A stream that keeps failing is replaced by reading the
 * stored log every 2 s.
 */
#include <stdio.h>
#include <string.h>

#include "ci/steps.h"
#include "cmd/ci_logs_wp.h"
#include "cmd/ci_view.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/term.h"

#define DETAIL_INTERVAL 2.0   /* how often a followed step's state is read */
#define POLL_FALLBACK 2.0     /* stored-log polling when the stream fails */
#define STREAM_GIVE_UP 3      /* failed connections before polling instead */
#define SLICE 0.2             /* longest wait, so signals are seen promptly */

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
    if (ci_live_open(L->prov, &L->run, st, &ls->sink, &ls->log, &e) < 0) {
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
    if (ci_load_jobs(L->prov, &L->run, &changed, &e) < 0) {
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

/* The state of following one step across turns. */
struct follow {
    const char *wf, *step;
    double next_detail, next_poll;
    int said_waiting, was_live, refresh_now, first;
    long long step_id;
};

#define TURN_AGAIN (-1)

/* The code that ends the command after a failed stored read. */
static int read_failed_code(struct logs *L)
{
    return L->write_failed ? EXIT_FAILED : term_interrupted() ? EXIT_INTERRUPTED : L->worst;
}

/* Set-up: a fresh stream state, the first detail read due in a moment. */
static void follow_setup(struct logs *L, struct follow *f, const char *wf, const char *step)
{
    memset(f, 0, sizeof(*f));
    f->wf = wf;
    f->step = step;
    f->first = 1;
    f->next_detail = clock_now() + DETAIL_INTERVAL;
    memset(&L->ls, 0, sizeof(L->ls));
    L->ls.sink.on_entry = on_stream_entry;
    L->ls.sink.on_chunk = after_feed;
    L->ls.sink.ctx = L;
}

/* Re-reads the pipeline when due and finds the step in it; *j, *st borrowed. */
static int follow_locate(struct logs *L, struct follow *f, double now, const struct ci_job **j,
                         const struct ci_step **st)
{
    size_t ji, si;
    if (f->refresh_now || now >= f->next_detail) {
        if (refresh(L) < 0)
            return L->ctx->err.code;
        f->refresh_now = 0;
        f->next_detail = now + DETAIL_INTERVAL;
    }
    if (ci_step_find(&L->run, f->wf, f->step, &ji, &si) < 0) {
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "step %s is gone from pipeline #%lld",
                L->label.data, L->run.number);
        return EXIT_NOT_FOUND;
    }
    *j = &L->run.jobs[ji];
    *st = &(*j)->steps[si];
    if (f->first)
        logs_header(L, *st);
    f->first = 0;
    if ((*st)->id != f->step_id) {
        if (f->step_id) /* new ids (an approval): a new stream numbering */
            ci_live_close(L->prov, &L->ls.log, CI_LIVE_RESTART);
        f->step_id = (*st)->id;
    }
    return TURN_AGAIN;
}

/* End condition: the step reached a terminal state. Prints the rest. */
static int follow_finished(struct logs *L, struct follow *f, const struct ci_job *j,
                           const struct ci_step *st)
{
    int code = 0;
    stream_close(L);
    if (ci_step_ran(st)) {
        /* the lines the stream did not bring, or the whole stored log */
        if (logs_read_stored(L, j, st, L->printed ? 2 : 0,
                        L->printed ? REPORT_NOTE : REPORT_ERROR) < 0)
            code = read_failed_code(L);
        logs_output_end(L);
        if (!code)
            logs_check_empty(L, st);
    }
    if (f->was_live && !code) {
        char d[32] = "";
        if (st->started)
            ci_format_duration(ci_elapsed(st->started, st->finished, (long long)clock_wall()),
                               d, sizeof(d));
        fflush(stdout);
        fprintf(stderr, "homelab: %s finished: %s, exit %d%s%s\n", L->label.data,
                ci_view_word(st->status),
                st->exit_code, d[0] ? ", " : "", d);
    }
    if (!ci_step_ran(st) && !L->headers && !code) {
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "%s ended %s without running, so it has no log",
                L->label.data, ci_view_word(st->status));
        code = EXIT_NOT_FOUND;
    }
    return code;
}

/* One turn while the step has not started (pending, blocked). */
static int follow_not_started(struct logs *L, struct follow *f, const struct ci_step *st,
                              double now)
{
    int ended = 0;
    if (!f->said_waiting) {
        logs_note(L, "waiting for %s to start (%s%s)", L->label.data, ci_view_word(st->status),
             st->state == CI_NEEDS_PERSON ? ": awaiting approval" : "");
        f->said_waiting = 1;
    }
    wait_a_little(L, f->next_detail - now, &ended);
    if (ended)
        stream_ended(L, &f->refresh_now);
    return TURN_AGAIN;
}

/* One turn while the step runs: stream it, or poll the stored log. */
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
    int unusable = ls->failures >= STREAM_GIVE_UP || ls->log.eof || ls->log.not_running;
    if (!ls->log.open && !unusable && now >= ls->retry_at)
        stream_open(L, st);
    if (unusable && now >= f->next_poll) {
        if (logs_read_stored(L, j, st, 1, REPORT_NONE) < 0)
            return read_failed_code(L);
        f->next_poll = clock_now() + POLL_FALLBACK;
    }
    int ended = 0;
    wait_a_little(L, f->next_detail - clock_now(), &ended);
    if (L->write_failed)
        return EXIT_FAILED;
    if (ended)
        stream_ended(L, &f->refresh_now);
    return TURN_AGAIN;
}

/* One turn: TURN_AGAIN, or the code that ends following. */
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
    if (ci_state_final(st->state)) /* a known word: safe to print */
        return follow_finished(L, f, j, st);
    if (now >= L->deadline) {
        err_set(&L->ctx->err, EXIT_TIMEOUT, "timed out after %.0fs following %s (still %s)",
                cmd_timeout(L->ctx), L->label.data, ci_view_word(st->status));
        return EXIT_TIMEOUT;
    }
    f->was_live = 1;
    if (st->state != CI_RUNNING)
        return follow_not_started(L, f, st, now);
    return follow_running(L, f, j, st, now);
}

/*
 * Follows one step to its end. Returns 0, or an exit code that ends the
 * command (ctx->err filled where there is something to say).
 */
int logs_follow_step(struct logs *L, const char *wf, const char *step)
{
    struct follow f;
    follow_setup(L, &f, wf, step);
    int code;
    while ((code = follow_turn(L, &f)) == TURN_AGAIN)
        ;
    ci_live_close(L->prov, &L->ls.log, CI_LIVE_RELEASE);
    if (L->lost && !code) {
        fflush(stdout);
        fprintf(stderr, "homelab: the log stream skipped %lld lines of %s that are not shown; "
                "homelab ci logs '#%lld' --step '%s' prints the stored log\n", L->lost,
                L->label.data, L->run.number, L->label.data);
    }
    return code;
}
