/*
 * ci restart / approve / decline / cancel / run: act on CI, safely.
 *
 * Both providers' writes go through the provider interface: ci_act()
 * sends one (never twice by accident), ci_act_describe() gives the request
 * for --dry-run. This file is the Woodpecker half: each verb names a
 * pipeline (REV: the commit's newest one the action fits, #N: that one)
 * and checks its state first (Woodpecker answers some impossible writes
 * badly: a 500 with no body for declining a pipeline that is not
 * blocked); the provider (woodpecker/act.c, over woodpecker/write.c)
 * checks the push permission (Woodpecker answers a missing one with 404)
 * and sends. The pipeline is chosen and read through the provider too
 * (commit_runs, newest_run, run_by_id). restart, approve and run then
 * follow the pipeline as `ci watch` does (ci_watch_run, on the same
 * provider); cancel waits for the final status. The GitHub half is
 * ci_act_gh.c (github/write.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/signal.h"
#include "core/term.h"
#include "woodpecker/provider.h"

#define SCAN_RUNS 200         /* how far back in the repo's pipelines a commit is looked for */
#define CANCEL_POLL 0.5       /* seconds between reads while a cancel settles */

static struct {
    int failed, no_watch, dry_run;
    const char *branch, *workflow;
    struct strvec vars, inputs;
} act;

#define DRY_RUN_OPT { "dry-run", OPT_BOOL, &act.dry_run, NULL, \
                      "print the request it would send and exit; send nothing" }
#define NO_WATCH_OPT { "no-watch", OPT_BOOL, &act.no_watch, NULL, \
                       "print the pipeline acted on and exit instead of following it" }
#define EVENT_OPT { "event", OPT_STRING, &ci_gh_opts.event, "NAME", \
                    "GitHub: the commit's runs of this event (default push; any)" }

const struct opt ci_restart_opts[] = {
    { "failed", OPT_BOOL, &act.failed, NULL, "GitHub only: re-run only the failed jobs" },
    NO_WATCH_OPT, DRY_RUN_OPT, EVENT_OPT, OPT_END,
};
const struct opt ci_approve_opts[] = { NO_WATCH_OPT, DRY_RUN_OPT, EVENT_OPT, OPT_END };
const struct opt ci_decline_opts[] = { DRY_RUN_OPT, EVENT_OPT, OPT_END };
const struct opt ci_cancel_opts[] = { DRY_RUN_OPT, EVENT_OPT, OPT_END };
const struct opt ci_run_opts[] = {
    { "branch", OPT_STRING, &act.branch, "BRANCH",
      "the branch to run on (default: the repo's default branch)" },
    { "var", OPT_LIST, &act.vars, "KEY=VALUE", "Woodpecker: a pipeline variable (repeatable)" },
    { "workflow", OPT_STRING, &act.workflow, "FILE|ID",
      "GitHub: the workflow to dispatch (deploy.yml, or its id)" },
    { "input", OPT_LIST, &act.inputs, "KEY=VALUE", "GitHub: a workflow input (repeatable)" },
    NO_WATCH_OPT, DRY_RUN_OPT, OPT_END,
};

/* ---- output ---- */

/* The JSON result line of a verb that does not end in a watch. */
static void json_result(struct cmd_ctx *ctx, enum ci_action a, long long number,
                        const char *status, int code)
{
    json_t *j = json_pack("{s:s, s:s, s:i}", "event", "result", "action", ci_action_name(a),
                          "exit_code", code);
    if (number > 0) {
        json_object_set_new(j, "pipeline", json_integer(number));
        json_object_set_new(j, "number", json_integer(number));
    }
    json_object_set_new(j, "status", json_string(status && *status ? status : "unknown"));
    if (code && ctx->err.msg[0])
        json_object_set_new(j, "error", json_string(ctx->err.msg));
    term_json_line(j);
    json_decref(j);
}

static int fail(struct cmd_ctx *ctx, enum ci_action a, long long number, const char *status)
{
    if (ctx->mode == OUTPUT_JSON)
        json_result(ctx, a, number, status, ctx->err.code);
    return ctx->err.code;
}

/* ---- shared with the GitHub half (ci_common.h) ---- */

int ci_act_show_request(struct cmd_ctx *ctx, struct ci_provider *p,
                        const struct ci_act_req *req, json_t **j)
{
    struct buf path, body;
    buf_init(&path, 0);
    buf_init(&body, 0);
    int rc = ci_act_describe(p, req, &path, &body, &ctx->err);
    if (rc == 0 && j) {
        json_error_t jerr;
        *j = json_pack("{s:s, s:s}", "method", "POST", "path", path.data);
        json_object_set_new(*j, "body", body.len ? json_loads(body.data, 0, &jerr)
                                                 : json_null());
    } else if (rc == 0) {
        printf("POST %s\n", path.data);
        if (body.len)
            printf("%s\n", body.data);
    }
    buf_release(&path);
    buf_release(&body);
    return rc;
}

void ci_act_tell(enum ci_action a, const struct ci_act_result *res)
{
    if (res->what[0])
        fprintf(stderr, "%s\n", res->what);
    if (res->recovered)
        fprintf(stderr, "(the server's answer was lost; reading back showed the %s took "
                "effect)\n", ci_action_name(a));
}

/* ---- choosing the pipeline ---- */

enum pick { PICK_ANY, PICK_BLOCKED, PICK_ACTIVE };

static int picks(enum pick k, const char *status)
{
    if (!status)
        return 0;
    if (k == PICK_BLOCKED)
        return !strcmp(status, "blocked");
    if (k == PICK_ACTIVE)
        return !strcmp(status, "blocked") || !strcmp(status, "running") ||
               !strcmp(status, "pending");
    return 1;
}

struct scan {
    enum pick k;
    long long newest, picked;
};

static int scan_one(void *ctx, const struct ci_run *r)
{
    struct scan *sc = ctx;
    if (!sc->newest)
        sc->newest = r->number;
    if (!picks(sc->k, r->status))
        return 0;
    sc->picked = r->number;
    return 1;
}

/* The commit's newest pipeline that `k` fits, else its newest at all (the
 * pre-check then says why it cannot be acted on). 1 found, 0 none, -1. */
static int scan_commit(struct ci_provider *p, const char *sha, enum pick k, long long *number,
                       struct err *e)
{
    struct scan sc = { k, 0, 0 };
    if (ci_commit_runs(p, sha, SCAN_RUNS, scan_one, &sc, e) < 0)
        return -1;
    *number = sc.picked ? sc.picked : sc.newest;
    return *number ? 1 : 0;
}

/* Reads the target's pipeline (the detail). A commit none of whose
 * pipelines is in reach is looked for once more as `ci status` looks, for
 * the provider's not-found words (naming the newest pipeline). */
static int load_target(struct ci_provider *p, const struct ci_target *t, enum pick k,
                       struct ci_run *r, struct err *e)
{
    long long number = t->number;
    if (!number) {
        int found = scan_commit(p, t->sha, k, &number, e);
        if (found < 0)
            return -1;
        if (!found) {
            found = ci_newest_run(p, t->sha, NULL, &number, e);
            if (found < 0)
                return -1;
            if (!found) {
                p->ops->no_runs(p, t->label, NULL, "", e);
                return -1;
            }
        }
    }
    return p->ops->run_by_id(p, number, r, e);
}

/* Woodpecker's own refusals, said before asking: EXIT_FAILED. */
static int precheck(enum ci_action a, const struct ci_run *p, struct err *e)
{
    const char *st = p->status ? p->status : "";
    if (a == CI_ACT_RESTART && !strcmp(st, "blocked")) {
        err_set(e, EXIT_FAILED, "pipeline #%lld is blocked awaiting approval: approve it "
                "instead", p->number);
        err_hint(e, "homelab ci approve '#%lld'", p->number);
        return -1;
    }
    if ((a == CI_ACT_APPROVE || a == CI_ACT_DECLINE) && strcmp(st, "blocked"))
        return err_set(e, EXIT_FAILED, "pipeline #%lld is not waiting for approval "
                       "(status: %s)", p->number, st);
    if (a == CI_ACT_CANCEL && !picks(PICK_ACTIVE, st))
        return err_set(e, EXIT_FAILED, "pipeline #%lld already finished: %s", p->number, st);
    return 0;
}

/* ---- acting ---- */

/* The pipeline the request names, 0 for a manual run. */
static long long req_number(const struct ci_act_req *req)
{
    return req->run ? req->run->number : 0;
}

/* --dry-run: the provider's describe (the push check included) prints the
 * request; `was`: the pipeline's status, for a refusal's result line. */
static int dry_run(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_act_req *req,
                   const char *was)
{
    long long number = req_number(req);
    json_t *request = NULL;
    if (ci_act_show_request(ctx, p, req, ctx->mode == OUTPUT_JSON ? &request : NULL) < 0)
        return fail(ctx, req->action, number, was);
    if (ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:b}", "event", "result", "action",
                              ci_action_name(req->action), "dry_run", 1);
        json_object_update(j, request); /* method, path, body */
        if (number)
            json_object_set_new(j, "pipeline", json_integer(number));
        json_object_set_new(j, "exit_code", json_integer(0));
        term_json_line(j);
        json_decref(j);
        json_decref(request);
    } else {
        fprintf(stderr, "dry run: nothing sent to %s\n", ctx->cfg.server);
    }
    return EXIT_OK;
}

/* What happened, on stderr (progress) before the result. */
static void tell(struct cmd_ctx *ctx, const struct ci_act_req *req,
                 const struct ci_act_result *res)
{
    if (ctx->mode != OUTPUT_JSON) {
        ci_act_tell(req->action, res);
        return;
    }
    long long number = req_number(req);
    json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:i}", "event", "action", "action",
                          ci_action_name(req->action), "pipeline", (json_int_t)res->run_id,
                          "recovered", res->recovered, "sends", res->sends);
    if (number && number != res->run_id)
        json_object_set_new(j, "from", json_integer(number));
    term_json_line(j);
    json_decref(j);
}

/* cancel: wait for pipeline `number`'s final status (into res->status),
 * bounded by --timeout. */
static int cancel_settle(struct cmd_ctx *ctx, struct ci_provider *p, long long number,
                         struct ci_act_result *res)
{
    double deadline = clock_now() + cmd_timeout(ctx);
    signal_catch(); /* Ctrl-C ends the wait with 130, not mid-line */
    for (;;) {
        if (wp_status_terminal(res->status)) {
            int done = !strcmp(res->status, "killed") || !strcmp(res->status, "canceled");
            if (!done)
                err_set(&ctx->err, EXIT_FAILED, "pipeline #%lld finished as %s before the "
                        "cancel took effect", number, res->status);
            return done ? EXIT_OK : EXIT_FAILED;
        }
        if (signal_interrupted())
            return err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted"), EXIT_INTERRUPTED;
        if (clock_now() + CANCEL_POLL > deadline) {
            err_set(&ctx->err, EXIT_TIMEOUT, "pipeline #%lld is still %s after %.0fs", number,
                    res->status, cmd_timeout(ctx));
            return EXIT_TIMEOUT;
        }
        clock_sleep(CANCEL_POLL);
        struct ci_run r;
        if (p->ops->run_by_id(p, number, &r, &ctx->err) < 0)
            return ctx->err.code;
        snprintf(res->status, sizeof(res->status), "%s", r.status ? r.status : "");
        ci_run_release(&r);
    }
}

/* The verbs that follow the pipeline they made or released. */
static int is_watcher(enum ci_action a)
{
    return a == CI_ACT_RESTART || a == CI_ACT_APPROVE || a == CI_ACT_RUN;
}

/* After a successful write: the result line, or the watch. */
static int after(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_act_req *req,
                 struct ci_act_result *res)
{
    enum ci_action a = req->action;
    int code = EXIT_OK;
    tell(ctx, req, res);
    if (a == CI_ACT_CANCEL)
        code = cancel_settle(ctx, p, req_number(req), res);
    int watch = is_watcher(a) && !act.no_watch;
    if (watch) {
        json_t *extra = json_pack("{s:s, s:I}", "action", ci_action_name(a), "pipeline",
                                  (json_int_t)res->run_id);
        code = ci_watch_run(ctx, p, res->run_id, extra);
        json_decref(extra);
        return code;
    }
    if (code == EXIT_OK && is_watcher(a) && wp_status_terminal(res->status))
        code = wp_status_exit_code(res->status); /* --no-watch, and it is over already */
    if (ctx->mode == OUTPUT_JSON)
        json_result(ctx, a, res->run_id, res->status, code);
    else if (code == EXIT_OK || code == EXIT_FAILED)
        printf("#%lld %s\n", res->run_id, res->status);
    return code;
}

/* Sends the write through the provider (which checks the push permission
 * and never sends it twice by accident); then after(), or the error.
 * `was`: the status before. */
static int send(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_act_req *req,
                const char *was)
{
    struct ci_act_result res;
    memset(&res, 0, sizeof(res));
    if (ci_act(p, req, &res, &ctx->err) < 0)
        return fail(ctx, req->action, req_number(req), res.status[0] ? res.status : was);
    return after(ctx, p, req, &res);
}

/* --dry-run or the write. */
static int dispatch(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_act_req *req,
                    const char *was)
{
    return act.dry_run ? dry_run(ctx, p, req, was) : send(ctx, p, req, was);
}

/* ---- the verbs ---- */

static int act_on_pipeline(struct cmd_ctx *ctx, enum ci_action a, enum pick k)
{
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "'%s' takes at most one REV or #N, got '%s'",
                       ctx->cmd->path, ctx->pos[1]), EXIT_USAGE;
    struct ci_target t;
    if (ci_target_start(ctx->npos ? ctx->pos[0] : NULL, &t, &ctx->err) < 0)
        return ctx->err.code;
    struct ci_provider p;
    if (ci_open_provider(ctx, &wp_provider_ops, &t, &p) < 0) {
        ci_target_release(&t);
        return fail(ctx, a, 0, NULL);
    }
    struct ci_run run;
    int code;
    if (load_target(&p, &t, k, &run, &ctx->err) < 0) {
        code = fail(ctx, a, t.number, NULL);
    } else if (precheck(a, &run, &ctx->err) < 0) {
        code = fail(ctx, a, run.number, run.status);
        ci_run_release(&run);
    } else {
        struct ci_act_req req = { .action = a, .run = &run };
        code = dispatch(ctx, &p, &req, run.status);
        ci_run_release(&run);
    }
    ci_provider_close(&p);
    ci_target_release(&t);
    return code;
}

/* The verb on GitHub (ci_act_gh.c, through the provider interface). */
static int on_github(struct cmd_ctx *ctx, enum ci_action a)
{
    struct ci_act_opts o = { act.no_watch, act.dry_run, act.branch, act.workflow,
                             act.inputs.v, act.inputs.n };
    return ci_act_gh(ctx, a, &o);
}

/* A verb on a pipeline or run, on the provider this command talks to. */
static int verb(struct cmd_ctx *ctx, enum ci_action a, enum pick k)
{
    int gh = ci_github_selected(ctx);
    if (gh)
        return gh < 0 ? ctx->err.code : on_github(ctx, a);
    if (wp_act_supported(a, &ctx->err) < 0) /* said before connecting */
        return EXIT_USAGE;
    return act_on_pipeline(ctx, a, k);
}

int cmd_ci_restart(struct cmd_ctx *ctx)
{
    return verb(ctx, act.failed ? CI_ACT_RESTART_FAILED : CI_ACT_RESTART, PICK_ANY);
}

int cmd_ci_approve(struct cmd_ctx *ctx)
{
    return verb(ctx, CI_ACT_APPROVE, PICK_BLOCKED);
}

int cmd_ci_decline(struct cmd_ctx *ctx)
{
    return verb(ctx, CI_ACT_DECLINE, PICK_BLOCKED);
}

int cmd_ci_cancel(struct cmd_ctx *ctx)
{
    return verb(ctx, CI_ACT_CANCEL, PICK_ACTIVE);
}

/* --var / --input KEY=VALUE pairs: a usage error names a malformed one. */
static int check_pairs(struct cmd_ctx *ctx, const char *flag, const struct strvec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        const char *eq = strchr(v->v[i], '=');
        if (!eq || eq == v->v[i])
            return err_fail(&ctx->err, EXIT_USAGE, "%s wants KEY=VALUE, not '%s'", flag,
                            v->v[i]);
    }
    return 0;
}

static int run_manual(struct cmd_ctx *ctx)
{
    if (ctx->npos)
        return err_set(&ctx->err, EXIT_USAGE, "'ci run' takes no arguments, got '%s' "
                       "(--branch B, --var KEY=VALUE)", ctx->pos[0]), EXIT_USAGE;
    if (check_pairs(ctx, "--var", &act.vars))
        return EXIT_USAGE;
    struct ci_provider p;
    int code;
    if (ci_open_provider(ctx, &wp_provider_ops, NULL, &p) < 0)
        return fail(ctx, CI_ACT_RUN, 0, NULL);
    const char *branch = act.branch ? act.branch : p.default_branch;
    if (!branch || !*branch) {
        err_set(&ctx->err, EXIT_USAGE, "the server reports no default branch for %s", p.repo);
        err_hint(&ctx->err, "name one with --branch BRANCH");
        code = EXIT_USAGE;
    } else {
        struct ci_act_req req = { .action = CI_ACT_RUN, .branch = branch,
                                  .vars = (const char *const *)act.vars.v,
                                  .nvars = act.vars.n };
        code = dispatch(ctx, &p, &req, NULL);
    }
    ci_provider_close(&p);
    return code;
}

/* ci run on GitHub: --workflow and --input KEY=VALUE; --var is Woodpecker's. */
static int run_github(struct cmd_ctx *ctx)
{
    if (ctx->npos)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci run' takes no arguments, got '%s' "
                        "(--workflow FILE|ID, --input KEY=VALUE, --branch B)", ctx->pos[0]);
    if (act.vars.n)
        return err_fail(&ctx->err, EXIT_USAGE, "--var is for Woodpecker pipelines; a GitHub "
                        "workflow takes --input KEY=VALUE");
    if (!act.workflow || !*act.workflow)
        return err_fail(&ctx->err, EXIT_USAGE, "on GitHub, name the workflow to run with "
                        "--workflow FILE|ID (e.g. deploy.yml)");
    if (check_pairs(ctx, "--input", &act.inputs))
        return EXIT_USAGE;
    return on_github(ctx, CI_ACT_RUN);
}

int cmd_ci_run(struct cmd_ctx *ctx)
{
    int code, gh = ci_github_selected(ctx);
    if (gh < 0)
        code = ctx->err.code;
    else if (gh)
        code = run_github(ctx);
    else if (act.workflow || act.inputs.n)
        code = err_fail(&ctx->err, EXIT_USAGE, "--workflow and --input are for GitHub "
                        "workflows; a Woodpecker pipeline takes --var KEY=VALUE");
    else
        code = run_manual(ctx);
    strvec_clear(&act.vars);
    strvec_clear(&act.inputs);
    return code;
}
