/*
 * ci_follow: the one follow loop of `ci watch`, over ci/provider.h.
 *
 * Each turn the provider's layout (cmd/ci_follow_layout.h) waits as its
 * read policy says and reads what is due; then the loop redraws, takes
 * the verdict (ci_verdict over the runs as last read: 1 as soon as one
 * failed, 4 when one waits for a person, 0 when all passed; never from
 * a hint) and watches the two clocks: --appear-timeout while no run
 * exists, --timeout always. At the end the layout stops hearing from the
 * provider, and its report gets a short time budget of its own rather
 * than what is left of --timeout.
 */
#include "cmd/ci_follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ci_follow_layout.h"
#include "core/clock.h"

#define REPORT_BUDGET 15.0 /* seconds for the failure report after the verdict */

/* ---- output the layouts share ---- */

/* Plain and JSON modes: the outage line on stderr once, as it begins. */
static void tell_outage(struct follow *w)
{
    char outage[96];
    double since = w->http ? http_outage_since(w->http) : 0;
    if (since && since != w->outage_told && http_outage_line(w->http, outage, sizeof(outage))) {
        w->outage_told = since;
        fprintf(stderr, "homelab: %s\n", outage);
    }
}

void follow_draw(struct follow *w, int force)
{
    if (w->ctx->mode != OUTPUT_TTY) {
        tell_outage(w);
        return;
    }
    struct buf frame;
    buf_init(&frame, 0);
    double now = clock_now();
    w->layout->frame(w, now, &frame);
    char outage[96];
    if (w->http && http_outage_line(w->http, outage, sizeof(outage))) {
        term_paint(&frame, w->term.color, TERM_YELLOW, outage);
        buf_addc(&frame, '\n');
    }
    term_live(&w->term, frame.data, now, force);
    buf_release(&frame);
}

void follow_last_frame(struct follow *w)
{
    if (w->ctx->mode != OUTPUT_TTY)
        return;
    follow_draw(w, 1);
    term_live_done(&w->term);
}

/*
 * The "status" of a result line when there is no verdict: interrupted,
 * unavailable (the server went away), not-found (nothing appeared), else
 * the run's last known state ("unknown" when none).
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

void ci_follow_json_undecided(struct cmd_ctx *ctx, int code, const struct ci_run *last,
                              const json_t *extra)
{
    if (ctx->mode != OUTPUT_JSON)
        return;
    json_t *r = json_pack("{s:s, s:s, s:i}", "event", "result", "status",
                          undecided_status(code, last ? last->status : NULL), "exit_code", code);
    if (last)
        json_object_set_new(r, "number", json_integer(last->number));
    if (ctx->err.msg[0])
        json_object_set_new(r, "error", json_string(ctx->err.msg));
    if (extra)
        json_object_update(r, (json_t *)extra);
    term_json_line(r);
    json_decref(r);
}

void follow_json_undecided(struct follow *w, int code, const struct ci_run *last)
{
    ci_follow_json_undecided(w->ctx, code, last, w->spec->extra);
}

int follow_stale(const struct follow *w, const struct ci_runset *s)
{
    for (size_t i = 0; i < w->spec->nfloors; i++)
        for (size_t k = 0; k < s->n; k++)
            if (s->runs[k].id == w->spec->floors[i].run_id &&
                s->runs[k].attempt < w->spec->floors[i].attempt)
                return 1;
    return 0;
}

static const struct follow_layout *layout_of(const struct ci_provider_ops *ops)
{
    return ops->layout == CI_LAYOUT_RUNS ? &follow_runs_layout : &follow_pipeline_layout;
}

void ci_follow_unopened(struct cmd_ctx *ctx, const struct ci_provider_ops *ops,
                        const struct ci_target *t, int code, const json_t *extra)
{
    if (code == EXIT_TIMEOUT)
        layout_of(ops)->timed_out_unopened(t->label, cmd_timeout(ctx), &ctx->err);
    ci_follow_json_undecided(ctx, code, NULL, extra);
}

/* ---- the loop ---- */

static int verdict(const struct follow *w)
{
    return w->confirmed && w->runs.n ? ci_verdict(&w->runs, w->spec->wait_approval) : -1;
}

static int follow_loop(struct follow *w)
{
    for (;;) {
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        enum follow_turn rc = w->layout->turn(w);
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        if (rc == FOLLOW_ERROR)
            return w->ctx->err.code;
        if (rc == FOLLOW_DEADLINE)
            return w->layout->timed_out(w);
        follow_draw(w, 0);
        int v = verdict(w);
        if (v >= 0)
            return v;
        double now = clock_now();
        if (!w->runs.n && now >= w->appear_deadline)
            return w->layout->not_appeared(w);
        if (now >= w->deadline)
            return w->layout->timed_out(w);
    }
}

/* ---- setting up ---- */

/* The http client's wait hook: keep the live view (spinner, clock, the
 * outage line) moving while a request or a retry waits. */
static void on_http_wait(void *ud, const struct http_client *c)
{
    (void)c;
    follow_draw(ud, 0);
}

/* Sets the deadline no request or retry may outlast (see http.h). */
static void set_deadline(struct follow *w, double deadline)
{
    w->p->deadline = deadline;
    if (w->http)
        w->http->deadline = deadline;
}

/* --timeout counts from when the provider was opened, when that was
 * earlier; no request or retry may outlast it (see http.h, deadline). */
static void start_clocks(struct follow *w)
{
    double timeout = cmd_timeout(w->ctx);
    w->started_at = clock_now();
    w->deadline = w->started_at + timeout;
    if (w->p->deadline > 0 && w->p->deadline < w->deadline)
        w->deadline = w->p->deadline;
    if (w->http && w->http->deadline > 0 && w->http->deadline < w->deadline)
        w->deadline = w->http->deadline;
    set_deadline(w, w->deadline);
    term_fmt_duration(w->timeout_text, sizeof(w->timeout_text), timeout);
    w->appear_timeout = w->spec->appear_timeout >= 0 ? w->spec->appear_timeout
                                                      : w->p->ops->appear_timeout;
    w->appear_deadline = w->started_at + w->appear_timeout;
}

int ci_follow(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
              const struct ci_follow_spec *spec)
{
    struct follow w;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.p = p;
    w.t = t;
    w.spec = spec;
    w.layout = layout_of(p->ops);
    w.http = ci_provider_transport(p);
    start_clocks(&w);
    term_init(&w.term, 2, ctx->color);
    term_catch_signals();
    if (w.http) {
        w.http->on_wait = on_http_wait;
        w.http->wait_ud = &w;
    }
    w.layout->start(&w);

    int code = follow_loop(&w);
    if (w.layout->stop)
        w.layout->stop(&w);
    set_deadline(&w, clock_now() + REPORT_BUDGET);
    if (code == EXIT_INTERRUPTED)
        err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted");
    w.layout->end(&w, code);

    w.layout->release(&w);
    if (w.http) {
        w.http->on_wait = NULL;
        w.http->wait_ud = NULL;
    }
    ci_runset_release(&w.runs);
    term_plain_release(&w.plain);
    term_release(&w.term);
    return code;
}
