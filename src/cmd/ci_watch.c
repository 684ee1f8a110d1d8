/*
 * ci watch on a provider with one run per commit (the pipeline layout,
 * Woodpecker): follow the run of an exact commit to a verdict, over
 * ci/provider.h only.
 *
 * The loop has one source of truth, the provider's read of the run
 * (run_by_id), and two ways to learn that it is worth asking: the
 * provider's change feed (ci_feed: Woodpecker's event stream, a hint that
 * "run N changed", fast but unreliable: it silently drops private repos
 * for a bad token, reorders, never replays, and proxies may buffer it)
 * and a timer. While the feed is live the run is read when an event says
 * its status changed, and every 30 s to reconcile; if a reconcile finds a
 * change no event announced, the feed is blind for this repo
 * (ci_feed_missed) and the watch polls every 3 s, the provider
 * re-connecting its feed with backoff all along. Faults (drops, stalls,
 * empty bodies, 5xx) only delay; a verdict comes only from a read.
 * The intervals, the rendering and the exit codes are this file's; how
 * the feed connects and when it counts as live are the provider's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/ci_common.h"
#include "cmd/ci_view.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/term.h"
#include "woodpecker/provider.h"

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
    struct ci_provider *p;
    struct http_client *http; /* the provider's transport (outage lines), or NULL */
    const struct ci_target *t;
    struct ci_run cur;
    int have;
    int confirmed;         /* cur came from a read, not an event */
    char *confirmed_status;
    double deadline;

    /* the provider's change feed (ci/provider.h) */
    struct ci_feed feed;
    int event_status_change; /* an event changed our run's status */
    int announced;           /* events about our run since the last read */
    long long newer;         /* a newer run of the same commit, from events */

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

/* The model's verdict over the one run (a pipeline-level "skipped" ran
 * nothing: the provider files it as a failure). */
static int verdict_code(const struct ci_run *r, int wait_approval)
{
    struct ci_runset one = { (struct ci_run *)r, 1 };
    return ci_verdict(&one, wait_approval);
}

/* ---- reporting ---- */

static const char *word(const char *s)
{
    return s ? s : "";
}

static void states_signature(const struct ci_run *r, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%lld %s", r->number, word(r->status));
    for (size_t i = 0; i < r->njobs; i++)
        for (size_t k = 0; k < r->jobs[i].nsteps; k++)
            buf_addf(out, "|%s", word(r->jobs[i].steps[k].status));
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
static void report_step_change(void *ctx, const struct ci_job *wf, const struct ci_step *st);

/* Plain and JSON modes: one line per step or pipeline state change. */
static void report_changes(struct watch *w, const struct ci_run *old)
{
    const struct ci_run *p = &w->cur;
    int json = w->ctx->mode == OUTPUT_JSON;
    int changed = !old || old->number != p->number || strcmp(word(old->status), word(p->status));
    /* a verdict comes after the steps that led to it; a start before them */
    int verdict_last = ci_state_final(p->state);
    if (changed && !verdict_last)
        report_pipeline(w, json);
    ci_view_step_changes(old, p, report_step_change, w);
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

/* One step's change: a plain line or a JSON line. */
static void report_step_change(void *ctx, const struct ci_job *wf, const struct ci_step *st)
{
    struct watch *w = ctx;
    if (w->ctx->mode == OUTPUT_JSON) {
        json_change(w, "step", wf->name, st->name, word(st->status));
    } else {
        char line[512];
        snprintf(line, sizeof(line), "#%lld %s/%s %s", w->cur.number, wf->name, st->name,
                 word(st->status));
        term_plain_line(&w->plain, stderr, line);
    }
}

/* Plain and JSON modes: the outage line on stderr once, as it begins. */
static void tell_outage(struct watch *w)
{
    char outage[96];
    double since = w->http ? http_outage_since(w->http) : 0;
    if (since && since != w->outage_told && http_outage_line(w->http, outage, sizeof(outage))) {
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
        ci_view_pipeline_line(&w->cur, wall, &line);
        int done = ci_state_final(w->cur.state);
        buf_addf(&frame, "%s ", done ? " " : term_spinner(w->term.utf8, now));
        /* the line carries the pipeline's own duration: no second clock */
        term_paint(&frame, w->term.color, ci_status_tone(word(w->cur.status)), line.data);
        buf_addc(&frame, '\n');
        buf_release(&line);
        ci_view_pipeline_tree(&w->cur, wall, w->term.color, &frame);
    }
    char outage[96];
    if (w->http && http_outage_line(w->http, outage, sizeof(outage))) {
        term_paint(&frame, w->term.color, TERM_YELLOW, outage);
        buf_addc(&frame, '\n');
    }
    term_live(&w->term, frame.data, now, force);
    buf_release(&frame);
}

/* Takes a freshly read run as the current state and reports changes. */
static void adopt(struct watch *w, struct ci_run *fresh)
{
    struct ci_run old = w->cur;
    int had = w->have;
    w->cur = *fresh;
    w->have = 1;
    memset(fresh, 0, sizeof(*fresh));
    if (w->ctx->mode != OUTPUT_TTY)
        report_changes(w, had ? &old : NULL);
    if (had)
        ci_run_release(&old);
    draw(w, 0);
}

/* ---- the change feed ---- */

/*
 * How far a pipeline has got: events are not ordered, so an event showing
 * less progress than what is on screen is older news and is not shown.
 */
static int progress(const struct ci_run *r)
{
    int score = ci_state_final(r->state) ? 1000000 : 0;
    for (size_t i = 0; i < r->njobs; i++)
        for (size_t k = 0; k < r->jobs[i].nsteps; k++) {
            enum ci_state st = r->jobs[i].steps[k].state;
            score += ci_state_final(st) ? 2 : st == CI_RUNNING ? 1 : 0;
        }
    return score;
}

/* Whether `commit` is `want` or starts with it (a 7+ hex prefix). */
static int commit_matches(const char *commit, const char *want)
{
    size_t n = strlen(want);
    return n >= 7 && commit && strlen(commit) >= n && !strncasecmp(commit, want, n);
}

/* An event about one of the repo's runs: a hint, shown early when it
 * shows progress (events are not ordered), never a verdict. */
static void on_feed_run(void *ud, struct ci_run *r)
{
    struct watch *w = ud;
    if (!w->have)
        return;
    if (r->number == w->cur.number) {
        w->announced = 1;
        if (strcmp(word(r->status), w->confirmed_status))
            w->event_status_change = 1;
        if (r->has_jobs && progress(r) >= progress(&w->cur)) {
            adopt(w, r); /* takes it */
            w->confirmed = 0;
        }
    } else if (r->number > w->cur.number && w->t->sha && commit_matches(r->sha, w->t->sha)) {
        w->newer = r->number > w->newer ? r->number : w->newer;
    }
}

/* ---- reading the truth ---- */

static int states_changed(const struct ci_run *a, const struct ci_run *b)
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

/* One read of the run; transport trouble is not a verdict, only a delay. */
static int read_detail(struct watch *w, long long number)
{
    struct ci_run fresh;
    struct err e;
    err_clear(&e);
    if (w->p->ops->run_by_id(w->p, number, &fresh, &e) < 0) {
        if (e.code == EXIT_REFUSED || (e.code == EXIT_NOT_FOUND && !w->have)) {
            w->ctx->err = e;
            return -1;
        }
        if (w->ctx->g.verbose)
            fprintf(stderr, "homelab: %s (will retry)\n", e.msg);
        return 0;
    }
    if (w->have && fresh.number == w->cur.number && w->feed.health == CI_FEED_LIVE &&
        !w->announced && states_changed(&w->cur, &fresh))
        ci_feed_missed(w->p, &w->feed); /* it missed a change of our run: it cannot see this repo */
    w->announced = 0;
    w->event_status_change = 0;
    free(w->confirmed_status);
    w->confirmed_status = xstrdup(word(fresh.status));
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
        long long number = 0;
        struct err e;
        err_clear(&e);
        if (ci_newest_run(w->p, w->t->sha, NULL, &number, &e) == 1 && number > w->cur.number)
            newer = number;
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
    const struct http_client *c = w->http;
    if (!c || !c->answered || !c->outage_since)
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

/*
 * The target's run, read: 1 found (r filled), 0 not (yet) there (e filled
 * with EXIT_NOT_FOUND for '#N'), -1 error. A commit's newest run is read
 * after it is found; one that vanished in between is not there yet.
 */
static int find_run(struct watch *w, struct ci_run *r, struct err *e)
{
    long long number = w->t->number;
    if (!number) {
        int rc = ci_newest_run(w->p, w->t->sha, NULL, &number, e);
        if (rc <= 0)
            return rc;
    }
    if (w->p->ops->run_by_id(w->p, number, r, e) < 0)
        return e->code == EXIT_NOT_FOUND ? 0 : -1;
    return 1;
}

static int find_first(struct watch *w)
{
    if (watch_opts.appear_timeout < 0)
        watch_opts.appear_timeout = 180;
    double appear_deadline = clock_now() + watch_opts.appear_timeout;
    int said = 0;
    for (;;) {
        struct ci_run r;
        struct err e;
        err_clear(&e);
        int found = find_run(w, &r, &e);
        if (found == 1) {
            w->confirmed_status = xstrdup(word(r.status));
            adopt(w, &r);
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
                    w->t->label, w->p->repo, watch_opts.appear_timeout);
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
    for (;;) {
        /* only a read's word is a verdict; events are hints */
        int code = w->confirmed ? verdict_code(&w->cur, watch_opts.wait_approval) : -1;
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
        /* wait for a hint or the next timer, in short slices so signals
         * and redraws are handled promptly (the first wait connects the feed) */
        double wait = w->next_detail - now;
        if (wait > 0.2)
            wait = 0.2;
        ci_feed_wait(w->p, &w->feed, wait);
        now = clock_now();
        int live = w->feed.health == CI_FEED_LIVE;
        if (w->newer || now >= w->next_restart_check) {
            check_restart(w);
            w->next_restart_check = now + (live ? RESTART_CHECK_STREAMING : RESTART_CHECK_POLLING);
        }
        if (w->event_status_change || now >= w->next_detail) {
            if (read_detail(w, w->cur.number) < 0)
                return w->ctx->err.code;
            now = clock_now();
            live = w->feed.health == CI_FEED_LIVE;
            w->next_detail = now + (live ? RECONCILE_INTERVAL : POLL_INTERVAL);
        }
        /* no feed to rely on: poll */
        int none = w->feed.health == CI_FEED_NONE;
        if (none && w->next_detail > now + POLL_INTERVAL)
            w->next_detail = now + POLL_INTERVAL;
        if (none && w->next_restart_check > now + RESTART_CHECK_POLLING)
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
    struct strvec lines = STRVEC_INIT;
    struct err e;
    buf_adds(out, "\n");
    int rc = ci_view_failed_step(w->p, r, j, st, (size_t)watch_opts.log_lines,
                                 w->ctx->color && w->ctx->stdout_tty, &lines, out, &e);
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
    const struct ci_run *r = &w->cur;
    if (r->error)
        buf_addf(&out, "error: %s\n", r->error);
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        if (j->error && !j->nsteps)
            buf_addf(&out, "workflow %s: %s\n", j->name, j->error);
        /* a failed step in a workflow that succeeded had `failure: ignore` */
        if (!ci_state_failed(j->state))
            continue;
        for (size_t k = 0; k < j->nsteps; k++)
            if (ci_view_step_reported(&j->steps[k]))
                json_array_append_new(failed, report_step(w, r, j, &j->steps[k], &out));
    }
    buf_addf(&out, "view: %s\n", word(r->url));
    if (w->ctx->mode != OUTPUT_JSON)
        fputs(out.data, stderr);
    json_object_set_new(result, "failed_steps", failed);
    buf_release(&out);
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
    const char *url = word(w->cur.url);
    json_object_set_new(result, "url", json_string(url));
    json_object_set_new(result, "commit", json_string(w->cur.sha));
    if (w->extra)
        json_object_update(result, (json_t *)w->extra);
    if (code == EXIT_FAILED)
        failure_report(w, result);
    if (code == EXIT_NEEDS_PERSON && w->ctx->mode != OUTPUT_JSON)
        fprintf(stderr, "pipeline #%lld is awaiting approval: approve it at %s\n",
                w->cur.number, url);
    if (w->ctx->mode == OUTPUT_JSON) {
        term_json_line(result);
    } else {
        struct buf line;
        buf_init(&line, 0);
        ci_view_pipeline_line(&w->cur, (long long)clock_wall(), &line);
        if (code == EXIT_NEEDS_PERSON)
            buf_adds(&line, " (awaiting approval)");
        puts(line.data);
        buf_release(&line);
    }
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
static void json_undecided(struct cmd_ctx *ctx, const struct ci_run *p, int code,
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

/* Sets the deadline no request or retry may outlast (see http.h). */
static void set_deadline(struct watch *w, double deadline)
{
    w->p->deadline = deadline;
    if (w->http)
        w->http->deadline = deadline;
}

static int watch_run(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
                     const json_t *extra)
{
    struct watch w;
    memset(&w, 0, sizeof(w));
    w.extra = extra;
    w.ctx = ctx;
    w.p = p;
    w.http = ci_provider_transport(p);
    w.t = t;
    w.started_at = clock_now();
    w.deadline = w.started_at + cmd_timeout(ctx);
    /* counted from when the provider was opened; no request or retry may
     * outlast it (see http.h, deadline) */
    if (p->deadline > 0 && p->deadline < w.deadline)
        w.deadline = p->deadline;
    if (w.http && w.http->deadline > 0 && w.http->deadline < w.deadline)
        w.deadline = w.http->deadline;
    set_deadline(&w, w.deadline);
    term_fmt_duration(w.timeout_text, sizeof(w.timeout_text), cmd_timeout(ctx));
    term_init(&w.term, 2, ctx->color);
    w.feed.on_run = on_feed_run;
    w.feed.ctx = &w;
    w.feed.poll_every = POLL_INTERVAL;
    if (w.http) {
        w.http->on_wait = on_http_wait;
        w.http->wait_ud = &w;
    }
    int code;
    if (find_first(&w) < 0) {
        code = term_interrupted() ? EXIT_INTERRUPTED : ctx->err.code;
    } else {
        code = verdict_code(&w.cur, watch_opts.wait_approval);
        if (code < 0)
            code = follow(&w);
    }
    ci_feed_close(p, &w.feed);
    /* the verdict is in: the failure report (log tails) gets a short
     * budget of its own rather than what is left of --timeout */
    set_deadline(&w, clock_now() + REPORT_BUDGET);
    if (code == EXIT_INTERRUPTED)
        err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
    if (w.have && (code == EXIT_OK || code == EXIT_FAILED || code == EXIT_NEEDS_PERSON) &&
        !ctx->err.code)
        finish(&w, code);
    else
        finish_undecided(&w, code);
    if (w.have)
        ci_run_release(&w.cur);
    free(w.confirmed_status);
    if (w.http) {
        w.http->on_wait = NULL;
        w.http->wait_ud = NULL;
    }
    term_plain_release(&w.plain);
    term_release(&w.term);
    return code;
}

int ci_watch_sha(struct cmd_ctx *ctx, const char *sha)
{
    struct ci_target t;
    if (ci_target_start(sha, &t, &ctx->err) < 0)
        return ctx->err.code;
    struct ci_provider p;
    int code;
    /* from here on, so that ^C while the repo is looked up (a server that
     * is down) ends the watch promptly, with its JSON result line */
    signal_catch();
    if (ci_open_provider(ctx, &wp_provider_ops, &t, &p) < 0) {
        code = signal_interrupted() ? EXIT_INTERRUPTED : ctx->err.code;
        if (code == EXIT_INTERRUPTED)
            err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
        if (ctx->mode == OUTPUT_JSON)
            json_undecided(ctx, NULL, code, NULL);
    } else {
        code = watch_run(ctx, &p, &t, NULL);
        ci_provider_close(&p);
    }
    ci_target_release(&t);
    return code;
}

int ci_watch_run(struct cmd_ctx *ctx, struct ci_provider *p, long long number,
                 const json_t *extra)
{
    struct ci_target t;
    memset(&t, 0, sizeof(t));
    t.number = number;
    snprintf(t.label, sizeof(t.label), "#%lld", number);
    return watch_run(ctx, p, &t, extra);
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
