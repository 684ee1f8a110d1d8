/* github/runwatch: see runwatch.h. */
#include "github/runwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* queued is for the view only: one poll in this many turns (10 s at 2.5 s). */
#define QUEUED_EVERY 4
/* A hostile answer cannot make the summary grow without bound (a page is <= 100). */
#define SUMMARY_MAX 1000

const char *const gh_runwatch_status[GH_RUNWATCH_LISTS] = { "completed", "waiting", "queued" };

static void copy_word(char *out, size_t n, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(out, n, "%s", s ? s : "");
}

static void seen_from_json(json_t *j, struct gh_seen_run *s)
{
    memset(s, 0, sizeof(*s));
    s->id = json_integer_value(json_object_get(j, "id"));
    s->attempt = (int)json_integer_value(json_object_get(j, "run_attempt"));
    copy_word(s->status, sizeof(s->status), j, "status");
    copy_word(s->conclusion, sizeof(s->conclusion), j, "conclusion");
}

static size_t runs_of(json_t *list, json_t **arr)
{
    *arr = json_object_get(list, "workflow_runs");
    size_t n = json_is_array(*arr) ? json_array_size(*arr) : 0;
    return n < SUMMARY_MAX ? n : SUMMARY_MAX;
}

int gh_runwatch_note(struct gh_runwatch *w, const char *path, json_t *list, int changed)
{
    json_t *arr;
    size_t n = runs_of(list, &arr);
    struct gh_seen_run *runs = n ? xcalloc(n, sizeof(*runs)) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (json_is_object(json_array_get(arr, i)))
            seen_from_json(json_array_get(arr, i), &runs[k++]);
    int same = w->path && !strcmp(w->path, path) && w->n == k &&
               (!k || !memcmp(w->runs, runs, k * sizeof(*runs)));
    if (same) {
        /* the answer changed, no run's status did: steps move the runs list */
        w->steps_move |= changed;
        free(runs);
        return 0;
    }
    if (!w->path || strcmp(w->path, path)) {
        free(w->path);
        w->path = xstrdup(path);
        w->turns = 0;
        w->steps_move = 0;
    }
    free(w->runs);
    w->runs = runs;
    w->n = k;
    w->gen++;
    return 1;
}

int gh_runwatch_by_status(const struct gh_runwatch *w, const char *path)
{
    if (!w->path || strcmp(w->path, path) || !w->steps_move || w->unfiltered)
        return 0;
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->runs[i].status, "in_progress"))
            return 1;
    return 0;
}

size_t gh_runwatch_turn(struct gh_runwatch *w, size_t *out)
{
    size_t n = 0;
    out[n++] = 0; /* completed */
    out[n++] = 1; /* waiting */
    if (w->turns % QUEUED_EVERY == 0)
        out[n++] = 2; /* queued */
    w->turns++;
    return n;
}

static const struct gh_seen_run *find(const struct gh_runwatch *w, long long id)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->runs[i].id == id)
            return &w->runs[i];
    return NULL;
}

/* The filter's rule: a run is on the list of `status` when its status or
 * its conclusion is that word. */
static int listed(const struct gh_seen_run *s, const char *status)
{
    return !strcmp(s->status, status) || !strcmp(s->conclusion, status);
}

static int disagrees(struct gh_runwatch *w, const char *status, json_t *list)
{
    json_t *arr;
    size_t n = runs_of(list, &arr), on_list = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(arr, i);
        if (!json_is_object(j))
            continue;
        struct gh_seen_run s;
        seen_from_json(j, &s);
        if (!listed(&s, status))
            w->unfiltered = 1; /* the server ignores the filter: it says nothing */
        const struct gh_seen_run *k = find(w, s.id);
        if (!k || k->attempt != s.attempt || strcmp(k->status, s.status) ||
            strcmp(k->conclusion, s.conclusion))
            return 1;
        on_list++;
    }
    size_t want = 0;
    for (size_t i = 0; i < w->n; i++)
        want += listed(&w->runs[i], status);
    return want != on_list; /* every listed run was found above: a count tells a missing one */
}

int gh_runwatch_news(struct gh_runwatch *w, size_t slot, json_t *list, int changed)
{
    if (slot >= GH_RUNWATCH_LISTS)
        return 1;
    if (!changed && w->checked[slot] == w->gen + 1)
        return 0;
    w->checked[slot] = w->gen + 1;
    return disagrees(w, gh_runwatch_status[slot], list);
}

void gh_runwatch_release(struct gh_runwatch *w)
{
    free(w->path);
    free(w->runs);
    memset(w, 0, sizeof(*w));
}
