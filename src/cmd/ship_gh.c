/*
 * ship_gh: a GitHub Actions build stage of `ship`: the workflow runs of the
 * commit (head_sha) to one verdict (ship/ghruns), by polling the runs list
 * every 3 s.
 *
 * Interim, until the GitHub provider (the ci verbs on GitHub) is merged and
 * this stage moves onto it: the API comes from HOMELAB_GITHUB_API (default
 * https://api.github.com) reached through HOMELAB_GITHUB_DIAL when set, the
 * token from GH_TOKEN or GITHUB_TOKEN only (sent to that API host only),
 * ci.cacert trusted. The failure report names the failing jobs and steps
 * and the job's web page; job logs (served through a redirect to another
 * host that must never see the token) are left to the provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/ship_stage.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/term.h"
#include "ship/ghruns.h"

#define POLL 3.0
#define OUTAGE_LIMIT 60.0

struct ghw {
    struct cmd_ctx *ctx;
    const struct ship_stage *st;
    const char *sha;
    struct http_client http;
    int open;
    json_t *runs;          /* the latest workflow_runs array */
    json_t *shown;         /* run id -> the state last reported */
    struct term_plain plain;
    struct term term;
    double started, last_ok;
    struct ship_run *r;
    int quiet;
};

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int gh_open(struct ghw *w, struct err *e)
{
    if (strlen(w->sha) != 40)
        return err_set(e, EXIT_USAGE, "stage %s: GitHub matches runs by the full commit id; "
                       "'%s' is not known in this repository", w->st->name, w->sha);
    const char *token = getenv("GH_TOKEN");
    if (!token || !*token)
        token = getenv("GITHUB_TOKEN");
    if (!token || !*token)
        return err_set(e, EXIT_REFUSED, "stage %s: no GitHub token (set GH_TOKEN)", w->st->name);
    const char *api = getenv("HOMELAB_GITHUB_API");
    const char *dial = getenv("HOMELAB_GITHUB_DIAL");
    struct http_opts o = { api && *api ? api : "https://api.github.com",
                           dial && *dial ? dial : NULL, w->ctx->cfg.cacert, token,
                           w->ctx->g.verbose, 0, 0, 0 };
    if (http_init(&w->http, &o, e) < 0)
        return -1;
    w->open = 1;
    w->shown = json_object();
    return 0;
}

/* One GET with GitHub's meaning of 4xx. */
static int gh_get(struct ghw *w, const char *path, json_t **out, struct err *e)
{
    long status = 0;
    if (http_get_json(&w->http, path, out, &status, e) == 0)
        return 0;
    if (e->code)
        return -1;
    if (status == 401 || status == 403)
        return err_set(e, EXIT_REFUSED, "GitHub refused the token (HTTP %ld) for %s", status,
                       w->st->repo);
    if (status == 404) {
        err_set(e, EXIT_NOT_FOUND, "GitHub has no repository %s", w->st->repo);
        err_hint(e, "a private repository looks missing to a token without access to it");
        return -1;
    }
    return err_set(e, EXIT_UNAVAILABLE, "GitHub answered HTTP %ld", status);
}

/* Whether the waiting run waits for a reviewer (not a timer). */
static int reviewers_waiting(struct ghw *w, long long id)
{
    char path[300];
    snprintf(path, sizeof(path), "/repos/%s/actions/runs/%lld/pending_deployments", w->st->repo,
             id);
    json_t *pd = NULL;
    struct err e;
    err_clear(&e);
    if (gh_get(w, path, &pd, &e) < 0)
        return 0;
    int any = 0;
    size_t i;
    json_t *d;
    json_array_foreach(pd, i, d)
        any |= json_array_size(json_object_get(d, "reviewers")) > 0;
    json_decref(pd);
    return any;
}

static void report_runs(struct ghw *w)
{
    size_t i;
    json_t *r;
    json_array_foreach(w->runs, i, r) {
        char key[32], state[96], line[400];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(r, "id")));
        snprintf(state, sizeof(state), "%s%s%s", str(r, "status"),
                 str(r, "conclusion")[0] ? " " : "", str(r, "conclusion"));
        const char *before = json_string_value(json_object_get(w->shown, key));
        if (before && !strcmp(before, state))
            continue;
        json_object_set_new(w->shown, key, json_string(state));
        if (w->quiet || w->ctx->mode == OUTPUT_TTY)
            continue;
        if (w->ctx->mode == OUTPUT_JSON) {
            json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s}", "event", "run", "workflow",
                                  str(r, "name"), "id", json_integer_value(json_object_get(r, "id")),
                                  "attempt", json_integer_value(json_object_get(r, "run_attempt")),
                                  "status", state);
            term_json_line(j);
            json_decref(j);
        } else {
            snprintf(line, sizeof(line), "%s #%lld %s", str(r, "name"),
                     (long long)json_integer_value(json_object_get(r, "run_number")), state);
            term_plain_line(&w->plain, stderr, line);
        }
    }
}

static void draw(struct ghw *w, int force)
{
    if (w->quiet || w->ctx->mode != OUTPUT_TTY)
        return;
    struct buf f;
    buf_init(&f, 0);
    double now = clock_now();
    char el[32];
    term_fmt_duration(el, sizeof(el), now - w->started);
    if (!json_array_size(w->runs))
        buf_addf(&f, "%s waiting for runs of %.7s in %s  %s\n", term_spinner(w->term.utf8, now),
                 w->sha, w->st->repo, el);
    size_t i;
    json_t *r;
    json_array_foreach(w->runs, i, r)
        buf_addf(&f, "%s %s #%lld %s %s  %s\n", term_spinner(w->term.utf8, now), str(r, "name"),
                 (long long)json_integer_value(json_object_get(r, "run_number")),
                 str(r, "status"), str(r, "conclusion"), el);
    term_live(&w->term, f.data, now, force);
    buf_release(&f);
}

/* Reads the runs of the commit and classifies them. */
static int poll_runs(struct ghw *w, struct gh_summary *sum, struct err *e)
{
    char path[400];
    snprintf(path, sizeof(path), "/repos/%s/actions/runs?head_sha=%s&per_page=100"
             "&exclude_pull_requests=true%s%s", w->st->repo, w->sha,
             w->st->event ? "&event=" : "", w->st->event ? w->st->event : "");
    json_t *body = NULL;
    if (gh_get(w, path, &body, e) < 0)
        return -1;
    json_decref(w->runs);
    w->runs = json_incref(json_object_get(body, "workflow_runs"));
    if (!json_is_array(w->runs)) {
        json_decref(w->runs);
        w->runs = json_array();
    }
    json_decref(body);
    gh_runs_classify(w->runs, w->st->event, 0, sum);
    if (sum->waiting_id && reviewers_waiting(w, sum->waiting_id))
        gh_runs_classify(w->runs, w->st->event, 1, sum);
    report_runs(w);
    draw(w, 0);
    return 0;
}

static int follow(struct ghw *w, double appear_deadline, double deadline, struct gh_summary *sum)
{
    struct err last;
    err_clear(&last);
    for (;;) {
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        struct err e;
        err_clear(&e);
        if (poll_runs(w, sum, &e) == 0) {
            w->last_ok = clock_now();
            if (sum->verdict == GH_PASSED)
                return EXIT_OK;
            if (sum->verdict == GH_FAILED)
                return EXIT_FAILED;
            if (sum->verdict == GH_NEEDS_PERSON)
                return EXIT_NEEDS_PERSON;
        } else if (e.code == EXIT_REFUSED || e.code == EXIT_NOT_FOUND || e.code == EXIT_USAGE) {
            w->ctx->err = e;
            return e.code;
        } else {
            last = e;
        }
        double now = clock_now();
        if (sum->verdict == GH_NONE && now >= appear_deadline) {
            err_set(&w->ctx->err, EXIT_NOT_FOUND, "stage %s: no workflow run of %.7s appeared "
                    "in %s within %.0fs", w->st->name, w->sha, w->st->repo,
                    w->st->appear_timeout);
            snprintf(w->r->status, sizeof(w->r->status), "never-appeared");
            return EXIT_NOT_FOUND;
        }
        if (now >= deadline)
            return err_set(&w->ctx->err, EXIT_TIMEOUT, "stage %s: timed out", w->st->name),
                   EXIT_TIMEOUT;
        if (now - w->last_ok > OUTAGE_LIMIT) {
            w->ctx->err = last;
            w->ctx->err.code = EXIT_UNAVAILABLE;
            return EXIT_UNAVAILABLE;
        }
        for (double until = now + POLL; clock_now() < until && clock_now() < deadline;) {
            if (term_interrupted())
                return EXIT_INTERRUPTED;
            draw(w, 0);
            clock_sleep(0.1);
        }
    }
}

/* The failing jobs and steps of the deciding run, and where to look. */
static void failure_report(struct ghw *w, json_t *run)
{
    char path[300];
    snprintf(path, sizeof(path), "/repos/%s/actions/runs/%lld/jobs?per_page=100", w->st->repo,
             (long long)json_integer_value(json_object_get(run, "id")));
    json_t *body = NULL, *arr = json_array();
    struct err e;
    err_clear(&e);
    struct buf out;
    buf_init(&out, 0);
    if (gh_get(w, path, &body, &e) < 0)
        buf_addf(&out, "(jobs unavailable: %s)\n", e.msg);
    size_t i, k;
    json_t *job, *step;
    json_array_foreach(json_object_get(body, "jobs"), i, job) {
        if (!strcmp(str(job, "conclusion"), "success") || !str(job, "conclusion")[0] ||
            !strcmp(str(job, "conclusion"), "skipped"))
            continue;
        const char *failed_step = "";
        json_array_foreach(json_object_get(job, "steps"), k, step)
            if (!failed_step[0] && !strcmp(str(step, "conclusion"), "failure"))
                failed_step = str(step, "name");
        buf_addf(&out, "failed: %s / %s (%s)\n", str(job, "name"),
                 failed_step[0] ? failed_step : "?", str(job, "conclusion"));
        if (!w->r->next[0] && str(job, "html_url")[0])
            snprintf(w->r->next, sizeof(w->r->next), "open %s", str(job, "html_url"));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "job", str(job, "name"), "step",
                                             failed_step, "conclusion", str(job, "conclusion")));
    }
    if (!w->r->next[0])
        snprintf(w->r->next, sizeof(w->r->next), "open %s", str(run, "html_url"));
    if (w->ctx->mode != OUTPUT_JSON)
        fputs(out.data, stderr);
    buf_release(&out);
    json_decref(body);
    w->r->report = json_pack("{s:o}", "failed_jobs", arr);
}

static void fill_run(struct ghw *w, int code, const struct gh_summary *sum)
{
    struct ship_run *r = w->r;
    r->code = code;
    json_t *run = gh_runs_find(w->runs, sum->decisive_id);
    if (!r->status[0])
        snprintf(r->status, sizeof(r->status), "%s",
                 code == EXIT_OK ? "success" : code == EXIT_FAILED ? "failure"
                 : code == EXIT_NEEDS_PERSON ? "needs-person" : code == EXIT_TIMEOUT ? "timeout"
                 : sum->verdict == GH_PENDING ? "running" : exit_code_name(code));
    if (!run)
        return;
    r->number = json_integer_value(json_object_get(run, "id"));
    snprintf(r->url, sizeof(r->url), "%s", str(run, "html_url"));
    snprintf(r->line, sizeof(r->line), "%s %s #%lld (%zu run%s)", r->status, str(run, "name"),
             (long long)json_integer_value(json_object_get(run, "run_number")), sum->runs,
             sum->runs == 1 ? "" : "s");
}

static void gh_close(struct ghw *w)
{
    json_decref(w->runs);
    json_decref(w->shown);
    if (w->open)
        http_release(&w->http);
    term_plain_release(&w->plain);
}

int ship_gh_watch(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                  double appear_deadline, double deadline, struct ship_run *r)
{
    struct ghw w;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.st = st;
    w.sha = sha;
    w.r = r;
    w.started = w.last_ok = clock_now();
    term_init(&w.term, STDERR_FILENO, ctx->color);
    struct gh_summary sum;
    memset(&sum, 0, sizeof(sum));
    struct err e;
    err_clear(&e);
    int code;
    if (gh_open(&w, &e) < 0) {
        ctx->err = e;
        code = e.code;
    } else {
        w.http.deadline = deadline;
        code = follow(&w, appear_deadline, deadline, &sum);
    }
    if (ctx->mode == OUTPUT_TTY) {
        draw(&w, 1);
        term_live_done(&w.term);
    }
    w.http.deadline = clock_now() + 15; /* the report's own budget */
    json_t *run = gh_runs_find(w.runs, sum.decisive_id);
    if (code == EXIT_FAILED && run)
        failure_report(&w, run);
    if (code == EXIT_NEEDS_PERSON && run)
        snprintf(r->next, sizeof(r->next), "approve it at %s", str(run, "html_url"));
    fill_run(&w, code, &sum);
    gh_close(&w);
    term_release(&w.term);
    return code;
}

int ship_gh_status(struct cmd_ctx *ctx, const struct ship_stage *st, const char *sha,
                   struct ship_run *r)
{
    struct ghw w;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.st = st;
    w.sha = sha;
    w.r = r;
    w.quiet = 1;
    struct gh_summary sum;
    memset(&sum, 0, sizeof(sum));
    struct err e;
    err_clear(&e);
    int rc = 0;
    if (gh_open(&w, &e) < 0 || poll_runs(&w, &sum, &e) < 0) {
        rc = e.code;
        r->code = e.code;
        snprintf(r->status, sizeof(r->status), "%s", exit_code_name(e.code));
        snprintf(r->line, sizeof(r->line), "%s: %s", r->status, e.msg);
    } else if (sum.verdict == GH_NONE) {
        snprintf(r->status, sizeof(r->status), "none");
        snprintf(r->line, sizeof(r->line), "no workflow run of %.7s in %s yet", sha, st->repo);
    } else {
        int code = sum.verdict == GH_PASSED ? EXIT_OK : sum.verdict == GH_FAILED ? EXIT_FAILED
                   : sum.verdict == GH_NEEDS_PERSON ? EXIT_NEEDS_PERSON : -1;
        fill_run(&w, code, &sum);
    }
    gh_close(&w);
    return rc;
}
