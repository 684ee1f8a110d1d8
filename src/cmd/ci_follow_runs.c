/*
 * ci_follow_runs: the RUNS layout of `ci watch`'s follow loop
 * (cmd/ci_follow_layout.h): several runs per commit (GitHub).
 *
 * Read policy: each turn asks the provider for the commit's runs (or the
 * one run of '#ID'), cheap when nothing changed (a conditional request,
 * *changed = 0), and reads jobs only when a run changed; a read that
 * shows a run below the attempt the spec waits for is not taken; off a terminal
 * at most every 10 s, since only the live view needs every step as it
 * moves. Between turns the provider's wait_change decides how long to
 * wait (its poll interval, longer when the server asks).
 *
 * Reporter: plain or JSON lines per change ("WORKFLOW #N [(attempt K)]
 * [JOB[/STEP]] STATUS"), a line per run at the end, and on failure
 * ci_view's failure report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/ci_follow_layout.h"
#include "cmd/ci_view.h"
#include "core/clock.h"

#define JOBS_EVERY 10.0

struct runs {
    struct buf seen;     /* "key\tstatus\n" lines already reported */
    double next_jobs;
    int jobs_due;
    int polled;          /* a first read was made: wait before the next */
};

static struct runs *impl(struct follow *w)
{
    return w->impl;
}

/* Carries jobs over from the previous set, so a deferred job read keeps the view. */
static void keep_jobs(struct ci_runset *old, struct ci_runset *fresh)
{
    for (size_t i = 0; i < fresh->n; i++)
        for (size_t k = 0; k < old->n; k++) {
            struct ci_run *a = &fresh->runs[i], *b = &old->runs[k];
            if (a->id == b->id && a->attempt == b->attempt && b->has_jobs && !a->has_jobs) {
                a->jobs = b->jobs, a->njobs = b->njobs, a->has_jobs = 1;
                b->jobs = NULL, b->njobs = 0, b->has_jobs = 0;
            }
        }
}

static int all_final(const struct ci_runset *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (!ci_state_final(s->runs[i].state))
            return 0;
    return 1;
}

/* ---- reporting changes ---- */

/* Reports key's status once per change: a plain line or a JSON line. */
static void report(struct follow *w, const char *kind, const char *key, const char *status)
{
    struct runs *rs = impl(w);
    struct buf k;
    buf_init(&k, 0);
    buf_addf(&k, "%s\t%s\n", key, status);
    if (!strstr(rs->seen.data ? rs->seen.data : "", k.data)) {
        buf_add(&rs->seen, k.data, k.len);
        if (w->ctx->mode == OUTPUT_JSON) {
            json_t *j = json_pack("{s:s, s:s, s:s}", "event", kind, "name", key, "status",
                                  status);
            term_json_line(j);
            json_decref(j);
        } else if (w->ctx->mode == OUTPUT_PLAIN) {
            buf_reset(&k);
            buf_addf(&k, "%s %s", key, status);
            term_plain_line(&w->plain, stderr, k.data);
        }
    }
    buf_release(&k);
}

/* A verdict comes after the lines that led to it (a run's after its jobs',
 * a job's after its steps'); a start before them. A finished run whose
 * jobs are not read yet waits for them. */
static void report_changes(struct follow *w)
{
    char key[512], run_key[512];
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        snprintf(key, sizeof(key), "%s #%lld", ci_view_workflow(r), r->number);
        if (r->attempt > 1)
            snprintf(key + strlen(key), sizeof(key) - strlen(key), " (attempt %d)", r->attempt);
        int run_last = ci_state_final(r->state);
        if (!run_last)
            report(w, "run", key, ci_view_word(r->status));
        snprintf(run_key, sizeof(run_key), "%s", key);
        size_t base = strlen(key);
        for (size_t k = 0; k < r->njobs; k++) {
            const struct ci_job *j = &r->jobs[k];
            snprintf(key + base, sizeof(key) - base, " %s", j->name);
            int job_last = ci_state_final(j->state);
            if (!job_last)
                report(w, "job", key, ci_view_word(j->status));
            size_t jb = strlen(key);
            for (size_t m = 0; m < j->nsteps; m++) {
                snprintf(key + jb, sizeof(key) - jb, "/%s", j->steps[m].name);
                report(w, "step", key, ci_view_word(j->steps[m].status));
            }
            key[jb] = '\0';
            if (job_last)
                report(w, "job", key, ci_view_word(j->status));
            key[base] = '\0';
        }
        if (run_last && !impl(w)->jobs_due)
            report(w, "run", run_key, ci_view_word(r->status));
    }
}

/* A run that waits on a timer: say until when, once. */
static void say_waits(struct follow *w)
{
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        if (r->state != CI_WAITING || !r->wait_until || w->ctx->mode == OUTPUT_JSON)
            continue;
        char hms[16], key[300];
        time_t t = (time_t)r->wait_until;
        struct tm tm;
        strftime(hms, sizeof(hms), "%H:%M:%S", localtime_r(&t, &tm));
        snprintf(key, sizeof(key), "%s #%lld waits on %s until", ci_view_workflow(r), r->number,
                 r->waiting_for ? r->waiting_for : "a timer");
        report(w, "wait", key, hms);
    }
}

static void frame(struct follow *w, double now, struct buf *out)
{
    char elapsed[32];
    term_fmt_duration(elapsed, sizeof(elapsed), now - w->started_at);
    if (!w->runs.n)
        buf_addf(out, "%s waiting for %s to pick up %s  %s\n", term_spinner(w->term.utf8, now),
                 w->p->ops->title, w->t->label, elapsed);
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        struct buf line;
        buf_init(&line, 0);
        ci_view_run_line(r, &line);
        buf_addf(out, "%s ", ci_state_final(r->state) ? " " : term_spinner(w->term.utf8, now));
        term_paint(out, w->term.color, ci_view_tone(r->state), line.data);
        buf_addf(out, "  %s\n", elapsed);
        buf_release(&line);
        ci_view_tree(r, w->term.color, out);
    }
}

/* ---- reading ---- */

/* One poll: the runs, and jobs when a run changed (off a terminal: <= 1 per 10 s). */
static int poll_once(struct follow *w)
{
    struct runs *rs = impl(w);
    struct ci_runset fresh = { 0 };
    int changed = 0;
    struct err e;
    err_clear(&e);
    if (ci_view_read_runs(w->p, w->t, w->spec->filter, &fresh, &changed, &e) < 0) {
        ci_runset_release(&fresh);
        w->ctx->err = e;
        return -1;
    }
    if (changed && follow_stale(w, &fresh)) {
        /* an attempt older than the one asked for: not news yet */
        ci_runset_release(&fresh);
        changed = 0;
    } else if (changed) {
        keep_jobs(&w->runs, &fresh);
        ci_runset_release(&w->runs);
        w->runs = fresh;
        rs->jobs_due = 1;
    } else {
        ci_runset_release(&fresh);
    }
    double now = clock_now();
    /* The run object need not change while its steps move (GitHub's may
     * change only with its status): the live view also re-reads the jobs
     * of an unfinished run every JOBS_EVERY, conditionally (a 304 is free). */
    if (w->ctx->mode == OUTPUT_TTY && now >= rs->next_jobs && !all_final(&w->runs))
        rs->jobs_due = 1;
    if (rs->jobs_due && (w->ctx->mode == OUTPUT_TTY || now >= rs->next_jobs)) {
        if (ci_view_load_all_jobs(w->p, &w->runs, &e) < 0) {
            w->ctx->err = e;
            return -1;
        }
        rs->jobs_due = 0;
        rs->next_jobs = now + JOBS_EVERY;
    }
    if (changed || !rs->jobs_due)
        report_changes(w);
    return 0;
}

static enum follow_turn turn(struct follow *w)
{
    struct runs *rs = impl(w);
    if (rs->polled) {
        w->p->ops->wait_change(w->p, w->deadline - clock_now());
        if (clock_now() >= w->deadline)
            return FOLLOW_DEADLINE;
        if (term_interrupted())
            return FOLLOW_READ;
    }
    rs->polled = 1;
    if (poll_once(w) < 0) {
        /* the server went away as --timeout ran out: that is the timeout */
        if (w->ctx->err.code == EXIT_UNAVAILABLE && clock_now() >= w->deadline - 0.1 &&
            !w->p->rate_limited_until)
            return FOLLOW_DEADLINE;
        return FOLLOW_ERROR;
    }
    say_waits(w);
    return FOLLOW_READ;
}

/* ---- the end ---- */

static int not_appeared(struct follow *w)
{
    char after[64];
    snprintf(after, sizeof(after), " within %.0fs", clock_now() - w->started_at);
    w->p->ops->no_runs(w->p, w->t->label, w->spec->filter, after, &w->ctx->err);
    return EXIT_NOT_FOUND;
}

static void timed_out_unopened(const char *label, double seconds, struct err *e)
{
    err_clear(e);
    err_set(e, EXIT_TIMEOUT, "timed out after %.0fs waiting for the runs of %s", seconds, label);
}

static int timed_out(struct follow *w)
{
    timed_out_unopened(w->t->label, clock_now() - w->started_at, &w->ctx->err);
    return EXIT_TIMEOUT;
}

/* The runs as they ended (a verdict or --timeout): a line each, or JSON;
 * on failure the failure report. */
static void finish(struct follow *w, int code)
{
    follow_last_frame(w);
    if (w->ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:o}", "event", "result", "status",
                              ci_view_verdict_word(code), "exit_code", code, "runs",
                              ci_view_runs_json(&w->runs));
        if (w->spec->extra)
            json_object_update(j, (json_t *)w->spec->extra);
        term_json_line(j);
        json_decref(j);
        return;
    }
    struct buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < w->runs.n; i++) {
        buf_reset(&out);
        ci_view_run_line(&w->runs.runs[i], &out);
        puts(out.data);
    }
    buf_release(&out);
    fflush(stdout);
    for (size_t i = 0; code == EXIT_NEEDS_PERSON && i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        if (r->state == CI_NEEDS_PERSON)
            fprintf(stderr, "homelab: %s #%lld waits for %s\n", r->workflow, r->number,
                    r->waiting_for ? r->waiting_for : "a person");
    }
    if (code == EXIT_FAILED)
        ci_view_failure_report(w->ctx, w->p, &w->runs, w->spec->log_lines);
}

static void end(struct follow *w, int code)
{
    struct runs *rs = impl(w);
    if (code == EXIT_OK || code == EXIT_FAILED || code == EXIT_NEEDS_PERSON) {
        if (rs->jobs_due)
            ci_view_load_all_jobs(w->p, &w->runs, &w->ctx->err);
        rs->jobs_due = 0;
        report_changes(w);
        finish(w, code);
    } else if (code == EXIT_TIMEOUT) {
        finish(w, code);
    } else {
        follow_last_frame(w);
        follow_json_undecided(w, code, NULL);
    }
}

/* ---- the layout ---- */

static void start(struct follow *w)
{
    struct runs *rs = xcalloc(1, sizeof(*rs));
    buf_init(&rs->seen, 0);
    w->impl = rs;
    w->confirmed = 1; /* the runs only ever come from reads */
}

static void release(struct follow *w)
{
    struct runs *rs = impl(w);
    buf_release(&rs->seen);
    free(rs);
    w->impl = NULL;
}

const struct follow_layout follow_runs_layout = {
    .start = start,
    .turn = turn,
    .frame = frame,
    .not_appeared = not_appeared,
    .timed_out = timed_out,
    .timed_out_unopened = timed_out_unopened,
    .end = end,
    .release = release,
};
