/* steps: see steps.h. */
#include "woodpecker/steps.h"

#include <stdlib.h>
#include <string.h>

void wp_step_list_release(struct wp_step_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void add(struct wp_step_list *l, size_t wf, size_t step)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 8;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    l->v[l->n].wf = wf;
    l->v[l->n].step = step;
    l->n++;
}

/* Whether `name` is exactly "wf/step". */
static int is_qualified(const char *name, const char *wf, const char *step)
{
    size_t n = strlen(wf);
    return !strncmp(name, wf, n) && name[n] == '/' && !strcmp(name + n + 1, step);
}

size_t wp_steps_named(const struct wp_pipeline *p, const char *name, struct wp_step_list *out)
{
    size_t before = out->n;
    for (size_t i = 0; i < p->nworkflows; i++) {
        const struct wp_workflow *w = &p->workflows[i];
        for (size_t k = 0; k < w->nsteps; k++) {
            const char *step = w->steps[k].name;
            if (!strcmp(name, step) || is_qualified(name, w->name, step))
                add(out, i, k);
        }
    }
    return out->n - before;
}

static int failing(const struct wp_workflow *w, const struct wp_step *st)
{
    if (!wp_status_failed(w->state) || !wp_status_failed(st->state))
        return 0;
    return strcmp(st->state, "canceled") && strcmp(st->state, "declined");
}

size_t wp_steps_default(const struct wp_pipeline *p, struct wp_step_list *out)
{
    size_t before = out->n;
    if (wp_status_failed(p->status))
        for (size_t i = 0; i < p->nworkflows; i++)
            for (size_t k = 0; k < p->workflows[i].nsteps; k++)
                if (failing(&p->workflows[i], &p->workflows[i].steps[k]))
                    add(out, i, k);
    if (out->n == before)
        for (size_t i = 0; i < p->nworkflows; i++)
            for (size_t k = 0; k < p->workflows[i].nsteps; k++)
                add(out, i, k);
    return out->n - before;
}

void wp_steps_describe(const struct wp_pipeline *p, const struct wp_step_list *l,
                       struct buf *out)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct wp_workflow *w = &p->workflows[l->v[i].wf];
        buf_addf(out, "%s%s/%s", i ? ", " : "", w->name, w->steps[l->v[i].step].name);
    }
}

void wp_steps_describe_all(const struct wp_pipeline *p, struct buf *out)
{
    struct wp_step_list all = WP_STEP_LIST_INIT;
    for (size_t i = 0; i < p->nworkflows; i++)
        for (size_t k = 0; k < p->workflows[i].nsteps; k++)
            add(&all, i, k);
    wp_steps_describe(p, &all, out);
    wp_step_list_release(&all);
}

int wp_step_waiting(const struct wp_step *st)
{
    return !st->started && (!strcmp(st->state, "pending") || !strcmp(st->state, "blocked") ||
                            !strcmp(st->state, "created"));
}

int wp_step_ran(const struct wp_step *st)
{
    static const char *const never[] = { "pending", "blocked", "created", "skipped",
                                         "canceled", "declined", NULL };
    if (st->started)
        return 1;
    for (size_t i = 0; never[i]; i++)
        if (!strcmp(st->state, never[i]))
            return 0;
    return 1;
}
