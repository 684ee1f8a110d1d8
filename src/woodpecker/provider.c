/* woodpecker/provider: see provider.h. */
#include "woodpecker/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/term.h"
#include "ci/steps.h"
#include "woodpecker/act.h"
#include "woodpecker/doctor.h"
#include "woodpecker/hints.h"
#include "woodpecker/logread.h"
#include "woodpecker/logstream.h"

/* Without a usable event stream the pipeline is read this often; with
 * one, hints say when, and a reconcile read comes at least this often. */
#define POLL_INTERVAL 3.0
#define RECONCILE_INTERVAL 30.0

struct wp_impl {
    struct wp_client *client;     /* own_client */
    const struct wp_repo *repo;   /* own_repo, or a caller's */
    struct wp_client own_client;
    struct wp_repo own_repo;
    int owns;                     /* close releases own_client and own_repo */
    struct wp_hints hints;   /* opened by the first wait_change */
    int hints_open;
    int hinted;              /* an event of the repo since the last wait */
    long long newest;        /* the repo's newest pipeline, as runs_of_commit last saw */
};

enum ci_state wp_state_class(const char *s, int pipeline_level)
{
    if (!s)
        return CI_UNKNOWN;
    if (!strcmp(s, "success"))
        return CI_SUCCESS;
    if (!strcmp(s, "failure") || !strcmp(s, "error") || !strcmp(s, "killed"))
        return CI_FAILURE;
    if (!strcmp(s, "canceled") || !strcmp(s, "declined"))
        return CI_CANCELLED;
    if (!strcmp(s, "skipped"))
        return pipeline_level ? CI_FAILURE : CI_SKIPPED;
    if (!strcmp(s, "blocked"))
        return CI_NEEDS_PERSON;
    if (!strcmp(s, "running"))
        return CI_RUNNING;
    if (!strcmp(s, "pending") || !strcmp(s, "created"))
        return CI_PENDING;
    return CI_UNKNOWN;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Woodpecker sends "" for no error; the model has NULL. */
static char *text_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void workflow_to_job(const struct wp_workflow *w, struct ci_job *j)
{
    j->id = w->id;
    j->name = dup_or_null(w->name);
    j->status = dup_or_null(w->state);
    j->error = text_or_null(w->error);
    j->state = wp_state_class(w->state, 0);
    j->started = w->started;
    j->finished = w->finished;
    j->nsteps = w->nsteps;
    j->steps = w->nsteps ? xcalloc(w->nsteps, sizeof(*j->steps)) : NULL;
    for (size_t k = 0; k < w->nsteps; k++) {
        const struct wp_step *st = &w->steps[k];
        struct ci_step *c = &j->steps[k];
        c->id = st->id;
        c->number = st->pid;
        c->name = dup_or_null(st->name);
        c->status = dup_or_null(st->state);
        c->state = wp_state_class(st->state, 0);
        c->exit_code = st->exit_code;
        c->started = st->started;
        c->finished = st->finished;
        c->type = dup_or_null(st->type);
        c->error = text_or_null(st->error);
    }
}

void wp_pipeline_to_run(const struct wp_pipeline *pl, struct ci_run *r)
{
    memset(r, 0, sizeof(*r));
    r->id = pl->number;
    r->number = pl->number;
    r->attempt = 1;
    r->status = dup_or_null(pl->status);
    r->state = wp_state_class(pl->status, 1);
    r->event = dup_or_null(pl->event);
    r->branch = dup_or_null(pl->branch);
    r->sha = dup_or_null(pl->commit);
    r->message = dup_or_null(pl->message);
    r->url = dup_or_null(pl->forge_url);
    r->author = dup_or_null(pl->author);
    r->ref = dup_or_null(pl->ref);
    r->error = text_or_null(pl->errors);
    r->parent = pl->parent;
    if (r->state == CI_NEEDS_PERSON)
        r->waiting_for = xstrdup("approval");
    r->created = pl->created;
    r->started = pl->started;
    r->finished = pl->finished;
    r->has_jobs = pl->has_workflows;
    r->nvars = pl->nvars;
    r->vars = pl->nvars ? xcalloc(pl->nvars, sizeof(*r->vars)) : NULL;
    for (size_t i = 0; i < pl->nvars; i++) {
        r->vars[i].name = xstrdup(pl->vars[i].name);
        r->vars[i].value = xstrdup(pl->vars[i].value);
    }
    r->njobs = pl->nworkflows;
    r->jobs = pl->nworkflows ? xcalloc(pl->nworkflows, sizeof(*r->jobs)) : NULL;
    for (size_t i = 0; i < pl->nworkflows; i++)
        workflow_to_job(&pl->workflows[i], &r->jobs[i]);
}

void wp_pipeline_page(const struct wp_client *c, long long repo_id, long long number,
                      struct buf *out)
{
    buf_addf(out, "%s/repos/%lld/pipeline/%lld", c->server, repo_id, number);
}

/* A pipeline as a run whose url is its page on the server (the forge's
 * commit link is not where a person looks at a pipeline). */
static void to_run(const struct wp_impl *w, const struct wp_pipeline *pl, struct ci_run *r)
{
    wp_pipeline_to_run(pl, r);
    struct buf url;
    buf_init(&url, 0);
    wp_pipeline_page(w->client, w->repo->id, pl->number, &url);
    free(r->url);
    r->url = buf_detach(&url);
}

/* The deadline of the verb (ci/provider.h) bounds every request. */
static struct wp_client *client_of(struct ci_provider *p)
{
    struct wp_impl *w = p->impl;
    if (p->deadline > 0)
        w->client->http.deadline = p->deadline;
    return w->client;
}

static int wp_run_by_id(struct ci_provider *p, long long id, struct ci_run *out, struct err *e)
{
    struct wp_impl *w = p->impl;
    struct wp_pipeline pl;
    if (wp_get_pipeline(client_of(p), w->repo->id, id, &pl, e) < 0)
        return -1;
    to_run(w, &pl, out);
    /* the detail is the whole picture: without workflows there are none
     * (the server leaves the key out), not "not asked yet" */
    out->has_jobs = 1;
    wp_pipeline_release(&pl);
    return 0;
}

/* What a watcher sees of a run: its status and every job's and step's. */
static void run_signature(const struct ci_run *r, struct buf *out)
{
    buf_addf(out, "%lld %s", r->number, r->status ? r->status : "");
    for (size_t i = 0; i < r->njobs; i++) {
        buf_addf(out, "|%s", r->jobs[i].status ? r->jobs[i].status : "");
        for (size_t k = 0; k < r->jobs[i].nsteps; k++)
            buf_addf(out, ",%s", r->jobs[i].steps[k].status ? r->jobs[i].steps[k].status : "");
    }
}

static int runs_differ(const struct ci_runset *a, const struct ci_runset *b)
{
    if (a->n != b->n)
        return 1;
    struct buf x, y;
    buf_init(&x, 0);
    buf_init(&y, 0);
    for (size_t i = 0; i < a->n; i++) {
        run_signature(&a->runs[i], &x);
        run_signature(&b->runs[i], &y);
    }
    int differ = strcmp(x.data ? x.data : "", y.data ? y.data : "") != 0;
    buf_release(&x);
    buf_release(&y);
    return differ;
}

/* The number of the commit's newest pipeline (the list only, no detail read). */
static int wp_newest_run(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                         long long *number, struct err *e)
{
    (void)f;
    struct wp_impl *w = p->impl;
    struct wp_pipeline item;
    long long newest = 0;
    int rc = wp_find_pipeline(client_of(p), w->repo->id, sha, &item, &newest, e);
    if (rc < 0)
        return -1;
    w->newest = newest;
    if (rc == 1) {
        *number = item.number;
        wp_pipeline_release(&item);
    }
    return rc;
}

/* Woodpecker has one pipeline per commit that matters: the newest. The
 * server has no conditional requests: *changed compares what was read. */
static int wp_runs_of_commit(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                             struct ci_runset *out, int *changed, struct err *e)
{
    long long number = 0;
    int rc = wp_newest_run(p, sha, f, &number, e);
    if (rc < 0)
        return -1;
    struct ci_runset fresh = { 0 };
    if (rc == 1) {
        fresh.runs = xcalloc(1, sizeof(*fresh.runs));
        if (wp_run_by_id(p, number, &fresh.runs[0], e) < 0) {
            free(fresh.runs);
            return -1;
        }
        fresh.n = 1;
    }
    *changed = runs_differ(out, &fresh);
    ci_runset_release(out);
    *out = fresh;
    return 0;
}

/* The newest pipelines matching f, newest first, pages followed. */
static int wp_list_runs(struct ci_provider *p, const struct ci_filter *f, size_t limit,
                        struct ci_runset *out, struct err *e)
{
    struct wp_impl *w = p->impl;
    struct wp_list_filter lf = { f->branch, f->status, f->event };
    /* page sizes must stay equal across pages for offsets to line up */
    int per_page = limit >= WP_MAX_PER_PAGE ? WP_MAX_PER_PAGE : (int)limit;
    size_t cap = 0;
    ci_runset_release(out);
    for (int page = 1; out->n < limit; page++) {
        json_t *items = NULL;
        if (wp_list_pipelines(client_of(p), w->repo->id, &lf, page, per_page, &items, e) < 0)
            return -1;
        size_t n = json_array_size(items);
        if (out->n + n > cap) { /* --limit may be huge: grow with what came */
            cap = out->n + n;
            out->runs = xrealloc(out->runs, cap * sizeof(*out->runs));
        }
        for (size_t i = 0; i < n && out->n < limit; i++) {
            struct wp_pipeline pl;
            if (wp_pipeline_from_json(json_array_get(items, i), &pl) == 0)
                to_run(w, &pl, &out->runs[out->n++]);
            wp_pipeline_release(&pl);
        }
        json_decref(items);
        if ((int)n < per_page)
            break;
    }
    return 0;
}

static const char *const known_statuses[] = { "created", "pending", "running", "blocked",
    "success", "failure", "killed", "canceled", "error", "declined", "skipped", NULL };
static const char *const known_events[] = { "push", "pull_request", "pull_request_closed",
    "pull_request_metadata", "tag", "release", "deployment", "cron", "manual", NULL };

static int known(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set))
            return 1;
    return 0;
}

/* Woodpecker answers an unknown word with an empty list: say so instead. */
static int wp_check_filter(const struct ci_filter *f, struct err *e)
{
    if (f->status && !known(f->status, known_statuses))
        return err_set(e, EXIT_USAGE, "--status '%s' is not a pipeline status (success, "
                       "failure, running, pending, blocked, killed, canceled, error, declined, "
                       "skipped, created)", f->status);
    if (!f->event)
        return 0;
    char *events = xstrdup(f->event), *save = NULL;
    int rc = 0;
    for (char *ev = strtok_r(events, ",", &save); ev; ev = strtok_r(NULL, ",", &save))
        if (!known(ev, known_events))
            rc = err_set(e, EXIT_USAGE, "--event '%s' is not an event (push, pull_request, "
                         "tag, release, deployment, cron, manual…)", ev);
    free(events);
    return rc;
}

static void wp_no_runs(struct ci_provider *p, const char *label, const struct ci_filter *f,
                       const char *after, struct err *e)
{
    (void)f;
    struct wp_impl *w = p->impl;
    if (w->newest)
        err_set(e, EXIT_NOT_FOUND, "no pipeline for commit %s in %s%s (newest is #%lld)", label,
                w->repo->full_name, after, w->newest);
    else
        err_set(e, EXIT_NOT_FOUND, "no pipeline for commit %s in %s%s (it has none yet)", label,
                w->repo->full_name, after);
}

static int wp_load_jobs(struct ci_provider *p, struct ci_run *r, int *changed, struct err *e)
{
    struct ci_run fresh;
    if (wp_run_by_id(p, r->number, &fresh, e) < 0)
        return -1;
    ci_run_release(r);
    *r = fresh;
    *changed = 1;
    return 0;
}

struct line_adapter {
    const struct ci_log_sink *sink;
};

static int entry_to_sink(void *ctx, const struct log_entry *en)
{
    struct line_adapter *a = ctx;
    if (a->sink->on_entry) {
        struct ci_log_entry ce;
        wp_log_entry_neutral(en, &ce);
        return a->sink->on_entry(a->sink->ctx, &ce);
    }
    size_t n = en->len;
    while (n && (en->data[n - 1] == '\n' || en->data[n - 1] == '\r'))
        n--;
    return a->sink->on_line(a->sink->ctx, en->data, n, 0, 0);
}

static int chunk_to_sink(void *ctx)
{
    struct line_adapter *a = ctx;
    return a->sink->on_chunk(a->sink->ctx);
}

/* wp_log_read's retries, size cap and empty-answer policy, unchanged; the
 * sink's empty_attempts is its own (0 = its default). */
static int read_step_log(struct wp_impl *w, const struct ci_run *r, const struct ci_step *st,
                         const struct ci_log_sink *sink, struct err *e)
{
    struct line_adapter a = { sink };
    struct wp_log_read rd = { .on_entry = entry_to_sink,
                              .on_chunk = sink->on_chunk ? chunk_to_sink : NULL,
                              .ctx = &a,
                              .empty_attempts = sink->empty_attempts };
    return wp_log_read(w->client, w->repo->id, r->number, st->id, &rd, e) < 0 ? -1 : 0;
}

/* Woodpecker keeps logs per step: a job's log is its steps' in order. */
static int wp_read_log(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                       const struct ci_step *st, const struct ci_log_sink *sink, struct err *e)
{
    struct wp_impl *w = p->impl;
    if (st)
        return read_step_log(w, r, st, sink, e);
    for (size_t i = 0; i < j->nsteps; i++)
        if (read_step_log(w, r, &j->steps[i], sink, e) < 0)
            return -1;
    return 0;
}

/* ---- a step's live log: woodpecker/logstream.h behind ci_live_log ---- */

struct wp_live {
    struct wp_logstream ls;
    const struct ci_log_sink *sink;
};

static int live_entry(void *ud, const struct log_entry *en)
{
    struct wp_live *lv = ud;
    struct ci_log_entry ce;
    wp_log_entry_neutral(en, &ce);
    return lv->sink->on_entry(lv->sink->ctx, &ce);
}

static int live_feed(void *ud)
{
    struct wp_live *lv = ud;
    return lv->sink->on_chunk ? lv->sink->on_chunk(lv->sink->ctx) : 0;
}

/* The stream's state as the neutral fields say it. */
static void live_sync(struct ci_live_log *l)
{
    const struct wp_live *lv = l->impl;
    l->open = lv->ls.ws.open;
    l->messages = lv->ls.messages;
    l->eof = lv->ls.eof;
    l->not_running = lv->ls.not_running;
    l->refused = lv->ls.ws.refused;
    snprintf(l->error, sizeof(l->error), "%s", lv->ls.error);
}

static int wp_live_open(struct ci_provider *p, const struct ci_run *r, const struct ci_step *st,
                        const struct ci_log_sink *sink, struct ci_live_log *l, struct err *e)
{
    struct wp_impl *w = p->impl;
    if (!l->impl) {
        struct wp_live *lv = xcalloc(1, sizeof(*lv));
        wp_logstream_init(&lv->ls, live_entry, live_feed, lv);
        l->impl = lv;
    }
    struct wp_live *lv = l->impl;
    lv->sink = sink;
    int rc = wp_logstream_open(client_of(p), &lv->ls, w->repo->id, r->number, st->id, e);
    live_sync(l);
    return rc;
}

static int wp_live_poll(struct ci_provider *p, struct ci_live_log *l, int timeout_ms)
{
    (void)p;
    struct wp_live *lv = l->impl;
    int ended = lv ? wp_logstream_poll(&lv->ls, timeout_ms) : 1;
    if (lv)
        live_sync(l);
    return ended;
}

static void wp_live_close(struct ci_provider *p, struct ci_live_log *l, enum ci_live_close how)
{
    (void)p;
    struct wp_live *lv = l->impl;
    if (!lv)
        return;
    wp_logstream_close(&lv->ls);
    if (how == CI_LIVE_RESTART)
        wp_logstream_restart(&lv->ls);
    live_sync(l);
    if (how == CI_LIVE_RELEASE) {
        wp_logstream_release(&lv->ls);
        free(lv);
        l->impl = NULL;
    }
}

static void on_hint(void *ud, struct wp_pipeline *pl)
{
    (void)pl;
    ((struct wp_impl *)ud)->hinted = 1;
}

/*
 * Until an event of the repo hints at a change, at most `max` seconds:
 * POLL_INTERVAL while the stream cannot be relied on (woodpecker/hints.h),
 * RECONCILE_INTERVAL while it can. A caught signal returns at once.
 */
static int wp_wait_change(struct ci_provider *p, double max)
{
    struct wp_impl *w = p->impl;
    if (!w->hints_open) {
        wp_hints_init(&w->hints, w->client, w->repo->id, p->verbose, POLL_INTERVAL, on_hint, w);
        wp_hints_open(&w->hints);
        w->hints_open = 1;
    }
    w->hinted = 0;
    double start = clock_now();
    for (;;) {
        double now = clock_now();
        double every = wp_hints_usable(&w->hints, now) ? RECONCILE_INTERVAL : POLL_INTERVAL;
        double until = start + (max < every ? max : every);
        if (w->hinted || now >= until || term_interrupted())
            return 0;
        wp_hints_check(&w->hints, now);
        wp_hints_wait(&w->hints, until - now < 0.2 ? until - now : 0.2);
    }
}

/* The list's pages, newest first, as far as `max` pipelines or until
 * `each` stops; a pipeline seen twice (offsets shift while new ones are
 * created) is skipped. */
static int wp_commit_runs(struct ci_provider *p, const char *sha, size_t max,
                          int (*each)(void *ctx, const struct ci_run *r), void *ctx,
                          struct err *e)
{
    struct wp_impl *w = p->impl;
    long long last = 0;
    int stop = 0;
    size_t pages = (max + WP_MAX_PER_PAGE - 1) / WP_MAX_PER_PAGE;
    for (size_t page = 1; page <= pages && !stop; page++) {
        json_t *items = NULL, *it;
        size_t i;
        if (wp_list_pipelines(client_of(p), w->repo->id, NULL, (int)page, WP_MAX_PER_PAGE,
                              &items, e) < 0)
            return -1;
        json_array_foreach(items, i, it) {
            long long num = json_integer_value(json_object_get(it, "number"));
            if (last && num >= last)
                continue;
            last = num;
            if (!wp_commit_matches(json_string_value(json_object_get(it, "commit")), sha))
                continue;
            struct wp_pipeline pl;
            if (wp_pipeline_from_json(it, &pl) == 0) {
                struct ci_run r;
                to_run(w, &pl, &r);
                stop = each(ctx, &r);
                ci_run_release(&r);
            }
            wp_pipeline_release(&pl);
            if (stop)
                break;
        }
        if (json_array_size(items) < WP_MAX_PER_PAGE)
            stop = 1;
        json_decref(items);
    }
    return 0;
}

/* ---- the change feed: woodpecker/hints.h behind ci_feed ---- */

struct wp_feed {
    struct wp_hints hints;
    struct wp_impl *w;
    struct ci_feed *f;
};

/* An event of the repo's, as the run it pictures (its page as url, as
 * every run read here has). */
static void feed_event(void *ud, struct wp_pipeline *pl)
{
    struct wp_feed *fd = ud;
    struct ci_run r;
    to_run(fd->w, pl, &r);
    fd->f->on_run(fd->f->ctx, &r);
    ci_run_release(&r);
}

static void feed_health(struct ci_feed *f, double now)
{
    struct wp_feed *fd = f->impl;
    f->health = fd->hints.healthy ? CI_FEED_LIVE
              : wp_hints_usable(&fd->hints, now) ? CI_FEED_STARTING : CI_FEED_NONE;
}

static void wp_feed_wait(struct ci_provider *p, struct ci_feed *f, double max)
{
    struct wp_impl *w = p->impl;
    struct wp_client *c = client_of(p);
    if (!f->impl) {
        struct wp_feed *fd = xcalloc(1, sizeof(*fd));
        fd->w = w;
        fd->f = f;
        f->impl = fd;
        wp_hints_init(&fd->hints, c, w->repo->id, p->verbose, f->poll_every, feed_event, fd);
        wp_hints_open(&fd->hints);
    }
    struct wp_feed *fd = f->impl;
    fd->f = f;
    wp_hints_check(&fd->hints, clock_now());
    wp_hints_wait(&fd->hints, max);
    feed_health(f, clock_now());
}

static void wp_feed_missed(struct ci_provider *p, struct ci_feed *f)
{
    (void)p;
    if (!f->impl)
        return;
    wp_hints_blind(&((struct wp_feed *)f->impl)->hints);
    feed_health(f, clock_now());
}

static void wp_feed_close(struct ci_provider *p, struct ci_feed *f)
{
    (void)p;
    struct wp_feed *fd = f->impl;
    if (!fd)
        return;
    wp_hints_close(&fd->hints);
    free(fd);
    f->impl = NULL;
    f->health = CI_FEED_NONE;
}

static struct http_client *wp_transport(struct ci_provider *p)
{
    return &client_of(p)->http;
}

static int wp_act(struct ci_provider *p, const struct ci_act_req *req, struct ci_act_result *out,
                  struct err *e)
{
    struct wp_impl *w = p->impl;
    return wp_act_send(w->client, w->repo, req, out, e);
}

static int wp_act_describe(struct ci_provider *p, const struct ci_act_req *req, struct buf *path,
                           struct buf *body, struct err *e)
{
    struct wp_impl *w = p->impl;
    return wp_act_request(w->client, w->repo, req, path, body, e);
}

static void wp_close(struct ci_provider *p)
{
    struct wp_impl *w = p->impl;
    if (!w)
        return;
    if (w->hints_open)
        wp_hints_close(&w->hints);
    if (w->owns) {
        wp_repo_release(&w->own_repo);
        wp_client_close(&w->own_client);
    }
    free(w);
}

const struct ci_provider_ops wp_provider_ops = {
    .name = "woodpecker",
    .title = "Woodpecker",
    .layout = CI_LAYOUT_PIPELINE,
    .appear_timeout = 180,
    .check_filter = wp_check_filter,
    .no_runs = wp_no_runs,
    .diagnose = wp_diagnose,
    .runs_of_commit = wp_runs_of_commit,
    .run_by_id = wp_run_by_id,
    .list_runs = wp_list_runs,
    .load_jobs = wp_load_jobs,
    .read_log = wp_read_log,
    .choose_logs = ci_logs_choose_steps,
    .live_open = wp_live_open,
    .live_poll = wp_live_poll,
    .live_close = wp_live_close,
    .wait_change = wp_wait_change,
    .newest_run = wp_newest_run,
    .commit_runs = wp_commit_runs,
    .feed_wait = wp_feed_wait,
    .feed_missed = wp_feed_missed,
    .feed_close = wp_feed_close,
    .transport = wp_transport,
    .act = wp_act,
    .describe = wp_act_describe,
    .close = wp_close,
};

static void provider_init(struct ci_provider *p, int verbose)
{
    memset(p, 0, sizeof(*p));
    p->ops = &wp_provider_ops;
    p->kind = CI_WOODPECKER;
    p->verbose = verbose;
}

int wp_provider_open(struct ci_provider *p, const struct config *cfg, const char *repo_full_name,
                     int verbose, double deadline, struct err *e)
{
    struct wp_impl *w = xcalloc(1, sizeof(*w));
    provider_init(p, verbose);
    p->deadline = deadline;
    if (wp_client_open(&w->own_client, cfg, verbose, e) < 0) {
        free(w);
        return -1;
    }
    /* the deadline bounds the repo lookup's retries too */
    w->own_client.http.deadline = deadline;
    if (wp_repo_lookup(&w->own_client, repo_full_name, &w->own_repo, e) < 0) {
        wp_client_close(&w->own_client);
        free(w);
        return -1;
    }
    w->client = &w->own_client;
    w->repo = &w->own_repo;
    w->owns = 1;
    p->impl = w;
    p->repo = xstrdup(w->repo->full_name);
    p->repo_id = w->repo->id;
    p->default_branch = w->repo->default_branch ? xstrdup(w->repo->default_branch) : NULL;
    return 0;
}
