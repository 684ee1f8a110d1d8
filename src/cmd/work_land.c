/*
 * work land: merge the default branch in, verify, push (retrying when the
 * default moved on), else push for review; then watch CI and, with
 * --deploy, the rollouts of the landed commit. See cmd/work.c for the
 * verbs' shared contract (never rewrite history, one user-written shell).
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/work.h"
#include "core/buf.h"
#include "core/sanitize.h"
#include "core/signal.h"
#include "core/term.h"
#include "git/git.h"
#include "git/suite.h"
#include "kube/transport.h"
#include "ship/stages.h"

#define LAND_RETRIES 3 /* pushes retried after a non-fast-forward */

static struct {
    const char *verify_cmd;
    int no_verify;
    int no_ci_watch;
    struct strvec deploy;
} opt;

const struct opt work_land_opts[] = {
    { "verify-cmd", OPT_STRING, &opt.verify_cmd, "CMD",
      "verify with this shell command (sh -c CMD; work.verify)" },
    { "no-verify", OPT_BOOL, &opt.no_verify, NULL, "push without verifying" },
    { "no-ci-watch", OPT_BOOL, &opt.no_ci_watch, NULL, "do not watch CI after landing" },
    { "deploy", OPT_LIST, &opt.deploy, "NS/NAME",
      "then wait for this workload to run the landed commit (repeatable)" },
    OPT_END,
};

struct land {
    struct work w;
    char *branch;          /* the topic branch checked out */
    struct strvec verify;  /* argv, empty with --no-verify */
    char *verify_label;
    char *verified_tree;   /* the tree the last verification passed on */
    char *sha;             /* the landed (or reviewed) commit */
    int json;
};

/* Prints (in --json mode) and frees j. */
/* A progress line on stderr ("work: ..."); --quiet leaves only the
 * result, the failure report and errors. */
static void land_progress(const struct land *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void land_progress(const struct land *l, const char *fmt, ...)
{
    if (l->w.ctx->g.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("work: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void land_json(struct land *l, json_t *j)
{
    work_json_out(l->json, j);
}

/* The last line of output in every mode: what happened, and the exit code. */
static int land_result(struct land *l, const char *status, int code)
{
    /* ^C ended whatever step this was (git, the verification): say so */
    if (signal_interrupted() && code != EXIT_OK) {
        status = "interrupted";
        code = EXIT_INTERRUPTED;
        if (l->w.ctx->err.code != EXIT_INTERRUPTED)
            err_set(&l->w.ctx->err, EXIT_INTERRUPTED, "interrupted");
    }
    if (l->json) {
        json_t *j = json_pack("{s:s, s:s, s:i}", "stage", "result", "status", status,
                              "exit_code", code);
        if (l->sha)
            json_object_set_new(j, "sha", json_string(l->sha));
        if (l->w.ctx->err.code && code != EXIT_OK)
            json_object_set_new(j, "error", json_string(l->w.ctx->err.msg));
        land_json(l, j);
    }
    return code;
}

/* How to verify: --no-verify, --verify-cmd, work.verify, else a detected suite. */
static int land_choose_verify(struct land *l)
{
    struct cmd_ctx *ctx = l->w.ctx;
    if (opt.no_verify) {
        if (opt.verify_cmd)
            return err_set(&ctx->err, EXIT_USAGE, "--no-verify and --verify-cmd contradict");
        return 0;
    }
    const char *cmd = opt.verify_cmd ? opt.verify_cmd : ctx->cfg.verify;
    if (cmd) {
        if (!cmd[strspn(cmd, " \t\n")])
            return err_set(&ctx->err, EXIT_USAGE, "the verify command is empty");
        strvec_pushl(&l->verify, "sh", "-c", cmd, NULL);
        l->verify_label = xstrdup(cmd);
        return 0;
    }
    struct suite s;
    int rc = suite_detect(l->w.dir, &s, &ctx->err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        err_set(&ctx->err, EXIT_USAGE, "no check suite found to verify with (no make check or "
                                       "test, go.mod, Cargo.toml, npm test, meson build)");
        err_hint(&ctx->err, "pass --verify-cmd CMD (or set work.verify), or --no-verify");
        return -1;
    }
    for (size_t i = 0; i < s.argv.n; i++)
        strvec_push(&l->verify, s.argv.v[i]);
    l->verify_label = xstrdup(s.label);
    suite_release(&s);
    return 0;
}

/* Refuses a dirty work tree, listing what is uncommitted. */
static int land_check_clean(struct land *l)
{
    struct git_status st;
    if (git_status(&l->w.g, &st, &l->w.ctx->err) < 0)
        return -1;
    int rc = 0;
    if (st.n) {
        struct buf line;
        buf_init(&line, 0);
        for (size_t i = 0; i < st.n; i++) {
            buf_reset(&line);
            buf_addf(&line, "  %s ", st.v[i].xy);
            work_shown(&line, st.v[i].path);
            fprintf(stderr, "%s\n", line.data);
        }
        buf_reset(&line);
        git_status_describe(&st, 5, &line);
        rc = err_set(&l->w.ctx->err, EXIT_FAILED, "uncommitted changes in the work tree: %s",
                     line.data);
        err_hint(&l->w.ctx->err, "commit or stash them, then land again");
        buf_release(&line);
    }
    git_status_release(&st);
    return rc;
}

/*
 * Merges REMOTE/DEFAULT in. Returns 0, or the exit code: a conflict is
 * aborted (the checkout is as it was) and its files listed.
 */
static int land_merge(struct land *l)
{
    struct cmd_ctx *ctx = l->w.ctx;
    char *before = NULL, *after = NULL;
    struct strvec conflicts = STRVEC_INIT;
    int code = 0;
    if (git_rev_parse(&l->w.g, "HEAD", &before, &ctx->err) < 0) {
        code = ctx->err.code;
        goto out;
    }
    int rc = git_merge(&l->w.g, l->w.def_ref, &conflicts, &ctx->err);
    if (rc < 0) {
        code = ctx->err.code;
        goto out;
    }
    if (rc == GIT_MERGE_CONFLICT) {
        json_t *files = json_array();
        struct buf list;
        buf_init(&list, 0);
        for (size_t i = 0; i < conflicts.n; i++) {
            struct buf one;
            buf_init(&one, 0);
            work_shown(&one, conflicts.v[i]);
            fprintf(stderr, "  conflict: %s\n", one.data);
            if (i < 10)
                buf_addf(&list, "%s%s", i ? ", " : "", one.data);
            buf_release(&one);
            json_array_append_new(files, json_string(conflicts.v[i]));
        }
        if (conflicts.n > 10)
            buf_addf(&list, " (+%zu more)", conflicts.n - 10);
        err_set(&ctx->err, EXIT_FAILED, "merging %s conflicts in %s; merge aborted, the checkout "
                                        "is unchanged", l->w.def_name, list.len ? list.data : "?");
        err_hint(&ctx->err, "merge %s yourself, resolve, commit, then land again",
                 l->w.def_name);
        buf_release(&list);
        land_json(l, json_pack("{s:s, s:s, s:s, s:o}", "stage", "merge", "from", l->w.def_name,
                               "status", "conflict", "files", files));
        code = EXIT_FAILED;
        goto out;
    }
    if (git_rev_parse(&l->w.g, "HEAD", &after, &ctx->err) < 0) {
        code = ctx->err.code;
        goto out;
    }
    int changed = strcmp(before, after) != 0;
    land_progress(l, "%s %s", changed ? "merged" : "already up to date with",
            l->w.def_name);
    land_json(l, json_pack("{s:s, s:s, s:s, s:s}", "stage", "merge", "from", l->w.def_name,
                           "status", changed ? "merged" : "up-to-date", "head", after));
out:
    free(before);
    free(after);
    strvec_clear(&conflicts);
    return code;
}

/*
 * Runs the verification with our stdout pointed at stderr, so everything it
 * prints streams to the user while stdout stays the result.
 */
static int run_verify(struct land *l, int *status)
{
    fflush(stdout);
    fflush(stderr);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        if (saved >= 0)
            close(saved);
        return err_set(&l->w.ctx->err, EXIT_FAILED, "cannot redirect output: %s",
                       strerror(errno));
    }
    struct proc_opts po = { .dir = l->w.dir, .inherit_stdout = 1, .inherit_stderr = 1 };
    *status = proc_run((const char *const *)l->verify.v, &po, NULL, NULL, &l->w.ctx->err);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return 0;
}

/* Verifies HEAD's tree unless that very tree passed already. Returns 0 or an exit code. */
static int land_verify(struct land *l, int attempt)
{
    struct cmd_ctx *ctx = l->w.ctx;
    if (!l->verify.n)
        return 0;
    char *tree = NULL;
    if (git_rev_parse(&l->w.g, "HEAD^{tree}", &tree, &ctx->err) < 0)
        return ctx->err.code;
    if (l->verified_tree && !strcmp(tree, l->verified_tree)) {
        land_progress(l, "the tree is unchanged since it was verified");
        land_json(l, json_pack("{s:s, s:s, s:s, s:i}", "stage", "verify", "command",
                               l->verify_label, "status", "unchanged", "attempt", attempt));
        free(tree);
        return 0;
    }
    struct buf label;
    buf_init(&label, 0);
    work_shown(&label, l->verify_label);
    land_progress(l, "verifying with: %s", label.data);
    int status = -1, code = 0;
    if (run_verify(l, &status) < 0) {
        code = ctx->err.code;
    } else if (status == 0) {
        free(l->verified_tree);
        l->verified_tree = tree;
        tree = NULL;
    } else if (status == 128 + 2) {
        err_set(&ctx->err, EXIT_INTERRUPTED, "interrupted during verification");
        code = EXIT_INTERRUPTED;
    } else {
        if (status > 0)
            err_set(&ctx->err, EXIT_FAILED, "verification failed (%s exited with %d); nothing "
                                            "was pushed", label.data, status);
        else
            err_wrap(&ctx->err, "verification failed; nothing was pushed");
        ctx->err.code = EXIT_FAILED;
        code = EXIT_FAILED;
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:i}", "stage", "verify", "command", l->verify_label,
                          "status", code ? "failure" : "success", "attempt", attempt);
    if (status >= 0)
        json_object_set_new(j, "exit_code", json_integer(status));
    land_json(l, j);
    buf_release(&label);
    free(tree);
    return code;
}

static void print_remote_says(const struct git_push_result *r)
{
    if (!r->remote)
        return;
    for (const char *p = r->remote; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(stderr, "  remote: %.*s\n", (int)n, p);
        p += n;
        if (*p)
            p++;
    }
}

/* After a rejection that is not a race: the branch goes up for review. */
static int land_for_review(struct land *l, const struct git_push_result *refused)
{
    struct cmd_ctx *ctx = l->w.ctx;
    fprintf(stderr, "work: %s refused the push to %s: %s%s%s\n", l->w.remote, l->w.def,
            refused->summary ? refused->summary : "rejected", refused->reason ? " " : "",
            refused->reason ? refused->reason : "");
    print_remote_says(refused);
    char *ref = work_heads_ref(l->branch);
    struct git_push_result r;
    int rc = git_push(&l->w.g, l->w.remote, "HEAD", ref, &r, &ctx->err);
    free(ref);
    int code;
    if (rc == 0 && (r.status == GIT_PUSH_OK || r.status == GIT_PUSH_UP_TO_DATE)) {
        free(l->sha);
        l->sha = NULL;
        git_rev_parse(&l->w.g, "HEAD", &l->sha, &ctx->err);
        err_clear(&ctx->err);
        land_json(l, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "stage", "push", "status",
                               "review", "branch", l->branch, "remote", l->w.remote, "reason",
                               refused->reason, "sha", l->sha));
        if (!l->json)
            printf("not landed: pushed %s to %s for review\n", l->branch, l->w.remote);
        git_push_result_release(&r);
        return land_result(l, "review", EXIT_NEEDS_PERSON);
    }
    if (rc == 0) {
        print_remote_says(&r);
        err_set(&ctx->err, EXIT_FAILED, "not landed: %s refused %s (%s) and the branch %s (%s)",
                l->w.remote, l->w.def, refused->reason ? refused->reason : "rejected", l->branch,
                r.reason ? r.reason : r.summary ? r.summary : "rejected");
    }
    git_push_result_release(&r);
    code = work_err_code(ctx);
    return land_result(l, "rejected", code);
}

/*
 * merge, verify, push; on a non-fast-forward fetch and go round again.
 * Returns 0 once landed (l->sha set) or the exit code.
 */
static int land_loop(struct land *l)
{
    struct cmd_ctx *ctx = l->w.ctx;
    for (int attempt = 1;; attempt++) {
        /* a ^C between steps stops before the next one (never a push after it) */
        if (signal_interrupted())
            return land_result(l, "interrupted", EXIT_INTERRUPTED);
        int code = land_merge(l);
        if (code)
            return land_result(l, code == EXIT_FAILED ? "conflict" : "error", code);
        code = signal_interrupted() ? EXIT_INTERRUPTED : land_verify(l, attempt);
        if (code)
            return land_result(l, code == EXIT_FAILED ? "failure" : "error", code);
        free(l->sha);
        l->sha = NULL;
        if (git_rev_parse(&l->w.g, "HEAD", &l->sha, &ctx->err) < 0)
            return land_result(l, "error", ctx->err.code);
        if (signal_interrupted())
            return land_result(l, "interrupted", EXIT_INTERRUPTED);
        land_progress(l, "pushing %.7s to %s %s", l->sha, l->w.remote, l->w.def);
        struct buf dst;
        buf_init(&dst, 0);
        buf_addf(&dst, "refs/heads/%s", l->w.def);
        struct git_push_result r;
        int rc = git_push(&l->w.g, l->w.remote, "HEAD", dst.data, &r, &ctx->err);
        buf_release(&dst);
        if (rc < 0) {
            git_push_result_release(&r);
            return land_result(l, "error", ctx->err.code);
        }
        if (r.status == GIT_PUSH_OK || r.status == GIT_PUSH_UP_TO_DATE) {
            land_json(l, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "stage", "push", "status",
                                   "landed", "remote", l->w.remote, "branch", l->w.def, "sha",
                                   l->sha, "attempt", attempt));
            git_push_result_release(&r);
            return 0;
        }
        if (r.status == GIT_PUSH_REJECTED) {
            land_json(l, json_pack("{s:s, s:s, s:s, s:s?, s:i}", "stage", "push", "status",
                                   "rejected", "branch", l->w.def, "reason", r.reason,
                                   "attempt", attempt));
            code = land_for_review(l, &r);
            git_push_result_release(&r);
            return code;
        }
        /* GIT_PUSH_NON_FF: the default branch moved on while we worked */
        land_json(l, json_pack("{s:s, s:s, s:s, s:s?, s:i}", "stage", "push", "status",
                               "non-fast-forward", "branch", l->w.def, "reason", r.reason,
                               "attempt", attempt));
        git_push_result_release(&r);
        if (attempt > LAND_RETRIES) {
            err_set(&ctx->err, EXIT_FAILED, "not landed: %s kept moving (%d pushes rejected "
                                            "as non-fast-forward)", l->w.def_name, attempt);
            err_hint(&ctx->err, "land again when it is quieter");
            return land_result(l, "failure", EXIT_FAILED);
        }
        land_progress(l, "%s moved on; fetching and merging again", l->w.def_name);
        if (git_fetch(&l->w.g, l->w.remote, &ctx->err) < 0)
            return land_result(l, "error", ctx->err.code);
    }
}

/*
 * Whether HEAD is in the default branch already: landed by an earlier run
 * (whose watch may have been cut short) or nothing committed yet. Then there
 * is nothing to merge, verify or push, and the watch follows HEAD.
 * Returns 1 (l->sha set), 0, or -1.
 */
static int land_already(struct land *l)
{
    struct cmd_ctx *ctx = l->w.ctx;
    int in = git_is_ancestor(&l->w.g, "HEAD", l->w.def_ref, &ctx->err);
    if (in <= 0)
        return in;
    if (git_rev_parse(&l->w.g, "HEAD", &l->sha, &ctx->err) < 0)
        return -1;
    fprintf(stderr, "work: nothing new to land: %.7s is already in %s\n", l->sha,
            l->w.def_name);
    land_json(l, json_pack("{s:s, s:s, s:s, s:s, s:s}", "stage", "push", "status",
                           "already-landed", "remote", l->w.remote, "branch", l->w.def, "sha",
                           l->sha));
    return 1;
}

/* After landing: CI for the landed commit, then each --deploy target. */
static int land_follow(struct land *l)
{
    struct cmd_ctx *ctx = l->w.ctx;
    int code = EXIT_OK;
    int watched = 0;
    if (!opt.no_ci_watch) {
        watched = 1;
        fflush(stdout);
        /* with stages configured, the whole way to live; else CI alone */
        code = ship_configured(ctx) ? ship_watch_sha(ctx, l->sha) : ci_watch_sha(ctx, l->sha);
        fflush(stdout);
    }
    for (size_t i = 0; code == EXIT_OK && i < opt.deploy.n; i++) {
        watched = 1;
        code = deploy_wait_target(ctx, opt.deploy.v[i], l->sha);
        fflush(stdout);
    }
    const char *status = code == EXIT_OK ? (watched ? "success" : "landed")
                         : code == EXIT_FAILED ? "failure"
                                               : exit_code_name(code);
    return land_result(l, status, code);
}

/*
 * The checks before anything is merged or pushed: a topic branch checked
 * out and clean, --deploy targets that parse (a typo must not be found out
 * after the push), a way to verify, the remote and its default branch.
 * Returns 0, or the exit code with *status the result word.
 */
static int land_prepare(struct land *l, const char **status)
{
    struct cmd_ctx *ctx = l->w.ctx;
    struct git here = { NULL, 0 };
    *status = "error";
    if (git_toplevel(&here, &l->w.dir, &ctx->err) < 0) {
        if (ctx->err.kind == ERR_NOT_A_REPO) {
            err_set_kind(&ctx->err, ERR_NOT_A_REPO, EXIT_USAGE, "not in a git repository");
            err_hint(&ctx->err, "run it inside the work tree of the branch to land");
        }
        return work_err_code(ctx);
    }
    l->w.g.dir = l->w.dir;
    if (git_current_branch(&l->w.g, &l->branch, &ctx->err) < 0)
        return work_err_code(ctx);
    *status = "refused";
    if (!l->branch) {
        return err_fail(&ctx->err, EXIT_USAGE,
                        "HEAD is detached; work land runs on a topic branch");
    }
    for (size_t i = 0; i < opt.deploy.n; i++) {
        struct kube_target t;
        if (kube_parse_target(opt.deploy.v[i], &t, &ctx->err) < 0) {
            err_wrap(&ctx->err, "--deploy");
            return EXIT_USAGE;
        }
    }
    if (!opt.no_ci_watch && ship_configured(ctx)) {
        /* a mistake in the stages must show before the push, not after */
        struct ship_plan plan;
        if (ship_plan_load(&ctx->cfg, ctx->cfg.repo, &plan, &ctx->err) < 0)
            return EXIT_USAGE;
    }
    if (land_choose_verify(l) < 0)
        return work_err_code(ctx);
    if (work_remote(&l->w, 1) < 0) {
        *status = "error";
        return work_err_code(ctx);
    }
    if (!strcmp(l->branch, l->w.def)) {
        err_set(&ctx->err, EXIT_USAGE, "on the default branch '%s'; work land lands a topic "
                                       "branch onto it", l->w.def);
        err_hint(&ctx->err, "'homelab work start TOPIC' makes one");
        return EXIT_USAGE;
    }
    if (land_check_clean(l) < 0)
        return work_err_code(ctx);
    return 0;
}

int cmd_work_land(struct cmd_ctx *ctx)
{
    git_set_trace(ctx->g.verbose);
    struct land l;
    memset(&l, 0, sizeof(l));
    l.w.ctx = ctx;
    l.json = ctx->mode == OUTPUT_JSON;
    int code;
    const char *status;
    if (ctx->npos != 0) {
        code = err_fail(&ctx->err, EXIT_USAGE, "'work land' takes no arguments (run it in the "
                                               "topic's worktree)");
        goto out;
    }
    /* from the start: ^C while merging, verifying or pushing ends with a
     * result (and the JSON result line), not by the default action */
    signal_catch();
    code = land_prepare(&l, &status);
    if (code) {
        code = land_result(&l, status, code);
        goto out;
    }
    int landed = land_already(&l);
    if (landed < 0) {
        code = land_result(&l, "error", ctx->err.code);
        goto out;
    }
    if (!landed) {
        code = land_loop(&l);
        if (code != 0)
            goto out;
    }
    fprintf(stderr, "work: landed %.7s on %s\n", l.sha, l.w.def_name);
    if (!l.json)
        printf("%s\n", l.sha);
    fflush(stdout);
    code = land_follow(&l);
out:
    strvec_clear(&l.verify);
    strvec_clear(&opt.deploy);
    free(l.verify_label);
    free(l.verified_tree);
    free(l.branch);
    free(l.sha);
    work_release(&l.w);
    return code;
}

