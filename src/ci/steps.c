/* ci/steps: see steps.h. */
#include "ci/steps.h"

#include <stdlib.h>
#include <string.h>

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
