/*
 * ci restart / approve / decline / cancel / run: act on CI, safely.
 *
 * Each verb names a pipeline (REV: the commit's newest one the action
 * fits, #N: that one), checks its state first (Woodpecker answers some
 * impossible writes badly: a 500 with no body for declining a pipeline
 * that is not blocked), checks the push permission (Woodpecker answers a
 * missing one with 404), then either prints the request (--dry-run) or
 * sends it through woodpecker/write.c, which never sends it twice by
 * accident. restart, approve and run then follow the pipeline as `ci
 * watch` does (ci_watch_number); cancel waits for the final status.
 * On GitHub the same verbs go through the provider interface instead
 * (ci_act_gh.c, github/write.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/signal.h"
#include "core/term.h"
#include "woodpecker/write.h"

#define SCAN_PAGES 4          /* 200 pipelines: how far back a commit is looked for */
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
static void json_result(struct cmd_ctx *ctx, enum wp_action a, long long number,
                        const char *status, int code)
{
    json_t *j = json_pack("{s:s, s:s, s:i}", "event", "result", "action", wp_action_name(a),
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

static int fail(struct cmd_ctx *ctx, enum wp_action a, long long number, const char *status)
{
    if (ctx->mode == OUTPUT_JSON)
        json_result(ctx, a, number, status, ctx->err.code);
    return ctx->err.code;
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

/* The commit's newest pipeline that `k` fits, else its newest at all (the
 * pre-check then says why it cannot be acted on). 1 found, 0 none, -1. */
static int scan_commit(struct ci_session *s, const char *sha, enum pick k, long long *number,
                       struct err *e)
{
    long long newest = 0, last = 0;
    for (int page = 1; page <= SCAN_PAGES; page++) {
        json_t *items = NULL, *it;
        size_t i;
        if (wp_list_pipelines(&s->client, s->repo.id, NULL, page, WP_MAX_PER_PAGE, &items,
                              e) < 0)
            return -1;
        json_array_foreach(items, i, it) {
            long long num = json_integer_value(json_object_get(it, "number"));
            if (last && num >= last)
                continue; /* offsets shift while new pipelines appear */
            last = num;
            if (!wp_commit_matches(json_string_value(json_object_get(it, "commit")), sha))
                continue;
            if (!newest)
                newest = num;
            if (picks(k, json_string_value(json_object_get(it, "status")))) {
                *number = num;
                json_decref(items);
                return 1;
            }
        }
        size_t n = json_array_size(items);
        json_decref(items);
        if (n < WP_MAX_PER_PAGE)
            break;
    }
    *number = newest;
    return newest ? 1 : 0;
}

/* Loads the target's pipeline (detail). Errors as ci_find(). */
static int load_target(struct ci_session *s, const struct ci_target *t, enum pick k,
                       struct wp_pipeline *p, struct err *e)
{
    long long number = t->number;
    if (!number) {
        int found = scan_commit(s, t->sha, k, &number, e);
        if (found < 0)
            return -1;
        if (!found)
            return ci_find(s, t, p, e) == 1 ? 0 : -1; /* its not-found message */
    }
    return wp_get_pipeline(&s->client, s->repo.id, number, p, e);
}

/* Woodpecker's own refusals, said before asking: EXIT_FAILED. */
static int precheck(enum wp_action a, const struct wp_pipeline *p, struct err *e)
{
    const char *st = p->status;
    if (a == WP_RESTART && !strcmp(st, "blocked")) {
        err_set(e, EXIT_FAILED, "pipeline #%lld is blocked awaiting approval: approve it "
                "instead", p->number);
        err_hint(e, "homelab ci approve '#%lld'", p->number);
        return -1;
    }
    if ((a == WP_APPROVE || a == WP_DECLINE) && strcmp(st, "blocked"))
        return err_set(e, EXIT_FAILED, "pipeline #%lld is not waiting for approval "
                       "(status: %s)", p->number, st);
    if (a == WP_CANCEL && !picks(PICK_ACTIVE, st))
        return err_set(e, EXIT_FAILED, "pipeline #%lld already finished: %s", p->number, st);
    return 0;
}

static int check_push(struct ci_session *s, enum wp_action a, struct err *e)
{
    struct err pe;
    err_clear(&pe);
    if (wp_can_push(&s->client, s->repo.id, &pe) != 0)
        return 0; /* may push, or the server cannot say: the write will tell */
    err_set(e, EXIT_REFUSED, "the token from %s has no push permission on %s, which %s "
            "needs", s->client.token_source, s->repo.full_name, wp_action_name(a));
    err_hint(e, "ask for write access to %s on the forge; Woodpecker syncs it within an hour",
             s->repo.full_name);
    return -1;
}

/* ---- acting ---- */

static int dry_run(struct cmd_ctx *ctx, struct ci_session *s, const struct wp_write *w)
{
    struct buf path, body;
    buf_init(&path, 0);
    buf_init(&body, 0);
    wp_write_request(s->repo.id, w, &path, &body);
    if (ctx->mode == OUTPUT_JSON) {
        json_error_t jerr;
        json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:s}", "event", "result", "action",
                              wp_action_name(w->action), "dry_run", 1, "method", "POST",
                              "path", path.data);
        json_object_set_new(j, "body", body.len ? json_loads(body.data, 0, &jerr)
                                                : json_null());
        if (w->number)
            json_object_set_new(j, "pipeline", json_integer(w->number));
        json_object_set_new(j, "exit_code", json_integer(0));
        term_json_line(j);
        json_decref(j);
    } else {
        printf("POST %s\n", path.data);
        if (body.len)
            printf("%s\n", body.data);
        fprintf(stderr, "dry run: nothing sent to %s\n", s->client.server);
    }
    buf_release(&path);
    buf_release(&body);
    return EXIT_OK;
}

/* What happened, on stderr (progress) before the result. */
static void tell(struct cmd_ctx *ctx, const struct wp_write *w)
{
    if (ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:i}", "event", "action", "action",
                              wp_action_name(w->action), "pipeline",
                              (json_int_t)w->result_number, "recovered", w->recovered,
                              "sends", w->sends);
        if (w->number && w->number != w->result_number)
            json_object_set_new(j, "from", json_integer(w->number));
        term_json_line(j);
        json_decref(j);
        return;
    }
    if (w->action == WP_RESTART)
        fprintf(stderr, "restarted #%lld as #%lld\n", w->number, w->result_number);
    else if (w->action == WP_CREATE)
        fprintf(stderr, "started #%lld on %s\n", w->result_number, w->branch);
    else if (w->action == WP_APPROVE)
        fprintf(stderr, "approved #%lld\n", w->number);
    else if (w->action == WP_CANCEL)
        fprintf(stderr, "cancel of #%lld accepted\n", w->number);
    if (w->recovered)
        fprintf(stderr, "(the server's answer was lost; reading back showed the %s took "
                "effect)\n", wp_action_name(w->action));
}

/* cancel: wait for the final status, bounded by --timeout. */
static int cancel_settle(struct cmd_ctx *ctx, struct ci_session *s, struct wp_write *w)
{
    double deadline = clock_now() + cmd_timeout(ctx);
    signal_catch(); /* Ctrl-C ends the wait with 130, not mid-line */
    for (;;) {
        if (wp_status_terminal(w->status)) {
            int done = !strcmp(w->status, "killed") || !strcmp(w->status, "canceled");
            if (!done)
                err_set(&ctx->err, EXIT_FAILED, "pipeline #%lld finished as %s before the "
                        "cancel took effect", w->number, w->status);
            return done ? EXIT_OK : EXIT_FAILED;
        }
        if (signal_interrupted())
            return err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted"), EXIT_INTERRUPTED;
        if (clock_now() + CANCEL_POLL > deadline) {
            err_set(&ctx->err, EXIT_TIMEOUT, "pipeline #%lld is still %s after %.0fs", w->number,
                    w->status, cmd_timeout(ctx));
            return EXIT_TIMEOUT;
        }
        clock_sleep(CANCEL_POLL);
        struct wp_pipeline p;
        if (wp_get_pipeline(&s->client, s->repo.id, w->number, &p, &ctx->err) < 0)
            return ctx->err.code;
        snprintf(w->status, sizeof(w->status), "%s", p.status);
        wp_pipeline_release(&p);
    }
}

/* The verbs that follow the pipeline they made or released. */
static int is_watcher(enum wp_action a)
{
    return a == WP_RESTART || a == WP_APPROVE || a == WP_CREATE;
}

/* After a successful write: the result line, or the watch. */
static int after(struct cmd_ctx *ctx, struct ci_session *s, struct wp_write *w)
{
    int code = EXIT_OK;
    if (w->action == WP_CREATE && w->filtered) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "no workflow accepts a manual run on branch '%s' "
                "(the server answered 204 Pipeline-Filtered)", w->branch);
        err_hint(&ctx->err, "a workflow needs 'when: event: manual' (and that branch) to run");
        return fail(ctx, w->action, 0, "filtered");
    }
    tell(ctx, w);
    if (w->action == WP_CANCEL)
        code = cancel_settle(ctx, s, w);
    int watch = is_watcher(w->action) && !act.no_watch;
    if (watch) {
        json_t *extra = json_pack("{s:s, s:I}", "action", wp_action_name(w->action),
                                  "pipeline", (json_int_t)w->result_number);
        code = ci_watch_number(ctx, s, w->result_number, extra);
        json_decref(extra);
        return code;
    }
    if (code == EXIT_OK && is_watcher(w->action) && wp_status_terminal(w->status))
        code = wp_status_exit_code(w->status); /* --no-watch, and it is over already */
    if (ctx->mode == OUTPUT_JSON)
        json_result(ctx, w->action, w->result_number, w->status, code);
    else if (code == EXIT_OK || code == EXIT_FAILED)
        printf("#%lld %s\n", w->result_number, w->status);
    return code;
}

/* Sends the write; then after(), or the error. `was`: the status before. */
static int send(struct cmd_ctx *ctx, struct ci_session *s, struct wp_write *w,
                const char *was)
{
    if (wp_write_send(&s->client, s->repo.id, s->repo.full_name, w, &ctx->err) < 0)
        return fail(ctx, w->action, w->number, w->status[0] ? w->status : was);
    return after(ctx, s, w);
}

/* ---- the verbs ---- */

static int act_on_pipeline(struct cmd_ctx *ctx, enum wp_action a, enum pick k)
{
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "'%s' takes at most one REV or #N, got '%s'",
                       ctx->cmd->path, ctx->pos[1]), EXIT_USAGE;
    struct ci_target t;
    if (ci_target_start(ctx->npos ? ctx->pos[0] : NULL, &t, &ctx->err) < 0)
        return ctx->err.code;
    struct ci_session s;
    if (ci_session_open_target(ctx, &s, &t) < 0) {
        ci_target_release(&t);
        return fail(ctx, a, 0, NULL);
    }
    struct wp_pipeline p;
    int code;
    if (load_target(&s, &t, k, &p, &ctx->err) < 0) {
        code = fail(ctx, a, t.number, NULL);
    } else {
        struct wp_write w = { .action = a, .number = p.number };
        if (precheck(a, &p, &ctx->err) < 0 || check_push(&s, a, &ctx->err) < 0)
            code = fail(ctx, a, p.number, p.status);
        else
            code = act.dry_run ? dry_run(ctx, &s, &w) : send(ctx, &s, &w, p.status);
        wp_pipeline_release(&p);
    }
    ci_session_close(&s);
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

int cmd_ci_restart(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh)
        return gh < 0 ? ctx->err.code
                      : on_github(ctx, act.failed ? CI_ACT_RESTART_FAILED : CI_ACT_RESTART);
    if (act.failed) {
        err_set(&ctx->err, EXIT_USAGE, "--failed: Woodpecker restarts whole pipelines, not "
                "single steps");
        err_hint(&ctx->err, "drop --failed to restart the whole pipeline");
        return EXIT_USAGE;
    }
    return act_on_pipeline(ctx, WP_RESTART, PICK_ANY);
}

int cmd_ci_approve(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh)
        return gh < 0 ? ctx->err.code : on_github(ctx, CI_ACT_APPROVE);
    return act_on_pipeline(ctx, WP_APPROVE, PICK_BLOCKED);
}

int cmd_ci_decline(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh)
        return gh < 0 ? ctx->err.code : on_github(ctx, CI_ACT_DECLINE);
    return act_on_pipeline(ctx, WP_DECLINE, PICK_BLOCKED);
}

int cmd_ci_cancel(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh)
        return gh < 0 ? ctx->err.code : on_github(ctx, CI_ACT_CANCEL);
    return act_on_pipeline(ctx, WP_CANCEL, PICK_ACTIVE);
}

/* --var KEY=VALUE pairs as a JSON object; usage errors for malformed ones. */
static int parse_vars(struct cmd_ctx *ctx, json_t *vars)
{
    for (size_t i = 0; i < act.vars.n; i++) {
        const char *kv = act.vars.v[i];
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            return err_set(&ctx->err, EXIT_USAGE, "--var wants KEY=VALUE, not '%s'", kv);
        char *key = xstrndup(kv, (size_t)(eq - kv));
        json_object_set_new(vars, key, json_string(eq + 1));
        free(key);
    }
    return 0;
}

static int run_manual(struct cmd_ctx *ctx)
{
    if (ctx->npos)
        return err_set(&ctx->err, EXIT_USAGE, "'ci run' takes no arguments, got '%s' "
                       "(--branch B, --var KEY=VALUE)", ctx->pos[0]), EXIT_USAGE;
    json_t *vars = json_object();
    if (parse_vars(ctx, vars) < 0) {
        json_decref(vars);
        return EXIT_USAGE;
    }
    struct ci_session s;
    int code;
    if (ci_session_open(ctx, &s) < 0) {
        json_decref(vars);
        return fail(ctx, WP_CREATE, 0, NULL);
    }
    const char *branch = act.branch ? act.branch : s.repo.default_branch;
    struct wp_write w = { .action = WP_CREATE, .branch = branch, .variables = vars };
    if (!branch || !*branch) {
        err_set(&ctx->err, EXIT_USAGE, "the server reports no default branch for %s",
                s.repo.full_name);
        err_hint(&ctx->err, "name one with --branch BRANCH");
        code = EXIT_USAGE;
    } else if (check_push(&s, WP_CREATE, &ctx->err) < 0) {
        code = fail(ctx, WP_CREATE, 0, NULL);
    } else {
        code = act.dry_run ? dry_run(ctx, &s, &w) : send(ctx, &s, &w, NULL);
    }
    ci_session_close(&s);
    json_decref(vars);
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
    for (size_t i = 0; i < act.inputs.n; i++) {
        const char *eq = strchr(act.inputs.v[i], '=');
        if (!eq || eq == act.inputs.v[i])
            return err_fail(&ctx->err, EXIT_USAGE, "--input wants KEY=VALUE, not '%s'",
                            act.inputs.v[i]);
    }
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
