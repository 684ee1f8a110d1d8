/* github/provider: see provider.h. */
#include "github/doctor.h"
#include "github/provider.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/term.h"
#include "ci/steps.h"
#include "github/logsplit.h"
#include "github/model.h"
#include "github/runwatch.h"
#include "github/write.h"

#define POLL_INTERVAL 2.5

/* The run `ci watch #ID` follows (gh_poll_run): its commit and event from
 * its first read, and what the caller was last told of it. */
struct gh_followed {
    long long id;             /* 0: none yet */
    char *sha, *event;
    int attempt;
    enum ci_state state;
    char *status;             /* the word shown: the conclusion once completed */
    int by_id;                /* not on its commit's list: read by its id */
};

struct gh_impl {
    struct gh_client client;
    struct gh_runwatch watch; /* the commit's runs as last read in full */
    struct gh_followed run;
};

struct gh_client *gh_provider_client(struct ci_provider *p)
{
    return &((struct gh_impl *)p->impl)->client;
}

size_t gh_log_cap(void)
{
    const char *v = getenv("HOMELAB_MAX_LOG");
    if (v && *v) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (!*end && n > 0)
            return (size_t)n;
    }
    return 64u << 20;
}

/* The caller's deadline goes to the client; its rate-limit state comes
 * back as p->rate_limited_until (ci/provider.h). */
static int get(struct ci_provider *p, const char *path, json_t **out, int *changed,
               struct err *e)
{
    struct gh_impl *g = p->impl;
    if (p->deadline > 0)
        g->client.api.deadline = p->deadline;
    g->client.rate_limited = 0;
    int rc = gh_get(&g->client, path, out, changed, e);
    p->rate_limited_until = g->client.rate_limited ? g->client.rate_limited_until : 0;
    return rc;
}

/* Starts b (uninitialised) as the repo's API path, /repos/OWNER/NAME. */
static void repo_path_init(struct buf *b, const char *repo)
{
    buf_init(b, 0);
    buf_addf(b, "/repos/");
    http_escape_path(b, repo);
}

/* get() of a path built for this one request, released either way. */
static int get_path(struct ci_provider *p, struct buf *path, json_t **out, int *changed,
                    struct err *e)
{
    int rc = get(p, path->data, out, changed, e);
    buf_release(path);
    return rc;
}

static void waiting_details(struct ci_provider *p, struct ci_runset *out)
{
    for (size_t i = 0; i < out->n; i++) {
        if (out->runs[i].state != CI_WAITING)
            continue;
        struct buf path;
        repo_path_init(&path, p->repo);
        buf_addf(&path, "/actions/runs/%lld/pending_deployments", out->runs[i].id);
        json_t *j = NULL;
        struct err e;
        err_clear(&e);
        if (get_path(p, &path, &j, NULL, &e) == 0)
            gh_apply_pending(j, &out->runs[i]);
    }
}

/* The commit's runs by status (github/runwatch.h): *news = 1 when a list
 * says what the last full read does not. Stops at the first that does. */
static int runs_by_status(struct ci_provider *p, const char *full, int *news, struct err *e)
{
    struct gh_impl *g = p->impl;
    size_t slots[GH_RUNWATCH_LISTS];
    size_t n = gh_runwatch_turn(&g->watch, slots);
    *news = 0;
    for (size_t i = 0; i < n && !*news; i++) {
        struct buf path;
        buf_init(&path, 0);
        buf_addf(&path, "%s&status=%s", full, gh_runwatch_status[slots[i]]);
        json_t *j = NULL;
        int ch = 1;
        if (get_path(p, &path, &j, &ch, e) < 0)
            return -1;
        *news = gh_runwatch_news(&g->watch, slots[i], j, ch);
    }
    return 0;
}

/* The commit's runs list: GET .../actions/runs?head_sha=SHA&..[&event=E]
 * (event NULL or "any": all events). Appended to path (uninitialised). */
static void commit_path(struct ci_provider *p, const char *sha, const char *event,
                        struct buf *path)
{
    repo_path_init(path, p->repo);
    buf_addf(path, "/actions/runs?head_sha=");
    http_escape(path, sha);
    buf_addf(path, "&per_page=100&exclude_pull_requests=true");
    if (event && strcmp(event, "any")) {
        buf_addf(path, "&event=");
        http_escape(path, event);
    }
}

/* The full list of `path` (*list, borrowed), or *changed = 0 when no run
 * appeared, left or changed its attempt or status since the last call.
 * While a run is in_progress the full list is read only when the lists by
 * status say so (runwatch.h: steps moving need not cost a unit each);
 * otherwise it is polled itself. */
static int commit_runs(struct ci_provider *p, const char *path, json_t **list, int *changed,
                       struct err *e)
{
    struct gh_impl *g = p->impl;
    *changed = 0;
    if (gh_runwatch_by_status(&g->watch, path)) {
        int news = 0;
        if (runs_by_status(p, path, &news, e) < 0)
            return -1;
        if (!news)
            return 0;
    }
    int ch = 1;
    if (get(p, path, list, &ch, e) < 0)
        return -1;
    /* A list that changed while no run's status did (a step moved the
     * run's updated_at) is no change to the caller: no jobs read for it. */
    *changed = gh_runwatch_note(&g->watch, path, *list, ch) && ch;
    return 0;
}

static int gh_runs_of_commit(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                             struct ci_runset *out, int *changed, struct err *e)
{
    const char *event = f && f->event ? f->event : "push";
    struct buf path;
    commit_path(p, sha, event, &path);
    json_t *j = NULL;
    int rc = commit_runs(p, path.data, &j, changed, e);
    buf_release(&path);
    if (rc < 0 || !*changed)
        return rc;
    gh_runs_from_list(j, event, out);
    waiting_details(p, out);
    return 0;
}

/* Appends the runs of one list page not already in out (pages shift while
 * runs are created: de-duplicated by id), up to limit. */
static void add_page(json_t *page, size_t limit, struct ci_runset *out)
{
    json_t *arr = json_object_get(page, "workflow_runs");
    for (size_t i = 0; i < json_array_size(arr) && out->n < limit; i++) {
        struct ci_run r;
        gh_run_from_json(json_array_get(arr, i), &r, NULL);
        int dup = 0;
        for (size_t k = 0; k < out->n && !dup; k++)
            dup = out->runs[k].id == r.id;
        if (dup) {
            ci_run_release(&r);
            continue;
        }
        out->runs[out->n++] = r;
    }
}

static void add_query(struct buf *path, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    buf_addf(path, "&%s=", name);
    http_escape(path, value);
}

/* GET .../actions/runs with the filters, then Link rel="next" verbatim. */
/* GitHub answers at most 1,000 runs for a filtered list. */
#define LIST_MAX 1000

static int gh_list_runs(struct ci_provider *p, const struct ci_filter *f, size_t limit,
                        struct ci_runset *out, struct err *e)
{
    struct gh_impl *g = p->impl;
    if (limit > LIST_MAX)
        limit = LIST_MAX;
    struct buf path;
    repo_path_init(&path, p->repo);
    buf_addf(&path, "/actions/runs?per_page=%zu&exclude_pull_requests=true",
             limit < 100 ? limit : 100);
    if (f && f->event && strcmp(f->event, "any"))
        add_query(&path, "event", f->event);
    add_query(&path, "branch", f ? f->branch : NULL);
    add_query(&path, "status", f ? f->status : NULL);
    ci_runset_release(out);
    out->runs = xcalloc(limit ? limit : 1, sizeof(*out->runs));
    int rc = 0;
    while (out->n < limit) {
        json_t *j = NULL;
        if ((rc = get(p, path.data, &j, NULL, e)) < 0)
            break;
        size_t before = out->n;
        add_page(j, limit, out);
        if (!g->client.next[0] || out->n == before)
            break;
        buf_reset(&path);
        buf_adds(&path, g->client.next);
    }
    buf_release(&path);
    if (rc < 0)
        ci_runset_release(out);
    return rc;
}

static int gh_run_by_id(struct ci_provider *p, long long id, struct ci_run *out, struct err *e)
{
    struct buf path;
    repo_path_init(&path, p->repo);
    buf_addf(&path, "/actions/runs/%lld?exclude_pull_requests=true", id);
    json_t *j = NULL;
    if (get_path(p, &path, &j, NULL, e) < 0)
        return -1;
    gh_run_from_json(j, out, NULL);
    struct ci_runset one = { out, 1 };
    waiting_details(p, &one);
    return 0;
}

/* The followed run from its commit's runs list (github/runwatch.h: a
 * moving run costs no rate limit): *news = 0 when no run of the commit
 * changed its attempt or status. A run missing from the list (more
 * runs than a page, a list behind) is read by its id, from then on. */
static int run_from_commit(struct ci_provider *p, struct gh_followed *f, struct ci_run *out,
                           int *news, struct err *e)
{
    struct buf path;
    commit_path(p, f->sha, f->event, &path);
    json_t *list = NULL;
    int rc = commit_runs(p, path.data, &list, news, e);
    buf_release(&path);
    if (rc < 0 || !*news)
        return rc;
    json_t *arr = json_object_get(list, "workflow_runs");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *j = json_array_get(arr, i);
        if (json_integer_value(json_object_get(j, "id")) != f->id)
            continue;
        gh_run_from_json(j, out, NULL);
        struct ci_runset one = { out, 1 };
        waiting_details(p, &one);
        return 0;
    }
    f->by_id = 1;
    return gh_run_by_id(p, f->id, out, e);
}

static void followed_release(struct gh_followed *f)
{
    free(f->sha);
    free(f->event);
    free(f->status);
    memset(f, 0, sizeof(*f));
}

/* 1 when r is what the caller was last told of the followed run. */
static int followed_same(const struct gh_followed *f, const struct ci_run *r)
{
    return f->attempt == r->attempt && f->state == r->state &&
           !strcmp(f->status ? f->status : "", r->status ? r->status : "");
}

/* Read by id once (its commit, its event), then followed through its
 * commit's runs like `ci watch COMMIT`: rate limit is spent when a run of
 * the commit changes its status, not while its steps move. */
static int gh_poll_run(struct ci_provider *p, long long id, struct ci_run *out, int *changed,
                       struct err *e)
{
    struct gh_followed *f = &((struct gh_impl *)p->impl)->run;
    struct ci_run r;
    int news = 1, first = f->id != id;
    int rc = first || f->by_id ? gh_run_by_id(p, id, &r, e)
                               : run_from_commit(p, f, &r, &news, e);
    *changed = 0;
    if (rc < 0 || !news)
        return rc;
    if (!first && followed_same(f, &r)) {
        ci_run_release(&r);
        return 0;
    }
    if (first) {
        followed_release(f);
        f->id = id;
        f->sha = r.sha ? xstrdup(r.sha) : NULL;
        f->event = r.event ? xstrdup(r.event) : NULL;
        f->by_id = !f->sha; /* no commit to follow it by */
    }
    free(f->status);
    f->status = r.status ? xstrdup(r.status) : NULL;
    f->attempt = r.attempt;
    f->state = r.state;
    *out = r;
    *changed = 1;
    return 0;
}

static int gh_load_jobs(struct ci_provider *p, struct ci_run *r, int *changed, struct err *e)
{
    struct buf path;
    repo_path_init(&path, p->repo);
    buf_addf(&path, "/actions/runs/%lld/jobs?per_page=100", r->id);
    json_t *j = NULL;
    int ch = 1;
    if (get_path(p, &path, &j, &ch, e) < 0)
        return -1;
    if (ch || !r->has_jobs)
        gh_jobs_from_json(j, r);
    *changed = ch;
    return 0;
}

/* One line as an entry numbered within the section, with its own stamp. */
static int emit_entry(const struct ci_log_sink *sink, long long number, const char *line,
                      size_t len, size_t stamp)
{
    struct ci_log_entry en = { .line = number, .kind = CI_LOG_OUTPUT, .data = line, .len = len,
                               .own_time = 1, .stamp = stamp };
    return sink->on_entry(sink->ctx, &en);
}

/* Hands lines [begin, end) of the log to the sink, with their times: as
 * numbered entries when it takes them, else as lines. */
static int emit_lines(const char *log, size_t begin, size_t end, const struct ci_log_sink *sink)
{
    size_t pos = begin;
    long long number = 0;
    while (pos < end) {
        const char *nl = memchr(log + pos, '\n', end - pos);
        size_t stop = nl ? (size_t)(nl - log) : end;
        size_t len = stop - pos;
        if (len && log[pos + len - 1] == '\r')
            len--;
        double ts = 0;
        size_t text;
        gh_log_line_time(log + pos, len, &ts, &text);
        /* a byte-order mark is not part of the line */
        size_t bom = len >= 3 && !memcmp(log + pos, "\xEF\xBB\xBF", 3) ? 3 : 0;
        if (sink->on_entry ? emit_entry(sink, number++, log + pos + bom, len - bom, text - bom)
                           : sink->on_line(sink->ctx, log + pos + bom, len - bom, ts, text - bom))
            return -1;
        pos = nl ? stop + 1 : end;
    }
    return sink->on_chunk ? (sink->on_chunk(sink->ctx) ? -1 : 0) : 0;
}

static int gh_read_log(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                       const struct ci_step *st, const struct ci_log_sink *sink, struct err *e)
{
    (void)r;
    struct gh_impl *g = p->impl;
    struct buf log;
    buf_init(&log, gh_log_cap() + 1);
    int available = 0;
    p->log_cut_uncertain = 0;
    if (gh_job_log(&g->client, p->repo, j->id, gh_log_cap(), &log, &available, e) < 0) {
        buf_release(&log);
        return -1;
    }
    if (!available) {
        buf_release(&log);
        return 0;
    }
    size_t begin = 0, end = log.len;
    if (st) {
        struct gh_split sp;
        gh_log_split(log.data, log.len, (double)st->started, (double)st->finished, st->number,
                     &sp);
        begin = sp.begin;
        end = sp.end;
        p->log_cut_uncertain = !sp.certain;
    }
    int rc = emit_lines(log.data ? log.data : "", begin, end, sink);
    buf_release(&log);
    if (rc < 0 && !e->code)
        err_set(e, EXIT_FAILED, "stopped");
    return rc < 0 ? -1 : 1;
}

/* The poll interval, or longer when GitHub asked for it (x-poll-interval). */
static double gh_poll_every(struct ci_provider *p)
{
    struct gh_impl *g = p->impl;
    return g->client.poll_interval > POLL_INTERVAL ? g->client.poll_interval : POLL_INTERVAL;
}

static int gh_wait_change(struct ci_provider *p, double max)
{
    struct gh_impl *g = p->impl;
    double every = gh_poll_every(p);
    double wait = max < every ? max : every;
    struct err e;
    err_clear(&e);
    http_wait(&g->client.api, wait > 0 ? wait : 0, &e); /* a signal: term_interrupted() */
    return 0;
}

static void gh_close(struct ci_provider *p)
{
    struct gh_impl *g = p->impl;
    if (!g)
        return;
    gh_client_close(&g->client);
    gh_runwatch_release(&g->watch);
    followed_release(&g->run);
    free(g);
}

/* GitHub's words for a commit without runs: a push mirror adds delay,
 * and runs of other events are left out unless asked for. */
static void gh_no_runs(struct ci_provider *p, const char *label, const struct ci_filter *f,
                       const char *after, struct err *e)
{
    const char *ev = f && f->event ? f->event : "push";
    err_set(e, EXIT_NOT_FOUND, "no workflow run for %s (event %s) in %s%s", label, ev, p->repo,
            after);
    err_hint(e, "was it pushed to GitHub (a push mirror adds delay)? other events: "
             "--event any");
}

const struct ci_provider_ops gh_provider_ops = {
    .name = "github",
    .title = "GitHub",
    .layout = CI_LAYOUT_RUNS,
    .appear_timeout = 600,
    .full_sha_only = 1,
    .no_runs = gh_no_runs,
    .diagnose = gh_diagnose,
    .runs_of_commit = gh_runs_of_commit,
    .run_by_id = gh_run_by_id,
    .poll_run = gh_poll_run,
    .list_runs = gh_list_runs,
    .load_jobs = gh_load_jobs,
    .read_log = gh_read_log,
    .choose_logs = ci_logs_choose_jobs,
    .log_per_job = 1,
    .wait_change = gh_wait_change,
    .poll_every = gh_poll_every,
    .act = gh_act,
    .describe = gh_act_describe,
    .close = gh_close,
};

int gh_provider_open(struct ci_provider *p, const struct config *cfg, const char *repo,
                     int verbose, struct err *e)
{
    memset(p, 0, sizeof(*p));
    struct gh_impl *g = xcalloc(1, sizeof(*g));
    if (gh_client_open(&g->client, cfg, verbose, e) < 0) {
        free(g);
        return -1;
    }
    p->ops = &gh_provider_ops;
    p->kind = CI_GITHUB;
    p->verbose = verbose;
    p->repo = xstrdup(repo);
    p->impl = g;
    return 0;
}
