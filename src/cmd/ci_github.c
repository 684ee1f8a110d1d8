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
#define GH_POLL 2.5
#define GH_JOBS_EVERY_PLAIN 10.0
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

/* ---- rendering ---- */

static const char *state_word(const char *s)
{
    return s ? s : "unknown";
}

static enum term_color tone(enum ci_state s)
{
    switch (s) {
    case CI_SUCCESS: case CI_NEUTRAL: case CI_SKIPPED:
        return ci_status_tone("success");
    case CI_FAILURE: case CI_CANCELLED:
        return ci_status_tone("failure");
    case CI_NEEDS_PERSON:
        return ci_status_tone("blocked");
    case CI_RUNNING:
        return ci_status_tone("running");
    default:
        return ci_status_tone("pending");
    }
}

/* "CI #12 failure push main 3cc04da (run 30000000301, attempt 2)" */
static void run_line(const struct ci_run *r, struct buf *out)
{
    buf_addf(out, "%s #%lld %s %s %s %.7s (run %lld", r->workflow, r->number,
             state_word(r->status), r->event ? r->event : "-", r->branch ? r->branch : "-",
             r->sha ? r->sha : "", r->id);
    if (r->attempt > 1)
        buf_addf(out, ", attempt %d", r->attempt);
    buf_addf(out, ")");
}

static void render_tree(const struct ci_run *r, int color, struct buf *out)
{
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        buf_addf(out, "  ");
        term_paint(out, color, tone(j->state), state_word(j->status));
        buf_addf(out, " %s\n", j->name);
        for (size_t k = 0; k < j->nsteps; k++) {
            buf_addf(out, "    ");
            term_paint(out, color, tone(j->steps[k].state), state_word(j->steps[k].status));
            buf_addf(out, " %s\n", j->steps[k].name);
        }
    }
}

static json_t *run_json(const struct ci_run *r)
{
    json_t *jobs = json_array();
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        json_t *steps = json_array();
        for (size_t k = 0; k < j->nsteps; k++)
            json_array_append_new(steps, json_pack("{s:i, s:s, s:s}", "number",
                                                   j->steps[k].number, "name", j->steps[k].name,
                                                   "status", state_word(j->steps[k].status)));
        json_array_append_new(jobs, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)j->id,
                                              "name", j->name, "status", state_word(j->status),
                                              "steps", steps));
    }
    json_t *o = json_pack("{s:I, s:I, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:o}", "id",
                          (json_int_t)r->id, "run_number", (json_int_t)r->number, "attempt",
                          r->attempt, "workflow", r->workflow, "status", state_word(r->status),
                          "event", r->event, "branch", r->branch, "sha", r->sha, "url", r->url,
                          "jobs", jobs);
    if (r->waiting_for)
        json_object_set_new(o, "waiting_for", json_string(r->waiting_for));
    return o;
}

static json_t *runs_json(const struct ci_runset *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, run_json(&s->runs[i]));
    return a;
}

static const char *verdict_word(int code)
{
    switch (code) {
    case 0: return "success";
    case EXIT_FAILED: return "failure";
    case EXIT_NEEDS_PERSON: return "needs_person";
    case EXIT_TIMEOUT: return "timeout";
    case EXIT_NOT_FOUND: return "not_found";
    default: return "error";
    }
}

/* ---- reading ---- */

static struct ci_filter gh_filter(void)
{
    struct ci_filter f = { ci_gh_opts.event, NULL };
    return f;
}

/* The runs of the target (one for #ID); 0 with s->n == 0 when none yet. */
static int read_runs(struct ci_provider *p, const struct ci_target *t, struct ci_runset *s,
                     int *changed, struct err *e)
{
    if (t->number) {
        struct ci_run r;
        if (p->ops->run_by_id(p, t->number, &r, e) < 0)
            return -1;
        ci_runset_release(s);
        s->runs = xcalloc(1, sizeof(*s->runs));
        s->runs[0] = r;
        s->n = 1;
        *changed = 1; /* the run endpoint is conditional too; jobs decide the redraw */
        return 0;
    }
    struct ci_filter f = gh_filter();
    return ci_runs_of_commit(p, t->sha, &f, s, changed, e);
}

static int load_all_jobs(struct ci_provider *p, struct ci_runset *s, struct err *e)
{
    for (size_t i = 0; i < s->n; i++) {
        int ch;
        if (ci_load_jobs(p, &s->runs[i], &ch, e) < 0)
            return -1;
    }
    return 0;
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
    if (read_runs(&p, &t, &s, &ch, &ctx->err) < 0 || load_all_jobs(&p, &s, &ctx->err) < 0) {
        code = ctx->err.code;
    } else if (s.n == 0) {
        no_runs_error(ctx, &p, &t, "");
        code = EXIT_NOT_FOUND;
    } else if (ctx->mode == OUTPUT_JSON) {
        int v = ci_verdict(&s, 0);
        json_t *j = json_pack("{s:s, s:s, s:s?, s:o, s:s}", "provider", "github", "repo",
                              p.repo, "sha", t.sha, "runs", runs_json(&s), "verdict",
                              v < 0 ? "pending" : verdict_word(v));
        json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(j);
    } else {
        struct buf out;
        buf_init(&out, 0);
        for (size_t i = 0; i < s.n; i++) {
            buf_reset(&out);
            run_line(&s.runs[i], &out);
            puts(out.data);
            if (ctx->mode == OUTPUT_TTY) {
                buf_reset(&out);
                render_tree(&s.runs[i], ctx->color, &out);
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
    long limit = ci_gh_opts.limit > 0 && ci_gh_opts.limit <= 100 ? ci_gh_opts.limit : 10;
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "/repos/");
    http_escape_path(&path, p.repo);
    buf_addf(&path, "/actions/runs?per_page=%ld&exclude_pull_requests=true", limit);
    if (ci_gh_opts.event) {
        buf_addf(&path, "&event=");
        http_escape(&path, ci_gh_opts.event);
    }
    json_t *j = NULL;
    int code = 0;
    if (gh_get(gh_provider_client(&p), path.data, &j, NULL, &ctx->err) < 0) {
        code = ctx->err.code;
    } else {
        struct ci_runset s = { 0 };
        json_t *arr = json_object_get(j, "workflow_runs");
        size_t n = json_array_size(arr);
        s.runs = n ? xcalloc(n, sizeof(*s.runs)) : NULL;
        for (size_t i = 0; i < n; i++)
            gh_run_from_json(json_array_get(arr, i), &s.runs[s.n++], NULL);
        struct buf out;
        buf_init(&out, 0);
        if (ctx->mode == OUTPUT_JSON) {
            json_t *o = runs_json(&s);
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        }
        for (size_t i = 0; i < s.n && ctx->mode != OUTPUT_JSON; i++) {
            buf_reset(&out);
            run_line(&s.runs[i], &out);
            puts(out.data);
        }
        buf_release(&out);
        ci_runset_release(&s);
    }
    buf_release(&path);
    ci_provider_close(&p);
    return code;
}

/* ---- log lines ---- */

struct lines {
    int timestamps, raw;
    struct line_ring ring;  /* the tail, when tailing */
    int tailing;
    FILE *to;
    long long printed;
    long long skip;         /* lines to skip (--follow: already printed) */
    long long seen;
    struct buf tmp;
};

/* One log line made safe: timestamp stripped (unless asked), escapes shown. */
static void clean_line(struct lines *L, const char *line, size_t len, struct buf *out)
{
    double ts;
    size_t text = 0;
    if (gh_log_line_time(line, len, &ts, &text) && L->timestamps) {
        size_t off = len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3) ? 3 : 0;
        text = off; /* keep the timestamp, drop only a BOM */
    }
    if (L->raw)
        buf_add(out, line + text, len - text);
    else
        sanitize_append(out, line + text, len - text, SANITIZE_DROP_SGR);
}

static int on_line(void *ctx, const char *line, size_t len, double ts)
{
    (void)ts;
    struct lines *L = ctx;
    if (L->seen++ < L->skip)
        return 0;
    buf_reset(&L->tmp);
    clean_line(L, line, len, &L->tmp);
    if (L->tailing) {
        buf_addf(&L->tmp, "\n");
        line_ring_add(&L->ring, L->tmp.data, L->tmp.len);
        return 0;
    }
    fprintf(L->to, "%s\n", L->tmp.data);
    L->printed++;
    return ferror(L->to) ? 1 : 0;
}

static void lines_init(struct lines *L, FILE *to, long tail, int timestamps, int raw)
{
    memset(L, 0, sizeof(*L));
    L->to = to;
    L->timestamps = timestamps;
    L->raw = raw;
    L->tailing = tail >= 0;
    line_ring_init(&L->ring, tail >= 0 ? (size_t)tail : 0);
    buf_init(&L->tmp, 0);
}

static void lines_flush(struct lines *L, const char *indent)
{
    for (size_t i = 0; L->tailing && i < L->ring.count; i++) {
        size_t n;
        const char *s = line_ring_get(&L->ring, i, &n);
        fprintf(L->to, "%s%.*s\n", indent, (int)n, s);
        L->printed++;
    }
    line_ring_reset(&L->ring);
}

static void lines_release(struct lines *L)
{
    line_ring_release(&L->ring);
    buf_release(&L->tmp);
}

/* ---- the failure report ---- */

static void report_run(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_run *r)
{
    const struct ci_job *j = ci_run_failed_job(r);
    if (!j) {
        fprintf(stderr, "\nfailed: %s #%lld %s before any job ran%s\n", r->workflow, r->number,
                state_word(r->status), !strcmp(state_word(r->status), "startup_failure")
                    ? " (likely a workflow file issue)" : "");
        if (r->url && *r->url)
            fprintf(stderr, "view: %s\n", r->url);
        return;
    }
    const struct ci_step *st = ci_job_failed_step(j);
    fprintf(stderr, "\nfailed: %s / %s / %s (%s)\n", r->workflow, j->name,
            st ? st->name : "-", state_word(st ? st->status : j->status));
    struct lines L;
    long n = ci_watch_log_lines();
    lines_init(&L, stderr, n > 0 ? n : 30, 0, 0);
    struct ci_log_sink sink = { on_line, &L };
    struct err e;
    err_clear(&e);
    int rc = ci_read_log(p, r, j, st, &sink, &e);
    if (rc < 0)
        fprintf(stderr, "  (log not available: %s)\n", e.msg);
    else if (rc == 0)
        fprintf(stderr, "  (GitHub has no log for this job yet)\n");
    else if (st && gh_provider_last_cut_uncertain(p))
        fprintf(stderr, "  (could not tell this step's lines apart for sure: the job log's "
                        "last lines follow)\n");
    lines_flush(&L, "  ");
    lines_release(&L);
    struct buf cmd;
    buf_init(&cmd, 0);
    buf_addf(&cmd, "homelab ci logs '#%lld' --step ", r->id);
    struct buf js;
    buf_init(&js, 0);
    buf_addf(&js, "%s/%s", j->name, st ? st->name : "");
    ci_shell_quote(&cmd, st ? js.data : j->name, 1);
    ci_hint_flags(ctx, &cmd);
    fprintf(stderr, "full log: %s\n", cmd.data);
    if (r->url && *r->url)
        fprintf(stderr, "view: %s\n", r->url);
    buf_release(&js);
    buf_release(&cmd);
}

static void failure_report(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct ci_run *r = &s->runs[i];
        if (!ci_state_failed(r->state))
            continue;
        int ch;
        struct err e;
        err_clear(&e);
        if (!r->has_jobs && ci_load_jobs(p, r, &ch, &e) < 0)
            continue;
        report_run(ctx, p, r);
    }
}

/* ---- ci watch ---- */

struct ghw {
    struct cmd_ctx *ctx;
    struct ci_provider p;
    struct ci_target t;
    struct ci_runset runs;
    struct buf seen;        /* "key\tstatus\n" lines already reported */
    struct term term;
    struct term_plain plain;
    double started_at, deadline, next_jobs;
    int jobs_due;
};

/* Carries jobs over from the previous set, so a deferred job read keeps the view. */
static void keep_jobs(struct ci_runset *old, struct ci_runset *fresh)
{
    for (size_t i = 0; i < fresh->n; i++)
        for (size_t k = 0; k < old->n; k++) {
            struct ci_run *a = &fresh->runs[i], *b = &old->runs[k];
            if (a->id == b->id && a->attempt == b->attempt && b->has_jobs && !a->has_jobs) {
                a->jobs = b->jobs, a->njobs = b->njobs, a->has_jobs = 1;
                b->jobs = NULL, b->njobs = 0, b->has_jobs = 0;
            }
        }
}

/* Reports key's status once per change: a plain line or a JSON line. */
static void report(struct ghw *w, const char *kind, const char *key, const char *status)
{
    struct buf k;
    buf_init(&k, 0);
    buf_addf(&k, "%s\t%s\n", key, status);
    if (!strstr(w->seen.data ? w->seen.data : "", k.data)) {
        buf_add(&w->seen, k.data, k.len);
        if (w->ctx->mode == OUTPUT_JSON) {
            json_t *j = json_pack("{s:s, s:s, s:s}", "event", kind, "name", key, "status",
                                  status);
            term_json_line(j);
            json_decref(j);
        } else if (w->ctx->mode == OUTPUT_PLAIN) {
            buf_reset(&k);
            buf_addf(&k, "%s %s", key, status);
            term_plain_line(&w->plain, stderr, k.data);
        }
    }
    buf_release(&k);
}

/* A verdict comes after the lines that led to it (a run's after its jobs',
 * a job's after its steps'); a start before them. A finished run whose
 * jobs are not read yet waits for them. */
static void report_changes(struct ghw *w)
{
    char key[512], run_key[512];
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        snprintf(key, sizeof(key), "%s #%lld", r->workflow, r->number);
        if (r->attempt > 1)
            snprintf(key + strlen(key), sizeof(key) - strlen(key), " (attempt %d)", r->attempt);
        int run_last = ci_state_final(r->state);
        if (!run_last)
            report(w, "run", key, state_word(r->status));
        snprintf(run_key, sizeof(run_key), "%s", key);
        size_t base = strlen(key);
        for (size_t k = 0; k < r->njobs; k++) {
            const struct ci_job *j = &r->jobs[k];
            snprintf(key + base, sizeof(key) - base, " %s", j->name);
            int job_last = ci_state_final(j->state);
            if (!job_last)
                report(w, "job", key, state_word(j->status));
            size_t jb = strlen(key);
            for (size_t m = 0; m < j->nsteps; m++) {
                snprintf(key + jb, sizeof(key) - jb, "/%s", j->steps[m].name);
                report(w, "step", key, state_word(j->steps[m].status));
            }
            key[jb] = '\0';
            if (job_last)
                report(w, "job", key, state_word(j->status));
            key[base] = '\0';
        }
        if (run_last && !w->jobs_due)
            report(w, "run", run_key, state_word(r->status));
    }
}

static void draw(struct ghw *w, int force)
{
    if (w->ctx->mode != OUTPUT_TTY)
        return;
    struct buf frame;
    buf_init(&frame, 0);
    double now = clock_now();
    char elapsed[32];
    term_fmt_duration(elapsed, sizeof(elapsed), now - w->started_at);
    if (!w->runs.n)
        buf_addf(&frame, "%s waiting for GitHub Actions to pick up %s  %s\n",
                 term_spinner(w->term.utf8, now), w->t.label, elapsed);
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        struct buf line;
        buf_init(&line, 0);
        run_line(r, &line);
        buf_addf(&frame, "%s ", ci_state_final(r->state) ? " " : term_spinner(w->term.utf8, now));
        term_paint(&frame, w->term.color, tone(r->state), line.data);
        buf_addf(&frame, "  %s\n", elapsed);
        buf_release(&line);
        render_tree(r, w->term.color, &frame);
    }
    term_live(&w->term, frame.data, now, force);
    buf_release(&frame);
}

/* One poll: the runs, and jobs when a run changed (off a terminal: <= 1 per 10 s). */
static int poll_once(struct ghw *w)
{
    struct ci_runset fresh = { 0 };
    int changed = 0;
    struct err e;
    err_clear(&e);
    if (read_runs(&w->p, &w->t, &fresh, &changed, &e) < 0) {
        ci_runset_release(&fresh);
        w->ctx->err = e;
        return -1;
    }
    if (changed) {
        keep_jobs(&w->runs, &fresh);
        ci_runset_release(&w->runs);
        w->runs = fresh;
        w->jobs_due = 1;
    } else {
        ci_runset_release(&fresh);
    }
    double now = clock_now();
    if (w->jobs_due && (w->ctx->mode == OUTPUT_TTY || now >= w->next_jobs)) {
        if (load_all_jobs(&w->p, &w->runs, &e) < 0) {
            w->ctx->err = e;
            return -1;
        }
        w->jobs_due = 0;
        w->next_jobs = now + GH_JOBS_EVERY_PLAIN;
    }
    if (changed || !w->jobs_due)
        report_changes(w);
    return 0;
}

/* A run that waits on a timer: say until when, once. */
static void say_waits(struct ghw *w)
{
    for (size_t i = 0; i < w->runs.n; i++) {
        const struct ci_run *r = &w->runs.runs[i];
        if (r->state != CI_WAITING || !r->wait_until || w->ctx->mode == OUTPUT_JSON)
            continue;
        char hms[16], key[300];
        time_t t = (time_t)r->wait_until;
        struct tm tm;
        strftime(hms, sizeof(hms), "%H:%M:%S", localtime_r(&t, &tm));
        snprintf(key, sizeof(key), "%s #%lld waits on %s until", r->workflow, r->number,
                 r->waiting_for ? r->waiting_for : "a timer");
        report(w, "wait", key, hms);
    }
}

static int finish(struct ghw *w, int code)
{
    if (w->ctx->mode == OUTPUT_TTY) {
        draw(w, 1);
        term_live_done(&w->term);
    }
    struct buf out;
    buf_init(&out, 0);
    if (w->ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:o}", "event", "result", "status",
                              verdict_word(code), "exit_code", code, "runs", runs_json(&w->runs));
        if (watch_extra)
            json_object_update(j, (json_t *)watch_extra);
        term_json_line(j);
        json_decref(j);
    } else {
        for (size_t i = 0; i < w->runs.n; i++) {
            buf_reset(&out);
            run_line(&w->runs.runs[i], &out);
            puts(out.data);
        }
        fflush(stdout);
        for (size_t i = 0; code == EXIT_NEEDS_PERSON && i < w->runs.n; i++)
            if (w->runs.runs[i].state == CI_NEEDS_PERSON)
                fprintf(stderr, "homelab: %s #%lld waits for %s\n", w->runs.runs[i].workflow,
                        w->runs.runs[i].number, w->runs.runs[i].waiting_for
                            ? w->runs.runs[i].waiting_for : "a person");
        if (code == EXIT_FAILED)
            failure_report(w->ctx, &w->p, &w->runs);
    }
    buf_release(&out);
    return code;
}

static int timed_out(struct ghw *w)
{
    err_clear(&w->ctx->err);
    err_set(&w->ctx->err, EXIT_TIMEOUT, "timed out after %.0fs waiting for the runs of %s",
            clock_now() - w->started_at, w->t.label);
    finish(w, EXIT_TIMEOUT);
    return EXIT_TIMEOUT;
}

static int watch_loop(struct ghw *w)
{
    double appear = ci_watch_appear_timeout();
    double appear_deadline = clock_now() + (appear >= 0 ? appear : GH_APPEAR_DEFAULT);
    for (;;) {
        if (term_interrupted()) {
            err_set(&w->ctx->err, EXIT_INTERRUPTED, "interrupted");
            return EXIT_INTERRUPTED;
        }
        if (poll_once(w) < 0) {
            if (w->ctx->err.code == EXIT_UNAVAILABLE && clock_now() >= w->deadline - 0.1 &&
                !gh_provider_client(&w->p)->rate_limited)
                return timed_out(w);
            return w->ctx->err.code;
        }
        say_waits(w);
        draw(w, 0);
        int v = w->runs.n ? ci_verdict(&w->runs, ci_watch_wait_approval()) : -1;
        if (v >= 0) {
            if (w->jobs_due)
                load_all_jobs(&w->p, &w->runs, &w->ctx->err);
            w->jobs_due = 0;
            report_changes(w);
            return finish(w, v);
        }
        double now = clock_now();
        if (!w->runs.n && now >= appear_deadline) {
            char after[64];
            snprintf(after, sizeof(after), " within %.0fs", now - w->started_at);
            no_runs_error(w->ctx, &w->p, &w->t, after);
            return EXIT_NOT_FOUND;
        }
        if (now >= w->deadline)
            return timed_out(w);
        w->p.ops->wait_change(&w->p, w->deadline - now);
        if (clock_now() >= w->deadline)
            return timed_out(w);
    }
}

int ci_gh_watch(struct cmd_ctx *ctx)
{
    struct ghw w;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    buf_init(&w.seen, 0);
    if (gh_target(ctx, &w.t) < 0)
        return ctx->err.code;
    if (gh_open(ctx, &w.p) < 0) {
        ci_target_release(&w.t);
        return ctx->err.code;
    }
    w.started_at = clock_now();
    w.deadline = w.started_at + cmd_timeout(ctx);
    gh_provider_client(&w.p)->api.deadline = w.deadline;
    term_init(&w.term, 2, ctx->color);
    term_catch_signals();
    int code = watch_loop(&w);
    term_release(&w.term);
    term_plain_release(&w.plain);
    ci_runset_release(&w.runs);
    ci_provider_close(&w.p);
    ci_target_release(&w.t);
    buf_release(&w.seen);
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
                      struct lines *L)
{
    struct ci_run *r = &s->runs[pk->run];
    const struct ci_job *j = &r->jobs[pk->job];
    const struct ci_step *st = pk->step >= 0 ? &j->steps[pk->step] : NULL;
    if (header)
        printf("==> %s / %s%s%s <==\n", r->workflow, j->name, st ? " / " : "",
               st ? st->name : "");
    struct ci_log_sink sink = { on_line, L };
    struct err e;
    err_clear(&e);
    int rc = ci_read_log(p, r, j, st, &sink, &e);
    if (rc < 0) {
        ctx->err = e;
        return e.code ? e.code : EXIT_UNAVAILABLE;
    }
    if (rc == 0 && !v->follow)
        fprintf(stderr, "homelab: GitHub has no log for %s yet (%s)\n", j->name,
                state_word(j->status));
    if (rc > 0 && st && gh_provider_last_cut_uncertain(p))
        fprintf(stderr, "homelab: could not tell the lines of step '%s' apart for sure; "
                        "showing the whole job log\n", st->name);
    lines_flush(L, "");
    fflush(stdout);
    return 0;
}

/* --follow: re-fetches the job log every few seconds and prints new lines. */
static int follow_pick(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                       const struct pick *pk, const struct ci_logs_view *v, struct lines *L)
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
                    state_word(j->status));
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
    struct lines L;
    lines_init(&L, stdout, v.follow ? -1 : v.tail, v.timestamps, v.raw);
    int code = 0;
    if (v.follow)
        code = follow_pick(ctx, p, s, &ps.v[0], &v, &L);
    for (size_t i = 0; !v.follow && i < ps.n && !code; i++)
        code = print_pick(ctx, p, s, &ps.v[i], &v, ps.n > 1 || !what, &L);
    lines_release(&L);
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
    if (read_runs(&p, &t, &s, &ch, &ctx->err) < 0 || load_all_jobs(&p, &s, &ctx->err) < 0) {
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
