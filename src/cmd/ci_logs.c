/*
 * ci logs: step logs, safe to print, by step name, with follow.
 *
 *   homelab ci logs [REV|#N] [--step NAME|WORKFLOW/STEP] [--follow] [--tail N]
 *                   [--raw] [--timestamps]
 *
 * Which steps: --step names one (an unknown or ambiguous name is a usage
 * error listing the candidates); else the failing steps when the pipeline
 * failed, else every step in pipeline order (ci/steps.h). Without
 * --step each step's log comes under a header line on stdout,
 *
 *   ==> build/test failure exit 2 40s <==
 *
 * with a blank line between steps (the `tail` convention for several
 * files). With --step the log is printed bare, so it can be piped as is.
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
 * grow with the log; --tail N holds only N lines. The pipeline and the
 * stored logs are read through the provider interface (ci/provider.h:
 * run_by_id / runs_of_commit, read_log with numbered entries); reading,
 * retries and the size cap are the Woodpecker provider's (its read_log is
 * woodpecker/logread.h's wp_log_read).
 *
 * --follow is ci_logs_follow.c's (cmd/ci_logs_wp.h), over the provider's
 * live log. A provider with several runs per commit (ops->layout RUNS:
 * GitHub) has its own half of the verb, ci_gh_logs() (cmd/ci_logs_pick.c).
 *
 * Exit codes: 0 when logs were printed, whatever the pipeline's state;
 * 2 usage (including an unknown or ambiguous --step); 3 --follow timed out;
 * 5 no pipeline, no steps, or nothing has run yet; 6 a log that could not
 * be read, or came back empty, or is over the size cap; 7 refused;
 * 130 interrupted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/logrender.h"
#include "ci/steps.h"
#include "cmd/ci_common.h"
#include "cmd/ci_logs_wp.h"
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
    { "job", OPT_STRING, &ci_gh_opts.job, "NAME", "GitHub: only this job" },
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

void logs_header(struct logs *L, const struct ci_step *st)
{
    if (!L->headers)
        return;
    if (L->steps_done)
        buf_addc(&L->text, '\n');
    buf_adds(&L->text, "==> ");
    buf_add(&L->text, L->label.data, L->label.len);
    buf_addc(&L->text, ' ');
    /* the provider's word, decoded clean by the provider */
    ci_paint_status(&L->text, L->color, ci_view_word(st->status), 0);
    if (ci_state_final(st->state) && ci_step_ran(st))
        buf_addf(&L->text, " exit %d", st->exit_code);
    if (st->started) {
        char d[32];
        ci_format_duration(ci_elapsed(st->started, st->finished, (long long)clock_wall()), d,
                           sizeof(d));
        buf_addf(&L->text, " %s", d);
    }
    if (st->error) {
        char e[160];
        ci_first_line(st->error, 120, e, sizeof(e));
        buf_adds(&L->text, " (");
        sanitize_append(&L->text, e, strlen(e), 0);
        buf_addc(&L->text, ')');
    }
    buf_adds(&L->text, " <==\n");
    logs_flush(L, 1);
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

/* ---- the step being printed ---- */

static void step_begin(struct logs *L, const char *wf, const char *step)
{
    buf_reset(&L->label);
    sanitize_append(&L->label, wf, strlen(wf), 0);
    buf_addc(&L->label, '/');
    sanitize_append(&L->label, step, strlen(step), 0);
    ci_log_render_init(&L->render, L->flags);
    L->tailing = logs_opts.tail >= 0;
    line_ring_reset(&L->ring);
    L->next_line = 0;
    L->printed = 0;
    L->lost = 0;
}

static void step_end(struct logs *L)
{
    ci_log_render_release(&L->render);
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
    int rc = ci_read_log(L->prov, &L->run, j, st, &sink, &e);
    L->read_empty = rc == 0 && L->delivered == 0;
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

/* After a step's log was read to its end: say so when there was none. */
void logs_check_empty(struct logs *L, const struct ci_step *st)
{
    if (L->printed || !ci_step_ran(st))
        return;
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

/* Without --follow: whatever the server has stored. */
static int show_stored(struct logs *L, const struct ci_job *j, const struct ci_step *st)
{
    logs_header(L, st);
    if (!ci_step_ran(st))
        return 0;
    int terminal = ci_state_final(st->state);
    int rc = logs_read_stored(L, j, st, terminal ? 0 : 1, REPORT_ERROR);
    logs_output_end(L);
    if (rc == 0)
        logs_check_empty(L, st);
    return L->write_failed ? -1 : rc;
}

/* ---- choosing steps ---- */

/* Error messages quote names and states that come from the server. */
static void sanitize_err(struct err *e)
{
    struct buf safe;
    buf_init(&safe, 0);
    sanitize_append(&safe, e->msg, strlen(e->msg), 0);
    snprintf(e->msg, sizeof(e->msg), "%s", safe.data);
    buf_reset(&safe);
    sanitize_append(&safe, e->hint, strlen(e->hint), 0);
    snprintf(e->hint, sizeof(e->hint), "%s", safe.data);
    buf_release(&safe);
}

static int choose(struct logs *L, struct strvec *names)
{
    const struct ci_run *r = &L->run;
    struct ci_step_list l = CI_STEP_LIST_INIT;
    struct buf all;
    buf_init(&all, 0);
    ci_steps_describe_all(r, &all);
    int rc = 0;
    if (!all.len) {
        err_set(&L->ctx->err, EXIT_NOT_FOUND, "pipeline #%lld (%s) has no steps", r->number,
                ci_view_word(r->status));
        if (r->error) {
            char e[200];
            ci_first_line(r->error, 180, e, sizeof(e));
            err_hint(&L->ctx->err, "error: %s", e);
        }
        rc = -1;
    } else if (logs_opts.step) {
        size_t n = ci_steps_named(r, logs_opts.step, &l);
        struct buf which;
        buf_init(&which, 0);
        if (n == 0) {
            err_set(&L->ctx->err, EXIT_USAGE, "no step '%s' in pipeline #%lld", logs_opts.step,
                    r->number);
            err_hint(&L->ctx->err, "its steps: %s", all.data);
            rc = -1;
        } else if (n > 1) {
            ci_steps_describe(r, &l, &which);
            err_set(&L->ctx->err, EXIT_USAGE, "step '%s' is ambiguous in pipeline #%lld: %s",
                    logs_opts.step, r->number, which.data);
            err_hint(&L->ctx->err, "name one as WORKFLOW/STEP, e.g. --step '%s/%s'",
                     r->jobs[l.v[0].job].name, r->jobs[l.v[0].job].steps[l.v[0].step].name);
            rc = -1;
        }
        buf_release(&which);
    } else {
        ci_steps_default(r, &l);
    }
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        strvec_push(names, r->jobs[l.v[i].job].name);
        strvec_push(names, r->jobs[l.v[i].job].steps[l.v[i].step].name);
    }
    buf_release(&all);
    ci_step_list_release(&l);
    return rc;
}

/* ---- the verb ---- */

/* --step named a step that has not run (without --follow). */
static int not_run(struct logs *L, const struct ci_step *st)
{
    err_set(&L->ctx->err, EXIT_NOT_FOUND, "%s is %s: it has not run, so it has no log%s",
            L->label.data, ci_view_word(st->status),
            ci_step_waiting(st) ? "; --follow waits for it" : "");
    return EXIT_NOT_FOUND;
}

/* No step of the pipeline had a log to print. */
static int nothing_ran(struct logs *L)
{
    err_set(&L->ctx->err, EXIT_NOT_FOUND, "no step of pipeline #%lld (%s) has a log yet%s",
            L->run.number, ci_view_word(L->run.status),
            ci_state_final(L->run.state) ? "" : "; --follow waits for them");
    return EXIT_NOT_FOUND;
}

/* Whether any of the chosen steps has run (and so may have a log). */
static int any_ran(const struct logs *L, const struct strvec *names)
{
    size_t ji, si;
    for (size_t i = 0; i + 1 < names->n; i += 2)
        if (ci_step_find(&L->run, names->v[i], names->v[i + 1], &ji, &si) == 0 &&
            ci_step_ran(&L->run.jobs[ji].steps[si]))
            return 1;
    return 0;
}

static int run_steps(struct logs *L, const struct strvec *names)
{
    int code = 0;
    for (size_t i = 0; i + 1 < names->n && !code; i += 2) {
        const char *wf = names->v[i], *step = names->v[i + 1];
        step_begin(L, wf, step);
        size_t ji, si;
        if (logs_opts.follow) {
            code = logs_follow_step(L, wf, step);
        } else if (ci_step_find(&L->run, wf, step, &ji, &si) == 0) {
            const struct ci_job *j = &L->run.jobs[ji];
            const struct ci_step *st = &j->steps[si];
            if (show_stored(L, j, st) < 0)
                code = L->write_failed ? EXIT_FAILED
                       : term_interrupted() ? EXIT_INTERRUPTED : L->worst;
            else if (!ci_step_ran(st) && logs_opts.step)
                code = not_run(L, st);
        }
        step_end(L);
        if (L->write_failed)
            code = EXIT_FAILED;
        if (term_interrupted())
            code = EXIT_INTERRUPTED;
    }
    return code;
}

/* The target's run with its jobs and steps (a Woodpecker commit has one
 * pipeline: the newest). 0, or an exit code with ctx->err filled. */
static int read_run(struct logs *L, const struct ci_target *t)
{
    struct ci_runset set = { 0 };
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    if (ci_view_read_target(L->ctx, L->prov, t, &f, &set) < 0) {
        ci_runset_release(&set);
        return L->ctx->err.code ? L->ctx->err.code : EXIT_NOT_FOUND;
    }
    L->run = set.runs[0]; /* the newest */
    memset(&set.runs[0], 0, sizeof(set.runs[0]));
    ci_runset_release(&set);
    return 0;
}

static int logs_run(struct cmd_ctx *ctx, struct ci_provider *prov, const struct ci_target *t)
{
    struct logs L;
    memset(&L, 0, sizeof(L));
    L.ctx = ctx;
    L.prov = prov;
    int code = read_run(&L, t);
    if (code)
        return code;
    struct strvec names = STRVEC_INIT;
    if (choose(&L, &names) < 0) {
        code = ctx->err.code;
        goto out;
    }
    L.color = ctx->stdout_color;
    L.flags = logs_opts.raw ? CI_LOG_RENDER_RAW : L.color ? CI_LOG_RENDER_COLOR : CI_LOG_RENDER_NO_COLOR;
    if (logs_opts.timestamps)
        L.flags |= CI_LOG_RENDER_TIME;
    L.headers = !logs_opts.step;
    L.deadline = clock_now() + (cmd_timeout(ctx) > 0 ? cmd_timeout(ctx) : 1e12);
    buf_init(&L.label, 0);
    buf_init(&L.text, 0);
    line_ring_init(&L.ring, logs_opts.tail > 0 ? (size_t)logs_opts.tail : 0);
    term_catch_signals();

    /* nothing to show: say so once, not under a row of empty headers */
    if (L.headers && !logs_opts.follow && !any_ran(&L, &names))
        code = nothing_ran(&L);
    else
        code = run_steps(&L, &names);
    logs_flush(&L, 1);
    if (code == EXIT_INTERRUPTED)
        err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
    else if (!code && L.worst)
        code = L.worst; /* already reported, step by step */
    else if (!code && !L.any_printed && L.empty)
        code = EXIT_UNAVAILABLE;
    else if (!code && !L.any_printed && !logs_opts.follow && !logs_opts.step)
        code = nothing_ran(&L);
    line_ring_release(&L.ring);
    buf_release(&L.text);
    buf_release(&L.label);
out:
    sanitize_err(&ctx->err);
    strvec_clear(&names);
    ci_run_release(&L.run);
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
    if (ops->layout != CI_LAYOUT_PIPELINE)
        return ci_gh_logs(ctx);
    if (ctx->npos > 1)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci logs' takes at most one REV or #N");
    if (ctx->mode == OUTPUT_JSON)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci logs' prints log text; it has no --json "
                        "output");
    if (logs_opts.step && !*logs_opts.step)
        return err_fail(&ctx->err, EXIT_USAGE, "--step wants a step name");
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

void ci_logs_view(struct ci_logs_view *v)
{
    v->step = logs_opts.step;
    v->follow = logs_opts.follow;
    v->raw = logs_opts.raw;
    v->timestamps = logs_opts.timestamps;
    v->tail = logs_opts.tail;
}
