/*
 * ci logs: step logs, safe to print, by step name, with follow.
 *
 *   homelab ci logs [REV|#N] [--job JOB] [--step NAME|JOB/STEP] [--follow]
 *                   [--tail N] [--raw] [--timestamps]
 *
 * One code path for every provider. Which logs: the provider's
 * choose_logs op, by its naming rule (ci/steps.h: Woodpecker's steps,
 * GitHub's jobs and JOB/STEP splits); an unknown or ambiguous name is an
 * error listing the candidates. When the command named one log it is
 * printed bare, so it can be piped as is; else each log comes under a
 * header line on stdout, in the provider's layout (ci_view_log_header):
 *
 *   ==> build/test failure exit 2 40s <==        (Woodpecker)
 *   ==> CI / test / Run tests <==                (GitHub)
 *
 * How the provider keeps logs decides the rest (ops->log_per_job): a log
 * per step is there once the step ran, so its header comes first; a log
 * per job (GitHub) may not exist yet, which only reading it tells, so its
 * header waits for the log and a job without one is noted instead.
 *
 * What reaches stdout: log text is untrusted. By default every control
 * character and escape sequence is shown escaped (core/sanitize.h); colour
 * (SGR) is kept when stdout is a terminal and colour is on, and dropped
 * otherwise (a pipe or a file gets plain text, not `\x1b[32m` on every
 * line). --raw writes the log's bytes unchanged. Names in headers and
 * messages are always sanitized.
 *
 * Stored logs are decoded as the body arrives and written as they are
 * decoded (stdout is flushed after each piece of body), so memory does not
 * grow with the log; --tail N holds only N lines. The runs and the stored
 * logs are read through the provider interface (ci/provider.h:
 * run_by_id / runs_of_commit, load_jobs, read_log with numbered entries
 * rendered by ci/logrender.h); reading, retries and the size cap are the
 * provider's.
 *
 * --follow is ci_logs_follow.c's (cmd/ci_logs.h), over the provider's live
 * log, or its stored log read again when it has none.
 *
 * Exit codes: 0 when logs were printed, whatever the run's state; 2 usage
 * (an unknown or ambiguous Woodpecker step, an ambiguous GitHub name);
 * 3 --follow timed out; 5 no run, no steps or jobs, no GitHub job or step
 * of that name, or nothing has a log yet; 6 a log that could not be read,
 * or came back empty, or is over the size cap; 7 refused; 130 interrupted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/logrender.h"
#include "ci/steps.h"
#include "cmd/ci_common.h"
#include "cmd/ci_logs.h"
#include "cmd/ci_view.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/linering.h"
#include "core/sanitize.h"
#include "core/term.h"

#define TEXT_FLUSH (64u << 10)

static struct {
    const char *step;
    int follow, raw, timestamps;
    long tail;
} logs_opts = { NULL, 0, 0, 0, -1 };

const struct opt ci_logs_opts[] = {
    { "step", OPT_STRING, &logs_opts.step, "NAME", "only this step (STEP or WORKFLOW/STEP; GitHub: JOB/STEP)" },
    { "job", OPT_STRING, &ci_gh_opts.job, "NAME", "only this job (Woodpecker: workflow)" },
    { "event", OPT_STRING, &ci_gh_opts.event, "NAME", "GitHub: runs of this event (default push; any)" },
    { "follow", OPT_BOOL, &logs_opts.follow, NULL,
      "stream a running step until it ends; wait for one that has not started" },
    { "tail", OPT_INT, &logs_opts.tail, "N", "only the last N lines of each step" },
    { "raw", OPT_BOOL, &logs_opts.raw, NULL,
      "the log's bytes unchanged, escape sequences included (unsafe on a terminal)" },
    { "timestamps", OPT_BOOL, &logs_opts.timestamps, NULL,
      "prefix each line with its offset from the step's start" },
    OPT_END,
};

/* ---- output ---- */

static void header_out(struct logs *L);

int logs_flush(struct logs *L, int sync)
{
    if (L->text.len && fwrite(L->text.data, 1, L->text.len, stdout) != L->text.len)
        L->write_failed = 1;
    buf_reset(&L->text);
    if (sync && fflush(stdout) != 0)
        L->write_failed = 1;
    if (ferror(stdout))
        L->write_failed = 1;
    return L->write_failed;
}

/* Every log entry, stored or streamed, comes through here. */
int logs_sink_entry(void *ctx, const struct ci_log_entry *entry)
{
    struct logs *L = ctx;
    L->delivered++;
    if (entry->line < L->next_line)
        return 0; /* printed already (a resumed read, a replayed stream) */
    L->next_line = entry->line + 1;
    header_out(L); /* a held one: the log is there */
    L->printed++;
    L->any_printed = 1;
    ci_log_render_entry(&L->render, entry, &L->text);
    if (L->tailing) {
        line_ring_add(&L->ring, L->text.data, L->text.len);
        buf_reset(&L->text);
        return 0;
    }
    return L->text.len >= TEXT_FLUSH ? logs_flush(L, 0) : 0;
}

static int sink_chunk(void *ctx)
{
    struct logs *L = ctx;
    return L->tailing ? 0 : logs_flush(L, 1);
}

/* The end of what is known of a step's log: the held progress line, the tail. */
void logs_output_end(struct logs *L)
{
    ci_log_render_flush(&L->render, &L->text);
    if (L->tailing) {
        line_ring_add(&L->ring, L->text.data, L->text.len);
        line_ring_finish(&L->ring);
        buf_reset(&L->text);
        for (size_t i = 0; i < L->ring.count; i++) {
            size_t len;
            const char *line = line_ring_get(&L->ring, i, &len);
            buf_add(&L->text, line, len);
            buf_addc(&L->text, '\n');
            if (L->text.len >= TEXT_FLUSH)
                logs_flush(L, 0);
        }
        line_ring_reset(&L->ring);
        L->tailing = 0; /* what follows (a followed step) is live */
    }
    logs_flush(L, 1);
}

/* Holds the log's header line (when there are headers) until the log
 * shows it is there (header_out). */
static void header_hold(struct logs *L, const struct ci_job *j, const struct ci_step *st)
{
    buf_reset(&L->header);
    if (L->headers)
        ci_view_log_header(L->prov, L->label.data, j, st, L->color, !L->steps_done, &L->header);
}

/* Prints the held header, if any. */
static void header_out(struct logs *L)
{
    if (!L->header.len)
        return;
    buf_add(&L->text, L->header.data, L->header.len);
    buf_reset(&L->header);
    logs_flush(L, 1);
}

void logs_header(struct logs *L, const struct ci_job *j, const struct ci_step *st)
{
    header_hold(L, j, st);
    header_out(L);
}

/* A diagnostic line on stderr about the current step. Arguments are
 * printed as given: server text goes through logs_note_error() or sanitize. */
void logs_note(struct logs *L, const char *fmt, ...)
{
    (void)L;
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "homelab: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* "homelab: BEFORE LABEL AFTER: MSG", the message (it may quote the
 * server) sanitized. */
void logs_note_error(struct logs *L, const char *before, const char *after, const char *msg)
{
    struct buf safe;
    buf_init(&safe, 0);
    sanitize_append(&safe, msg, strlen(msg), 0);
    logs_note(L, "%s %s%s: %s", before, L->label.data, after, safe.data);
    buf_release(&safe);
}

static void record_error(struct logs *L, const struct err *e)
{
    if (e->code == EXIT_INTERRUPTED)
        return;
    logs_note_error(L, "log of", "", e->msg);
    if (e->hint[0])
        fprintf(stderr, "  %s\n", e->hint);
    if (!L->worst || e->code == EXIT_REFUSED)
        L->worst = e->code;
}

/* ---- the log being printed ---- */

static void pick_begin(struct logs *L, const struct ci_log_pick *pk)
{
    L->run = &L->runs.runs[pk->run];
    const struct ci_job *j = &L->run->jobs[pk->job];
    const struct ci_step *st = pk->step >= 0 ? &j->steps[pk->step] : NULL;
    L->job_name = xstrdup(j->name ? j->name : "");
    L->step_name = st ? xstrdup(st->name ? st->name : "") : NULL;
    buf_reset(&L->label);
    ci_view_log_label(L->prov, L->run, j, st, &L->label);
    buf_reset(&L->header);
    ci_log_render_init(&L->render, L->flags);
    L->tailing = logs_opts.tail >= 0;
    line_ring_reset(&L->ring);
    L->next_line = 0;
    L->printed = 0;
    L->lost = 0;
    L->read_found = 0;
}

static void pick_end(struct logs *L)
{
    ci_log_render_release(&L->render);
    free(L->job_name);
    free(L->step_name);
    L->job_name = L->step_name = NULL;
    L->steps_done++;
}

/*
 * Reads the stored log, printing the lines not printed yet. An error is
 * ignored (polling goes on), noted on stderr, or recorded for the exit
 * code, as `report` says. Returns 0, or -1 when the error ends the whole
 * command (refused, interrupted, stdout).
 */
int logs_read_stored(struct logs *L, const struct ci_job *j, const struct ci_step *st,
                     int empty_attempts, enum report report)
{
    struct ci_log_sink sink = { .on_entry = logs_sink_entry, .on_chunk = sink_chunk, .ctx = L,
                                .empty_attempts = empty_attempts };
    struct err e;
    err_clear(&e);
    L->delivered = 0;
    int rc = ci_read_log(L->prov, L->run, j, st, &sink, &e);
    L->read_empty = rc == 0 && L->delivered == 0;
    L->read_found = rc > 0;
    if (rc >= 0)
        return 0;
    if (L->write_failed)
        return -1;
    if (e.code == EXIT_INTERRUPTED || e.code == EXIT_REFUSED) {
        if (e.code == EXIT_REFUSED)
            record_error(L, &e);
        return -1;
    }
    if (report == REPORT_ERROR)
        record_error(L, &e);
    else if (report == REPORT_NOTE)
        logs_note_error(L, "re-reading the stored log of", " for lines the stream missed", e.msg);
    return 0;
}

void logs_read_done(struct logs *L, const struct ci_step *st)
{
    if (!L->read_found)
        return;
    header_out(L); /* a log without lines still gets its header */
    if (st && L->prov->log_cut_uncertain) {
        struct buf name;
        buf_init(&name, 0);
        sanitize_append(&name, L->step_name, strlen(L->step_name), 0);
        logs_note(L, "could not tell the lines of step '%s' apart for sure; showing the whole "
                  "job log", name.data);
        buf_release(&name);
    }
}

/* A log kept per job that is not there (yet): said at once, or, for a
 * command that prints several logs, after them (nothing_ran() when no
 * log was there at all). */
static void no_job_log(struct logs *L, const struct ci_job *j)
{
    if (L->printed || !L->read_empty) /* a log, maybe without lines; or an error, said */
        return;
    struct buf note;
    buf_init(&note, 0);
    buf_addf(&note, "%s has no log for ", L->prov->ops->title);
    sanitize_append(&note, L->job_name, strlen(L->job_name), 0);
    buf_addf(&note, " yet (%s)", ci_view_word(j->status));
    if (L->headers && !L->follow)
        strvec_push(&L->no_log, note.data);
    else
        logs_note(L, "%s", note.data);
    buf_release(&note);
}

void logs_check_empty(struct logs *L, const struct ci_job *j, const struct ci_step *st)
{
    if (L->prov->ops->log_per_job) {
        no_job_log(L, j);
        return;
    }
    if (L->printed || !st || !ci_step_ran(st))
        return; /* a log kept per step needs its step */
    if (!ci_state_final(st->state)) {
        logs_note(L, "%s is %s and has no output yet; --follow streams it", L->label.data,
             ci_view_word(st->status));
        return;
    }
    if (L->read_empty) {
        logs_note(L, "log for %s is empty or unavailable", L->label.data);
        L->empty++;
    }
}

/* Without --follow: whatever the server has stored. A log kept per job
 * is read even when the model says its step did not run: only the read
 * tells whether the job has a log, and its header waits for that. */
static int show_stored(struct logs *L, const struct ci_job *j, const struct ci_step *st)
{
    int per_job = L->prov->ops->log_per_job;
    header_hold(L, j, st);
    if (!per_job)
        header_out(L);
    if (!per_job && !ci_step_ran(st))
        return 0;
    int terminal = ci_state_final(st ? st->state : j->state);
    int rc = logs_read_stored(L, j, st, terminal ? 0 : 1, REPORT_ERROR);
    logs_read_done(L, st);
    logs_output_end(L);
    if (rc == 0)
        logs_check_empty(L, j, st);
    return L->write_failed ? -1 : rc;
}

/* ---- choosing the logs ---- */

/* Error messages quote names and states that come from the server. */
static void sanitize_err(struct err *e)
{
    sanitize_into(e->msg, sizeof(e->msg), e->msg, strlen(e->msg));
    sanitize_into(e->hint, sizeof(e->hint), e->hint, strlen(e->hint));
}

/* The provider's choice for --job/--step; an ambiguous name's candidates
 * are said before the error. */
static int choose(struct logs *L)
{
    const struct ci_provider_ops *ops = L->prov->ops;
    struct ci_log_query q = { ci_gh_opts.job, logs_opts.step };
    if (!ops->choose_logs)
        return err_set(&L->ctx->err, EXIT_USAGE, "'ci logs' is not supported by %s", ops->title);
    if (ops->choose_logs(&L->runs, &q, &L->choice, &L->ctx->err) < 0) {
        if (L->choice.before.len) {
            fflush(stdout);
            fprintf(stderr, "homelab: %s", L->choice.before.data);
        }
        return -1;
    }
    /* one log named: printed bare */
    L->headers = !(q.job || q.step) || L->choice.n > 1;
    return 0;
}

/* ---- the verb ---- */

/* A named step that has not run (without --follow). */
static int not_run(struct logs *L, const struct ci_step *st)
{
    err_set(&L->ctx->err, EXIT_NOT_FOUND, "%s is %s: it has not run, so it has no log%s",
            L->label.data, ci_view_word(st->status),
            ci_step_waiting(st) ? "; --follow waits for it" : "");
    return EXIT_NOT_FOUND;
}

/* No log of the run(s) was there to print. */
static int nothing_ran(struct logs *L)
{
    const struct ci_runset *s = &L->runs;
    const char *unit = L->prov->ops->log_per_job ? "job" : "step";
    int final = 1;
    for (size_t i = 0; i < s->n; i++)
        final = final && ci_state_final(s->runs[i].state);
    const char *more = final ? "" : "; --follow waits for them";
    struct buf name;
    buf_init(&name, 0);
    ci_view_run_name(L->prov, &s->runs[0], &name);
    if (s->n == 1)
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "no %s of %s (%s) has a log yet%s", unit,
                name.data, ci_view_word(s->runs[0].status), more);
    else
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "no %s of the %zu runs of this commit has a log "
                "yet%s", unit, s->n, more);
    buf_release(&name);
    return EXIT_NOT_FOUND;
}

/* Whether any chosen log may be there: a step's once it ran; a log kept
 * per job only its read can tell. */
static int may_have_logs(const struct logs *L)
{
    if (L->prov->ops->log_per_job)
        return 1;
    for (size_t i = 0; i < L->choice.n; i++) {
        const struct ci_log_pick *pk = &L->choice.v[i];
        const struct ci_job *j = &L->runs.runs[pk->run].jobs[pk->job];
        if (pk->step < 0 || ci_step_ran(&j->steps[pk->step]))
            return 1;
    }
    return 0;
}

/* Prints (or follows) one chosen log; 0 or the code that ends the command. */
static int print_pick(struct logs *L, const struct ci_log_pick *pk)
{
    if (L->follow)
        return logs_follow(L);
    const struct ci_job *j = &L->run->jobs[pk->job];
    const struct ci_step *st = pk->step >= 0 ? &j->steps[pk->step] : NULL;
    if (show_stored(L, j, st) < 0)
        return L->write_failed ? EXIT_FAILED : term_interrupted() ? EXIT_INTERRUPTED : L->worst;
    if (st && !L->headers && !L->prov->ops->log_per_job && !ci_step_ran(st))
        return not_run(L, st);
    return 0;
}

static int run_picks(struct logs *L)
{
    int code = 0;
    for (size_t i = 0; i < L->choice.n && !code; i++) {
        pick_begin(L, &L->choice.v[i]);
        code = print_pick(L, &L->choice.v[i]);
        pick_end(L);
        if (L->write_failed)
            code = EXIT_FAILED;
        if (term_interrupted())
            code = EXIT_INTERRUPTED;
    }
    return code;
}

/* The exit code once every chosen log was printed (or the first that
 * ended the command). */
static int logs_outcome(struct logs *L, int code)
{
    if (code == EXIT_INTERRUPTED) {
        err_set(&L->ctx->err, EXIT_INTERRUPTED, "interrupted");
        return code;
    }
    if (code)
        return code;
    if (L->worst)
        return L->worst; /* already reported, log by log */
    if (!L->any_printed && L->empty)
        return EXIT_UNAVAILABLE;
    if (!L->any_printed && !L->follow && L->headers)
        return nothing_ran(L);
    for (size_t i = 0; i < L->no_log.n; i++)
        logs_note(L, "%s", L->no_log.v[i]);
    return 0;
}

static void logs_init(struct logs *L, struct cmd_ctx *ctx, struct ci_provider *prov)
{
    memset(L, 0, sizeof(*L));
    L->ctx = ctx;
    L->prov = prov;
    ci_log_choice_init(&L->choice);
    L->color = ctx->stdout_color;
    L->flags = logs_opts.raw ? CI_LOG_RENDER_RAW
               : L->color ? CI_LOG_RENDER_COLOR : CI_LOG_RENDER_NO_COLOR;
    if (logs_opts.timestamps)
        L->flags |= CI_LOG_RENDER_TIME;
    L->follow = logs_opts.follow;
    buf_init(&L->label, 0);
    buf_init(&L->header, 0);
    buf_init(&L->text, 0);
    line_ring_init(&L->ring, logs_opts.tail > 0 ? (size_t)logs_opts.tail : 0);
}

static void logs_release(struct logs *L)
{
    line_ring_release(&L->ring);
    buf_release(&L->text);
    buf_release(&L->header);
    buf_release(&L->label);
    strvec_clear(&L->no_log);
    ci_log_choice_release(&L->choice);
    ci_runset_release(&L->runs);
}

static int logs_run(struct cmd_ctx *ctx, struct ci_provider *prov, const struct ci_target *t)
{
    struct logs L;
    logs_init(&L, ctx, prov);
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    int code;
    if (ci_view_read_target(ctx, prov, t, &f, &L.runs) < 0) {
        code = ctx->err.code ? ctx->err.code : EXIT_NOT_FOUND;
    } else if (choose(&L) < 0) {
        code = ctx->err.code;
    } else {
        /* --timeout counts from here: the runs are read, the logs chosen */
        L.deadline = clock_now() + (cmd_timeout(ctx) > 0 ? cmd_timeout(ctx) : 1e12);
        term_catch_signals();
        /* nothing to show: say so once, not under a row of empty headers */
        if (L.headers && !L.follow && !may_have_logs(&L))
            code = nothing_ran(&L);
        else
            code = run_picks(&L);
        logs_flush(&L, 1);
        code = logs_outcome(&L, code);
    }
    sanitize_err(&ctx->err);
    logs_release(&L);
    return code;
}

/* Opens the provider and prints. */
static int logs_open_run(struct cmd_ctx *ctx, const struct ci_provider_ops *ops,
                         struct ci_target *t)
{
    struct ci_provider prov;
    if (ci_open_provider(ctx, ops, t, &prov) < 0)
        return ctx->err.code;
    /* one large buffer: a big log is written in few calls */
    setvbuf(stdout, NULL, _IOFBF, TEXT_FLUSH);
    int code = logs_run(ctx, &prov, t);
    ci_provider_close(&prov);
    return code;
}

int cmd_ci_logs(struct cmd_ctx *ctx)
{
    const struct ci_provider_ops *ops = ci_chosen_provider(ctx);
    if (!ops)
        return ctx->err.code;
    if (ctx->npos > 1)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci logs' takes at most one REV or #N");
    if (ctx->mode == OUTPUT_JSON)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci logs' prints log text; it has no --json "
                        "output");
    if (logs_opts.step && !*logs_opts.step)
        return err_fail(&ctx->err, EXIT_USAGE, "--step wants a step name");
    if (ci_gh_opts.job && !*ci_gh_opts.job)
        return err_fail(&ctx->err, EXIT_USAGE, "--job wants a job name");
    struct ci_target t;
    if (ci_target_start(ctx->npos ? ctx->pos[0] : NULL, &t, &ctx->err) < 0)
        return ctx->err.code;
    signal_catch(); /* ^C while the server is looked up, too */
    int code = logs_open_run(ctx, ops, &t);
    if (signal_interrupted() && code != EXIT_OK) {
        code = EXIT_INTERRUPTED;
        err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
    }
    ci_target_release(&t);
    return code;
}
