/* github/model: see model.h. */
#include "github/model.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "github/logsplit.h"

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A copy with control characters replaced: no field can drive a terminal. */
static char *clean(const char *s)
{
    if (!s)
        return NULL;
    char *c = xstrdup(s);
    for (char *p = c; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return c;
}

static long long time_of(json_t *o, const char *key)
{
    double t = gh_parse_time(str(o, key));
    return t < 0 ? 0 : (long long)t;
}

enum ci_state gh_state_class(const char *status, const char *conclusion)
{
    if (!status)
        return CI_UNKNOWN;
    if (!strcmp(status, "completed")) {
        if (!conclusion)
            return CI_UNKNOWN; /* completed/null: not final yet (reference §3.3) */
        static const struct { const char *w; enum ci_state s; } map[] = {
            { "success", CI_SUCCESS },       { "neutral", CI_NEUTRAL },
            { "skipped", CI_SKIPPED },       { "failure", CI_FAILURE },
            { "timed_out", CI_FAILURE },     { "startup_failure", CI_FAILURE },
            { "cancelled", CI_CANCELLED },   { "action_required", CI_NEEDS_PERSON },
            { "stale", CI_STALE },
        };
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
            if (!strcmp(conclusion, map[i].w))
                return map[i].s;
        return CI_UNKNOWN;
    }
    if (!strcmp(status, "in_progress"))
        return CI_RUNNING;
    if (!strcmp(status, "waiting"))
        return CI_WAITING;
    if (!strcmp(status, "queued") || !strcmp(status, "requested") || !strcmp(status, "pending"))
        return CI_PENDING;
    return CI_UNKNOWN;
}

/* The word shown: the conclusion once completed, else the status. */
static char *word(json_t *o)
{
    const char *st = str(o, "status"), *c = str(o, "conclusion");
    return clean(st && !strcmp(st, "completed") && c ? c : st ? st : "unknown");
}

void gh_run_from_json(json_t *j, struct ci_run *r, long long *workflow_id)
{
    memset(r, 0, sizeof(*r));
    r->id = json_integer_value(json_object_get(j, "id"));
    r->number = json_integer_value(json_object_get(j, "run_number"));
    r->attempt = (int)json_integer_value(json_object_get(j, "run_attempt"));
    if (r->attempt < 1)
        r->attempt = 1;
    r->workflow = clean(str(j, "name") ? str(j, "name") : "workflow");
    r->status = word(j);
    r->state = gh_state_class(str(j, "status"), str(j, "conclusion"));
    r->event = clean(str(j, "event"));
    r->branch = clean(str(j, "head_branch"));
    r->sha = clean(str(j, "head_sha"));
    json_t *hc = json_object_get(j, "head_commit");
    r->message = clean(str(hc, "message") ? str(hc, "message") : str(j, "display_title"));
    r->url = clean(str(j, "html_url"));
    r->created = time_of(j, "created_at");
    r->started = time_of(j, "run_started_at");
    if (r->state != CI_PENDING && r->state != CI_RUNNING && r->state != CI_WAITING &&
        r->state != CI_UNKNOWN)
        r->finished = time_of(j, "updated_at");
    if (r->state == CI_NEEDS_PERSON)
        r->waiting_for = xstrdup("approval of the run (action_required)");
    if (workflow_id)
        *workflow_id = json_integer_value(json_object_get(j, "workflow_id"));
}

void gh_runs_from_list(json_t *list, const char *event, struct ci_runset *out)
{
    json_t *arr = json_object_get(list, "workflow_runs");
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    ci_runset_release(out);
    out->runs = n ? xcalloc(n, sizeof(*out->runs)) : NULL;
    long long *wf = n ? xcalloc(n, sizeof(*wf)) : NULL;
    int any = !event || !strcmp(event, "any");
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(arr, i);
        const char *ev = str(j, "event");
        if (!json_is_object(j) || (!any && (!ev || strcmp(ev, event))))
            continue;
        struct ci_run r;
        long long w;
        gh_run_from_json(j, &r, &w);
        size_t k; /* an older run of the same workflow and event is replaced */
        for (k = 0; k < out->n; k++)
            if (wf[k] == w && !strcmp(out->runs[k].event ? out->runs[k].event : "",
                                      r.event ? r.event : ""))
                break;
        if (k < out->n) {
            if (r.created > out->runs[k].created ||
                (r.created == out->runs[k].created && r.id > out->runs[k].id)) {
                ci_run_release(&out->runs[k]);
                out->runs[k] = r;
            } else {
                ci_run_release(&r);
            }
            continue;
        }
        wf[out->n] = w;
        out->runs[out->n++] = r;
    }
    free(wf);
}

static void step_from_json(json_t *j, struct ci_step *s)
{
    s->number = (int)json_integer_value(json_object_get(j, "number"));
    s->name = clean(str(j, "name") ? str(j, "name") : "step");
    s->status = word(j);
    s->state = gh_state_class(str(j, "status"), str(j, "conclusion"));
    s->exit_code = -1;
    s->started = time_of(j, "started_at");
    s->finished = time_of(j, "completed_at");
}

void gh_jobs_from_json(json_t *list, struct ci_run *r)
{
    json_t *arr = json_object_get(list, "jobs");
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    for (size_t i = 0; i < r->njobs; i++) {
        struct ci_job *j = &r->jobs[i];
        for (size_t k = 0; k < j->nsteps; k++) {
            free(j->steps[k].name);
            free(j->steps[k].status);
        }
        free(j->steps);
        free(j->name);
        free(j->status);
    }
    free(r->jobs);
    r->jobs = n ? xcalloc(n, sizeof(*r->jobs)) : NULL;
    r->njobs = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *jj = json_array_get(arr, i);
        if (!json_is_object(jj))
            continue;
        struct ci_job *j = &r->jobs[r->njobs++];
        j->id = json_integer_value(json_object_get(jj, "id"));
        j->name = clean(str(jj, "name") ? str(jj, "name") : "job");
        j->status = word(jj);
        j->state = gh_state_class(str(jj, "status"), str(jj, "conclusion"));
        j->started = time_of(jj, "started_at");
        j->finished = time_of(jj, "completed_at");
        json_t *steps = json_object_get(jj, "steps");
        size_t ns = json_is_array(steps) ? json_array_size(steps) : 0;
        j->steps = ns ? xcalloc(ns, sizeof(*j->steps)) : NULL;
        for (size_t k = 0; k < ns; k++)
            if (json_is_object(json_array_get(steps, k)))
                step_from_json(json_array_get(steps, k), &j->steps[j->nsteps++]);
    }
    r->has_jobs = 1;
}

void gh_apply_pending(json_t *pending, struct ci_run *r)
{
    if (!json_is_array(pending) || r->state != CI_WAITING)
        return;
    size_t i;
    json_t *d;
    json_array_foreach(pending, i, d) {
        json_t *rev = json_object_get(d, "reviewers");
        const char *env = str(json_object_get(d, "environment"), "name");
        if (json_is_array(rev) && json_array_size(rev) > 0) {
            struct buf b;
            buf_init(&b, 0);
            buf_addf(&b, "a review of the deployment to %s", env ? env : "an environment");
            free(r->waiting_for);
            r->waiting_for = clean(b.data);
            buf_release(&b);
            r->state = CI_NEEDS_PERSON;
            return;
        }
        long long timer = json_integer_value(json_object_get(d, "wait_timer"));
        double since = gh_parse_time(str(d, "wait_timer_started_at"));
        if (timer > 0 && since > 0) {
            r->wait_until = (long long)since + timer * 60;
            free(r->waiting_for);
            r->waiting_for = xstrdup("a wait timer");
        }
    }
}
