/*
 * ci_github: ci status, list, watch and logs when the provider is GitHub
 * Actions. Talks to ci/provider.h only (github/provider.c behind it);
 * this file keeps flags, rendering and exit codes.
 *
 * The verdict is ci_verdict() over the runs of the exact commit: 1 as
 * soon as one failed, 4 when one waits for a person, 0 when all passed;
 * stale and completed-without-conclusion are not final. The watch polls
 * the commit's runs every 2.5 s (a 304 costs nothing) and reads jobs only
 * when a run changed, off a terminal at most every 10 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ci/provider.h"
#include "cmd/ci_common.h"
#include "cmd/ci_follow.h"
#include "cmd/ci_view.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/linering.h"
#include "core/sanitize.h"
#include "core/term.h"
#include "git/git.h"
#include "github/logsplit.h"
#include "github/model.h"
#include "github/provider.h"

#define GH_APPEAR_DEFAULT 600.0
/* ci list: GitHub answers at most 1,000 runs for a filtered list */
#define GH_LIST_MAX 1000
#define GH_FOLLOW_EVERY 3.0

struct ci_gh_opts ci_gh_opts;
static const json_t *watch_extra; /* ci_gh_watch_as(): fields for the result line */

/* ---- choosing the provider and the repo ---- */

static char *chosen_url; /* the URL of the chosen remote, once read */

int ci_github_selected(struct cmd_ctx *ctx)
{
    enum ci_provider_kind kind;
    char host[256] = "";
    const struct config *cfg = &ctx->cfg;
    int gh_configured = (cfg->github_repo && *cfg->github_repo) ||
                        strcmp(cfg->github_api, "https://api.github.com") != 0;
    /* ci.repo / HOMELAB_REPO are Woodpecker's own keys: with one set and
     * nothing GitHub configured, no git process is spent on the remote */
    if ((!cfg->provider || !*cfg->provider) && cfg->repo && *cfg->repo &&
        !cfg->repo_from_flag && !gh_configured)
        return 0;
    if (!cfg->provider || !*cfg->provider) {
        char *remote = NULL;
        struct err e;
        err_clear(&e);
        free(chosen_url);
        chosen_url = NULL;
        if (git_choose_remote_url(&git_here, ctx->cfg.remote, &remote, &chosen_url, &e) == 0)
            ci_url_host(chosen_url, host, sizeof(host));
        free(remote);
    }
    if (ci_provider_choose(NULL, &ctx->cfg, host[0] ? host : NULL, &kind, &ctx->err) < 0)
        return -1;
    return kind == CI_GITHUB;
}

/* github.repo (--repo), else the first GitHub remote, else the chosen remote. */
int ci_gh_repo_name(struct cmd_ctx *ctx, char **repo, struct err *e)
{
    if (ctx->cfg.github_repo && *ctx->cfg.github_repo) {
        *repo = xstrdup(ctx->cfg.github_repo);
        return 0;
    }
    static const char *const args[] = { "remote", "-v", NULL };
    struct buf out, names;
    struct strvec urls = STRVEC_INIT;
    buf_init(&out, 0);
    buf_init(&names, 0);
    *repo = NULL;
    if (git_run(&git_here, args, &out, NULL, e) == 0)
        git_parse_remote_v(out.data, &names, &urls);
    err_clear(e);
    for (size_t i = 0; i < urls.n && !*repo; i++) {
        char host[256];
        if (ci_url_host(urls.v[i], host, sizeof(host)) == 0 &&
            ci_host_is_github(host, ctx->cfg.github_api))
            git_remote_full_name(urls.v[i], repo);
    }
    if (!*repo && chosen_url)
        git_remote_full_name(chosen_url, repo);
    buf_release(&out);
    buf_release(&names);
    strvec_clear(&urls);
    if (*repo)
        return 0;
    err_set(e, EXIT_USAGE, "cannot tell the GitHub repository (OWNER/NAME)"); /* setup */
    err_hint(e, "pass --repo OWNER/NAME (HOMELAB_GITHUB_REPO, github.repo)");
    return -1;
}

static void on_rate_wait(void *ud, double until_wall)
{
    struct cmd_ctx *ctx = ud;
    char hms[16];
    time_t t = (time_t)until_wall;
    struct tm tm;
    strftime(hms, sizeof(hms), "%H:%M:%S", localtime_r(&t, &tm));
    if (ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s}", "event", "rate_limited", "until", hms);
        term_json_line(j);
        json_decref(j);
    } else {
        fprintf(stderr, "homelab: rate-limited until %s\n", hms);
    }
}

static int gh_open(struct cmd_ctx *ctx, struct ci_provider *p)
{
    char *repo = NULL;
    if (ci_gh_repo_name(ctx, &repo, &ctx->err) < 0)
        return -1;
    int rc = gh_provider_open(p, &ctx->cfg, repo, ctx->g.verbose, &ctx->err);
    free(repo);
    if (rc == 0) {
        struct gh_client *c = gh_provider_client(p);
        c->on_rate_wait = on_rate_wait;
        c->ud = ctx;
    }
    return rc;
}

/* REV (a full commit id is needed: head_sha matches exactly) or #ID. */
static int gh_target(struct cmd_ctx *ctx, struct ci_target *t)
{
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "'%s' takes at most one REV or #ID",
                       ctx->cmd->path);
    if (ci_target_parse(ctx->npos ? ctx->pos[0] : NULL, t, &ctx->err) < 0)
        return -1;
    if (!t->number && (!t->sha || strlen(t->sha) != 40)) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "GitHub matches runs by the full commit id, and "
                "%s is not in the local clone", t->label);
        err_hint(&ctx->err, "fetch it first, or name the run as #ID");
        return -1;
    }
    return 0;
}

/* ---- reading ---- */

static struct ci_filter gh_filter(void)
{
    struct ci_filter f = { ci_gh_opts.event, NULL, NULL };
    return f;
}

static void no_runs_error(struct cmd_ctx *ctx, const struct ci_provider *p,
                          const struct ci_target *t, const char *after)
{
    const char *ev = ci_gh_opts.event ? ci_gh_opts.event : "push";
    err_set(&ctx->err, EXIT_NOT_FOUND, "no workflow run for %s (event %s) in %s%s", t->label,
            ev, p->repo, after);
    err_hint(&ctx->err, "was it pushed to GitHub (a push mirror adds delay)? other events: "
             "--event any");
}

int ci_gh_status(struct cmd_ctx *ctx)
{
    struct ci_target t;
    struct ci_provider p;
    struct ci_runset s = { 0 };
    if (gh_target(ctx, &t) < 0)
        return ctx->err.code;
    if (gh_open(ctx, &p) < 0) {
        ci_target_release(&t);
        return ctx->err.code;
    }
    int ch, code = 0;
    struct ci_filter f = gh_filter();
    if (ci_view_read_runs(&p, &t, &f, &s, &ch, &ctx->err) < 0 ||
        ci_view_load_all_jobs(&p, &s, &ctx->err) < 0) {
        code = ctx->err.code;
    } else if (s.n == 0) {
        no_runs_error(ctx, &p, &t, "");
        code = EXIT_NOT_FOUND;
    } else if (ctx->mode == OUTPUT_JSON) {
        int v = ci_verdict(&s, 0);
        json_t *j = json_pack("{s:s, s:s, s:s?, s:o, s:s}", "provider", "github", "repo",
                              p.repo, "sha", t.sha, "runs", ci_view_runs_json(&s), "verdict",
                              v < 0 ? "pending" : ci_view_verdict_word(v));
        json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(j);
    } else {
        struct buf out;
        buf_init(&out, 0);
        for (size_t i = 0; i < s.n; i++) {
            buf_reset(&out);
            ci_view_run_line(&s.runs[i], &out);
            puts(out.data);
            if (ctx->mode == OUTPUT_TTY) {
                buf_reset(&out);
                ci_view_tree(&s.runs[i], ctx->color, &out);
                fflush(stdout);
                fputs(out.data, stderr);
            }
        }
        buf_release(&out);
    }
    ci_runset_release(&s);
    ci_provider_close(&p);
    ci_target_release(&t);
    return code;
}

int ci_gh_list(struct cmd_ctx *ctx)
{
    struct ci_provider p;
    if (gh_open(ctx, &p) < 0)
        return ctx->err.code;
    long limit = ci_gh_opts.limit > 0 ? ci_gh_opts.limit : 10;
    if (limit > GH_LIST_MAX)
        limit = GH_LIST_MAX;
    struct ci_filter f = { ci_gh_opts.event ? ci_gh_opts.event : "any", ci_gh_opts.branch,
                           ci_gh_opts.status };
    struct ci_runset s = { 0 };
    int code = 0;
    if (ci_list_runs(&p, &f, (size_t)limit, &s, &ctx->err) < 0) {
        code = ctx->err.code;
    } else if (ctx->mode == OUTPUT_JSON) {
        json_t *o = ci_view_runs_json(&s);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        struct buf out;
        buf_init(&out, 0);
        for (size_t i = 0; i < s.n; i++) {
            buf_reset(&out);
            ci_view_run_line(&s.runs[i], &out);
            puts(out.data);
        }
        buf_release(&out);
    }
    ci_runset_release(&s);
    ci_provider_close(&p);
    return code;
}

int ci_gh_watch(struct cmd_ctx *ctx)
{
    struct ci_target t;
    struct ci_provider p;
    if (gh_target(ctx, &t) < 0)
        return ctx->err.code;
    if (gh_open(ctx, &p) < 0) {
        ci_target_release(&t);
        return ctx->err.code;
    }
    struct ci_filter f = gh_filter();
    double appear = ci_watch_appear_timeout();
    struct ci_follow_spec spec = {
        .filter = &f,
        .appear_timeout = appear >= 0 ? appear : GH_APPEAR_DEFAULT,
        .wait_approval = ci_watch_wait_approval(),
        .log_lines = ci_watch_log_lines(),
        .no_runs = no_runs_error,
        .extra = watch_extra,
    };
    int code = ci_follow(ctx, &p, &t, &spec);
    ci_provider_close(&p);
    ci_target_release(&t);
    return code;
}

/* ---- ci logs ---- */

struct pick {
    size_t run, job;
    long step;  /* -1: the whole job */
};

struct picks {
    struct pick v[64];
    size_t n, total;
};

static void add_pick(struct picks *ps, size_t r, size_t j, long st)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].run == r && ps->v[i].job == j && ps->v[i].step == st)
            return;
    ps->total++;
    if (ps->n < sizeof(ps->v) / sizeof(ps->v[0]))
        ps->v[ps->n++] = (struct pick){ r, j, st };
}

/* Jobs named `job` (NULL = any) with a step named `step` (NULL = the whole job). */
static void match(const struct ci_runset *s, const char *job, size_t joblen, const char *step,
                  struct picks *ps)
{
    for (size_t r = 0; r < s->n; r++)
        for (size_t j = 0; j < s->runs[r].njobs; j++) {
            const struct ci_job *jb = &s->runs[r].jobs[j];
            if (job && (strlen(jb->name) != joblen || strncmp(jb->name, job, joblen)))
                continue;
            if (!step) {
                add_pick(ps, r, j, -1);
                continue;
            }
            for (size_t k = 0; k < jb->nsteps; k++)
                if (!strcmp(jb->steps[k].name, step))
                    add_pick(ps, r, j, (long)k);
        }
}

/* --job/--step: every split of "JOB/STEP" is tried (job names may hold " / "). */
/* No --job/--step: the failing steps when a run failed, else every job. */
static void default_picks(const struct ci_runset *s, struct picks *ps)
{
    for (size_t r = 0; r < s->n; r++) {
        const struct ci_job *j = ci_run_failed_job(&s->runs[r]);
        const struct ci_step *st = j ? ci_job_failed_step(j) : NULL;
        if (j)
            add_pick(ps, r, (size_t)(j - s->runs[r].jobs),
                     st ? (long)(st - j->steps) : -1);
    }
    if (!ps->total)
        match(s, NULL, 0, NULL, ps);
}

static void resolve(const struct ci_runset *s, const char *job, const char *step,
                    struct picks *ps)
{
    memset(ps, 0, sizeof(*ps));
    if (!job && !step) {
        default_picks(s, ps);
        return;
    }
    if (job || !step) {
        match(s, job, job ? strlen(job) : 0, step, ps);
        return;
    }
    match(s, NULL, 0, step, ps);
    for (const char *sl = strchr(step, '/'); sl; sl = strchr(sl + 1, '/'))
        match(s, step, (size_t)(sl - step), sl + 1, ps);
}

static int pick_error(struct cmd_ctx *ctx, const struct ci_runset *s, const struct picks *ps,
                      const char *what)
{
    if (ps->total == 0) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "no job or step named '%s' in the runs of this commit",
                what);
        return EXIT_NOT_FOUND;
    }
    fprintf(stderr, "homelab: '%s' names %zu steps or jobs:\n", what, ps->total);
    for (size_t i = 0; i < ps->n; i++) {
        const struct ci_job *j = &s->runs[ps->v[i].run].jobs[ps->v[i].job];
        fprintf(stderr, "  --job '%s'%s%s%s\n", j->name, ps->v[i].step >= 0 ? " --step '" : "",
                ps->v[i].step >= 0 ? j->steps[ps->v[i].step].name : "",
                ps->v[i].step >= 0 ? "'" : "");
    }
    err_set(&ctx->err, EXIT_USAGE, "'%s' is ambiguous; name the job with --job", what);
    return EXIT_USAGE;
}

static int print_pick(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                      const struct pick *pk, const struct ci_logs_view *v, int header,
                      struct ci_lines *L)
{
    struct ci_run *r = &s->runs[pk->run];
    const struct ci_job *j = &r->jobs[pk->job];
    const struct ci_step *st = pk->step >= 0 ? &j->steps[pk->step] : NULL;
    if (header)
        printf("==> %s / %s%s%s <==\n", r->workflow, j->name, st ? " / " : "",
               st ? st->name : "");
    struct ci_log_sink sink = { ci_lines_on_line, L };
    struct err e;
    err_clear(&e);
    int rc = ci_read_log(p, r, j, st, &sink, &e);
    if (rc < 0) {
        ctx->err = e;
        return e.code ? e.code : EXIT_UNAVAILABLE;
    }
    if (rc == 0 && !v->follow)
        fprintf(stderr, "homelab: GitHub has no log for %s yet (%s)\n", j->name,
                ci_view_word(j->status));
    if (rc > 0 && st && p->log_cut_uncertain)
        fprintf(stderr, "homelab: could not tell the lines of step '%s' apart for sure; "
                        "showing the whole job log\n", st->name);
    ci_lines_flush(L, "");
    fflush(stdout);
    return 0;
}

/* --follow: re-fetches the job log every few seconds and prints new lines. */
static int follow_pick(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                       const struct pick *pk, const struct ci_logs_view *v, struct ci_lines *L)
{
    double deadline = clock_now() + cmd_timeout(ctx);
    int said = 0;
    for (;;) {
        L->seen = 0;
        L->skip = L->printed;
        int code = print_pick(ctx, p, s, pk, v, 0, L);
        if (code)
            return code;
        const struct ci_job *j = &s->runs[pk->run].jobs[pk->job];
        if (ci_state_final(j->state))
            return 0;
        if (!L->printed && !said) {
            fprintf(stderr, "homelab: GitHub has no log for %s yet (%s); waiting\n", j->name,
                    ci_view_word(j->status));
            said = 1;
        }
        if (clock_now() >= deadline) {
            err_set(&ctx->err, EXIT_TIMEOUT, "timed out following %s", j->name);
            return EXIT_TIMEOUT;
        }
        p->ops->wait_change(p, GH_FOLLOW_EVERY);
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        int ch;
        if (ci_load_jobs(p, &s->runs[pk->run], &ch, &ctx->err) < 0)
            return ctx->err.code;
        if (pk->job >= s->runs[pk->run].njobs) {
            err_set(&ctx->err, EXIT_NOT_FOUND, "the job is gone from the run");
            return EXIT_NOT_FOUND;
        }
    }
}

static int logs_run(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s)
{
    struct ci_logs_view v;
    ci_logs_view(&v);
    struct picks ps;
    resolve(s, ci_gh_opts.job, v.step, &ps);
    const char *what = v.step ? v.step : ci_gh_opts.job;
    if (!what && ps.total == 0) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "the runs of this commit have no jobs, so there "
                "are no logs");
        return EXIT_NOT_FOUND;
    }
    if (what && ps.total != 1)
        return pick_error(ctx, s, &ps, what);
    struct ci_lines L;
    ci_lines_init(&L, stdout, v.follow ? -1 : v.tail, v.timestamps, v.raw);
    int code = 0;
    if (v.follow)
        code = follow_pick(ctx, p, s, &ps.v[0], &v, &L);
    for (size_t i = 0; !v.follow && i < ps.n && !code; i++)
        code = print_pick(ctx, p, s, &ps.v[i], &v, ps.n > 1 || !what, &L);
    ci_lines_release(&L);
    return code;
}

int ci_gh_logs(struct cmd_ctx *ctx)
{
    struct ci_target t;
    struct ci_provider p;
    struct ci_runset s = { 0 };
    if (gh_target(ctx, &t) < 0)
        return ctx->err.code;
    if (gh_open(ctx, &p) < 0) {
        ci_target_release(&t);
        return ctx->err.code;
    }
    term_catch_signals();
    int ch, code;
    struct ci_filter f = gh_filter();
    if (ci_view_read_runs(&p, &t, &f, &s, &ch, &ctx->err) < 0 ||
        ci_view_load_all_jobs(&p, &s, &ctx->err) < 0) {
        code = ctx->err.code;
    } else if (s.n == 0) {
        no_runs_error(ctx, &p, &t, "");
        code = EXIT_NOT_FOUND;
    } else {
        code = logs_run(ctx, &p, &s);
    }
    ci_runset_release(&s);
    ci_provider_close(&p);
    ci_target_release(&t);
    return code;
}

/* ---- for the write verbs (ci_act_gh.c) ---- */

int ci_gh_open(struct cmd_ctx *ctx, struct ci_provider *p)
{
    return gh_open(ctx, p);
}

int ci_gh_target(struct cmd_ctx *ctx, struct ci_target *t)
{
    return gh_target(ctx, t);
}

int ci_gh_watch_as(struct cmd_ctx *ctx, const char *target, const json_t *extra)
{
    char *pos[1] = { (char *)target };
    char **saved = ctx->pos;
    size_t nsaved = ctx->npos;
    ctx->pos = pos;
    ctx->npos = 1;
    watch_extra = extra;
    int code = ci_gh_watch(ctx);
    watch_extra = NULL;
    ctx->pos = saved;
    ctx->npos = nsaved;
    return code;
}
