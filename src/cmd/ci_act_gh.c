/*
 * ci restart / approve / decline / cancel / run through the provider
 * interface (ci/provider.h `act` and `describe`), as the GitHub Actions
 * provider implements them (github/write.c). The Woodpecker half is
 * ci_act.c, which also holds what both halves print alike (the dry-run
 * request, the progress lines: ci_common.h).
 *
 * Each verb reads its targets first: #ID, or the commit's runs the action
 * fits (restart: the failed ones; approve/decline: those waiting for a
 * person; cancel: those not finished). The state is checked before
 * anything is sent, so GitHub's answers to impossible writes (403 "cannot
 * be rerun", 409, 422) are said as the state. The request itself, and the
 * rule that it never takes effect twice, are the provider's. restart and
 * approve then follow the commit (or #ID) as `ci watch` does, run follows
 * the run it created; cancel waits for a final status; decline is done once
 * GitHub answered the rejection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/ci_follow.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/term.h"
#include "github/provider.h"

#define MAX_TARGETS 16      /* runs one command acts on (a commit has a few) */
#define SETTLE_POLL 1.0     /* seconds between reads while a write settles */
#define APPROVE_SETTLE 10.0 /* seconds an approval may take to show */

struct ghact {
    struct cmd_ctx *ctx;
    const struct ci_act_opts *o;
    enum ci_action a;
    struct ci_provider p;
    struct ci_target t;
    struct ci_runset runs;
    size_t pick[MAX_TARGETS], npick;
    struct ci_act_result res[MAX_TARGETS];
    size_t nres;
};

static const char *word(const struct ci_run *r)
{
    return r->status ? r->status : "unknown";
}

/* ---- output ---- */

static void json_result(struct ghact *g, long long run_id, const char *status, int code)
{
    json_t *j = json_pack("{s:s, s:s, s:i}", "event", "result", "action",
                          ci_action_name(g->a), "exit_code", code);
    if (run_id > 0)
        json_object_set_new(j, "run_id", json_integer(run_id));
    if (code == EXIT_INTERRUPTED)
        status = "interrupted";
    json_object_set_new(j, "status", json_string(status && *status ? status : "unknown"));
    if (code && g->ctx->err.msg[0])
        json_object_set_new(j, "error", json_string(g->ctx->err.msg));
    term_json_line(j);
    json_decref(j);
}

static int fail(struct ghact *g, long long run_id, const char *status)
{
    if (g->ctx->mode == OUTPUT_JSON)
        json_result(g, run_id, status, g->ctx->err.code);
    return g->ctx->err.code;
}

static void tell(struct ghact *g, const struct ci_act_result *r)
{
    if (g->ctx->mode != OUTPUT_JSON) {
        ci_act_tell(g->a, r);
        return;
    }
    json_t *j = json_pack("{s:s, s:s, s:I, s:i, s:b, s:i}", "event", "action", "action",
                          ci_action_name(g->a), "run_id", (json_int_t)r->run_id, "attempt",
                          r->attempt, "recovered", r->recovered, "sends", r->sends);
    term_json_line(j);
    json_decref(j);
}

/* ---- choosing the runs ---- */

static int fits(enum ci_action a, const struct ci_run *r)
{
    switch (a) {
    case CI_ACT_RESTART:
    case CI_ACT_RESTART_FAILED:
        /* a run that failed at startup has nothing GitHub can re-run */
        return ci_state_failed(r->state) && strcmp(word(r), "startup_failure");
    case CI_ACT_APPROVE:
    case CI_ACT_DECLINE:
        return r->state == CI_NEEDS_PERSON;
    case CI_ACT_CANCEL:
        /* completed runs (stale, action_required too) answer 409 */
        return !ci_state_final(r->state) && r->state != CI_STALE &&
               strcmp(word(r), "action_required");
    case CI_ACT_RUN:
        break;
    }
    return 0;
}

/* Why the action does not fit run r: EXIT_FAILED, said as its state. */
static int refuse(struct ghact *g, const struct ci_run *r)
{
    struct err *e = &g->ctx->err;
    const char *s = word(r);
    switch (g->a) {
    case CI_ACT_RESTART:
    case CI_ACT_RESTART_FAILED:
        if (!strcmp(s, "action_required")) {
            err_set(e, EXIT_FAILED, "run #%lld awaits approval to run: approve it instead",
                    r->id);
            err_hint(e, "homelab ci approve '#%lld'", r->id);
        } else if (!ci_state_final(r->state) && r->state != CI_STALE) {
            err_set(e, EXIT_FAILED, "run #%lld is not finished (status: %s): GitHub re-runs "
                    "finished runs only", r->id, s);
            err_hint(e, "wait for it, or homelab ci cancel '#%lld'", r->id);
        } else if (!strcmp(s, "startup_failure")) {
            err_set(e, EXIT_FAILED, "run #%lld failed before any job ran (startup_failure): "
                    "GitHub cannot re-run it", r->id);
            err_hint(e, "fix the workflow file and push");
        } else if (g->a == CI_ACT_RESTART_FAILED) {
            err_set(e, EXIT_FAILED, "run #%lld has no failed jobs to re-run (conclusion: %s)",
                    r->id, s);
            err_hint(e, "drop --failed to re-run the whole run");
        } else {
            return 0; /* a finished run may be re-run whole */
        }
        return -1;
    case CI_ACT_APPROVE:
    case CI_ACT_DECLINE:
        return err_set(e, EXIT_FAILED, "run #%lld is not waiting for approval (status: %s%s%s)",
                       r->id, s, r->waiting_for ? ", waiting on " : "",
                       r->waiting_for ? r->waiting_for : "");
    default:
        return err_set(e, EXIT_FAILED, "run #%lld already finished: %s", r->id, s);
    }
}

/* No run of the commit fits: say each one's state. */
static int none_fits(struct ghact *g)
{
    if (g->runs.n == 1 && refuse(g, &g->runs.runs[0]) < 0)
        return -1;
    struct buf list;
    buf_init(&list, 0);
    for (size_t i = 0; i < g->runs.n; i++)
        buf_addf(&list, "%s%s %s", i ? ", " : "", g->runs.runs[i].workflow
                 ? g->runs.runs[i].workflow : "?", word(&g->runs.runs[i]));
    struct err *e = &g->ctx->err;
    if (g->a == CI_ACT_CANCEL)
        err_set(e, EXIT_FAILED, "every run of %s already finished: %s", g->t.label, list.data);
    else if (g->a == CI_ACT_APPROVE || g->a == CI_ACT_DECLINE)
        err_set(e, EXIT_FAILED, "no run of %s is waiting for approval (status: %s)",
                g->t.label, list.data);
    else {
        err_set(e, EXIT_FAILED, "no run of %s failed, nothing to re-run (%s)", g->t.label,
                list.data);
        err_hint(e, "name a run as #ID to re-run it anyway");
    }
    buf_release(&list);
    return -1;
}

static int read_runs(struct ghact *g)
{
    struct err *e = &g->ctx->err;
    if (g->t.number) {
        struct ci_run r;
        if (g->p.ops->run_by_id(&g->p, g->t.number, &r, e) < 0) {
            if (e->code == EXIT_NOT_FOUND)
                err_set(e, EXIT_NOT_FOUND, "run #%lld not found in %s", g->t.number, g->p.repo);
            return -1;
        }
        g->runs.runs = xcalloc(1, sizeof(*g->runs.runs));
        g->runs.runs[0] = r;
        g->runs.n = 1;
        return 0;
    }
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    int ch;
    if (ci_runs_of_commit(&g->p, g->t.sha, &f, &g->runs, &ch, e) < 0)
        return -1;
    if (g->runs.n)
        return 0;
    err_set(e, EXIT_NOT_FOUND, "no workflow run for %s (event %s) in %s", g->t.label,
            ci_gh_opts.event ? ci_gh_opts.event : "push", g->p.repo);
    err_hint(e, "other events: --event any; or name the run as #ID");
    return -1;
}

/* The runs to act on: #ID when it fits, else every run of the commit that does. */
static int choose(struct ghact *g)
{
    if (read_runs(g) < 0)
        return -1;
    if (g->t.number) {
        const struct ci_run *r = &g->runs.runs[0];
        /* a finished run that passed may still be re-run whole by #ID */
        if (!fits(g->a, r) && (refuse(g, r) < 0 || g->a != CI_ACT_RESTART))
            return -1;
        g->pick[g->npick++] = 0;
        return 0;
    }
    for (size_t i = 0; i < g->runs.n && g->npick < MAX_TARGETS; i++)
        if (fits(g->a, &g->runs.runs[i]))
            g->pick[g->npick++] = i;
    return g->npick ? 0 : none_fits(g);
}

/* ---- acting ---- */

static int dry_run(struct ghact *g, struct ci_act_req *reqs, size_t n)
{
    json_t *all = json_array();
    int code = EXIT_OK;
    for (size_t i = 0; i < n && code == EXIT_OK; i++) {
        json_t *one = NULL;
        if (ci_act_show_request(g->ctx, &g->p, &reqs[i],
                                g->ctx->mode == OUTPUT_JSON ? &one : NULL) < 0) {
            code = fail(g, reqs[i].run ? reqs[i].run->id : 0, NULL);
        } else if (one) {
            if (reqs[i].run)
                json_object_set_new(one, "run_id", json_integer(reqs[i].run->id));
            json_array_append_new(all, one);
        }
    }
    if (code == EXIT_OK && g->ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:b}", "event", "result", "action",
                              ci_action_name(g->a), "dry_run", 1);
        json_object_update(j, json_array_get(all, 0)); /* method, path, body, run_id */
        if (json_array_size(all) > 1)
            json_object_set(j, "requests", all);
        json_object_set_new(j, "exit_code", json_integer(0));
        term_json_line(j);
        json_decref(j);
    } else if (code == EXIT_OK) {
        fprintf(stderr, "dry run: nothing sent to %s\n", g->p.repo);
    }
    json_decref(all);
    return code;
}

/* Reads each acted-on run until done(run) or the bound; 1 all done, 0 not, -1. */
static int settle(struct ghact *g, int (*done)(const struct ci_run *), double bound,
                  struct ci_runset *now)
{
    double end = clock_now() + bound;
    for (;;) {
        ci_runset_release(now);
        now->runs = xcalloc(g->nres, sizeof(*now->runs));
        int all = 1;
        for (size_t i = 0; i < g->nres; i++) {
            if (g->p.ops->run_by_id(&g->p, g->res[i].run_id, &now->runs[i], &g->ctx->err) < 0)
                return -1;
            now->n = i + 1;
            all = all && done(&now->runs[i]);
        }
        if (all)
            return 1;
        if (term_interrupted())
            return err_set(&g->ctx->err, EXIT_INTERRUPTED, "interrupted");
        if (clock_now() + SETTLE_POLL > end)
            return 0;
        g->p.ops->wait_change(&g->p, SETTLE_POLL);
    }
}

static int is_final(const struct ci_run *r)
{
    return ci_state_final(r->state);
}

static int not_person(const struct ci_run *r)
{
    return r->state != CI_NEEDS_PERSON;
}

/* cancel: until each run reports a final status, bounded by --timeout. */
static int cancel_wait(struct ghact *g)
{
    struct ci_runset now = { 0 };
    gh_provider_client(&g->p)->api.deadline = clock_now() + cmd_timeout(g->ctx);
    int rc = settle(g, is_final, cmd_timeout(g->ctx), &now), code = EXIT_OK;
    if (rc < 0) {
        code = fail(g, g->res[0].run_id, NULL);
    } else if (!rc) {
        for (size_t i = 0; i < now.n; i++)
            if (!is_final(&now.runs[i]))
                err_set(&g->ctx->err, EXIT_TIMEOUT, "run #%lld is still %s after %.0fs",
                        now.runs[i].id, word(&now.runs[i]), cmd_timeout(g->ctx));
        code = fail(g, g->res[0].run_id, word(&now.runs[0]));
    } else {
        for (size_t i = 0; i < now.n; i++) {
            const struct ci_run *r = &now.runs[i];
            int ok = r->state == CI_CANCELLED;
            if (!ok)
                err_set(&g->ctx->err, EXIT_FAILED, "run #%lld finished as %s before the "
                        "cancel took effect", r->id, word(r));
            code = code ? code : ok ? EXIT_OK : EXIT_FAILED;
            if (g->ctx->mode == OUTPUT_JSON)
                json_result(g, r->id, word(r), ok ? EXIT_OK : EXIT_FAILED);
            else if (ok)
                printf("#%lld %s\n", r->id, word(r));
        }
    }
    ci_runset_release(&now);
    return code;
}

/* The lines of a verb that does not follow: `#ID status` each. */
static int results(struct ghact *g, const char *status)
{
    for (size_t i = 0; i < g->nres; i++) {
        const char *s = status ? status : g->res[i].status;
        if (g->ctx->mode == OUTPUT_JSON)
            json_result(g, g->res[i].run_id, s, EXIT_OK);
        else
            printf("#%lld %s\n", g->res[i].run_id, s && *s ? s : "unknown");
    }
    return EXIT_OK;
}

static int follow(struct ghact *g)
{
    if (g->a == CI_ACT_APPROVE) {
        struct ci_runset now = { 0 };
        int rc = settle(g, not_person, APPROVE_SETTLE, &now);
        ci_runset_release(&now);
        if (rc < 0)
            return fail(g, g->res[0].run_id, NULL);
    }
    if (g->o->no_watch)
        return results(g, NULL);
    char target[64];
    if (g->t.number || g->a == CI_ACT_RUN)
        snprintf(target, sizeof(target), "#%lld", g->res[0].run_id);
    else
        snprintf(target, sizeof(target), "%s", g->t.sha);
    json_t *extra = json_pack("{s:s, s:I}", "action", ci_action_name(g->a), "run_id",
                              (json_int_t)g->res[0].run_id);
    if (g->nres > 1) {
        json_t *ids = json_array();
        for (size_t i = 0; i < g->nres; i++)
            json_array_append_new(ids, json_integer(g->res[i].run_id));
        json_object_set_new(extra, "run_ids", ids);
    }
    /* a re-run is followed from the attempt it started, however late the
     * server's reads show it */
    struct ci_attempt_floor floors[MAX_TARGETS];
    size_t nfloors = 0;
    for (size_t i = 0; i < g->nres && (g->a == CI_ACT_RESTART || g->a == CI_ACT_RESTART_FAILED);
         i++)
        floors[nfloors++] = (struct ci_attempt_floor){ g->res[i].run_id, g->res[i].attempt };
    int code = ci_watch_as(g->ctx, g->p.ops, target, extra, floors, nfloors);
    json_decref(extra);
    return code;
}

/* Sends each request; then the watch, the wait, or the result lines. */
static int act_all(struct ghact *g, struct ci_act_req *reqs, size_t n)
{
    if (g->o->dry_run)
        return dry_run(g, reqs, n);
    for (size_t i = 0; i < n; i++) {
        struct ci_act_result *r = &g->res[g->nres];
        if (ci_act(&g->p, &reqs[i], r, &g->ctx->err) < 0)
            return fail(g, reqs[i].run ? reqs[i].run->id : 0,
                        reqs[i].run ? word(reqs[i].run) : NULL);
        g->nres++;
        tell(g, r);
    }
    if (g->a == CI_ACT_CANCEL)
        return cancel_wait(g);
    if (g->a == CI_ACT_DECLINE)
        return results(g, "declined");
    return follow(g);
}

static void ghact_release(struct ghact *g)
{
    ci_runset_release(&g->runs);
    if (g->p.ops)
        ci_provider_close(&g->p);
    ci_target_release(&g->t);
}

int ci_act_gh(struct cmd_ctx *ctx, enum ci_action a, const struct ci_act_opts *o)
{
    struct ghact g;
    memset(&g, 0, sizeof(g));
    g.ctx = ctx;
    g.o = o;
    g.a = a;
    int code;
    /* Ctrl-C from the start: one that comes between the POST and the wait
     * after it must end the verb with 130, not be lost (an interrupt during
     * a request ends that request; a write is then read back, not resent). */
    term_catch_signals();
    if (a == CI_ACT_RUN) {
        if (ci_gh_open(ctx, &g.p) < 0)
            return fail(&g, 0, NULL);
        struct ci_act_req req = { .action = a, .branch = o->branch, .workflow = o->workflow,
                                  .vars = (const char *const *)o->inputs, .nvars = o->ninputs };
        code = act_all(&g, &req, 1);
        ghact_release(&g);
        return code;
    }
    if (ci_gh_target(ctx, &g.t) < 0)
        return fail(&g, g.t.number, NULL);
    if (ci_gh_open(ctx, &g.p) < 0 || choose(&g) < 0) {
        code = fail(&g, g.t.number, g.runs.n == 1 ? word(&g.runs.runs[0]) : NULL);
    } else {
        struct ci_act_req reqs[MAX_TARGETS];
        for (size_t i = 0; i < g.npick; i++)
            reqs[i] = (struct ci_act_req){ .action = a, .run = &g.runs.runs[g.pick[i]] };
        code = act_all(&g, reqs, g.npick);
    }
    ghact_release(&g);
    return code;
}
