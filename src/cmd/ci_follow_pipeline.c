/*
 * ci_follow_pipeline: the PIPELINE layout of `ci watch`'s follow loop
 * (cmd/ci_follow_layout.h): one run per commit (Woodpecker).
 *
 * Read policy: one source of truth, the provider's read of the run
 * (run_by_id), and two ways to learn that it is worth asking: the
 * provider's change feed (ci_feed: Woodpecker's event stream, a hint that
 * "run N changed", fast but unreliable: it silently drops private repos
 * for a bad token, reorders, never replays, and proxies may buffer it)
 * and a timer. While the feed is live the run is read when an event says
 * its status changed, and every 30 s to reconcile; if a reconcile finds a
 * change no event announced, the feed is blind for this repo
 * (ci_feed_missed) and the watch polls every 3 s, the provider
 * re-connecting its feed with backoff all along. Faults (drops, stalls,
 * empty bodies, 5xx) only delay; a verdict comes only from a read. Before
 * the run appeared, the commit's newest run is looked for every second.
 *
 * Reporter: DESIGN.md's pipeline contract: "#N STATUS" and "#N WF/STEP
 * STATUS" lines (or JSON lines) per change, the pipeline line and tree,
 * and on failure each failed step's log tail with its "full log:" command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/ci_follow_layout.h"
#include "cmd/ci_view.h"
#include "core/clock.h"

#define POLL_INTERVAL 3.0
#define RECONCILE_INTERVAL 30.0
/* A restart shows up on the stream as an event of a newer pipeline; the list
 * is read now and then in case that event was lost (streaming), or as the
 * only way to see it (polling). With the detail reads this keeps a watch
 * at 2.5 requests a minute on the stream and about 23 while polling. */
#define RESTART_CHECK_STREAMING 120.0
#define RESTART_CHECK_POLLING 30.0
#define APPEAR_POLL 1.0

struct pipeline {
    char *confirmed_status;  /* the status as last read */
    int said_waiting;        /* "waiting for CI to pick up" told */

    /* the provider's change feed (ci/provider.h) */
    struct ci_feed feed;
    int event_status_change; /* an event changed our run's status */
    int announced;           /* events about our run since the last read */
    long long newer;         /* a newer run of the same commit, from events */

    double next_detail, next_restart_check;
};

static struct pipeline *impl(struct follow *w)
{
    return w->impl;
}

static const char *word(const char *s)
{
    return s ? s : "";
}

/* ---- reporting changes ---- */

static void json_change(struct follow *w, const char *kind, const char *wf, const char *step,
                        const char *state)
{
    const struct ci_run *cur = follow_one(w);
    json_t *j = json_pack("{s:s, s:I, s:s}", "event", kind, "number",
                          (json_int_t)cur->number, "status", cur->status);
    if (wf)
        json_object_set_new(j, "workflow", json_string(wf));
    if (step)
        json_object_set_new(j, "step", json_string(step));
    if (state)
        json_object_set_new(j, "state", json_string(state));
    term_json_line(j);
    json_decref(j);
}

static void report_pipeline(struct follow *w)
{
    char line[64], status[48];
    const struct ci_run *cur = follow_one(w);
    if (w->ctx->mode == OUTPUT_JSON) {
        json_change(w, "pipeline", NULL, NULL, NULL);
    } else {
        /* the server's word, cut on a character boundary */
        ci_first_line(ci_view_word(cur->status), 40, status, sizeof(status));
        snprintf(line, sizeof(line), "#%lld %s", cur->number, status);
        term_plain_line(&w->plain, stderr, line);
    }
}

/* One step's change: a plain line or a JSON line. */
static void report_step_change(void *ctx, const struct ci_job *wf, const struct ci_step *st)
{
    struct follow *w = ctx;
    if (w->ctx->mode == OUTPUT_JSON) {
        json_change(w, "step", wf->name, st->name, word(st->status));
    } else {
        char line[512];
        snprintf(line, sizeof(line), "#%lld %s/%s %s", follow_one(w)->number, wf->name,
                 st->name, word(st->status));
        term_plain_line(&w->plain, stderr, line);
    }
}

/* Plain and JSON modes: one line per step or pipeline state change. */
static void report_changes(struct follow *w, const struct ci_run *old)
{
    const struct ci_run *p = follow_one(w);
    int changed = !old || old->number != p->number || strcmp(word(old->status), word(p->status));
    /* a verdict comes after the steps that led to it; a start before them */
    int verdict_last = ci_state_final(p->state);
    if (changed && !verdict_last)
        report_pipeline(w);
    ci_view_step_changes(old, p, report_step_change, w);
    if (changed && verdict_last)
        report_pipeline(w);
}

static void frame(struct follow *w, double now, struct buf *out)
{
    const struct ci_run *cur = follow_one(w);
    if (!cur) {
        char elapsed[32];
        term_fmt_duration(elapsed, sizeof(elapsed), now - w->started_at);
        buf_addf(out, "%s waiting for CI to pick up %s  %s\n", term_spinner(w->term.utf8, now),
                 w->t->label, elapsed);
        return;
    }
    long long wall = (long long)clock_wall();
    struct buf line;
    buf_init(&line, 0);
    ci_view_pipeline_line(cur, wall, &line);
    buf_addf(out, "%s ", ci_state_final(cur->state) ? " " : term_spinner(w->term.utf8, now));
    /* the line carries the pipeline's own duration: no second clock */
    term_paint(out, w->term.color, ci_status_tone(word(cur->status)), line.data);
    buf_addc(out, '\n');
    buf_release(&line);
    ci_view_pipeline_tree(cur, wall, w->term.color, out);
}

/* Takes a run (read, or an event's picture of it) as the current state
 * and reports changes. */
static void adopt(struct follow *w, struct ci_run *fresh)
{
    struct ci_run old = { 0 };
    int had = w->runs.n > 0 && w->runs.runs;
    if (had) {
        old = w->runs.runs[0];
    } else {
        w->runs.runs = xcalloc(1, sizeof(*w->runs.runs));
        w->runs.n = 1;
    }
    w->runs.runs[0] = *fresh;
    memset(fresh, 0, sizeof(*fresh));
    if (w->ctx->mode != OUTPUT_TTY)
        report_changes(w, had ? &old : NULL);
    if (had)
        ci_run_release(&old);
    follow_draw(w, 0);
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
    struct follow *w = ud;
    struct pipeline *pl = impl(w);
    const struct ci_run *cur = follow_one(w);
    if (!cur)
        return;
    if (r->number == cur->number) {
        pl->announced = 1;
        if (strcmp(word(r->status), pl->confirmed_status))
            pl->event_status_change = 1;
        if (r->has_jobs && progress(r) >= progress(cur)) {
            adopt(w, r); /* takes it */
            w->confirmed = 0;
        }
    } else if (r->number > cur->number && w->t->sha && commit_matches(r->sha, w->t->sha)) {
        pl->newer = r->number > pl->newer ? r->number : pl->newer;
    }
}

/* ---- reading the truth ---- */

static void states_signature(const struct ci_run *r, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%lld %s", r->number, word(r->status));
    for (size_t i = 0; i < r->njobs; i++)
        for (size_t k = 0; k < r->jobs[i].nsteps; k++)
            buf_addf(out, "|%s", word(r->jobs[i].steps[k].status));
}

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

/* Takes a read of the run as the truth. */
static void confirm(struct follow *w, struct ci_run *fresh)
{
    struct pipeline *pl = impl(w);
    free(pl->confirmed_status);
    pl->confirmed_status = xstrdup(word(fresh->status));
    adopt(w, fresh);
    w->confirmed = 1;
}

/* One read of the run; transport trouble is not a verdict, only a delay. */
static int read_detail(struct follow *w, long long number)
{
    struct pipeline *pl = impl(w);
    const struct ci_run *cur = follow_one(w);
    struct ci_run fresh;
    struct err e;
    err_clear(&e);
    if (w->p->ops->run_by_id(w->p, number, &fresh, &e) < 0) {
        if (e.code == EXIT_REFUSED || (e.code == EXIT_NOT_FOUND && !cur)) {
            w->ctx->err = e;
            return -1;
        }
        if (w->ctx->g.verbose)
            fprintf(stderr, "homelab: %s (will retry)\n", e.msg);
        return 0;
    }
    if (cur && fresh.number == cur->number && pl->feed.health == CI_FEED_LIVE &&
        !pl->announced && states_changed(cur, &fresh))
        ci_feed_missed(w->p, &pl->feed); /* it missed a change of our run: it cannot see this repo */
    pl->announced = 0;
    pl->event_status_change = 0;
    confirm(w, &fresh);
    return 0;
}

/* A newer pipeline for the same commit (a restart) takes over. */
static void check_restart(struct follow *w)
{
    struct pipeline *pl = impl(w);
    long long was = follow_one(w)->number;
    if (!w->t->sha)
        return;
    long long newer = pl->newer;
    if (!newer) {
        long long number = 0;
        struct err e;
        err_clear(&e);
        if (ci_newest_run(w->p, w->t->sha, w->spec->filter, &number, &e) == 1 && number > was)
            newer = number;
    }
    pl->newer = 0;
    if (newer <= was)
        return;
    if (w->ctx->mode == OUTPUT_TTY)
        term_live_clear(&w->term);
    if (w->ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:I, s:I}", "event", "restart", "from", (json_int_t)was,
                              "number", (json_int_t)newer);
        term_json_line(j);
        json_decref(j);
    } else {
        fprintf(stderr, "homelab: pipeline #%lld restarted as #%lld; following #%lld\n", was,
                newer, newer);
    }
    read_detail(w, newer);
}

/* ---- finding the pipeline after a push ---- */

/*
 * The target's run, read: 1 found (r filled), 0 not (yet) there (e filled
 * with EXIT_NOT_FOUND for '#N'), -1 error. A commit's newest run is read
 * after it is found; one that vanished in between is not there yet.
 */
static int find_run(struct follow *w, struct ci_run *r, struct err *e)
{
    long long number = w->t->number;
    if (!number) {
        int rc = ci_newest_run(w->p, w->t->sha, w->spec->filter, &number, e);
        if (rc <= 0)
            return rc;
    }
    if (w->p->ops->run_by_id(w->p, number, r, e) < 0)
        return e->code == EXIT_NOT_FOUND ? 0 : -1;
    return 1;
}

static int appear_timed_out(struct follow *w);

/* One look for the run; waits a second before each look but the first. */
static enum follow_turn find_turn(struct follow *w)
{
    struct pipeline *pl = impl(w);
    if (pl->said_waiting) {
        for (double until = clock_now() + APPEAR_POLL; clock_now() < until;) {
            if (term_interrupted())
                return FOLLOW_READ;
            follow_draw(w, 0);
            clock_sleep(0.1);
        }
    }
    struct ci_run r;
    struct err e;
    err_clear(&e);
    int found = find_run(w, &r, &e);
    if (found == 1) {
        confirm(w, &r);
        double now = clock_now();
        pl->next_detail = now + RECONCILE_INTERVAL;
        pl->next_restart_check = now + RESTART_CHECK_STREAMING;
        return FOLLOW_READ;
    }
    if (found < 0 && e.code == EXIT_TIMEOUT) {
        appear_timed_out(w);
        return FOLLOW_ERROR;
    }
    if ((found < 0 && e.code != EXIT_UNAVAILABLE) || (w->t->number && found == 0)) {
        w->ctx->err = e;
        return FOLLOW_ERROR;
    }
    if (!pl->said_waiting && w->ctx->mode == OUTPUT_PLAIN && !w->ctx->g.quiet)
        fprintf(stderr, "waiting for CI to pick up %s\n", w->t->label);
    pl->said_waiting = 1;
    return FOLLOW_READ;
}

/* ---- following it ---- */

/* Waits for a hint or the next timer, in short slices so signals and
 * redraws are handled promptly (the first wait connects the feed); then
 * reads what a hint or a timer made due. */
static enum follow_turn follow_turn(struct follow *w)
{
    struct pipeline *pl = impl(w);
    double now = clock_now();
    double wait = pl->next_detail - now;
    if (wait > 0.2)
        wait = 0.2;
    ci_feed_wait(w->p, &pl->feed, wait);
    if (term_interrupted())
        return FOLLOW_READ;
    now = clock_now();
    int live = pl->feed.health == CI_FEED_LIVE;
    if (pl->newer || now >= pl->next_restart_check) {
        check_restart(w);
        pl->next_restart_check = now + (live ? RESTART_CHECK_STREAMING : RESTART_CHECK_POLLING);
    }
    if (pl->event_status_change || now >= pl->next_detail) {
        if (read_detail(w, follow_one(w)->number) < 0)
            return FOLLOW_ERROR;
        now = clock_now();
        live = pl->feed.health == CI_FEED_LIVE;
        pl->next_detail = now + (live ? RECONCILE_INTERVAL : POLL_INTERVAL);
    }
    /* no feed to rely on: poll */
    if (pl->feed.health == CI_FEED_NONE) {
        if (pl->next_detail > now + POLL_INTERVAL)
            pl->next_detail = now + POLL_INTERVAL;
        if (pl->next_restart_check > now + RESTART_CHECK_POLLING)
            pl->next_restart_check = now + RESTART_CHECK_POLLING;
    }
    return FOLLOW_READ;
}

static enum follow_turn turn(struct follow *w)
{
    return follow_one(w) ? follow_turn(w) : find_turn(w);
}

/* ---- the end without a verdict ---- */

/*
 * At the deadline: when the server has been unreachable since some time,
 * the pipeline's state is unknown and the outage is why the wait ended
 * (exit 6). Returns 1 with ctx->err set then, else 0.
 */
static int outage_ended(struct follow *w)
{
    const struct http_client *c = w->http;
    const struct ci_run *cur = follow_one(w);
    if (!c || !c->answered || !c->outage_since)
        return 0;
    char line[96];
    snprintf(line, sizeof(line), "?");
    time_t t = (time_t)c->outage_since;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(line, sizeof(line), "%H:%M:%S", &tm);
    if (cur)
        err_set(&w->ctx->err, EXIT_UNAVAILABLE, "the server has been unreachable since %s; "
                "pipeline #%lld was last seen %s", line, cur->number, cur->status);
    else
        err_set(&w->ctx->err, EXIT_UNAVAILABLE, "the server has been unreachable since %s; "
                "no pipeline for %s seen yet", line, w->t->label);
    char target[80];
    if (cur)
        snprintf(target, sizeof(target), "'#%lld'", cur->number);
    else
        snprintf(target, sizeof(target), "%s", w->t->label);
    err_hint(&w->ctx->err, "its state is unknown: run 'homelab ci status %s' once the server "
             "is back", target);
    return 1;
}

static void hint_not_pushed(struct err *e)
{
    err_hint(e, "was it pushed? is this branch or event excluded by the pipeline's 'when' "
             "conditions?");
}

static void none_within(const char *label, const char *timeout_text, struct err *e)
{
    err_set(e, EXIT_TIMEOUT, "no pipeline for %s appeared within %s", label, timeout_text);
    hint_not_pushed(e);
}

/* --timeout before the pipeline appeared: blame the outage if there is
 * one, else say plainly that nothing appeared. */
static int appear_timed_out(struct follow *w)
{
    if (outage_ended(w))
        return EXIT_UNAVAILABLE;
    none_within(w->t->label, w->timeout_text, &w->ctx->err);
    return EXIT_TIMEOUT;
}

static void timed_out_unopened(const char *label, double timeout, struct err *e)
{
    char text[32];
    term_fmt_duration(text, sizeof(text), timeout);
    none_within(label, text, e);
}

static int timed_out(struct follow *w)
{
    const struct ci_run *cur = follow_one(w);
    if (!cur)
        return appear_timed_out(w);
    if (outage_ended(w))
        return EXIT_UNAVAILABLE;
    err_set(&w->ctx->err, EXIT_TIMEOUT, "timed out after %s; pipeline #%lld is still %s",
            w->timeout_text, cur->number, cur->status);
    return EXIT_TIMEOUT;
}

static int not_appeared(struct follow *w)
{
    err_set(&w->ctx->err, EXIT_NOT_FOUND, "no pipeline appeared for %s in %s within %.0fs",
            w->t->label, w->p->repo, w->appear_timeout);
    hint_not_pushed(&w->ctx->err);
    return EXIT_NOT_FOUND;
}

/* ---- the end on a verdict ---- */

/* "full log: homelab ci logs '#N' --step 'WF/STEP'" with the flags the user
 * gave for the server and repo, so it works as printed. */
static void full_log_hint(struct follow *w, const char *wf, const char *step, struct buf *out)
{
    struct buf name;
    buf_init(&name, 0);
    buf_addf(&name, "%s/%s", wf, step);
    buf_addf(out, "full log: homelab ci logs '#%lld' --step ", follow_one(w)->number);
    ci_shell_quote(out, name.data, 1);
    ci_hint_flags(w->ctx, out);
    buf_addc(out, '\n');
    buf_release(&name);
}

/* One failed step: its line, its log's tail and the "full log:" hint. */
static json_t *report_step(struct follow *w, const struct ci_run *r, const struct ci_job *j,
                           const struct ci_step *st, struct buf *out)
{
    const char *error = st->error ? st->error : "";
    struct strvec lines = STRVEC_INIT;
    struct err e;
    buf_adds(out, "\n");
    int rc = ci_view_failed_step(w->p, r, j, st, (size_t)w->spec->log_lines,
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

static void failure_report(struct follow *w, json_t *result)
{
    json_t *failed = json_array();
    struct buf out;
    buf_init(&out, 0);
    const struct ci_run *r = follow_one(w);
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

static void finish(struct follow *w, int code)
{
    const struct ci_run *cur = follow_one(w);
    json_t *result = json_pack("{s:s, s:I, s:s, s:i}", "event", "result", "number",
                               (json_int_t)cur->number, "status", cur->status, "exit_code", code);
    const char *url = word(cur->url);
    json_object_set_new(result, "url", json_string(url));
    json_object_set_new(result, "commit", json_string(cur->sha));
    if (w->spec->extra)
        json_object_update(result, (json_t *)w->spec->extra);
    if (code == EXIT_FAILED)
        failure_report(w, result);
    if (code == EXIT_NEEDS_PERSON && w->ctx->mode != OUTPUT_JSON)
        fprintf(stderr, "pipeline #%lld is awaiting approval: approve it at %s\n", cur->number,
                url);
    if (w->ctx->mode == OUTPUT_JSON) {
        term_json_line(result);
    } else {
        struct buf line;
        buf_init(&line, 0);
        ci_view_pipeline_line(cur, (long long)clock_wall(), &line);
        if (code == EXIT_NEEDS_PERSON)
            buf_adds(&line, " (awaiting approval)");
        puts(line.data);
        buf_release(&line);
    }
    json_decref(result);
}

static void end(struct follow *w, int code)
{
    int decided = code == EXIT_OK || code == EXIT_FAILED || code == EXIT_NEEDS_PERSON;
    follow_last_frame(w);
    if (follow_one(w) && decided && !w->ctx->err.code)
        finish(w, code);
    else
        follow_json_undecided(w, code, follow_one(w));
}

/* ---- the layout ---- */

static void start(struct follow *w)
{
    struct pipeline *pl = xcalloc(1, sizeof(*pl));
    w->impl = pl;
    pl->feed.on_run = on_feed_run;
    pl->feed.ctx = w;
    pl->feed.poll_every = POLL_INTERVAL;
}

static void stop(struct follow *w)
{
    ci_feed_close(w->p, &impl(w)->feed);
}

static void release(struct follow *w)
{
    struct pipeline *pl = impl(w);
    free(pl->confirmed_status);
    free(pl);
    w->impl = NULL;
}

const struct follow_layout follow_pipeline_layout = {
    .start = start,
    .turn = turn,
    .frame = frame,
    .not_appeared = not_appeared,
    .timed_out = timed_out,
    .timed_out_unopened = timed_out_unopened,
    .stop = stop,
    .end = end,
    .release = release,
};
