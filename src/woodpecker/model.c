#include "woodpecker/model.h"

#include "ci/model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

/*
 * Strings from the server end up on terminals (names, branches, errors), so
 * control characters are replaced here, once, where they enter: C0 (but tab,
 * and newline where `multiline`), DEL, and C1 as UTF-8 (U+0080-U+009F).
 * jansson has already rejected invalid UTF-8.
 */
static char *clean_string(const char *s, int multiline)
{
    size_t n = strlen(s);
    char *out = xmalloc(n + 1), *w = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f) {
            *w++ = '?';
            i++;
        } else if ((ch < 0x20 && ch != '\t' && !(multiline && ch == '\n')) || ch == 0x7f) {
            *w++ = '?';
        } else {
            *w++ = (char)ch;
        }
    }
    *w = '\0';
    return out;
}

static char *str_field(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return clean_string(s ? s : "", 0);
}

static char *text_field(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return clean_string(s ? s : "", 1);
}

static long long int_field(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Unix seconds beyond any real timestamp (year 36812): see time_field(). */
#define WP_TIME_MAX (1LL << 40)

/*
 * v3 names the time keys one way, v2 another; take whichever is there.
 * Times outside 0..WP_TIME_MAX read as 0 (unknown): callers subtract them
 * from the clock and from each other, and a hostile -2^63 made that
 * subtraction overflow (undefined behaviour, found by tests/fuzz/fuzz_model).
 */
static long long time_field(json_t *j, const char *v3, const char *v2)
{
    long long t = int_field(j, v3);
    if (!t)
        t = int_field(j, v2);
    return t > 0 && t <= WP_TIME_MAX ? t : 0;
}

static void step_from_json(json_t *j, struct wp_step *s)
{
    s->id = int_field(j, "id");
    s->pid = (int)int_field(j, "pid");
    s->ppid = (int)int_field(j, "ppid");
    s->name = str_field(j, "name");
    s->state = str_field(j, "state");
    s->error = text_field(j, "error");
    s->type = str_field(j, "type");
    s->exit_code = (int)int_field(j, "exit_code");
    s->started = time_field(j, "started", "start_time");
    s->finished = time_field(j, "finished", "end_time");
}

static void workflow_from_json(json_t *j, struct wp_workflow *w)
{
    w->id = int_field(j, "id");
    w->pid = (int)int_field(j, "pid");
    w->name = str_field(j, "name");
    w->state = str_field(j, "state");
    w->error = str_field(j, "error");
    w->started = time_field(j, "started", "start_time");
    w->finished = time_field(j, "finished", "end_time");
    json_t *children = json_object_get(j, "children");
    size_t n = json_is_array(children) ? json_array_size(children) : 0;
    w->steps = xcalloc(n, sizeof(*w->steps));
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(children, i);
        if (json_is_object(c))
            step_from_json(c, &w->steps[w->nsteps++]);
    }
}

static char *first_error(json_t *errors)
{
    json_t *e0 = json_is_array(errors) ? json_array_get(errors, 0) : NULL;
    const char *m = json_string_value(json_object_get(e0, "message"));
    return m ? clean_string(m, 0) : NULL;
}

/* The variables whose values are strings (the others name no image). */
static void vars_from_json(json_t *vars, struct wp_pipeline *p)
{
    if (!json_is_object(vars) || !json_object_size(vars))
        return;
    p->vars = xcalloc(json_object_size(vars), sizeof(*p->vars));
    const char *k;
    json_t *v;
    json_object_foreach(vars, k, v) {
        if (!json_is_string(v))
            continue;
        p->vars[p->nvars].name = xstrdup(k);
        p->vars[p->nvars].value = xstrdup(json_string_value(v));
        p->nvars++;
    }
}

int wp_pipeline_from_json(json_t *j, struct wp_pipeline *p)
{
    memset(p, 0, sizeof(*p));
    if (!json_is_object(j))
        return -1;
    p->id = int_field(j, "id");
    p->number = int_field(j, "number");
    p->parent = int_field(j, "parent");
    p->status = str_field(j, "status");
    p->event = str_field(j, "event");
    p->branch = str_field(j, "branch");
    p->commit = str_field(j, "commit");
    p->message = text_field(j, "message");
    p->author = str_field(j, "author");
    p->ref = str_field(j, "ref");
    p->forge_url = str_field(j, "forge_url");
    p->created = time_field(j, "created", "created_at");
    p->started = time_field(j, "started", "started_at");
    p->finished = time_field(j, "finished", "finished_at");
    p->errors = first_error(json_object_get(j, "errors"));
    vars_from_json(json_object_get(j, "variables"), p);
    json_t *wfs = json_object_get(j, "workflows");
    p->has_workflows = json_is_array(wfs);
    size_t n = p->has_workflows ? json_array_size(wfs) : 0;
    p->workflows = xcalloc(n, sizeof(*p->workflows));
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(wfs, i);
        if (json_is_object(w))
            workflow_from_json(w, &p->workflows[p->nworkflows++]);
    }
    return p->number > 0 ? 0 : -1;
}

static void step_release(struct wp_step *s)
{
    free(s->name);
    free(s->state);
    free(s->error);
    free(s->type);
}

void wp_pipeline_release(struct wp_pipeline *p)
{
    for (size_t i = 0; i < p->nworkflows; i++) {
        struct wp_workflow *w = &p->workflows[i];
        for (size_t k = 0; k < w->nsteps; k++)
            step_release(&w->steps[k]);
        free(w->steps);
        free(w->name);
        free(w->state);
        free(w->error);
    }
    free(p->workflows);
    free(p->status);
    free(p->event);
    free(p->branch);
    free(p->commit);
    free(p->message);
    free(p->author);
    free(p->ref);
    free(p->forge_url);
    free(p->errors);
    for (size_t i = 0; i < p->nvars; i++) {
        free(p->vars[i].name);
        free(p->vars[i].value);
    }
    free(p->vars);
    memset(p, 0, sizeof(*p));
}

int wp_repo_from_json(json_t *j, struct wp_repo *r)
{
    memset(r, 0, sizeof(*r));
    if (!json_is_object(j))
        return -1;
    r->id = int_field(j, "id");
    r->full_name = str_field(j, "full_name");
    r->default_branch = str_field(j, "default_branch");
    r->active = json_is_true(json_object_get(j, "active"));
    return r->id > 0 ? 0 : -1;
}

void wp_repo_release(struct wp_repo *r)
{
    free(r->full_name);
    free(r->default_branch);
    memset(r, 0, sizeof(*r));
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

int wp_status_failed(const char *status)
{
    static const char *const failed[] = { "failure", "error", "killed", "canceled",
                                          "declined", NULL };
    return status && one_of(status, failed);
}

int wp_status_terminal(const char *status)
{
    return status && (!strcmp(status, "success") || !strcmp(status, "skipped") ||
                      wp_status_failed(status));
}

int wp_status_exit_code(const char *status)
{
    if (!status)
        return -1;
    if (!strcmp(status, "success"))
        return 0;
    if (wp_status_failed(status))
        return 1;
    if (!strcmp(status, "blocked"))
        return 4;
    return -1;
}

int wp_commit_matches(const char *commit, const char *want)
{
    size_t n = strlen(want);
    if (n < 7 || !commit || strlen(commit) < n)
        return 0;
    return strncasecmp(commit, want, n) == 0;
}

void wp_format_duration(long long s, char *out, size_t outlen)
{
    ci_format_duration(s, out, outlen);
}

void wp_first_line(const char *msg, size_t max, char *out, size_t outlen)
{
    ci_first_line(msg, max, out, outlen);
}

long long wp_elapsed(long long started, long long finished, long long now)
{
    return ci_elapsed(started, finished, now);
}
