/*
 * ship_gh: a GitHub Actions build stage of `ship`: the workflow runs of the
 * commit to one verdict, through the GitHub provider of the ci verbs
 * (github/provider: conditional requests, token sources, pending
 * deployments, job logs fetched without the token) and ci_verdict(), the
 * same rule as `ci watch`. The runs are read every 3 s; a 304 costs no
 * rate limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci/provider.h"
#include "cmd/ship_stage.h"
#include "core/clock.h"
#include "core/linering.h"
#include "core/sanitize.h"
#include "core/term.h"
#include "github/logsplit.h"
#include "github/provider.h"

#define POLL 3.0
#define OUTAGE_LIMIT 60.0
#define LOG_LINES 30

struct ghw {
    struct ship_follow fl;
    struct ci_provider p;
    int open;
    struct ci_runset runs;
    json_t *shown;         /* run id -> the state last reported */
};

static const char *s_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static int gh_open(struct ghw *w, struct err *e)
{
    w->shown = json_object();
    if (gh_provider_open(&w->p, &w->fl.ctx->cfg, w->fl.st->repo, w->fl.ctx->g.verbose, e) < 0)
        return -1;
    w->open = 1;
    return 0;
}

static void report_runs(struct ghw *w)
{
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        char key[32], line[400];
        snprintf(key, sizeof(key), "%lld", r->id);
        const char *before = json_string_value(json_object_get(w->shown, key));
        if (before && !strcmp(before, s_or(r->status, "?")))
            continue;
        json_object_set_new(w->shown, key, json_string(s_or(r->status, "?")));
        if (w->fl.quiet || w->fl.ctx->mode == OUTPUT_TTY)
            continue;
        if (w->fl.ctx->mode == OUTPUT_JSON) {
            json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:i, s:s}", "event", "run", "workflow",
                                  s_or(r->workflow, ""), "id", (json_int_t)r->id, "number",
                                  (json_int_t)r->number, "attempt", r->attempt, "status",
                                  s_or(r->status, "?"));
            term_json_line(j);
            json_decref(j);
        } else {
            snprintf(line, sizeof(line), "%s #%lld %s", s_or(r->workflow, "run"), r->number,
                     s_or(r->status, "?"));
            term_plain_line(&w->fl.plain, stderr, line);
        }
    }
}

static void frame(void *follower, struct buf *f, double now, const char *el)
{
    struct ghw *w = follower;
    if (!w->runs.n)
        buf_addf(f, "%s waiting for runs of %.7s in %s  %s\n", term_spinner(w->fl.term.utf8, now),
                 w->fl.sha, w->fl.st->repo, el);
    for (size_t i = 0; i < w->runs.n; i++)
        buf_addf(f, "%s %s #%lld %s  %s\n", term_spinner(w->fl.term.utf8, now),
                 s_or(w->runs.runs[i].workflow, "run"), w->runs.runs[i].number,
                 s_or(w->runs.runs[i].status, "?"), el);
}

static void draw(struct ghw *w, int force)
{
    ship_follow_draw(&w->fl, frame, w, force);
}

/* Reads the runs of the commit; returns the verdict (-1 undecided) or -2 on error. */
static int poll_runs(struct ghw *w, struct err *e)
{
    struct ci_filter f = { w->fl.st->event ? w->fl.st->event : "any", NULL, NULL };
    int changed = 0;
    if (ci_runs_of_commit(&w->p, w->fl.sha, &f, &w->runs, &changed, e) < 0)
        return -2;
    report_runs(w);
    draw(w, 0);
    return w->runs.n ? ci_verdict(&w->runs, 0) : -1;
}

static int follow(struct ghw *w, double appear_deadline, double deadline)
{
    struct err last;
    err_clear(&last);
    for (;;) {
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        struct err e;
        err_clear(&e);
        int v = poll_runs(w, &e);
        if (v >= 0)
            return v;
        if (v == -1) {
            w->fl.last_ok = clock_now();
        } else if (e.code == EXIT_REFUSED || e.code == EXIT_NOT_FOUND || e.code == EXIT_USAGE ||
                   e.code == EXIT_INTERRUPTED) {
            w->fl.ctx->err = e;
            return e.code;
        } else {
            last = e;
        }
        double now = clock_now();
        if (!w->runs.n && now >= appear_deadline) {
            err_set(&w->fl.ctx->err, EXIT_NOT_FOUND, "stage %s: no workflow run of %.7s appeared "
                    "in %s within %.0fs", w->fl.st->name, w->fl.sha, w->fl.st->repo,
                    w->fl.st->appear_timeout);
            snprintf(w->fl.r->status, sizeof(w->fl.r->status), "never-appeared");
            snprintf(w->fl.r->next, sizeof(w->fl.r->next), "homelab ci list --provider github "
                     "--repo %s", w->fl.st->repo);
            return EXIT_NOT_FOUND;
        }
        if (now >= deadline)
            return err_set(&w->fl.ctx->err, EXIT_TIMEOUT, "stage %s: timed out", w->fl.st->name),
                   EXIT_TIMEOUT;
        if (now - w->fl.last_ok > OUTAGE_LIMIT) {
            w->fl.ctx->err = last;
            w->fl.ctx->err.code = EXIT_UNAVAILABLE;
            return EXIT_UNAVAILABLE;
        }
        for (double until = now + POLL; clock_now() < until && clock_now() < deadline;) {
            if (term_interrupted())
                return EXIT_INTERRUPTED;
            draw(w, 0);
            clock_sleep(0.1);
        }
    }
}

/* ---- the failure report ---- */

struct tail {
    struct line_ring ring;
    struct buf tmp;
};

static int on_line(void *ctx, const char *line, size_t len, double ts, size_t text)
{
    (void)ts; /* the timestamp is noise here: the text starts at `text` */
    struct tail *t = ctx;
    buf_reset(&t->tmp);
    sanitize_append(&t->tmp, line + text, len - text, SANITIZE_DROP_SGR);
    buf_addc(&t->tmp, '\n');
    line_ring_add(&t->ring, t->tmp.data, t->tmp.len);
    return 0;
}

/* The decisive run: the first failed one, else the first needing a person, else the newest. */
static struct ci_run *decisive(struct ghw *w)
{
    struct ci_run *best = NULL;
    for (size_t i = 0; i < w->runs.n; i++) {
        struct ci_run *r = &w->runs.runs[i];
        if (r->state == CI_FAILURE || r->state == CI_CANCELLED)
            return r;
        if (!best || r->state == CI_NEEDS_PERSON || r->id > best->id)
            best = best && best->state == CI_NEEDS_PERSON ? best : r;
    }
    return best;
}

static void failure_report(struct ghw *w, struct ci_run *run)
{
    struct err e;
    err_clear(&e);
    int changed = 0;
    json_t *arr = json_array();
    struct buf out;
    buf_init(&out, 0);
    if (ci_load_jobs(&w->p, run, &changed, &e) < 0)
        buf_addf(&out, "(jobs unavailable: %s)\n", e.msg);
    const struct ci_job *j = run->has_jobs ? ci_run_failed_job(run) : NULL;
    const struct ci_step *st = j ? ci_job_failed_step(j) : NULL;
    if (!j) {
        buf_addf(&out, "failed: %s #%lld %s before any job ran\n", s_or(run->workflow, "run"),
                 run->number, s_or(run->status, "?"));
        snprintf(w->fl.r->next, sizeof(w->fl.r->next), "open %s", s_or(run->url, "the run's page"));
    } else {
        buf_addf(&out, "failed: %s / %s / %s (%s)\n", s_or(run->workflow, "run"), j->name,
                 st ? st->name : "-", s_or(st ? st->status : j->status, "?"));
        struct tail t;
        line_ring_init(&t.ring, LOG_LINES);
        buf_init(&t.tmp, 0);
        struct ci_log_sink sink = { .on_line = on_line, .ctx = &t };
        err_clear(&e);
        if (ci_read_log(&w->p, run, j, st, &sink, &e) < 0)
            buf_addf(&out, "  (log not available: %s)\n", e.msg);
        line_ring_finish(&t.ring);
        json_t *tail = json_array();
        for (size_t i = 0; i < t.ring.count; i++) {
            size_t n;
            const char *s = line_ring_get(&t.ring, i, &n);
            while (n && s[n - 1] == '\n')
                n--;
            buf_addf(&out, "  %.*s\n", (int)n, s);
            json_array_append_new(tail, json_stringn(s, n));
        }
        line_ring_release(&t.ring);
        buf_release(&t.tmp);
        snprintf(w->fl.r->next, sizeof(w->fl.r->next),
                 "homelab ci logs '#%lld' --provider github --repo %s --step '%s/%s'", run->id,
                 w->fl.st->repo, j->name, st ? st->name : "");
        buf_addf(&out, "full log: %s\n", w->fl.r->next);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "job", j->name, "step",
                                             st ? st->name : "", "status",
                                             s_or(st ? st->status : j->status, ""), "log_tail",
                                             tail));
    }
    ship_follow_report(&w->fl, &out, "failed_jobs", arr);
}

static void fill_run(struct ghw *w, int code)
{
    struct ship_run *r = w->fl.r;
    r->code = code;
    if (!r->status[0])
        snprintf(r->status, sizeof(r->status), "%s",
                 code == EXIT_OK ? "success" : code == EXIT_FAILED ? "failure"
                 : code == EXIT_NEEDS_PERSON ? "needs-person" : code == EXIT_TIMEOUT ? "timeout"
                 : code < 0 ? "running" : exit_code_name(code));
    const struct ci_run *run = decisive(w);
    if (!run)
        return;
    r->number = run->id;
    snprintf(r->url, sizeof(r->url), "%s", s_or(run->url, ""));
    snprintf(r->line, sizeof(r->line), "%s %s #%lld (%zu run%s)", r->status,
             s_or(run->workflow, "run"), run->number, w->runs.n, w->runs.n == 1 ? "" : "s");
}

static void gh_close(struct ghw *w)
{
    ci_runset_release(&w->runs);
    json_decref(w->shown);
    if (w->open)
        ci_provider_close(&w->p);
    ship_follow_release(&w->fl);
}

int ship_gh_watch(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                  double appear_deadline, double deadline, struct ship_run *r)
{
    struct ghw w;
    memset(&w, 0, sizeof(w));
    ship_follow_init(&w.fl, ctx, st, sha, r, 0);
    struct err e;
    err_clear(&e);
    int code;
    if (gh_open(&w, &e) < 0) {
        ctx->err = e;
        code = e.code;
    } else {
        w.p.deadline = deadline;
        code = follow(&w, appear_deadline, deadline);
    }
    ship_follow_done(&w.fl, frame, &w);
    w.p.deadline = clock_now() + 15; /* the report's own budget */
    struct ci_run *run = decisive(&w);
    if (code == EXIT_FAILED && run && w.open)
        failure_report(&w, run);
    if (code == EXIT_NEEDS_PERSON && run)
        snprintf(r->next, sizeof(r->next), "approve it at %s%s%s", s_or(run->url, "its page"),
                 run->waiting_for ? " (waiting for " : "", run->waiting_for ? run->waiting_for : "");
    if (code == EXIT_NEEDS_PERSON && run && run->waiting_for)
        strncat(r->next, ")", sizeof(r->next) - strlen(r->next) - 1);
    fill_run(&w, code);
    gh_close(&w);
    return code;
}

int ship_gh_status(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                   struct ship_run *r)
{
    struct ghw w;
    memset(&w, 0, sizeof(w));
    ship_follow_init(&w.fl, ctx, st, sha, r, 1);
    struct err e;
    err_clear(&e);
    int rc = 0, v = -1;
    if (gh_open(&w, &e) < 0 || (v = poll_runs(&w, &e)) == -2)
        rc = ship_run_unreadable(r, &e);
    else if (!w.runs.n)
        ship_run_none(r, "no workflow run of %.7s in %s yet", sha, st->repo);
    else
        fill_run(&w, v);
    gh_close(&w);
    return rc;
}
