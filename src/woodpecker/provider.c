/* woodpecker/provider: see provider.h. */
#include "woodpecker/provider.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "woodpecker/logread.h"

struct wp_impl {
    struct wp_client client;
    struct wp_repo repo;
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

static void workflow_to_job(const struct wp_workflow *w, struct ci_job *j)
{
    j->id = w->id;
    j->name = dup_or_null(w->name);
    j->status = dup_or_null(w->state);
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
    if (r->state == CI_NEEDS_PERSON)
        r->waiting_for = xstrdup("approval");
    r->created = pl->created;
    r->started = pl->started;
    r->finished = pl->finished;
    r->has_jobs = pl->has_workflows;
    r->njobs = pl->nworkflows;
    r->jobs = pl->nworkflows ? xcalloc(pl->nworkflows, sizeof(*r->jobs)) : NULL;
    for (size_t i = 0; i < pl->nworkflows; i++)
        workflow_to_job(&pl->workflows[i], &r->jobs[i]);
}

static int wp_run_by_id(struct ci_provider *p, long long id, struct ci_run *out, struct err *e)
{
    struct wp_impl *w = p->impl;
    struct wp_pipeline pl;
    if (wp_get_pipeline(&w->client, w->repo.id, id, &pl, e) < 0)
        return -1;
    wp_pipeline_to_run(&pl, out);
    wp_pipeline_release(&pl);
    return 0;
}

/* Woodpecker has one pipeline per commit that matters: the newest. */
static int wp_runs_of_commit(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                             struct ci_runset *out, int *changed, struct err *e)
{
    (void)f;
    struct wp_impl *w = p->impl;
    struct wp_pipeline pl;
    long long newest = 0;
    int rc = wp_find_pipeline(&w->client, w->repo.id, sha, &pl, &newest, e);
    if (rc < 0)
        return -1;
    ci_runset_release(out);
    *changed = 1;
    if (rc == 0)
        return 0;
    long long number = pl.number;
    wp_pipeline_release(&pl);
    out->runs = xcalloc(1, sizeof(*out->runs));
    if (wp_run_by_id(p, number, &out->runs[0], e) < 0) {
        free(out->runs);
        out->runs = NULL;
        return -1;
    }
    out->n = 1;
    return 0;
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

static int entry_to_line(void *ctx, const struct log_entry *en)
{
    struct line_adapter *a = ctx;
    size_t n = en->len;
    while (n && (en->data[n - 1] == '\n' || en->data[n - 1] == '\r'))
        n--;
    return a->sink->on_line(a->sink->ctx, en->data, n, 0, 0);
}

static int wp_read_log(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                       const struct ci_step *st, const struct ci_log_sink *sink, struct err *e)
{
    struct wp_impl *w = p->impl;
    struct line_adapter a = { sink };
    if (!st) {
        for (size_t i = 0; i < j->nsteps; i++)
            if (wp_read_log(p, r, j, &j->steps[i], sink, e) < 0)
                return -1;
        return 0;
    }
    struct wp_log_read rd = { .on_entry = entry_to_line, .ctx = &a };
    return wp_log_read(&w->client, w->repo.id, r->number, st->id, &rd, e) < 0 ? -1 : 0;
}

static void wp_close(struct ci_provider *p)
{
    struct wp_impl *w = p->impl;
    if (!w)
        return;
    wp_repo_release(&w->repo);
    wp_client_close(&w->client);
    free(w);
}

static const struct ci_provider_ops wp_ops = {
    .name = "woodpecker",
    .title = "Woodpecker",
    .runs_of_commit = wp_runs_of_commit,
    .run_by_id = wp_run_by_id,
    .load_jobs = wp_load_jobs,
    .read_log = wp_read_log,
    .close = wp_close,
};

int wp_provider_open(struct ci_provider *p, const struct config *cfg, const char *repo_full_name,
                     int verbose, struct err *e)
{
    struct wp_impl *w = xcalloc(1, sizeof(*w));
    memset(p, 0, sizeof(*p));
    p->ops = &wp_ops;
    p->kind = CI_WOODPECKER;
    p->verbose = verbose;
    if (wp_client_open(&w->client, cfg, verbose, e) < 0) {
        free(w);
        return -1;
    }
    if (wp_repo_lookup(&w->client, repo_full_name, &w->repo, e) < 0) {
        wp_client_close(&w->client);
        free(w);
        return -1;
    }
    p->impl = w;
    p->repo = xstrdup(repo_full_name);
    return 0;
}
