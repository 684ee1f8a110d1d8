#include "woodpecker/write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/http.h"

#define SCAN_PER_PAGE 50       /* pipelines read back when looking for a new one */
#define SERVER_TEXT_MAX 200    /* bytes of a server's error text shown */
#define RECHECK_PAUSE 0.3      /* seconds before reading back a lost write */

const char *wp_action_name(enum wp_action a)
{
    static const char *const names[] = { "restart", "approve", "decline", "cancel", "run" };
    return names[a];
}

void wp_write_request(long long repo_id, const struct wp_write *w, struct buf *path,
                      struct buf *body)
{
    static const char *const suffix[] = { "", "/approve", "/decline", "/cancel", "" };
    if (w->action != WP_CREATE) {
        buf_addf(path, "/api/repos/%lld/pipelines/%lld%s", repo_id, w->number,
                 suffix[w->action]);
        return;
    }
    buf_addf(path, "/api/repos/%lld/pipelines", repo_id);
    json_t *j = json_object();
    json_object_set_new(j, "branch", json_string(w->branch ? w->branch : ""));
    json_object_set_new(j, "variables", w->variables ? json_deep_copy(w->variables)
                                                      : json_object());
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    buf_adds(body, text ? text : "{}");
    free(text);
    json_decref(j);
}

int wp_can_push(struct wp_client *c, long long repo_id, struct err *e)
{
    char path[80];
    snprintf(path, sizeof(path), "/api/repos/%lld/permissions", repo_id);
    json_t *j = NULL;
    long status = 0;
    if (http_get_json(&c->http, path, &j, &status, e) < 0)
        return -1;
    int push = -1;
    json_t *v = json_object_get(j, "push");
    if (json_is_boolean(v))
        push = json_is_true(v);
    json_decref(j);
    return push;
}

/* A server's error text, cut short, with anything unprintable replaced. */
static void server_text(const struct http_response *r, char *out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < r->body.len && k + 1 < n && i < SERVER_TEXT_MAX; i++) {
        char ch = r->body.data[i];
        if (ch < 0x20 || ch == 0x7f) /* bytes >= 0x80 are negative here too */
            ch = '?';
        out[k++] = ch;
    }
    out[k] = '\0';
}

static void set_status(struct wp_write *w, const char *status)
{
    snprintf(w->status, sizeof(w->status), "%s", status ? status : "");
}

/* The newest pipeline number, so that a new pipeline can be told from the
 * ones that were there before the write. */
static int newest_number(struct wp_client *c, long long repo_id, long long *n, struct err *e)
{
    json_t *items = NULL;
    if (wp_list_pipelines(c, repo_id, NULL, 1, 1, &items, e) < 0)
        return -1;
    *n = json_integer_value(json_object_get(json_array_get(items, 0), "number"));
    json_decref(items);
    return 0;
}

static int same_variables(const json_t *want, const json_t *got)
{
    size_t nw = json_is_object(want) ? json_object_size(want) : 0;
    size_t ng = json_is_object(got) ? json_object_size(got) : 0;
    if (nw == 0 || ng == 0)
        return nw == ng;
    return json_equal((json_t *)want, (json_t *)got);
}

/* Is `it` (a list item newer than the baseline) the pipeline `w` made? */
static int made_by(const struct wp_write *w, json_t *it)
{
    if (w->action == WP_RESTART)
        return json_integer_value(json_object_get(it, "parent")) == w->number;
    const char *event = json_string_value(json_object_get(it, "event"));
    const char *branch = json_string_value(json_object_get(it, "branch"));
    return event && !strcmp(event, "manual") && branch && w->branch &&
           !strcmp(branch, w->branch) &&
           same_variables(w->variables, json_object_get(it, "variables"));
}

/* Looks for the pipeline a restart or create made: the oldest match newer
 * than `baseline`. 1 found (w filled), 0 none, -1 error. */
static int find_made(struct wp_client *c, long long repo_id, long long baseline,
                     struct wp_write *w, struct err *e)
{
    json_t *items = NULL;
    if (wp_list_pipelines(c, repo_id, NULL, 1, SCAN_PER_PAGE, &items, e) < 0)
        return -1;
    long long found = 0;
    const char *status = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        long long num = json_integer_value(json_object_get(it, "number"));
        if (num > baseline && made_by(w, it) && (!found || num < found)) {
            found = num;
            status = json_string_value(json_object_get(it, "status"));
        }
    }
    if (found) {
        w->result_number = found;
        set_status(w, status);
    }
    json_decref(items);
    return found ? 1 : 0;
}

static int read_status(struct wp_client *c, long long repo_id, struct wp_write *w,
                       struct err *e)
{
    struct wp_pipeline p;
    if (wp_get_pipeline(c, repo_id, w->number, &p, e) < 0)
        return -1;
    set_status(w, p.status);
    wp_pipeline_release(&p);
    return 0;
}

/*
 * What the pipeline's status (w->status) says about an approve, decline or
 * cancel: 1 it took effect, 0 the pipeline is as it was (sending again is
 * safe), 2 it moved on by itself (the write can no longer apply).
 */
static int state_effect(const struct wp_write *w)
{
    const char *s = w->status;
    int blocked = !strcmp(s, "blocked");
    int active = blocked || !strcmp(s, "running") || !strcmp(s, "pending");
    switch (w->action) {
    case WP_APPROVE:
        return blocked ? 0 : !strcmp(s, "declined") ? 2 : 1;
    case WP_DECLINE:
        return blocked ? 0 : !strcmp(s, "declined") ? 1 : 2;
    case WP_CANCEL:
        return active ? 0 : (!strcmp(s, "killed") || !strcmp(s, "canceled")) ? 1 : 2;
    default:
        return 0;
    }
}

/* After a lost answer: did the write take effect? As state_effect(), or
 * for restart/create 1 or 0 (found the new pipeline or not); -1 error. */
static int took_effect(struct wp_client *c, long long repo_id, long long baseline,
                       struct wp_write *w, struct err *e)
{
    if (w->action == WP_RESTART || w->action == WP_CREATE)
        return find_made(c, repo_id, baseline, w, e);
    if (read_status(c, repo_id, w, e) < 0)
        return -1;
    return state_effect(w);
}

/* The write cannot apply to the pipeline in its current state (w->status). */
static int refused_by_state(const struct wp_write *w, struct err *e)
{
    switch (w->action) {
    case WP_APPROVE:
    case WP_DECLINE:
        err_set(e, EXIT_FAILED, "pipeline #%lld is not waiting for approval (status: %s)",
                w->number, w->status);
        break;
    case WP_CANCEL:
        err_set(e, EXIT_FAILED, "pipeline #%lld already finished: %s", w->number, w->status);
        break;
    default:
        err_set(e, EXIT_FAILED, "pipeline #%lld is blocked awaiting approval: approve it "
                "instead", w->number);
        err_hint(e, "homelab ci approve '#%lld'", w->number);
        break;
    }
    return -1;
}

/* A 200 with the pipeline, or a 204. */
static int answered_ok(struct wp_client *c, long long repo_id, long long baseline,
                       struct wp_write *w, const struct http_response *r, struct err *e)
{
    if (r->status == 204) {
        if (w->action == WP_CANCEL)
            return read_status(c, repo_id, w, e);
        if (w->action != WP_CREATE)
            return 0;
        if (r->ncapture && !strcasecmp(r->capture[0].value, "true")) {
            w->filtered = 1;
            return 0;
        }
        /* 204 without Pipeline-Filtered: the config could not be fetched;
         * Woodpecker keeps an `error` pipeline (reference, section 20) */
        if (find_made(c, repo_id, baseline, w, e) == 1)
            return 0;
        return err_set(e, EXIT_FAILED, "the server could not fetch the pipeline config for "
                       "branch '%s' and created no pipeline", w->branch);
    }
    json_error_t jerr;
    json_t *j = http_is_json_type(r->content_type) ?
        json_loadb(r->body.data, r->body.len, 0, &jerr) : NULL;
    struct wp_pipeline p;
    if (!j || wp_pipeline_from_json(j, &p) < 0) {
        json_decref(j);
        return err_set(e, EXIT_UNAVAILABLE, "%s answered the %s with no pipeline: this "
                       "server may not support it", c->server, wp_action_name(w->action));
    }
    json_decref(j);
    w->result_number = p.number;
    set_status(w, p.status);
    wp_pipeline_release(&p);
    return 0;
}

static int not_found(struct wp_client *c, long long repo_id, const char *repo_name,
                     const struct wp_write *w, struct err *e)
{
    struct err pe;
    err_clear(&pe);
    if (wp_can_push(c, repo_id, &pe) == 0) {
        err_set(e, EXIT_REFUSED, "the token from %s has no push permission on %s, which "
                "%s needs (Woodpecker answers 404)", c->token_source, repo_name,
                wp_action_name(w->action));
        err_hint(e, "ask for write access to %s on the forge; Woodpecker syncs it within "
                    "an hour", repo_name);
        return -1;
    }
    if (w->action == WP_CREATE)
        return err_set(e, EXIT_NOT_FOUND, "repo %s not found", repo_name);
    return err_set(e, EXIT_NOT_FOUND, "pipeline #%lld does not exist in %s", w->number,
                   repo_name);
}

/* Any answer but 2xx, 5xx and 429. */
static int answered_no(struct wp_client *c, long long repo_id, const char *repo_name,
                       struct wp_write *w, const struct http_response *r, struct err *e)
{
    char text[SERVER_TEXT_MAX + 1];
    server_text(r, text, sizeof(text));
    if (r->status == 404)
        return not_found(c, repo_id, repo_name, w, e);
    if (r->status == 401 || r->status == 403) {
        json_t *u = NULL;
        if (wp_get_json(c, "/api/user", &u, e) < 0 && e->code == EXIT_REFUSED)
            return -1;
        json_decref(u);
        return err_set(e, EXIT_REFUSED, "%s refused the %s (HTTP %ld)%s%s", c->server,
                       wp_action_name(w->action), r->status, text[0] ? ": " : "", text);
    }
    if (r->status == 400 && w->action != WP_CREATE) {
        /* the state changed since we looked: say how it is now */
        if (read_status(c, repo_id, w, e) < 0)
            return -1;
        if (w->action == WP_RESTART) {
            if (!strcmp(w->status, "blocked"))
                return refused_by_state(w, e);
        } else {
            int te = state_effect(w);
            if (te == 1 && w->sends > 1) {
                w->recovered = 1; /* the first send did it after all */
                return 0;
            }
            if (te != 0)
                return refused_by_state(w, e);
        }
    }
    return err_set(e, EXIT_FAILED, "%s refused the %s (HTTP %ld)%s%s", c->server,
                   wp_action_name(w->action), r->status, text[0] ? ": " : "", text);
}

/* One send and what it means: 0 done, -1 error, 1 no answer (lost). */
static int send_once(struct wp_client *c, long long repo_id, const char *repo_name,
                     long long baseline, struct wp_write *w, const char *path,
                     const char *body, char *lost, size_t lostlen, struct err *e)
{
    struct http_response r;
    http_response_init(&r, c->http.body_cap);
    char filtered[16] = "";
    struct http_capture cap = {"Pipeline-Filtered", filtered, sizeof filtered};
    r.capture = &cap;
    r.ncapture = 1;
    struct err se;
    err_clear(&se);
    w->sends++;
    int rc = http_post(&c->http, path, body[0] ? body : NULL, &r, &se);
    int ret;
    if (rc < 0 && (se.code == EXIT_REFUSED || se.kind == ERR_TOO_LARGE)) {
        *e = se; /* TLS refused: nothing was sent */
        ret = -1;
    } else if (rc < 0) {
        snprintf(lost, lostlen, "%s", se.msg);
        ret = 1;
    } else if (r.status == 429 || r.status >= 500) {
        snprintf(lost, lostlen, "HTTP %ld", r.status);
        ret = 1;
    } else if (r.status >= 200 && r.status < 300) {
        ret = answered_ok(c, repo_id, baseline, w, &r, e);
    } else {
        ret = answered_no(c, repo_id, repo_name, w, &r, e);
    }
    http_response_release(&r);
    return ret;
}

int wp_write_send(struct wp_client *c, long long repo_id, const char *repo_name,
                  struct wp_write *w, struct err *e)
{
    long long baseline = 0;
    w->result_number = w->number;
    w->filtered = w->recovered = w->sends = 0;
    w->status[0] = '\0';
    if ((w->action == WP_RESTART || w->action == WP_CREATE) &&
        newest_number(c, repo_id, &baseline, e) < 0)
        return -1;
    struct buf path, body;
    buf_init(&path, 0);
    buf_init(&body, 0);
    wp_write_request(repo_id, w, &path, &body);
    int ret;
    for (;;) {
        char lost[1100] = "";
        ret = send_once(c, repo_id, repo_name, baseline, w, path.data, body.data, lost,
                        sizeof(lost), e);
        if (ret <= 0)
            break;
        /* no answer, or one a proxy may have put in place of it */
        clock_sleep(RECHECK_PAUSE);
        int te = took_effect(c, repo_id, baseline, w, e);
        if (te < 0) {
            err_wrap(e, "the answer to the %s was lost (%s), and reading the state back "
                     "failed", wp_action_name(w->action), lost);
            break;
        }
        if (te == 1) {
            w->recovered = 1;
            ret = 0;
            break;
        }
        if (te == 2) {
            ret = refused_by_state(w, e);
            break;
        }
        if (w->sends >= 2) {
            ret = err_set(e, EXIT_UNAVAILABLE, "the %s was sent twice, got no usable answer "
                          "(last: %s) and has not taken effect", wp_action_name(w->action),
                          lost);
            if (w->action == WP_CREATE && !strncmp(lost, "HTTP 500", 8))
                err_hint(e, "does branch '%s' exist? Woodpecker answers 500 when it cannot "
                         "read the branch from the forge", w->branch);
            break;
        }
        if (c->http.verbose)
            fprintf(stderr, "homelab: the %s got no answer (%s) and has not taken effect; "
                    "sending it once more\n", wp_action_name(w->action), lost);
    }
    buf_release(&path);
    buf_release(&body);
    return ret < 0 ? -1 : 0;
}
