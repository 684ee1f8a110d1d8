/*
 * ci watch: follow the pipeline of an exact commit to a verdict.
 *
 * The loop has one source of truth, the pipeline detail endpoint, and two
 * ways to learn that it is worth asking: the event stream (a hint that
 * "pipeline N of repo R changed", fast but unreliable: it silently drops
 * private repos for a bad token, reorders, never replays, and proxies may
 * buffer it) and a timer. While the stream is healthy the detail is read
 * when an event says the pipeline's status changed, and every 30 s to
 * reconcile; if a reconcile finds a change no event announced, the stream
 * is blind for this repo and the watch polls every 3 s, re-opening the
 * stream with backoff all along. Faults (drops, stalls, empty bodies, 5xx)
 * only delay; a verdict comes only from the server's own pipeline state.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/ci_common.h"
#include "cmd/ci_view.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/http.h"
#include "woodpecker/hints.h"
#include "woodpecker/provider.h"
#include "core/term.h"

#define POLL_INTERVAL 3.0
#define RECONCILE_INTERVAL 30.0
/* A restart shows up on the stream as an event of a newer pipeline; the list
 * is read now and then in case that event was lost (streaming), or as the
 * only way to see it (polling). With the detail reads this keeps a watch
 * at 2.5 requests a minute on the stream and about 23 while polling. */
#define RESTART_CHECK_STREAMING 120.0
#define RESTART_CHECK_POLLING 30.0
#define APPEAR_POLL 1.0
#define REPORT_BUDGET 15.0 /* seconds for the failure report after the verdict */

static struct {
    double appear_timeout;
    long log_lines;
    int wait_approval;
} watch_opts = { -1, 30, 0 }; /* appear_timeout < 0: the provider's default */

const struct opt ci_watch_opts[] = {
    { "appear-timeout", OPT_DURATION, &watch_opts.appear_timeout, "DURATION",
      "how long to wait for CI to pick up the commit (default 3m; GitHub 10m)" },
    { "event", OPT_STRING, &ci_gh_opts.event, "NAME", "GitHub: runs of this event (default push; any)" },
    { "log-lines", OPT_INT, &watch_opts.log_lines, "N",
      "log lines shown per failing step (default 30)" },
    { "wait-approval", OPT_BOOL, &watch_opts.wait_approval, NULL,
      "keep waiting while the pipeline is blocked awaiting approval" },
    OPT_END,
};

struct watch {
    struct cmd_ctx *ctx;
    struct ci_session *s;
    struct ci_provider p;  /* around s's client: log tails */
    const struct ci_target *t;
    struct wp_pipeline cur;
    int have;
    int confirmed;         /* cur came from the detail endpoint, not an event */
    char *confirmed_status;
    double deadline;

    /* the event stream's hints (woodpecker/hints.h) */
    struct wp_hints hints;
    int event_status_change; /* an event changed our pipeline's status */
    int announced;           /* events about our pipeline since the last read */
    long long newer;         /* a newer pipeline of the same commit, from events */

    double next_detail, next_restart_check;

    /* output */
    struct term term;
    struct term_plain plain;
    double started_at;
    double outage_told;    /* the outage announced in plain/JSON mode */
    char timeout_text[32]; /* --timeout as "3s", "30m" */
    const json_t *extra;   /* fields added to the result line, or NULL */
};

/* ---- verdicts ---- */

static int verdict_code(const char *status, int wait_approval)
{
    if (!strcmp(status, "blocked"))
        return wait_approval ? -1 : EXIT_NEEDS_PERSON;
    if (!strcmp(status, "skipped"))
        return EXIT_FAILED; /* finished, but nothing ran: not a success */
    return wp_status_exit_code(status);
}

/* ---- reporting ---- */

static void states_signature(const struct wp_pipeline *p, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%lld %s", p->number, p->status);
    for (size_t i = 0; i < p->nworkflows; i++)
        for (size_t k = 0; k < p->workflows[i].nsteps; k++)
            buf_addf(out, "|%s", p->workflows[i].steps[k].state);
}

static void json_change(struct watch *w, const char *kind, const char *wf, const char *step,
                        const char *state)
{
    json_t *j = json_pack("{s:s, s:I, s:s}", "event", kind, "number",
                          (json_int_t)w->cur.number, "status", w->cur.status);
    if (wf)
        json_object_set_new(j, "workflow", json_string(wf));
    if (step)
        json_object_set_new(j, "step", json_string(step));
    if (state)
        json_object_set_new(j, "state", json_string(state));
    term_json_line(j);
    json_decref(j);
}

static void report_pipeline(struct watch *w, int json);
static void report_steps(struct watch *w, const struct wp_pipeline *old, int json, char *line,
                         size_t linelen);

/* Plain and JSON modes: one line per step or pipeline state change. */
static void report_changes(struct watch *w, const struct wp_pipeline *old)
{
    const struct wp_pipeline *p = &w->cur;
    int json = w->ctx->mode == OUTPUT_JSON;
    char line[512];
    int changed = !old || old->number != p->number || strcmp(old->status, p->status);
    /* a verdict comes after the steps that led to it; a start before them */
    int verdict_last = wp_status_terminal(p->status);
    if (changed && !verdict_last)
        report_pipeline(w, json);
    report_steps(w, old, json, line, sizeof(line));
    if (changed && verdict_last)
        report_pipeline(w, json);
}

static void report_pipeline(struct watch *w, int json)
{
    char line[64];
    if (json) {
        json_change(w, "pipeline", NULL, NULL, NULL);
    } else {
        snprintf(line, sizeof(line), "#%lld %.40s", w->cur.number, w->cur.status);
        term_plain_line(&w->plain, stderr, line);
    }
}

static void report_steps(struct watch *w, const struct wp_pipeline *old, int json, char *line,
                         size_t linelen)
{
    const struct wp_pipeline *p = &w->cur;
    for (size_t i = 0; i < p->nworkflows; i++) {
        const struct wp_workflow *wf = &p->workflows[i];
        for (size_t k = 0; k < wf->nsteps; k++) {
            const struct wp_step *st = &wf->steps[k];
            const char *before = NULL;
            if (old && old->number == p->number && i < old->nworkflows &&
                k < old->workflows[i].nsteps)
                before = old->workflows[i].steps[k].state;
            if (before && !strcmp(before, st->state))
                continue;
            if (!before && (!strcmp(st->state, "pending") || !strcmp(st->state, "blocked")))
                continue;
            if (json) {
                json_change(w, "step", wf->name, st->name, st->state);
            } else {
                snprintf(line, linelen, "#%lld %s/%s %s", p->number, wf->name, st->name,
                         st->state);
                term_plain_line(&w->plain, stderr, line);
            }
        }
    }
}

/* Plain and JSON modes: the outage line on stderr once, as it begins. */
static void tell_outage(struct watch *w)
{
    char outage[96];
    double since = http_outage_since(&w->s->client.http);
    if (since && since != w->outage_told &&
        http_outage_line(&w->s->client.http, outage, sizeof(outage))) {
        w->outage_told = since;
        fprintf(stderr, "homelab: %s\n", outage);
    }
}

static void draw(struct watch *w, int force)
{
    if (w->ctx->mode != OUTPUT_TTY) {
        tell_outage(w);
        return;
    }
    struct buf frame;
    buf_init(&frame, 0);
    double now = clock_now();
    long long wall = (long long)clock_wall();
    char elapsed[32];
    term_fmt_duration(elapsed, sizeof(elapsed), now - w->started_at);
    if (!w->have) {
        buf_addf(&frame, "%s waiting for CI to pick up %s  %s\n",
                 term_spinner(w->term.utf8, now), w->t->label, elapsed);
    } else {
        struct buf line;
        buf_init(&line, 0);
        ci_summary_line(&w->cur, wall, &line);
        int done = wp_status_terminal(w->cur.status);
        buf_addf(&frame, "%s ", done ? " " : term_spinner(w->term.utf8, now));
        /* the line carries the pipeline's own duration: no second clock */
        term_paint(&frame, w->term.color, ci_status_tone(w->cur.status), line.data);
        buf_addc(&frame, '\n');
        buf_release(&line);
        ci_render_tree(&w->cur, wall, w->term.color, &frame);
    }
    char outage[96];
    if (http_outage_line(&w->s->client.http, outage, sizeof(outage))) {
        term_paint(&frame, w->term.color, TERM_YELLOW, outage);
        buf_addc(&frame, '\n');
    }
    term_live(&w->term, frame.data, now, force);
    buf_release(&frame);
}

/* Takes a freshly read detail as the current state and reports changes. */
static void adopt(struct watch *w, struct wp_pipeline *fresh)
{
    struct wp_pipeline old = w->cur;
    int had = w->have;
    w->cur = *fresh;
    w->have = 1;
    memset(fresh, 0, sizeof(*fresh));
    if (w->ctx->mode != OUTPUT_TTY)
        report_changes(w, had ? &old : NULL);
    if (had)
        wp_pipeline_release(&old);
    draw(w, 0);
}

/* ---- the event stream ---- */

/*
 * How far a pipeline has got: events are not ordered, so an event showing
 * less progress than what is on screen is older news and is not shown.
 */
static int progress(const struct wp_pipeline *p)
{
    int score = wp_status_terminal(p->status) ? 1000000 : 0;
    for (size_t i = 0; i < p->nworkflows; i++)
        for (size_t k = 0; k < p->workflows[i].nsteps; k++) {
            const char *st = p->workflows[i].steps[k].state;
            score += wp_status_terminal(st) ? 2 : !strcmp(st, "running") ? 1 : 0;
        }
    return score;
}

/* An event about one of the repo's pipelines: a hint, shown early when it
 * shows progress (events are not ordered), never a verdict. */
static void on_pipeline_event(void *ud, struct wp_pipeline *p)
{
    struct watch *w = ud;
    if (!w->have)
        return;
    if (p->number == w->cur.number) {
        w->announced = 1;
        if (strcmp(p->status, w->confirmed_status))
            w->event_status_change = 1;
        if (p->has_workflows && progress(p) >= progress(&w->cur)) {
            adopt(w, p); /* takes it */
            w->confirmed = 0;
        }
    } else if (p->number > w->cur.number && w->t->sha && wp_commit_matches(p->commit, w->t->sha)) {
        w->newer = p->number > w->newer ? p->number : w->newer;
    }
}

/* ---- reading the truth ---- */

static int states_changed(const struct wp_pipeline *a, const struct wp_pipeline *b)
{
    struct buf x, y;
    buf_init(&x, 0);
    buf_init(&y, 0);
    states_signature(a, &x);
    states_signature(b, &y);
    int changed = strcmp(x.data, y.data) != 0;
    buf_release(&x);
    buf_release(&y);
    return changed;
}

/* One detail read; transport trouble is not a verdict, only a delay. */
static int read_detail(struct watch *w, long long number)
{
    struct wp_pipeline fresh;
    struct err e;
    err_clear(&e);
    if (wp_get_pipeline(&w->s->client, w->s->repo.id, number, &fresh, &e) < 0) {
        if (e.code == EXIT_REFUSED || (e.code == EXIT_NOT_FOUND && !w->have)) {
            w->ctx->err = e;
            return -1;
        }
        if (w->ctx->g.verbose)
            fprintf(stderr, "homelab: %s (will retry)\n", e.msg);
        return 0;
    }
    if (w->have && fresh.number == w->cur.number && w->hints.healthy && !w->announced &&
        states_changed(&w->cur, &fresh))
        wp_hints_blind(&w->hints); /* it missed a change of our pipeline: it cannot see this repo */
    w->announced = 0;
    w->event_status_change = 0;
    free(w->confirmed_status);
    w->confirmed_status = xstrdup(fresh.status);
    adopt(w, &fresh);
    w->confirmed = 1;
    return 0;
}

/* A newer pipeline for the same commit (a restart) takes over. */
static void check_restart(struct watch *w)
{
    if (!w->t->sha)
        return;
    long long newer = w->newer;
    if (!newer) {
        struct wp_pipeline item;
        long long newest;
        struct err e;
        err_clear(&e);
        if (wp_find_pipeline(&w->s->client, w->s->repo.id, w->t->sha, &item, &newest, &e) == 1) {
            if (item.number > w->cur.number)
                newer = item.number;
            wp_pipeline_release(&item);
        }
    }
    w->newer = 0;
    if (newer > w->cur.number) {
        char msg[160];
        snprintf(msg, sizeof(msg), "pipeline #%lld restarted as #%lld; following #%lld",
                 w->cur.number, newer, newer);
        if (w->ctx->mode == OUTPUT_TTY)
            term_live_clear(&w->term);
        if (w->ctx->mode == OUTPUT_JSON) {
            json_t *j = json_pack("{s:s, s:I, s:I}", "event", "restart", "from",
                                  (json_int_t)w->cur.number, "number", (json_int_t)newer);
            term_json_line(j);
            json_decref(j);
        } else {
            fprintf(stderr, "homelab: %s\n", msg);
        }
        read_detail(w, newer);
    }
}

/*
 * At the deadline: when the server has been unreachable since some time,
 * the pipeline's state is unknown and the outage is why the wait ended
 * (exit 6). Returns 1 with ctx->err set then, else 0.
 */
static int outage_ended(struct watch *w)
{
    const struct http_client *c = &w->s->client.http;
    if (!c->answered || !c->outage_since)
        return 0;
    char line[96];
    snprintf(line, sizeof(line), "?");
    time_t t = (time_t)c->outage_since;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(line, sizeof(line), "%H:%M:%S", &tm);
    if (w->have)
        err_set(&w->ctx->err, EXIT_UNAVAILABLE, "the server has been unreachable since %s; "
                "pipeline #%lld was last seen %s", line, w->cur.number, w->cur.status);
    else
        err_set(&w->ctx->err, EXIT_UNAVAILABLE, "the server has been unreachable since %s; "
                "no pipeline for %s seen yet", line, w->t->label);
    char target[80];
    if (w->have)
        snprintf(target, sizeof(target), "'#%lld'", w->cur.number);
    else
        snprintf(target, sizeof(target), "%s", w->t->label);
    err_hint(&w->ctx->err, "its state is unknown: run 'homelab ci status %s' once the server "
             "is back", target);
    return 1;
}

/* ---- finding the pipeline after a push ---- */

/* --timeout before the pipeline appeared: blame the outage if there is
 * one, else say plainly that nothing appeared. */
static int appear_timed_out(struct watch *w)
{
    if (outage_ended(w))
        return -1;
    err_set(&w->ctx->err, EXIT_TIMEOUT, "no pipeline for %s appeared within %s", w->t->label,
            w->timeout_text);
    err_hint(&w->ctx->err, "was it pushed? is this branch or event excluded by the "
             "pipeline's 'when' conditions?");
    return -1;
}

static int find_first(struct watch *w)
{
    if (watch_opts.appear_timeout < 0)
        watch_opts.appear_timeout = 180;
    double appear_deadline = clock_now() + watch_opts.appear_timeout;
    int said = 0;
    for (;;) {
        struct wp_pipeline p;
        struct err e;
        err_clear(&e);
        int found = ci_find(w->s, w->t, &p, &e);
        if (found == 1) {
            w->confirmed_status = xstrdup(p.status);
            adopt(w, &p);
            w->confirmed = 1;
            return 0;
        }
        if (found < 0 && e.code == EXIT_TIMEOUT)
            return appear_timed_out(w);
        if (found < 0 && e.code != EXIT_UNAVAILABLE) {
            w->ctx->err = e;
            return -1;
        }
        if (w->t->number && found == 0) {
            w->ctx->err = e;
            return -1;
        }
        if (!said && w->ctx->mode != OUTPUT_JSON) {
            if (w->ctx->mode == OUTPUT_PLAIN && !w->ctx->g.quiet)
                fprintf(stderr, "waiting for CI to pick up %s\n", w->t->label);
            said = 1;
        }
        double now = clock_now();
        if (now >= appear_deadline) {
            err_set(&w->ctx->err, EXIT_NOT_FOUND, "no pipeline appeared for %s in %s within %.0fs",
                    w->t->label, w->s->repo.full_name, watch_opts.appear_timeout);
            err_hint(&w->ctx->err, "was it pushed? is this branch or event excluded by the "
                     "pipeline's 'when' conditions?");
            return -1;
        }
        if (now >= w->deadline)
            return appear_timed_out(w);
        for (double until = now + APPEAR_POLL; clock_now() < until;) {
            if (term_interrupted())
                return -1;
            draw(w, 0);
            clock_sleep(0.1);
        }
    }
}

/* ---- the main loop ---- */

static int follow(struct watch *w)
{
    double now = clock_now();
    w->next_detail = now + RECONCILE_INTERVAL;
    w->next_restart_check = now + RESTART_CHECK_STREAMING;
    wp_hints_open(&w->hints);
    for (;;) {
        /* only the detail endpoint's word is a verdict; events are hints */
        int code = w->confirmed ? verdict_code(w->cur.status, watch_opts.wait_approval) : -1;
        if (code >= 0)
            return code;
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        now = clock_now();
        if (now >= w->deadline) {
            if (outage_ended(w))
                return EXIT_UNAVAILABLE;
            err_set(&w->ctx->err, EXIT_TIMEOUT, "timed out after %s; pipeline #%lld is "
                    "still %s", w->timeout_text, w->cur.number, w->cur.status);
            return EXIT_TIMEOUT;
        }
        wp_hints_check(&w->hints, now);
        /* wait for stream data or the next timer, in short slices so
         * signals and redraws are handled promptly */
        double wait = w->next_detail - now;
        if (wait > 0.2)
            wait = 0.2;
        wp_hints_wait(&w->hints, wait);
        now = clock_now();
        if (w->newer || now >= w->next_restart_check) {
            check_restart(w);
            w->next_restart_check = now + (w->hints.healthy ? RESTART_CHECK_STREAMING
                                                             : RESTART_CHECK_POLLING);
        }
        if (w->event_status_change || now >= w->next_detail) {
            if (read_detail(w, w->cur.number) < 0)
                return w->ctx->err.code;
            now = clock_now();
            w->next_detail = now + (w->hints.healthy ? RECONCILE_INTERVAL : POLL_INTERVAL);
        }
        if (!wp_hints_usable(&w->hints, now) && w->next_detail > now + POLL_INTERVAL)
            w->next_detail = now + POLL_INTERVAL;
        if (!wp_hints_usable(&w->hints, now) && w->next_restart_check > now + RESTART_CHECK_POLLING)
            w->next_restart_check = now + RESTART_CHECK_POLLING;
        draw(w, 0);
    }
}

/* ---- failure report ---- */

/* "full log: homelab ci logs '#N' --step 'WF/STEP'" with the flags the user
 * gave for the server and repo, so it works as printed. */
static void full_log_hint(struct watch *w, const char *wf, const char *step, struct buf *out)
{
    struct buf name;
    buf_init(&name, 0);
    buf_addf(&name, "%s/%s", wf, step);
    buf_addf(out, "full log: homelab ci logs '#%lld' --step ", w->cur.number);
    ci_shell_quote(out, name.data, 1);
    ci_hint_flags(w->ctx, out);
    buf_addc(out, '\n');
    buf_release(&name);
}

/* One failed step: its line, its log's tail and the "full log:" hint. */
static json_t *report_step(struct watch *w, const struct ci_run *r, const struct ci_job *j,
                           const struct ci_step *st, struct buf *out)
{
    const char *error = st->error ? st->error : "";
    buf_addf(out, "\nfailed: %s/%s (%s, exit code %d)%s%s\n", j->name, st->name, st->status,
             st->exit_code, *error ? ": " : "", error);
    struct strvec lines = STRVEC_INIT;
    struct err e;
    err_clear(&e);
    int rc = ci_view_step_tail(&w->p, r, st, (size_t)watch_opts.log_lines,
                               w->ctx->color && w->ctx->stdout_tty, &lines, &e);
    if (rc < 0)
        buf_addf(out, "  (log for %s is unavailable: %s)\n", st->name, e.msg);
    else if (lines.n == 0)
        buf_addf(out, "  (log for %s is empty or unavailable)\n", st->name);
    json_t *tail = ci_view_tail_lines(&lines, out);
    full_log_hint(w, j->name, st->name, out);
    strvec_clear(&lines);
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "workflow", j->name, "step", st->name,
                     "state", st->status, "exit_code", st->exit_code, "error", error,
                     "log_tail", tail);
}

static void failure_report(struct watch *w, json_t *result)
{
    json_t *failed = json_array();
    struct buf out;
    buf_init(&out, 0);
    struct ci_run r;
    wp_pipeline_to_run(&w->cur, &r);
    if (r.error)
        buf_addf(&out, "error: %s\n", r.error);
    for (size_t i = 0; i < r.njobs; i++) {
        const struct ci_job *j = &r.jobs[i];
        if (j->error && !j->nsteps)
            buf_addf(&out, "workflow %s: %s\n", j->name, j->error);
        /* a failed step in a workflow that succeeded had `failure: ignore` */
        if (!ci_state_failed(j->state))
            continue;
        for (size_t k = 0; k < j->nsteps; k++)
            if (ci_view_step_reported(&j->steps[k]))
                json_array_append_new(failed, report_step(w, &r, j, &j->steps[k], &out));
    }
    buf_adds(&out, "view: ");
    ci_pipeline_url(w->s, r.number, &out);
    buf_addc(&out, '\n');
    if (w->ctx->mode != OUTPUT_JSON)
        fputs(out.data, stderr);
    json_object_set_new(result, "failed_steps", failed);
    buf_release(&out);
    ci_run_release(&r);
}

static void finish(struct watch *w, int code)
{
    if (w->ctx->mode == OUTPUT_TTY) {
        draw(w, 1);
        term_live_done(&w->term);
    }
    json_t *result = json_pack("{s:s, s:I, s:s, s:i}", "event", "result", "number",
                               (json_int_t)w->cur.number, "status", w->cur.status,
                               "exit_code", code);
    struct buf url;
    buf_init(&url, 0);
    ci_pipeline_url(w->s, w->cur.number, &url);
    json_object_set_new(result, "url", json_string(url.data));
    json_object_set_new(result, "commit", json_string(w->cur.commit));
    if (w->extra)
        json_object_update(result, (json_t *)w->extra);
    if (code == EXIT_FAILED)
        failure_report(w, result);
    if (code == EXIT_NEEDS_PERSON && w->ctx->mode != OUTPUT_JSON)
        fprintf(stderr, "pipeline #%lld is awaiting approval: approve it at %s\n",
                w->cur.number, url.data);
    if (w->ctx->mode == OUTPUT_JSON) {
        term_json_line(result);
    } else {
        struct buf line;
        buf_init(&line, 0);
        ci_summary_line(&w->cur, (long long)clock_wall(), &line);
        if (code == EXIT_NEEDS_PERSON)
            buf_adds(&line, " (awaiting approval)");
        puts(line.data);
        buf_release(&line);
    }
    buf_release(&url);
    json_decref(result);
}

/*
 * The "status" of a result line when there is no verdict: interrupted,
 * unavailable (the server went away), not-found (nothing appeared), else
 * the pipeline's last known state ("unknown" when none).
 */
static const char *undecided_status(int code, const char *last)
{
    if (code == EXIT_INTERRUPTED)
        return "interrupted";
    if (code == EXIT_UNAVAILABLE)
        return "unavailable";
    if (!last && (code == EXIT_TIMEOUT || code == EXIT_NOT_FOUND))
        return "not-found";
    return last ? last : "unknown";
}

/* The last JSON line of a watch that ended without a verdict. */
static void json_undecided(struct cmd_ctx *ctx, const struct wp_pipeline *p, int code,
                           const json_t *extra)
{
    json_t *r = json_pack("{s:s, s:s, s:i}", "event", "result", "status",
                          undecided_status(code, p ? p->status : NULL), "exit_code", code);
    if (p)
        json_object_set_new(r, "number", json_integer(p->number));
    if (ctx->err.msg[0])
        json_object_set_new(r, "error", json_string(ctx->err.msg));
    if (extra)
        json_object_update(r, (json_t *)extra);
    term_json_line(r);
    json_decref(r);
}

/* Ends an unfinished watch (timeout, interrupt, error) in JSON mode too. */
static void finish_undecided(struct watch *w, int code)
{
    if (w->ctx->mode == OUTPUT_TTY) {
        draw(w, 1);
        term_live_done(&w->term);
    }
    if (w->ctx->mode == OUTPUT_JSON)
        json_undecided(w->ctx, w->have ? &w->cur : NULL, code, w->extra);
}

/* The http client's wait hook: keep the live view (spinner, clock, the
 * outage line) moving while a request or a retry waits. */
static void on_http_wait(void *ud, const struct http_client *c)
{
    (void)c;
    draw(ud, 0);
}

static int watch_run(struct cmd_ctx *ctx, struct ci_session *s, const struct ci_target *t,
                     const json_t *extra)
{
    struct watch w;
    memset(&w, 0, sizeof(w));
    w.extra = extra;
    w.ctx = ctx;
    w.s = s;
    w.t = t;
    w.started_at = clock_now();
    w.deadline = w.started_at + cmd_timeout(ctx);
    /* counted from the session's start; no request or retry may outlast
     * it (see http.h, deadline) */
    if (s->client.http.deadline > 0 && s->client.http.deadline < w.deadline)
        w.deadline = s->client.http.deadline;
    s->client.http.deadline = w.deadline;
    term_fmt_duration(w.timeout_text, sizeof(w.timeout_text), cmd_timeout(ctx));
    term_init(&w.term, 2, ctx->color);
    wp_provider_wrap(&w.p, &s->client, &s->repo, ctx->g.verbose);
    wp_hints_init(&w.hints, &s->client, s->repo.id, ctx->g.verbose, POLL_INTERVAL,
                  on_pipeline_event, &w);
    s->client.http.on_wait = on_http_wait;
    s->client.http.wait_ud = &w;
    int code;
    if (find_first(&w) < 0) {
        code = term_interrupted() ? EXIT_INTERRUPTED : ctx->err.code;
    } else {
        code = verdict_code(w.cur.status, watch_opts.wait_approval);
        if (code < 0)
            code = follow(&w);
    }
    wp_hints_close(&w.hints);
    /* the verdict is in: the failure report (log tails) gets a short
     * budget of its own rather than what is left of --timeout */
    s->client.http.deadline = clock_now() + REPORT_BUDGET;
    if (code == EXIT_INTERRUPTED)
        err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
    if (w.have && (code == EXIT_OK || code == EXIT_FAILED || code == EXIT_NEEDS_PERSON) &&
        !ctx->err.code)
        finish(&w, code);
    else
        finish_undecided(&w, code);
    if (w.have)
        wp_pipeline_release(&w.cur);
    free(w.confirmed_status);
    s->client.http.on_wait = NULL;
    s->client.http.wait_ud = NULL;
    term_plain_release(&w.plain);
    term_release(&w.term);
    ci_provider_close(&w.p);
    return code;
}

int ci_watch_sha(struct cmd_ctx *ctx, const char *sha)
{
    struct ci_target t;
    if (ci_target_start(sha, &t, &ctx->err) < 0)
        return ctx->err.code;
    struct ci_session s;
    int code;
    /* from here on, so that ^C while the repo is looked up (a server that
     * is down) ends the watch promptly, with its JSON result line */
    signal_catch();
    if (ci_session_open_target(ctx, &s, &t) < 0) {
        code = signal_interrupted() ? EXIT_INTERRUPTED : ctx->err.code;
        if (code == EXIT_INTERRUPTED)
            err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
        if (ctx->mode == OUTPUT_JSON)
            json_undecided(ctx, NULL, code, NULL);
    } else {
        code = watch_run(ctx, &s, &t, NULL);
        ci_session_close(&s);
    }
    ci_target_release(&t);
    return code;
}

int ci_watch_number(struct cmd_ctx *ctx, struct ci_session *s, long long number,
                    const json_t *extra)
{
    struct ci_target t;
    memset(&t, 0, sizeof(t));
    t.number = number;
    snprintf(t.label, sizeof(t.label), "#%lld", number);
    return watch_run(ctx, s, &t, extra);
}

int cmd_ci_watch(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh < 0)
        return ctx->err.code;
    if (gh)
        return ci_gh_watch(ctx);
    if (ctx->npos > 1)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci watch' takes at most one REV or #N");
    if (watch_opts.log_lines < 0)
        return EXIT_USAGE;
    return ci_watch_sha(ctx, ctx->npos ? ctx->pos[0] : NULL);
}

double ci_watch_appear_timeout(void)
{
    return watch_opts.appear_timeout;
}

long ci_watch_log_lines(void)
{
    return watch_opts.log_lines;
}

int ci_watch_wait_approval(void)
{
    return watch_opts.wait_approval;
}
