/* ghruns: see ghruns.h. */
#include "ship/ghruns.h"

#include <string.h>

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

/* Whether run i is the newest of its workflow (and event) among the kept ones. */
static int newest_of_workflow(json_t *runs, size_t i, const char *event)
{
    json_t *r = json_array_get(runs, i);
    json_int_t wf = json_integer_value(json_object_get(r, "workflow_id"));
    json_int_t id = json_integer_value(json_object_get(r, "id"));
    size_t k;
    json_t *o;
    json_array_foreach(runs, k, o) {
        if (k == i || (event && strcmp(str(o, "event"), event)))
            continue;
        if (json_integer_value(json_object_get(o, "workflow_id")) == wf &&
            !strcmp(str(o, "event"), str(r, "event")) &&
            json_integer_value(json_object_get(o, "id")) > id)
            return 0;
    }
    return 1;
}

void gh_runs_classify(json_t *runs, const char *event, int reviewers_waiting,
                      struct gh_summary *out)
{
    static const char *const fail[] = { "failure", "timed_out", "startup_failure", "cancelled",
                                        NULL };
    static const char *const pass[] = { "success", "neutral", "skipped", NULL };
    memset(out, 0, sizeof(*out));
    int failed = 0, person = 0, pending = 0;
    long long newest = 0;
    size_t i;
    json_t *r;
    json_array_foreach(runs, i, r) {
        if ((event && strcmp(str(r, "event"), event)) || !newest_of_workflow(runs, i, event))
            continue;
        long long id = json_integer_value(json_object_get(r, "id"));
        out->runs++;
        newest = id > newest ? id : newest;
        const char *status = str(r, "status"), *concl = str(r, "conclusion");
        if (!strcmp(status, "completed") && one_of(concl, fail)) {
            if (!failed++)
                out->decisive_id = id;
        } else if (!strcmp(status, "completed") && !strcmp(concl, "action_required")) {
            if (!person++ && !failed)
                out->decisive_id = id;
        } else if (!strcmp(status, "waiting")) {
            out->waiting_id = id;
            if (reviewers_waiting && !person++ && !failed)
                out->decisive_id = id;
            else
                pending++;
        } else if (strcmp(status, "completed") || !one_of(concl, pass)) {
            pending++;
        }
    }
    if (!failed && !person)
        out->decisive_id = newest;
    out->verdict = failed ? GH_FAILED : person ? GH_NEEDS_PERSON : pending ? GH_PENDING
                   : out->runs ? GH_PASSED : GH_NONE;
}

json_t *gh_runs_find(json_t *runs, long long id)
{
    size_t i;
    json_t *r;
    json_array_foreach(runs, i, r)
        if (json_integer_value(json_object_get(r, "id")) == id)
            return r;
    return NULL;
}
