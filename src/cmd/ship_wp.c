/*
 * ship_wp: a Woodpecker stage of `ship`: find the pipeline of the commit
 * (by its commit, or by a variable such as IMAGE_TAG that names it) and
 * follow it to a verdict by polling the list and the detail endpoints.
 *
 * Polling, not the event stream: a stage may wait ten minutes for a deploy
 * pipeline that another system starts, and the list is the only place a
 * manual pipeline's variables show up. While waiting for the pipeline to
 * appear the list is read every 3 s; while following, the detail every
 * 3 s and the list every 6 s (a newer match replaces a running one), about
 * 30 requests a minute. Transport trouble only delays; a minute without
 * any answer ends the stage with exit 6.
 *
 * Everything goes through the provider interface (ci/provider.h): the list
 * is list_runs (the stage's event as the filter; a run's vars carry a
 * manual pipeline's variables), the detail run_by_id, the failing steps'
 * log tails read_log; what is shown comes from the model (ci/model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/ci_common.h"
#include "cmd/ci_view.h"
#include "cmd/ship_stage.h"
#include "core/clock.h"
#include "core/term.h"
#include "woodpecker/provider.h"

#define POLL 3.0
#define LIST_EVERY 6.0
#define OUTAGE_LIMIT 60.0
#define LOG_LINES 30
#define LIST_PAGE 20

struct wpw {
    struct ship_follow fl;
    struct ci_provider p;
    int open;
    struct ci_run cur;
    int have;
};

static const char *word(const char *s)
{
    return s ? s : "";
}

/* The model's verdict over the one run: a person's approval ends the
 * stage (4); a pipeline-level "skipped" ran nothing, which the provider
 * files as a failure. */
static int verdict(const struct ci_run *r)
{
    struct ci_runset one = { (struct ci_run *)r, 1 };
    return ci_verdict(&one, 0);
}

static int session_open(struct wpw *w, struct err *e)
{
    if (wp_provider_open(&w->p, &w->fl.ctx->cfg, w->fl.st->repo, w->fl.ctx->g.verbose, 0, e) < 0)
        return -1;
    w->open = 1;
    return 0;
}

/* No request or retry may outlast `deadline` (see http.h). */
static void set_deadline(struct wpw *w, double deadline)
{
    struct http_client *c = ci_provider_transport(&w->p);
    w->p.deadline = deadline;
    if (c)
        c->deadline = deadline;
}

static void what_is_matched(const struct wpw *w, char *out, size_t n)
{
    if (w->fl.st->match == SHIP_MATCH_VARIABLE)
        snprintf(out, n, "a pipeline with %s naming %.7s", w->fl.st->variable, w->fl.sha);
    else
        snprintf(out, n, "a pipeline of %.7s", w->fl.sha);
}

/* The newest pipeline on the list's first page that belongs to the stage. */
static int newest_match(struct wpw *w, long long *number, struct err *e)
{
    struct ci_filter f = { .event = w->fl.st->event };
    struct ci_runset runs = { 0 };
    if (ci_list_runs(&w->p, &f, LIST_PAGE, &runs, e) < 0) {
        ci_runset_release(&runs);
        return -1;
    }
    *number = 0;
    for (size_t i = 0; i < runs.n; i++) {
        const struct ci_run *r = &runs.runs[i];
        if (r->number > *number && ship_run_matches(w->fl.st, r, w->fl.sha))
            *number = r->number;
    }
    ci_runset_release(&runs);
    return 0;
}

/* ---- rendering ---- */

static void event_line(struct wpw *w, const char *wf, const char *step, const char *state)
{
    if (w->fl.ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:I, s:s}", "event", step ? "step" : "pipeline", "number",
                              (json_int_t)w->cur.number, "status", word(w->cur.status));
        if (step)
            json_object_set_new(j, "step", json_sprintf("%s/%s", wf, step));
        if (state)
            json_object_set_new(j, "state", json_string(state));
        term_json_line(j);
        json_decref(j);
        return;
    }
    char line[512];
    if (step)
        snprintf(line, sizeof(line), "#%lld %s/%s %s", w->cur.number, wf, step, state);
    else
        snprintf(line, sizeof(line), "#%lld %s", w->cur.number, word(w->cur.status));
    term_plain_line(&w->fl.plain, stderr, line);
}

static void report_step_change(void *ctx, const struct ci_job *j, const struct ci_step *st)
{
    event_line(ctx, j->name, st->name, word(st->status));
}

static void report_changes(struct wpw *w, const struct ci_run *old)
{
    const struct ci_run *p = &w->cur;
    if (!old || old->number != p->number || strcmp(word(old->status), word(p->status)))
        event_line(w, NULL, NULL, NULL);
    ci_view_step_changes(old, p, report_step_change, w);
}

static void frame(void *follower, struct buf *f, double now, const char *el)
{
    struct wpw *w = follower;
    if (!w->have) {
        char what[160];
        what_is_matched(w, what, sizeof(what));
        buf_addf(f, "%s waiting for %s in %s  %s\n", term_spinner(w->fl.term.utf8, now), what,
                 w->fl.st->repo, el);
        return;
    }
    struct buf line;
    buf_init(&line, 0);
    ci_view_pipeline_line(&w->cur, (long long)clock_wall(), &line);
    int done = ci_state_final(w->cur.state);
    buf_addf(f, "%s ", done ? " " : term_spinner(w->fl.term.utf8, now));
    term_paint(f, w->fl.term.color, ci_status_tone(word(w->cur.status)), line.data);
    buf_addc(f, '\n'); /* the summary line has its own duration */
    buf_release(&line);
    ci_view_pipeline_tree(&w->cur, (long long)clock_wall(), w->fl.term.color, f);
}

static void draw(struct wpw *w, int force)
{
    ship_follow_draw(&w->fl, frame, w, force);
}

/* ---- reading ---- */

static int read_detail(struct wpw *w, long long number, struct err *e)
{
    struct ci_run fresh;
    if (w->p.ops->run_by_id(&w->p, number, &fresh, e) < 0)
        return -1;
    if (w->fl.quiet) {
        /* nothing to show */
    } else if (w->have && fresh.number != w->cur.number && w->fl.ctx->mode != OUTPUT_JSON) {
        char msg[200];
        snprintf(msg, sizeof(msg), "#%lld is replaced by the newer #%lld", w->cur.number,
                 fresh.number);
        if (w->fl.ctx->mode == OUTPUT_TTY)
            term_live_clear(&w->fl.term);
        term_plain_line(&w->fl.plain, stderr, msg);
    } else if (w->have && fresh.number != w->cur.number) {
        json_t *j = json_pack("{s:s, s:I, s:I}", "event", "replaced", "from",
                              (json_int_t)w->cur.number, "number", (json_int_t)fresh.number);
        term_json_line(j);
        json_decref(j);
    }
    struct ci_run old = w->cur;
    int had = w->have;
    w->cur = fresh;
    w->have = 1;
    if (!w->fl.quiet && w->fl.ctx->mode != OUTPUT_TTY)
        report_changes(w, had ? &old : NULL);
    if (had)
        ci_run_release(&old);
    draw(w, 0);
    return 0;
}

/* Transport trouble and 5xx delay a stage; a refused token ends it. */
static int fatal(const struct err *e)
{
    return e->code == EXIT_REFUSED || e->code == EXIT_USAGE;
}

static int pause_until(struct wpw *w, double until)
{
    while (clock_now() < until) {
        if (term_interrupted())
            return -1;
        draw(w, 0);
        clock_sleep(0.1);
    }
    return 0;
}

static int never_appeared(struct wpw *w)
{
    char what[160];
    what_is_matched(w, what, sizeof(what));
    err_set(&w->fl.ctx->err, EXIT_NOT_FOUND, "stage %s: no %s appeared in %s within %.0fs",
            w->fl.st->name, what + 2, w->fl.st->repo, w->fl.st->appear_timeout);
    snprintf(w->fl.r->next, sizeof(w->fl.r->next), "homelab ci list --repo %s", w->fl.st->repo);
    snprintf(w->fl.r->status, sizeof(w->fl.r->status), "never-appeared");
    return EXIT_NOT_FOUND;
}

static int follow(struct wpw *w, double appear_deadline, double deadline)
{
    double next_list = 0;
    struct err last;
    err_clear(&last);
    for (;;) {
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        double now = clock_now();
        struct err e;
        err_clear(&e);
        long long n = 0;
        int switched = 0;
        if (!w->have || now >= next_list) {
            if (newest_match(w, &n, &e) == 0) {
                w->fl.last_ok = now;
                next_list = now + (w->have ? LIST_EVERY : POLL);
                if (n && (!w->have || n > w->cur.number)) {
                    switched = read_detail(w, n, &e) == 0;
                    w->fl.last_ok = switched ? clock_now() : w->fl.last_ok;
                }
            }
        }
        if (w->have && !switched && !e.code && read_detail(w, w->cur.number, &e) == 0)
            w->fl.last_ok = clock_now();
        if (e.code && fatal(&e)) {
            w->fl.ctx->err = e;
            return e.code;
        }
        if (e.code)
            last = e;
        if (w->have && !e.code) {
            int code = verdict(&w->cur);
            if (code >= 0)
                return code;
        }
        now = clock_now();
        if (!w->have && now >= appear_deadline)
            return never_appeared(w);
        if (now >= deadline) {
            err_set(&w->fl.ctx->err, EXIT_TIMEOUT, "stage %s: timed out", w->fl.st->name);
            return EXIT_TIMEOUT;
        }
        if (now - w->fl.last_ok > OUTAGE_LIMIT) {
            w->fl.ctx->err = last;
            err_wrap(&w->fl.ctx->err, "stage %s: no answer for %.0fs", w->fl.st->name, OUTAGE_LIMIT);
            w->fl.ctx->err.code = EXIT_UNAVAILABLE;
            return EXIT_UNAVAILABLE;
        }
        double until = now + POLL;
        if (!w->have && until > appear_deadline)
            until = appear_deadline;
        if (until > deadline)
            until = deadline;
        if (pause_until(w, until) < 0)
            return EXIT_INTERRUPTED;
    }
}

/* ---- the failure report ---- */

/* One failed step: its line, its log's tail (through the provider's
 * read_log, as ci watch reads it) and the "full log:" command. */
static void report_step(struct wpw *w, struct ci_provider *p, const struct ci_run *r,
                        const struct ci_job *j, const struct ci_step *st, json_t *arr,
                        struct buf *out)
{
    struct strvec lines = STRVEC_INIT;
    struct err e;
    if (ci_view_failed_step(p, r, j, st, LOG_LINES, w->fl.ctx->color && w->fl.ctx->stdout_tty,
                            &lines, out, &e) < 0)
        buf_addf(out, "  (log unavailable: %s)\n", e.msg);
    json_t *tail = ci_view_tail_lines(&lines, out);
    strvec_clear(&lines);
    char next[600];
    snprintf(next, sizeof(next), "homelab ci logs '#%lld' --repo %s --step '%s/%s'",
             r->number, w->fl.st->repo, j->name, st->name);
    buf_addf(out, "full log: %s\n", next);
    if (!w->fl.r->next[0])
        snprintf(w->fl.r->next, sizeof(w->fl.r->next), "%s", next);
    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:o}", "workflow", j->name, "step",
                                         st->name, "state", st->status, "exit_code", st->exit_code,
                                         "log_tail", tail));
}

static void failure_report(struct wpw *w)
{
    json_t *arr = json_array();
    struct buf out;
    buf_init(&out, 0);
    const struct ci_run *r = &w->cur;
    if (r->error)
        buf_addf(&out, "error: %s\n", r->error);
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        if (!ci_state_failed(j->state))
            continue; /* a failed step there had `failure: ignore` */
        for (size_t k = 0; k < j->nsteps; k++)
            if (ci_view_step_reported(&j->steps[k]))
                report_step(w, &w->p, r, j, &j->steps[k], arr, &out);
    }
    if (!w->fl.r->next[0])
        snprintf(w->fl.r->next, sizeof(w->fl.r->next), "homelab ci status '#%lld' --repo %s",
                 r->number, w->fl.st->repo);
    ship_follow_report(&w->fl, &out, "failed_steps", arr);
}

static void fill_run(struct wpw *w, int code)
{
    struct ship_run *r = w->fl.r;
    r->code = code;
    if (!w->have) {
        if (!r->status[0])
            snprintf(r->status, sizeof(r->status), "%s",
                     code == EXIT_TIMEOUT ? "timeout" : exit_code_name(code));
        return;
    }
    r->number = w->cur.number;
    snprintf(r->status, sizeof(r->status), "%s",
             code == EXIT_TIMEOUT ? "timeout" : code == EXIT_INTERRUPTED ? "interrupted"
                                                                         : word(w->cur.status));
    snprintf(r->url, sizeof(r->url), "%s", word(w->cur.url));
    char dur[32];
    ci_format_duration(ci_elapsed(w->cur.started, w->cur.finished, (long long)clock_wall()), dur,
                       sizeof(dur));
    if (ci_state_final(w->cur.state))
        snprintf(r->line, sizeof(r->line), "%s %s (#%lld)", word(w->cur.status), dur,
                 w->cur.number);
    else
        snprintf(r->line, sizeof(r->line), "#%lld %s %s", w->cur.number, word(w->cur.status),
                 dur);
}

int ship_wp_watch(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                  double appear_deadline, double deadline, struct ship_run *r)
{
    struct wpw w;
    memset(&w, 0, sizeof(w));
    ship_follow_init(&w.fl, ctx, st, sha, r, 0);
    int code;
    struct err e;
    err_clear(&e);
    if (session_open(&w, &e) < 0) {
        ctx->err = e;
        code = e.code;
    } else {
        set_deadline(&w, deadline);
        code = follow(&w, appear_deadline, deadline);
    }
    ship_follow_done(&w.fl, frame, &w);
    if (w.open) {
        /* the verdict is in: the report gets a short budget of its own */
        set_deadline(&w, clock_now() + 15);
        if (code == EXIT_FAILED && w.have)
            failure_report(&w);
    }
    fill_run(&w, code);
    if (code == EXIT_NEEDS_PERSON && w.have)
        snprintf(r->next, sizeof(r->next), "approve it at %s", r->url);
    if (w.have)
        ci_run_release(&w.cur);
    if (w.open)
        ci_provider_close(&w.p);
    ship_follow_release(&w.fl);
    return code;
}

int ship_wp_status(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                   struct ship_run *r)
{
    struct wpw w;
    memset(&w, 0, sizeof(w));
    ship_follow_init(&w.fl, ctx, st, sha, r, 1); /* `ship status` prints the record */
    struct err e;
    err_clear(&e);
    long long n = 0;
    int rc = 0;
    if (session_open(&w, &e) < 0 || newest_match(&w, &n, &e) < 0 ||
        (n && read_detail(&w, n, &e) < 0)) {
        rc = ship_run_unreadable(r, &e);
    } else if (!n) {
        char what[160];
        what_is_matched(&w, what, sizeof(what));
        ship_run_none(r, "no %s in %s yet", what + 2, st->repo);
    } else {
        fill_run(&w, verdict(&w.cur));
    }
    if (w.have)
        ci_run_release(&w.cur);
    if (w.open)
        ci_provider_close(&w.p);
    ship_follow_release(&w.fl);
    return rc;
}
