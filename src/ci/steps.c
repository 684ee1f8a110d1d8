/* ci/steps: see steps.h. */
#include "ci/steps.h"

#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

void ci_step_list_release(struct ci_step_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void add(struct ci_step_list *l, size_t job, size_t step)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 8;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    l->v[l->n].job = job;
    l->v[l->n].step = step;
    l->n++;
}

static const char *name_of(const char *s)
{
    return s ? s : "";
}

/* Whether `name` is exactly "job/step". */
static int is_qualified(const char *name, const char *job, const char *step)
{
    size_t n = strlen(job);
    return !strncmp(name, job, n) && name[n] == '/' && !strcmp(name + n + 1, step);
}

size_t ci_steps_named(const struct ci_run *r, const char *name, struct ci_step_list *out)
{
    size_t before = out->n;
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        for (size_t k = 0; k < j->nsteps; k++) {
            const char *step = name_of(j->steps[k].name);
            if (!strcmp(name, step) || is_qualified(name, name_of(j->name), step))
                add(out, i, k);
        }
    }
    return out->n - before;
}

size_t ci_steps_default(const struct ci_run *r, struct ci_step_list *out)
{
    size_t before = out->n;
    if (ci_state_failed(r->state))
        for (size_t i = 0; i < r->njobs; i++)
            for (size_t k = 0; k < r->jobs[i].nsteps; k++)
                if (ci_state_failed(r->jobs[i].state) &&
                    r->jobs[i].steps[k].state == CI_FAILURE)
                    add(out, i, k);
    if (out->n == before)
        for (size_t i = 0; i < r->njobs; i++)
            for (size_t k = 0; k < r->jobs[i].nsteps; k++)
                add(out, i, k);
    return out->n - before;
}

void ci_steps_describe(const struct ci_run *r, const struct ci_step_list *l, struct buf *out)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct ci_job *j = &r->jobs[l->v[i].job];
        buf_addf(out, "%s%s/%s", i ? ", " : "", name_of(j->name),
                 name_of(j->steps[l->v[i].step].name));
    }
}

void ci_steps_describe_all(const struct ci_run *r, struct buf *out)
{
    struct ci_step_list all = CI_STEP_LIST_INIT;
    for (size_t i = 0; i < r->njobs; i++)
        for (size_t k = 0; k < r->jobs[i].nsteps; k++)
            add(&all, i, k);
    ci_steps_describe(r, &all, out);
    ci_step_list_release(&all);
}

int ci_step_find(const struct ci_run *r, const char *job, const char *step, size_t *ji,
                 size_t *si)
{
    for (size_t i = 0; i < r->njobs; i++) {
        if (strcmp(name_of(r->jobs[i].name), job))
            continue;
        for (size_t k = 0; k < r->jobs[i].nsteps; k++)
            if (!strcmp(name_of(r->jobs[i].steps[k].name), step)) {
                *ji = i;
                *si = k;
                return 0;
            }
    }
    return -1;
}

static int not_started_state(enum ci_state s)
{
    return s == CI_PENDING || s == CI_WAITING || s == CI_NEEDS_PERSON;
}

int ci_step_waiting(const struct ci_step *st)
{
    return !st->started && not_started_state(st->state);
}

int ci_step_ran(const struct ci_step *st)
{
    return st->started ||
           !(not_started_state(st->state) || st->state == CI_SKIPPED ||
             st->state == CI_CANCELLED);
}

/* ---- which logs `ci logs` prints ---- */

void ci_log_choice_init(struct ci_log_choice *c)
{
    memset(c, 0, sizeof(*c));
    buf_init(&c->before, 0);
}

void ci_log_choice_release(struct ci_log_choice *c)
{
    free(c->v);
    buf_release(&c->before);
    memset(c, 0, sizeof(*c));
}

/* Appends a pick once (a name can match the same log by two splits). */
static void add_pick(struct ci_log_choice *c, size_t run, size_t job, long step)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].run == run && c->v[i].job == job && c->v[i].step == step)
            return;
    if (c->n == c->alloc) {
        c->alloc = c->alloc ? 2 * c->alloc : 8;
        c->v = xrealloc(c->v, c->alloc * sizeof(*c->v));
    }
    c->v[c->n++] = (struct ci_log_pick){ run, job, step };
}

static void add_steps(struct ci_log_choice *c, const struct ci_step_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        add_pick(c, 0, l->v[i].job, (long)l->v[i].step);
}

/* --job WORKFLOW without --step: every step of the workflows so named. */
static size_t steps_of_job(const struct ci_run *r, const char *job, struct ci_step_list *out)
{
    size_t before = out->n;
    for (size_t i = 0; i < r->njobs; i++)
        if (!strcmp(name_of(r->jobs[i].name), job))
            for (size_t k = 0; k < r->jobs[i].nsteps; k++)
                add(out, i, k);
    return out->n - before;
}

/* A named step (or workflow) that matched no step, or several. */
static int steps_name_error(const struct ci_run *r, const char *name, int workflow,
                            const struct ci_step_list *l, const char *all, struct err *e)
{
    if (l->n == 0) {
        err_set(e, EXIT_USAGE, "no %s '%s' in pipeline #%lld", workflow ? "workflow" : "step",
                name, r->number);
        err_hint(e, "its steps: %s", all);
        return -1;
    }
    struct buf which;
    buf_init(&which, 0);
    ci_steps_describe(r, l, &which);
    err_set(e, EXIT_USAGE, "step '%s' is ambiguous in pipeline #%lld: %s", name, r->number,
            which.data);
    err_hint(e, "name one as WORKFLOW/STEP, e.g. --step '%s/%s'", name_of(r->jobs[l->v[0].job].name),
             name_of(r->jobs[l->v[0].job].steps[l->v[0].step].name));
    buf_release(&which);
    return -1;
}

int ci_logs_choose_steps(const struct ci_runset *s, const struct ci_log_query *q,
                         struct ci_log_choice *out, struct err *e)
{
    const struct ci_run *r = &s->runs[0];
    struct ci_step_list l = CI_STEP_LIST_INIT;
    struct buf all, name;
    buf_init(&all, 0);
    buf_init(&name, 0);
    ci_steps_describe_all(r, &all);
    int rc = 0;
    if (!all.len) {
        err_set(e, EXIT_NOT_FOUND, "pipeline #%lld (%s) has no steps", r->number,
                r->status ? r->status : "unknown");
        if (r->error) {
            char why[200];
            ci_first_line(r->error, 180, why, sizeof(why));
            err_hint(e, "error: %s", why);
        }
        rc = -1;
    } else if (q->step || q->job) {
        int workflow = !q->step;
        if (q->job && q->step)
            buf_addf(&name, "%s/%s", q->job, q->step);
        else
            buf_adds(&name, q->step ? q->step : q->job);
        size_t n = workflow ? steps_of_job(r, q->job, &l) : ci_steps_named(r, name.data, &l);
        if (n == 0 || (n > 1 && !workflow))
            rc = steps_name_error(r, name.data, workflow, &l, all.data, e);
    } else {
        ci_steps_default(r, &l);
    }
    if (rc == 0)
        add_steps(out, &l);
    buf_release(&name);
    buf_release(&all);
    ci_step_list_release(&l);
    return rc;
}

/* Every log of jobs named `job` (len bytes; NULL = any) with a step named
 * `step` (NULL = the whole job's). */
static void match_jobs(const struct ci_runset *s, const char *job, size_t len, const char *step,
                       struct ci_log_choice *out)
{
    for (size_t r = 0; r < s->n; r++)
        for (size_t j = 0; j < s->runs[r].njobs; j++) {
            const struct ci_job *jb = &s->runs[r].jobs[j];
            const char *jn = name_of(jb->name);
            if (job && (strlen(jn) != len || strncmp(jn, job, len)))
                continue;
            if (!step) {
                add_pick(out, r, j, -1);
                continue;
            }
            for (size_t k = 0; k < jb->nsteps; k++)
                if (!strcmp(name_of(jb->steps[k].name), step))
                    add_pick(out, r, j, (long)k);
        }
}

/* No name: the failing step of each failed run, else every job. */
static void default_jobs(const struct ci_runset *s, struct ci_log_choice *out)
{
    for (size_t r = 0; r < s->n; r++) {
        const struct ci_job *j = ci_run_failed_job(&s->runs[r]);
        const struct ci_step *st = j ? ci_job_failed_step(j) : NULL;
        if (j)
            add_pick(out, r, (size_t)(j - s->runs[r].jobs), st ? (long)(st - j->steps) : -1);
    }
    if (!out->n)
        match_jobs(s, NULL, 0, NULL, out);
}

/* Appends `s` with its control characters escaped. */
static void add_escaped(struct buf *out, const char *s)
{
    sanitize_append(out, s, strlen(s), 0);
}

/* The candidates of an ambiguous name, as the flags that name each. */
static void describe_jobs(const struct ci_runset *s, const struct ci_log_choice *c,
                          const char *what, struct buf *out)
{
    buf_adds(out, "'");
    add_escaped(out, what);
    buf_addf(out, "' names %zu steps or jobs:\n", c->n);
    for (size_t i = 0; i < c->n; i++) {
        const struct ci_job *j = &s->runs[c->v[i].run].jobs[c->v[i].job];
        buf_adds(out, "  --job '");
        add_escaped(out, name_of(j->name));
        buf_adds(out, "'");
        if (c->v[i].step >= 0) {
            buf_adds(out, " --step '");
            add_escaped(out, name_of(j->steps[c->v[i].step].name));
            buf_adds(out, "'");
        }
        buf_adds(out, "\n");
    }
}

int ci_logs_choose_jobs(const struct ci_runset *s, const struct ci_log_query *q,
                        struct ci_log_choice *out, struct err *e)
{
    const char *what = q->step ? q->step : q->job;
    if (!what) {
        default_jobs(s, out);
        if (!out->n)
            return err_set(e, EXIT_NOT_FOUND, "the runs of this commit have no jobs, so there "
                           "are no logs");
        return 0;
    }
    if (q->job || !q->step) {
        match_jobs(s, q->job, q->job ? strlen(q->job) : 0, q->step, out);
    } else {
        match_jobs(s, NULL, 0, q->step, out);
        for (const char *sl = strchr(q->step, '/'); sl; sl = strchr(sl + 1, '/'))
            match_jobs(s, q->step, (size_t)(sl - q->step), sl + 1, out);
    }
    if (out->n == 1)
        return 0;
    if (out->n == 0)
        return err_set(e, EXIT_NOT_FOUND, "no job or step named '%s' in the runs of this commit",
                       what);
    describe_jobs(s, out, what, &out->before);
    out->n = 0;
    return err_set(e, EXIT_USAGE, "'%s' is ambiguous; name the job with --job", what);
}
