/* github/write: see write.h. */
#include "github/write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/http.h"
#include "core/term.h"
#include "github/provider.h"

#define SERVER_TEXT_MAX 200   /* bytes of GitHub's reason shown */
#define RECHECK_PAUSE 0.3     /* seconds before reading back a lost write */
#define DISPATCH_GRACE 5.0    /* seconds a lost dispatch's run is looked for */
#define DISPATCH_FIND 60.0    /* seconds the run of an answered dispatch is looked for */
#define FIND_PAUSE 1.0

/* One write in progress. */
struct wr {
    struct ci_provider *p;
    struct gh_client *c;
    const struct ci_act_req *req;
    struct ci_act_result *out;
    struct buf path, body;    /* path relative to the API base */
    int details;              /* dispatch: return_run_details is in the body */
    int review;               /* approve/decline through pending_deployments */
    long long baseline;       /* attempt (re-run), approvals (review), newest id (run) */
    char branch[256], envs[160];
};

static void repo_path(struct buf *b, const char *repo)
{
    buf_addf(b, "/repos/");
    http_escape_path(b, repo);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void set_status(struct ci_act_result *out, const char *s)
{
    snprintf(out->status, sizeof(out->status), "%s", s ? s : "");
}

/* GitHub's reason ("message" of the JSON error, else the text), one
 * printable line, cut short. */
static void server_text(const struct http_response *r, char *out, size_t n)
{
    json_error_t je;
    json_t *j = json_loadb(r->body.data, r->body.len, 0, &je);
    const char *m = j ? str(j, "message") : NULL;
    const char *s = m ? m : r->body.data;
    size_t k = 0;
    for (size_t i = 0; s && s[i] && k + 1 < n && i < SERVER_TEXT_MAX; i++) {
        char ch = s[i];
        if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        if (ch < 0x20 || ch == 0x7f) /* bytes >= 0x80 are negative here too */
            ch = '?';
        out[k++] = ch;
    }
    while (k && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    json_decref(j);
}

/* The path of the run acted on, plus `tail`. */
static void run_path(struct wr *w, struct buf *b, const char *tail)
{
    repo_path(b, w->p->repo);
    buf_addf(b, "/actions/runs/%lld%s", w->req->run->id, tail);
}

/* GET of the run's path followed by TAIL, into *j as gh_get() gives it. */
static int get_run(struct wr *w, const char *tail, json_t **j, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    run_path(w, &path, tail);
    int rc = gh_get(w->c, path.data, j, NULL, e);
    buf_release(&path);
    return rc;
}

/* The run's current attempt: status, conclusion and attempt (a fresh read). */
static int read_run(struct wr *w, char *status, size_t n, char *concl, size_t cn, int *attempt,
                    struct err *e)
{
    json_t *j = NULL;
    int rc = get_run(w, "?exclude_pull_requests=true", &j, e);
    if (rc < 0)
        return -1;
    snprintf(status, n, "%s", str(j, "status") ? str(j, "status") : "");
    snprintf(concl, cn, "%s", str(j, "conclusion") ? str(j, "conclusion") : "");
    *attempt = (int)json_integer_value(json_object_get(j, "run_attempt"));
    return 0;
}

/* The word a run is known by now: its conclusion once completed. */
static void run_word(struct wr *w, const char *status, const char *concl)
{
    set_status(w->out, !strcmp(status, "completed") && concl[0] ? concl : status);
}

/* ---- building the request ---- */

/* The environments waiting on the run that this token may review, as a
 * JSON array of ids; their names go to w->envs. */
static int review_ids(struct wr *w, json_t **ids, struct err *e)
{
    json_t *j = NULL;
    int rc = get_run(w, "/pending_deployments", &j, e);
    if (rc < 0)
        return -1;
    *ids = json_array();
    w->envs[0] = '\0';
    size_t i, others = 0;
    json_t *d;
    char denied[128] = "";
    json_array_foreach(j, i, d) {
        json_t *env = json_object_get(d, "environment");
        const char *name = str(env, "name") ? str(env, "name") : "?";
        if (!json_is_true(json_object_get(d, "current_user_can_approve"))) {
            others++;
            snprintf(denied, sizeof(denied), "%s", name);
            continue;
        }
        json_array_append_new(*ids, json_integer(json_integer_value(json_object_get(env, "id"))));
        size_t len = strlen(w->envs);
        snprintf(w->envs + len, sizeof(w->envs) - len, "%s%s", len ? ", " : "", name);
    }
    if (json_array_size(*ids))
        return 0;
    json_decref(*ids);
    *ids = NULL;
    if (others) {
        err_set(e, EXIT_REFUSED, "the token from %s may not review the deployment to %s of "
                "run #%lld: GitHub lets only its required reviewers do that",
                w->c->token_source, denied, w->req->run->id);
        err_hint(e, "ask a reviewer of the environment, or use a token of one");
        return -1;
    }
    return err_set(e, EXIT_FAILED, "run #%lld is not waiting for approval (status: waiting, "
                   "no deployment to review)", w->req->run->id);
}

static int is_action_required(const struct ci_run *r)
{
    return r->status && !strcmp(r->status, "action_required");
}

static int build_review(struct wr *w, int approve, struct err *e)
{
    json_t *ids = NULL;
    if (review_ids(w, &ids, e) < 0)
        return -1;
    w->review = 1;
    run_path(w, &w->path, "/pending_deployments");
    json_t *b = json_pack("{s:o, s:s, s:s}", "environment_ids", ids, "state",
                          approve ? "approved" : "rejected", "comment",
                          approve ? "approved with homelab ci approve"
                                  : "rejected with homelab ci decline");
    char *text = json_dumps(b, JSON_COMPACT);
    buf_adds(&w->body, text ? text : "{}");
    free(text);
    json_decref(b);
    return 0;
}

/* The repository's default branch (GET /repos/R). */
static int default_branch(struct wr *w, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    repo_path(&path, w->p->repo);
    json_t *j = NULL;
    int rc = gh_get(w->c, path.data, &j, NULL, e);
    buf_release(&path);
    if (rc < 0)
        return -1;
    const char *b = str(j, "default_branch");
    if (!b || !*b)
        return err_set(e, EXIT_USAGE, "GitHub reports no default branch for %s: name one with "
                       "--branch", w->p->repo);
    snprintf(w->branch, sizeof(w->branch), "%s", b);
    return 0;
}

/* The workflow as GitHub's path wants it: a file name (a path's last part) or an id. */
static const char *workflow_id(const char *wf)
{
    const char *slash = strrchr(wf, '/');
    return slash ? slash + 1 : wf;
}

static int build_dispatch(struct wr *w, struct err *e)
{
    const struct ci_act_req *q = w->req;
    if (!q->workflow || !*workflow_id(q->workflow))
        return err_set(e, EXIT_USAGE, "GitHub runs a workflow: name it with --workflow FILE|ID");
    if (q->branch)
        snprintf(w->branch, sizeof(w->branch), "%s", q->branch);
    else if (default_branch(w, e) < 0)
        return -1;
    repo_path(&w->path, w->p->repo);
    buf_addf(&w->path, "/actions/workflows/");
    http_escape(&w->path, workflow_id(q->workflow));
    buf_addf(&w->path, "/dispatches");
    json_t *inputs = json_object();
    for (size_t i = 0; i < q->nvars; i++) {
        const char *eq = strchr(q->vars[i], '=');
        if (!eq)
            continue; /* the verb checked KEY=VALUE */
        char *key = xstrndup(q->vars[i], (size_t)(eq - q->vars[i]));
        json_object_set_new(inputs, key, json_string(eq + 1));
        free(key);
    }
    json_t *b = json_pack("{s:s, s:o}", "ref", w->branch, "inputs", inputs);
    if (w->details)
        json_object_set_new(b, "return_run_details", json_true());
    char *text = json_dumps(b, JSON_COMPACT);
    buf_reset(&w->body);
    buf_adds(&w->body, text ? text : "{}");
    free(text);
    json_decref(b);
    return 0;
}

static int build(struct wr *w, struct err *e)
{
    switch (w->req->action) {
    case CI_ACT_RESTART:
        run_path(w, &w->path, "/rerun");
        return 0;
    case CI_ACT_RESTART_FAILED:
        run_path(w, &w->path, "/rerun-failed-jobs");
        return 0;
    case CI_ACT_CANCEL:
        run_path(w, &w->path, "/cancel");
        return 0;
    case CI_ACT_APPROVE:
        if (is_action_required(w->req->run)) {
            run_path(w, &w->path, "/approve");
            return 0;
        }
        return build_review(w, 1, e);
    case CI_ACT_DECLINE:
        if (is_action_required(w->req->run)) {
            err_set(e, EXIT_FAILED, "run #%lld awaits approval to run a fork's pull request, "
                    "and GitHub has no way to decline that: left unapproved, it never runs",
                    w->req->run->id);
            return -1;
        }
        return build_review(w, 0, e);
    case CI_ACT_RUN:
        w->details = 1;
        return build_dispatch(w, e);
    }
    return err_set(e, EXIT_USAGE, "unknown action");
}

static void wr_init(struct wr *w, struct ci_provider *p, const struct ci_act_req *req,
                    struct ci_act_result *out)
{
    memset(w, 0, sizeof(*w));
    w->p = p;
    w->c = gh_provider_client(p);
    w->req = req;
    w->out = out;
    buf_init(&w->path, 0);
    buf_init(&w->body, 0);
}

static void wr_release(struct wr *w)
{
    buf_release(&w->path);
    buf_release(&w->body);
}

int gh_act_describe(struct ci_provider *p, const struct ci_act_req *req, struct buf *path,
                    struct buf *body, struct err *e)
{
    struct ci_act_result dummy;
    struct wr w;
    memset(&dummy, 0, sizeof(dummy));
    wr_init(&w, p, req, &dummy);
    int rc = build(&w, e);
    if (rc == 0) {
        /* the path as on the wire: the API base's own path first (/api/v3 on GHES) */
        const char *base = w.c->api_base + strlen("https://");
        const char *slash = strchr(base, '/');
        if (slash)
            buf_adds(path, slash);
        buf_add(path, w.path.data, w.path.len);
        buf_add(body, w.body.data, w.body.len);
    }
    wr_release(&w);
    return rc;
}

/* ---- reading back ---- */

/* Approvals given on the run so far (GET /runs/ID/approvals). */
static int count_approvals(struct wr *w, long long *n, struct err *e)
{
    json_t *j = NULL;
    int rc = get_run(w, "/approvals", &j, e);
    if (rc == 0)
        *n = (long long)json_array_size(j);
    return rc;
}

/* The workflow_dispatch runs of the workflow on the branch: the newest id
 * (*newest), and the oldest one above `above` (*found, with its status). */
static int dispatch_runs(struct wr *w, long long above, long long *newest, long long *found,
                         struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    repo_path(&path, w->p->repo);
    buf_addf(&path, "/actions/workflows/");
    http_escape(&path, workflow_id(w->req->workflow));
    buf_addf(&path, "/runs?event=workflow_dispatch&per_page=30&exclude_pull_requests=true"
                    "&branch=");
    http_escape(&path, w->branch);
    json_t *j = NULL;
    int rc = gh_get(w->c, path.data, &j, NULL, e);
    buf_release(&path);
    if (rc < 0)
        return -1;
    *newest = *found = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "workflow_runs"), i, it) {
        long long id = json_integer_value(json_object_get(it, "id"));
        const char *ev = str(it, "event"), *br = str(it, "head_branch");
        if (!ev || strcmp(ev, "workflow_dispatch") || !br || strcmp(br, w->branch))
            continue;
        if (id > *newest)
            *newest = id;
        if (id > above && (!*found || id < *found)) {
            *found = id;
            set_status(w->out, str(it, "status"));
        }
    }
    return 0;
}

/* Looks for the dispatched run during `seconds`: 1 found (out->run_id), 0 not, -1. */
static int find_dispatched(struct wr *w, double seconds, struct err *e)
{
    double end = clock_now() + seconds;
    for (;;) {
        long long newest, found;
        if (dispatch_runs(w, w->baseline, &newest, &found, e) < 0)
            return -1;
        if (found) {
            w->out->run_id = found;
            w->out->attempt = 1;
            return 1;
        }
        if (clock_now() + FIND_PAUSE > end || term_interrupted())
            return 0;
        clock_sleep(FIND_PAUSE);
    }
}

/*
 * Did the write take effect? 1 yes, 0 no (sending again is safe), 2 the
 * run moved on by itself (cancel: it finished first), -1 error.
 */
static int took_effect(struct wr *w, struct err *e)
{
    enum ci_action a = w->req->action;
    if (a == CI_ACT_RUN)
        return find_dispatched(w, DISPATCH_GRACE, e);
    if (w->review) {
        long long n = 0;
        if (count_approvals(w, &n, e) < 0)
            return -1;
        return n > w->baseline;
    }
    char status[32], concl[32];
    int attempt = 0;
    if (read_run(w, status, sizeof(status), concl, sizeof(concl), &attempt, e) < 0)
        return -1;
    run_word(w, status, concl);
    w->out->attempt = attempt;
    if (a == CI_ACT_RESTART || a == CI_ACT_RESTART_FAILED)
        return attempt > w->baseline;
    if (a == CI_ACT_APPROVE)
        return strcmp(concl, "action_required") != 0;
    /* cancel */
    if (strcmp(status, "completed"))
        return 0;
    return !strcmp(concl, "cancelled") ? 1 : 2;
}

static int set_baseline(struct wr *w, struct err *e)
{
    enum ci_action a = w->req->action;
    if (a == CI_ACT_RESTART || a == CI_ACT_RESTART_FAILED)
        w->baseline = w->req->run->attempt;
    else if (w->review)
        return count_approvals(w, &w->baseline, e);
    else if (a == CI_ACT_RUN) {
        long long found;
        if (dispatch_runs(w, 0, &w->baseline, &found, e) == 0)
            return 0;
        if (e->code == EXIT_NOT_FOUND)
            err_set(e, EXIT_NOT_FOUND, "no workflow '%s' in %s", w->req->workflow, w->p->repo);
        return -1;
    }
    return 0;
}

/* ---- the answers ---- */

static int answered_ok(struct wr *w, const struct http_response *r, struct err *e)
{
    enum ci_action a = w->req->action;
    if (a == CI_ACT_RUN) {
        json_error_t je;
        json_t *j = r->status == 200 ? json_loadb(r->body.data, r->body.len, 0, &je) : NULL;
        long long id = json_integer_value(json_object_get(j, "workflow_run_id"));
        json_decref(j);
        if (id > 0) {
            w->out->run_id = id;
            w->out->attempt = 1;
            set_status(w->out, "queued");
            return 0;
        }
        /* 204: a server without run details; GitHub creates the run soon after */
        int found = find_dispatched(w, DISPATCH_FIND, e);
        if (found < 0)
            return -1;
        if (!found) {
            err_set(e, EXIT_UNAVAILABLE, "GitHub accepted the dispatch of %s on %s, but its "
                    "run did not show up within %.0fs", w->req->workflow, w->branch,
                    DISPATCH_FIND);
            err_hint(e, "homelab ci list --event workflow_dispatch");
            return -1;
        }
        return 0;
    }
    if (w->review) {
        set_status(w->out, a == CI_ACT_APPROVE ? "approved" : "rejected");
        return 0;
    }
    if (took_effect(w, e) < 0) /* the run as it is now */
        return -1;
    if ((a == CI_ACT_RESTART || a == CI_ACT_RESTART_FAILED) && w->out->attempt <= w->baseline) {
        /* GitHub answered 201 before its reads show the new attempt:
         * the answer, not the stale read, says what now exists */
        w->out->attempt = (int)w->baseline + 1;
        set_status(w->out, "queued");
    }
    return 0;
}

static int rate_limited(const struct http_response *r, const char *remaining)
{
    return r->status == 429 || (r->status == 403 && (!strcmp(remaining, "0") ||
           r->retry_after >= 0 || (r->body.data && strcasestr(r->body.data, "rate limit"))));
}

/* A 4xx that is about the run's state, said as the state. */
static int refused_by_state(struct wr *w, const char *text, struct err *e)
{
    enum ci_action a = w->req->action;
    long long id = w->req->run ? w->req->run->id : 0;
    char status[32] = "", concl[32] = "";
    int attempt = 0;
    struct err re;
    err_clear(&re);
    if (w->req->run && read_run(w, status, sizeof(status), concl, sizeof(concl), &attempt,
                                &re) == 0 && concl[0])
        snprintf(status, sizeof(status), "%s", concl);
    if (a == CI_ACT_CANCEL)
        return err_set(e, EXIT_FAILED, "run #%lld already finished: %s", id,
                       status[0] ? status : "completed");
    if (a == CI_ACT_APPROVE || a == CI_ACT_DECLINE)
        return err_set(e, EXIT_FAILED, "run #%lld is not waiting for approval (status: %s)", id,
                       status[0] ? status : "unknown");
    return err_set(e, EXIT_FAILED, "GitHub refused to re-run run #%lld (status: %s): %s", id,
                   status[0] ? status : "unknown", text);
}

static int answered_no(struct wr *w, const struct http_response *r, const char *perm,
                       const char *remaining, struct err *e)
{
    char text[SERVER_TEXT_MAX + 1];
    server_text(r, text, sizeof(text));
    const char *name = ci_action_name(w->req->action);
    if (rate_limited(r, remaining))
        return err_set(e, EXIT_UNAVAILABLE, "GitHub rate-limited the %s (HTTP %ld); nothing "
                       "was done: try again later", name, r->status);
    if (w->out->sends > 1 && r->status >= 400 && r->status < 500) {
        /* the first send may have done it after all */
        struct err te;
        err_clear(&te);
        if (took_effect(w, &te) == 1) {
            w->out->recovered = 1;
            return 0;
        }
    }
    if (r->status == 401) {
        err_set(e, EXIT_REFUSED, "%s rejected the GitHub token from %s (HTTP 401)",
                w->c->api_host, w->c->token_source);
        return -1;
    }
    if (r->status == 403 && (perm[0] || strcasestr(text, "not accessible"))) {
        err_set(e, EXIT_REFUSED, "the token from %s lacks the permission %s on %s, which %s "
                "needs (HTTP 403: %s)", w->c->token_source, perm[0] ? perm : "actions=write",
                w->p->repo, name, text);
        err_hint(e, "a fine-grained token needs Actions: write on the repository; a classic "
                    "token the repo scope");
        return -1;
    }
    if (r->status == 404) {
        if (w->req->action == CI_ACT_RUN)
            return err_set(e, EXIT_NOT_FOUND, "no workflow '%s' in %s (HTTP 404)",
                           w->req->workflow, w->p->repo);
        return err_set(e, EXIT_NOT_FOUND, "run #%lld not found in %s (HTTP 404)",
                       w->req->run->id, w->p->repo);
    }
    if (r->status == 422 && w->req->action == CI_ACT_RUN) {
        if (strcasestr(text, "workflow_dispatch"))
            return err_set(e, EXIT_NOT_FOUND, "workflow '%s' has no workflow_dispatch trigger: "
                           "it cannot be run by hand (GitHub: %s)", w->req->workflow, text);
        if (strcasestr(text, "No ref found"))
            return err_set(e, EXIT_NOT_FOUND, "no branch '%s' in %s (GitHub: %s)", w->branch,
                           w->p->repo, text);
    }
    if (w->req->action != CI_ACT_RUN && (r->status == 403 || r->status == 409 ||
                                          r->status == 422))
        return refused_by_state(w, text, e);
    return err_set(e, EXIT_FAILED, "GitHub refused the %s (HTTP %ld): %s", name, r->status,
                   text);
}

/* A 4xx naming return_run_details: an older server; the dispatch goes again without it. */
static int details_refused(const struct wr *w, const struct http_response *r)
{
    return w->details && (r->status == 400 || r->status == 422) && r->body.data &&
           strstr(r->body.data, "return_run_details");
}

/* One send: 0 done, -1 error, 1 no usable answer (lost), 2 send again (refused unapplied). */
static int send_once(struct wr *w, char *lost, size_t lostlen, struct err *e)
{
    struct http_response r;
    http_response_init(&r, 1 << 20);
    char perm[128] = "", remaining[32] = "";
    struct http_capture cap[2] = { { "x-accepted-github-permissions", perm, sizeof(perm) },
                                   { "x-ratelimit-remaining", remaining, sizeof(remaining) } };
    r.capture = cap;
    r.ncapture = 2;
    struct err se;
    err_clear(&se);
    w->out->sends++;
    int rc = http_post(&w->c->api, w->path.data, w->body.len ? w->body.data : NULL, &r, &se);
    int ret;
    if (rc < 0 && (se.code == EXIT_REFUSED || se.code == EXIT_INTERRUPTED ||
                   se.kind == ERR_TOO_LARGE)) {
        *e = se; /* TLS refused (nothing sent), or the user stopped it */
        ret = -1;
    } else if (rc < 0) {
        snprintf(lost, lostlen, "%s", se.msg);
        ret = 1;
    } else if (r.status >= 500) {
        snprintf(lost, lostlen, "HTTP %ld", r.status);
        ret = 1;
    } else if (r.status >= 200 && r.status < 300) {
        ret = answered_ok(w, &r, e);
    } else if (details_refused(w, &r)) {
        w->details = 0;
        buf_reset(&w->path);
        ret = build_dispatch(w, e) < 0 ? -1 : 2;
    } else {
        ret = answered_no(w, &r, perm, remaining, e);
    }
    http_response_release(&r);
    return ret;
}

/* The progress sentence: what was done. */
static void describe_done(struct wr *w)
{
    struct ci_act_result *o = w->out;
    const struct ci_run *r = w->req->run;
    char name[160] = "";
    if (r)
        snprintf(name, sizeof(name), "%s #%lld (run %lld)", r->workflow ? r->workflow : "run",
                 r->number, r->id);
    switch (w->req->action) {
    case CI_ACT_RESTART:
    case CI_ACT_RESTART_FAILED:
        snprintf(o->what, sizeof(o->what), "re-ran %s%s as attempt %d", name,
                 w->req->action == CI_ACT_RESTART_FAILED ? " (its failed jobs)" : "", o->attempt);
        break;
    case CI_ACT_APPROVE:
        if (w->review)
            snprintf(o->what, sizeof(o->what), "approved the deployment to %s of %s", w->envs,
                     name);
        else
            snprintf(o->what, sizeof(o->what), "approved %s to run", name);
        break;
    case CI_ACT_DECLINE:
        snprintf(o->what, sizeof(o->what), "rejected the deployment to %s of %s", w->envs, name);
        break;
    case CI_ACT_CANCEL:
        snprintf(o->what, sizeof(o->what), "cancel of %s accepted", name);
        break;
    case CI_ACT_RUN:
        snprintf(o->what, sizeof(o->what), "dispatched %s on %s: run %lld",
                 workflow_id(w->req->workflow), w->branch, o->run_id);
        break;
    }
}

/* Sends until done, at most once more after a lost answer. */
static int send_loop(struct wr *w, struct err *e)
{
    const char *name = ci_action_name(w->req->action);
    for (;;) {
        char lost[1100] = "";
        int ret = send_once(w, lost, sizeof(lost), e);
        if (ret == 2)
            continue; /* refused before acting: safe to send again */
        if (ret <= 0)
            return ret;
        clock_sleep(RECHECK_PAUSE);
        int te = took_effect(w, e);
        if (te < 0) {
            err_wrap(e, "the answer to the %s was lost (%s), and reading the state back "
                     "failed", name, lost);
            return -1;
        }
        if (te == 1) {
            w->out->recovered = 1;
            return 0;
        }
        if (te == 2)
            return err_set(e, EXIT_FAILED, "run #%lld already finished: %s",
                           w->req->run->id, w->out->status);
        if (w->out->sends >= 2)
            return err_set(e, EXIT_UNAVAILABLE, "the %s was sent twice, got no usable answer "
                           "(last: %s) and has not taken effect", name, lost);
        if (w->c->verbose)
            fprintf(stderr, "homelab: the %s got no answer (%s) and has not taken effect; "
                    "sending it once more\n", name, lost);
    }
}

int gh_act(struct ci_provider *p, const struct ci_act_req *req, struct ci_act_result *out,
           struct err *e)
{
    struct wr w;
    memset(out, 0, sizeof(*out));
    if (req->run) {
        out->run_id = req->run->id;
        out->attempt = req->run->attempt;
    }
    wr_init(&w, p, req, out);
    int rc = build(&w, e);
    if (rc == 0)
        rc = set_baseline(&w, e);
    if (rc == 0)
        rc = send_loop(&w, e);
    if (rc == 0)
        describe_done(&w);
    wr_release(&w);
    return rc < 0 ? -1 : 0;
}
