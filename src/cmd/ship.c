/*
 * ship: one verdict from push to live. `ship watch [REV]` follows the
 * configured stages in order (ship/stages: CI stages on Woodpecker, and
 * the rollout, which is `deploy wait` itself); the verdict is the first
 * stage that does not succeed, with its exit code, and 0 only when the
 * last stage completes. `ship status [REV]` reports each stage once.
 *
 * Output, as every waiting verb: plain lines on stderr prefixed with the
 * stage name (term_set_stage() makes the ci and deploy code do that too),
 * one block per stage on a terminal, or JSON Lines carrying "stage"; the
 * result (one line per stage, or the JSON result object listing every
 * stage) goes to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "cmd/ship_stage.h"
#include "core/clock.h"
#include "core/term.h"
#include "ship/stages.h"

const struct opt ship_watch_opts[] = { OPT_END };
const struct opt ship_status_opts[] = { OPT_END };

struct ship {
    struct cmd_ctx *ctx;
    struct ship_plan plan;
    struct ship_run runs[SHIP_MAX_STAGES];
    char sha[41];
};

int ship_configured(const struct cmd_ctx *ctx)
{
    return ctx->cfg.ship_stages && ctx->cfg.ship_stages[strspn(ctx->cfg.ship_stages, " \t,")];
}

/* The plan, or exit 2 with an example .homelab on stderr. */
static int load_plan(struct ship *s)
{
    if (ship_plan_load(&s->ctx->cfg, s->ctx->cfg.repo, &s->plan, &s->ctx->err) == 0)
        return 0;
    if (!ship_configured(s->ctx)) {
        err_print(&s->ctx->err);
        fputs(ship_example_text(), stderr);
        err_clear(&s->ctx->err); /* printed */
    }
    return -1;
}

/* REV (default HEAD) or a hex id that need not exist locally. */
static int resolve_sha(struct ship *s, const char *rev)
{
    struct ci_target t;
    if (rev && rev[0] == '#')
        return err_set(&s->ctx->err, EXIT_USAGE, "ship follows a commit, not a pipeline number");
    if (ci_target_parse(rev, &t, &s->ctx->err) < 0) {
        if (s->ctx->err.kind == ERR_NOT_A_REPO) /* the ci verbs' hint offers #N */
            err_hint(&s->ctx->err, "give a commit id (7+ hex digits), or run it inside the "
                     "repository");
        return -1;
    }
    snprintf(s->sha, sizeof(s->sha), "%s", t.sha);
    ci_target_release(&t);
    return 0;
}

static int setup(struct ship *s, struct cmd_ctx *ctx, const char *rev)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "ship takes at most one REV");
    if (load_plan(s) < 0 || resolve_sha(s, rev) < 0)
        return -1;
    for (size_t i = 0; i < s->plan.n; i++) {
        s->runs[i].st = &s->plan.stages[i];
        s->runs[i].code = -1;
        snprintf(s->runs[i].status, sizeof(s->runs[i].status), "not-reached");
    }
    return 0;
}

static void release(struct ship *s)
{
    for (size_t i = 0; i < s->plan.n; i++)
        json_decref(s->runs[i].report);
}

/* ---- output ---- */

static json_t *iso_time(double t)
{
    if (t <= 0)
        return json_null();
    char b[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    size_t n = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)((t - (double)tt) * 1000);
    snprintf(b + n, sizeof(b) - n, ".%03dZ", ms < 0 ? 0 : ms > 999 ? 999 : ms);
    return json_string(b);
}

static json_t *followed_json(const struct ship_run *r)
{
    const struct ship_stage *st = r->st;
    if (st->kind == SHIP_LIVE) {
        json_t *o = json_pack("{s:s}", "workload", st->workload);
        if (st->container)
            json_object_set_new(o, "container", json_string(st->container));
        return o;
    }
    json_t *o = json_pack("{s:s, s:s}", "provider",
                          st->provider == SHIP_GITHUB ? "github" : "woodpecker", "repo", st->repo);
    if (r->number)
        json_object_set_new(o, "number", json_integer(r->number));
    if (r->url[0])
        json_object_set_new(o, "url", json_string(r->url));
    return o;
}

static json_t *run_json(const struct ship_run *r)
{
    json_t *o = json_pack("{s:s, s:s}", "stage", r->st->name, "status", r->status);
    json_object_set_new(o, "exit_code", r->code >= 0 ? json_integer(r->code) : json_null());
    json_object_set_new(o, "start", iso_time(r->start));
    json_object_set_new(o, "end", iso_time(r->end));
    json_object_set_new(o, "followed", followed_json(r));
    if (r->report)
        json_object_set(o, "report", r->report);
    return o;
}

/* The stage that decided: the first one that did not succeed, else the last. */
static const struct ship_run *deciding(const struct ship *s)
{
    for (size_t i = 0; i < s->plan.n; i++)
        if (s->runs[i].code != EXIT_OK)
            return &s->runs[i];
    return &s->runs[s->plan.n - 1];
}

static void print_result(const struct ship *s, int code)
{
    const struct ship_run *d = deciding(s);
    if (s->ctx->mode == OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < s->plan.n; i++)
            json_array_append_new(arr, run_json(&s->runs[i]));
        json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "event", "result", "status",
                              code == EXIT_OK ? "success" : d->status, "exit_code", code,
                              "stage", d->st->name, "commit", s->sha, "stages", arr);
        if (code != EXIT_OK && d->next[0])
            json_object_set_new(o, "next", json_string(d->next));
        if (s->ctx->err.code && code != EXIT_OK)
            json_object_set_new(o, "error", json_string(s->ctx->err.msg));
        term_json_line(o);
        json_decref(o);
        return;
    }
    /* stages that ran printed their line as they ended */
    for (size_t i = 0; i < s->plan.n; i++)
        if (s->runs[i].code < 0)
            printf("%s: %s\n", s->runs[i].st->name, s->runs[i].status);
    fflush(stdout); /* the stage lines before the advice, when both go to one place */
    if (code != EXIT_OK && d->next[0])
        fprintf(stderr, "next: %s\n", d->next);
}

static void stage_header(const struct ship *s, const struct ship_stage *st)
{
    if (s->ctx->mode != OUTPUT_TTY)
        return;
    struct buf b;
    buf_init(&b, 0);
    term_paint(&b, s->ctx->color, TERM_BOLD, st->name);
    if (st->kind == SHIP_LIVE)
        buf_addf(&b, "  rollout of %s", st->workload);
    else
        buf_addf(&b, "  %s %s", st->provider == SHIP_GITHUB ? "github" : "woodpecker", st->repo);
    fprintf(stderr, "%s\n", b.data);
    buf_release(&b);
}

/* ---- running the stages ---- */

static int run_live(struct ship *s, struct ship_run *r, double deadline)
{
    struct cmd_ctx sub = *s->ctx;
    double left = deadline - clock_now();
    if (left <= 0) {
        snprintf(r->status, sizeof(r->status), "timeout");
        return err_set(&s->ctx->err, EXIT_TIMEOUT, "timed out before stage %s", r->st->name),
               EXIT_TIMEOUT;
    }
    sub.g.timeout = left;
    err_clear(&sub.err);
    int code = deploy_stage_wait(&sub, r->st->workload, s->sha, r->st->container);
    if (sub.err.code)
        s->ctx->err = sub.err;
    static const char *const names[] = { "complete", "failed", "usage", "timeout",
                                         "needs-person", "not-found", "unavailable", "refused" };
    snprintf(r->status, sizeof(r->status), "%s",
             code >= 0 && code <= 7 ? names[code] : exit_code_name(code));
    snprintf(r->line, sizeof(r->line), "%s %s", r->status, r->st->workload);
    if (code != EXIT_OK && code != EXIT_INTERRUPTED)
        snprintf(r->next, sizeof(r->next), "homelab deploy status %s --sha %.12s%s%s",
                 r->st->workload, s->sha, r->st->container ? " --container " : "",
                 r->st->container ? r->st->container : "");
    return code;
}

static int run_stage(struct ship *s, struct ship_run *r, double appear_from, double deadline)
{
    const struct ship_stage *st = r->st;
    if (st->kind == SHIP_LIVE)
        return run_live(s, r, deadline);
    if (st->provider == SHIP_GITHUB)
        return ship_gh_watch(s->ctx, st, s->sha, appear_from + st->appear_timeout, deadline, r);
    return ship_wp_watch(s->ctx, st, s->sha, appear_from + st->appear_timeout, deadline, r);
}

int ship_watch_sha(struct cmd_ctx *ctx, const char *rev)
{
    struct ship s;
    if (setup(&s, ctx, rev) < 0) {
        release(&s);
        return ctx->err.code ? ctx->err.code : EXIT_USAGE;
    }
    term_catch_signals();
    double deadline = clock_now() + cmd_timeout(ctx);
    double prev_end = clock_now();
    int code = EXIT_OK;
    for (size_t i = 0; i < s.plan.n && code == EXIT_OK; i++) {
        struct ship_run *r = &s.runs[i];
        stage_header(&s, r->st);
        term_set_stage(r->st->name);
        r->start = clock_wall();
        r->status[0] = '\0'; /* no longer "not-reached": the stage decides */
        code = run_stage(&s, r, prev_end, deadline);
        r->code = code;
        r->end = clock_wall();
        prev_end = clock_now();
        term_set_stage(NULL);
        /* a rollout stage printed its own result line */
        if (ctx->mode != OUTPUT_JSON && (r->st->kind != SHIP_LIVE || code == EXIT_INTERRUPTED)) {
            printf("%s: %s\n", r->st->name, r->line[0] ? r->line : r->status);
            fflush(stdout);
        }
    }
    print_result(&s, code);
    release(&s);
    return code;
}

int cmd_ship_watch(struct cmd_ctx *ctx)
{
    return ship_watch_sha(ctx, ctx->npos ? ctx->pos[0] : NULL);
}

/* ---- status ---- */

static int status_live(struct ship *s, struct ship_run *r)
{
    struct cmd_ctx sub = *s->ctx;
    err_clear(&sub.err);
    term_set_stage(r->st->name);
    int code = deploy_stage_status(&sub, r->st->workload, s->sha, r->st->container);
    term_set_stage(NULL);
    if (code && sub.err.code) {
        struct err e = sub.err;
        err_wrap(&e, "stage %s", r->st->name);
        err_print(&e);
    }
    r->code = code;
    snprintf(r->status, sizeof(r->status), "%s", code ? exit_code_name(code) : "reported");
    return code;
}

int cmd_ship_status(struct cmd_ctx *ctx)
{
    struct ship s;
    if (setup(&s, ctx, ctx->npos ? ctx->pos[0] : NULL) < 0) {
        release(&s);
        return ctx->err.code ? ctx->err.code : EXIT_USAGE;
    }
    term_catch_signals();
    int code = EXIT_OK;
    for (size_t i = 0; i < s.plan.n && !term_interrupted(); i++) {
        struct ship_run *r = &s.runs[i];
        r->status[0] = '\0';
        int rc;
        if (r->st->kind == SHIP_LIVE) {
            rc = status_live(&s, r);
        } else if (r->st->provider == SHIP_GITHUB) {
            rc = ship_gh_status(ctx, r->st, s.sha, r);
        } else {
            rc = ship_wp_status(ctx, r->st, s.sha, r);
        }
        if (rc && !code)
            code = rc;
        if (r->st->kind == SHIP_LIVE)
            continue; /* deploy status printed it */
        if (ctx->mode == OUTPUT_JSON) {
            json_t *o = run_json(r);
            json_object_set_new(o, "state", json_string(r->line[0] ? r->line : r->status));
            term_json_line(o);
            json_decref(o);
        } else {
            printf("%s: %s\n", r->st->name, r->line[0] ? r->line : r->status);
        }
        fflush(stdout);
    }
    release(&s);
    return term_interrupted() ? EXIT_INTERRUPTED : code;
}
