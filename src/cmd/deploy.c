/*
 * deploy: `deploy wait` and `deploy status`.
 *
 * `deploy wait NS/NAME` reads the workload and its pods with consistent
 * LISTs, then keeps two kubectl watch children (kube/transport): the
 * workload by name, and its pods by label, since pod trouble (crash
 * loops, pulls) never touches the workload object. ReplicaSets are read
 * when the Deployment changes. Every change feeds the pure evaluator
 * (kube/eval), re-run at least twice a second for grace periods, whose
 * verdict is rendered in the caller's output mode: a live region on a
 * terminal, one plain line per change otherwise, JSON Lines with --json.
 * The loop ends on a final phase, the --timeout deadline (exit 3), a fatal
 * API error, or SIGINT (exit 130), and always reaps its kubectl children.
 *
 * On failure it prints, per failing pod: the reason and message, restart
 * count, last termination reason, and the last 20 lines of the failing
 * container's log (the previous instance for a crash loop), escaped.
 *
 * `deploy status NS/NAME` runs the same evaluation once and exits 0 when
 * it could report.
 */
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/sanitize.h"
#include "core/term.h"
#include "git/git.h"
#include "kube/eval.h"
#include "kube/image.h"
#include "kube/transport.h"

#define EVAL_EVERY 0.5      /* re-evaluate at least this often (grace periods) */
#define RS_POLL 5.0         /* ReplicaSets: on change, and at least this often */
#define OUTAGE_LIMIT 60.0   /* give up (exit 6) after this long without an answer */
#define LOG_LINES 20
#define LOG_CONTAINERS 2    /* failing containers whose log is shown */

static const char *opt_sha;
static const char *opt_container;
static double opt_grace = -1;

const struct opt deploy_wait_opts[] = {
    { "sha", OPT_STRING, &opt_sha, "SHA", "the commit to wait for (default: HEAD of this repository)" },
    { "container", OPT_STRING, &opt_container, "NAME", "check only this container's image" },
    { "unschedulable-grace", OPT_DURATION, &opt_grace, "DURATION",
      "how long a new pod may stay unschedulable (60s)" },
    OPT_END,
};

const struct opt deploy_status_opts[] = {
    { "sha", OPT_STRING, &opt_sha, "SHA", "the commit expected (default: HEAD, when in a repository)" },
    { "container", OPT_STRING, &opt_container, "NAME", "check only this container's image" },
    { "unschedulable-grace", OPT_DURATION, &opt_grace, "DURATION",
      "how long a new pod may stay unschedulable (60s)" },
    OPT_END,
};

struct deploy {
    struct cmd_ctx *ctx;
    struct kube_client kc;
    struct kube_target t;
    char label[300];          /* "deployment apps/web" */
    char sha[41];             /* lower-case, empty = no image check */
    struct eval_input in;
    struct eval_memo memo;
    json_t *workload;         /* the latest object */
    json_t *rss;              /* its ReplicaSets (Deployment) */
    json_t *pods;             /* its pods (an array, rebuilt from pod_cache) */
    json_t *pod_cache;        /* name -> pod, kept by the pod watch */
    struct eval_verdict v;
    int evaluated;            /* v holds a verdict */
    double t0;                /* clock_now() at the start */
    struct term term;
    struct term_plain plain;
    char *last_line;          /* last progress line emitted (JSON mode) */
};

/* ---- text helpers ---- */

/*
 * Appends server text (names, reasons, messages) on one line, escaped by
 * the sanitizer: nothing in it can move the cursor, retitle the window or
 * hide text. Newlines and tabs become spaces (the live region counts
 * columns; a tab would break that).
 */
static void add_safe(struct buf *out, const char *s, size_t len)
{
    size_t start = out->len;
    sanitize_append(out, s, len, SANITIZE_DROP_SGR);
    for (size_t i = start; i < out->len; i++)
        if (out->data[i] == '\n' || out->data[i] == '\t')
            out->data[i] = ' ';
}

static void add_safes(struct buf *out, const char *s)
{
    add_safe(out, s, strlen(s));
}

static double elapsed(const struct deploy *d)
{
    return clock_now() - d->t0;
}

static const char *short_sha(const struct deploy *d, char *dst, size_t n)
{
    snprintf(dst, n, "%.7s", d->sha);
    return dst;
}

static enum term_color phase_color(enum eval_phase p)
{
    switch (p) {
    case EVAL_COMPLETE: return TERM_GREEN;
    case EVAL_FAILED:
    case EVAL_SUPERSEDED: return TERM_RED;
    case EVAL_NEEDS_PERSON: return TERM_YELLOW;
    default: return TERM_CYAN;
    }
}

/* ---- reading the cluster ---- */

/* GROUP/namespaces/NS/RESOURCE in the workload's namespace. */
static void namespaced_path(const struct deploy *d, const char *group, const char *resource,
                            struct buf *out)
{
    buf_addf(out, "%s/namespaces/", group);
    kube_escape(out, d->t.ns);
    buf_addf(out, "/%s", resource);
}

/* labelSelector=... for the workload's pods; nothing when it has no labels. */
static void pod_selector(const struct deploy *d, struct buf *out)
{
    struct buf sel;
    buf_init(&sel, 0);
    kube_label_selector(json_object_get(json_object_get(d->workload, "spec"), "selector"), &sel);
    if (sel.len)
        buf_addf(out, "labelSelector=%s", sel.data);
    buf_release(&sel);
}

/* Lists `resource` under `group` in the workload's namespace, by its selector. */
static int read_list(struct deploy *d, const char *group, const char *resource, json_t **items,
                     struct err *e)
{
    struct buf path, sel;
    buf_init(&path, 0);
    buf_init(&sel, 0);
    namespaced_path(d, group, resource, &path);
    pod_selector(d, &sel);
    if (sel.len)
        buf_addf(&path, "?%s", sel.data);
    buf_release(&sel);
    json_t *list = NULL;
    int rc = kube_get_json(&d->kc, path.data, &list, e);
    buf_release(&path);
    if (rc < 0)
        return -1;
    json_t *arr = json_object_get(list, "items");
    if (!json_is_array(arr)) {
        json_decref(list);
        return err_set(e, EXIT_UNAVAILABLE, "the API answered a list without items");
    }
    json_decref(*items);
    *items = json_incref(arr);
    json_decref(list);
    return 0;
}

static int read_pods(struct deploy *d, struct err *e)
{
    return read_list(d, "/api/v1", "pods", &d->pods, e);
}

static int read_rss(struct deploy *d, struct err *e)
{
    if (d->t.kind != KUBE_DEPLOYMENT)
        return 0;
    return read_list(d, "/apis/apps/v1", "replicasets", &d->rss, e);
}

/* GET the object itself: kubectl's own NotFound message when it is gone. */
static int read_item(struct deploy *d, json_t **obj, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    kube_collection_path(&d->t, &path);
    buf_addc(&path, '/');
    kube_escape(&path, d->t.name);
    int rc = kube_get_json(&d->kc, path.data, obj, e);
    buf_release(&path);
    return rc;
}

static void evaluate(struct deploy *d)
{
    d->in.workload = d->workload;
    d->in.replicasets = d->t.kind == KUBE_DEPLOYMENT ? d->rss : NULL;
    d->in.pods = d->pods;
    d->in.now = clock_wall();
    eval_workload(&d->in, &d->v);
    d->evaluated = 1;
}

/* ---- rendering ---- */

/* "LABEL WORD (SHA): REASON", the summary of a result. */
static void summary_line(const struct deploy *d, const char *word, struct buf *out)
{
    char sh[16];
    buf_addf(out, "%s %s", d->label, word);
    if (d->sha[0])
        buf_addf(out, " (%s)", short_sha(d, sh, sizeof(sh)));
    buf_adds(out, ": ");
    add_safes(out, d->v.reason);
}

static void progress_line(const struct deploy *d, struct buf *out)
{
    buf_addf(out, "%s: %s: ", d->label, eval_phase_name(d->v.phase));
    add_safes(out, d->v.reason);
}

static void frame(struct deploy *d, struct buf *f, int final, int code)
{
    int color = d->ctx->color;
    char dur[32], sh[16];
    term_fmt_duration(dur, sizeof(dur), elapsed(d));
    if (final)
        term_paint(f, color, code == EXIT_OK ? TERM_GREEN : TERM_RED,
                   code == EXIT_OK ? (d->term.utf8 ? "\xe2\x9c\x93" : "ok")
                                   : (d->term.utf8 ? "\xe2\x9c\x97" : "x"));
    else
        term_paint(f, color, TERM_CYAN, term_spinner(d->term.utf8, clock_now()));
    buf_adds(f, " ");
    term_paint(f, color, TERM_BOLD, d->label);
    if (d->sha[0])
        buf_addf(f, "  %s", short_sha(d, sh, sizeof(sh)));
    buf_adds(f, "  ");
    term_paint(f, color, phase_color(d->v.phase), eval_phase_name(d->v.phase));
    buf_adds(f, "  ");
    term_paint(f, color, TERM_DIM, dur);
    buf_adds(f, "\n  image     ");
    add_safes(f, d->v.image[0] ? d->v.image : "?");
    if (d->sha[0])
        buf_addf(f, "  (%s)", image_match_name(d->v.image_match));
    buf_addf(f, "\n  replicas  %ld desired, %ld updated, %ld ready, %ld available", d->v.desired,
             d->v.updated, d->v.ready, d->v.available);
    if (d->v.old_pods)
        buf_addf(f, ", %ld old pod%s", d->v.old_pods, d->v.old_pods == 1 ? "" : "s");
    buf_adds(f, "\n  ");
    struct buf reason;
    buf_init(&reason, 0);
    add_safes(&reason, d->v.reason);
    term_paint(f, color, d->v.phase == EVAL_FAILED ? TERM_RED : TERM_PLAIN, reason.data);
    buf_release(&reason);
    buf_addc(f, '\n');
}

/* A JSON string of server text, escaped like everything else we show. */
static json_t *safe_string(const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    add_safes(&b, s);
    json_t *j = json_string(b.data);
    buf_release(&b);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *verdict_json(const struct deploy *d, const char *event)
{
    json_t *o = json_object();
    if (event)
        json_object_set_new(o, "event", json_string(event));
    json_object_set_new(o, "target", json_sprintf("%s/%s/%s", kube_kind_name(d->t.kind), d->t.ns,
                                                  d->t.name));
    json_object_set_new(o, "kind", json_string(kube_kind_name(d->t.kind)));
    json_object_set_new(o, "namespace", json_string(d->t.ns));
    json_object_set_new(o, "name", json_string(d->t.name));
    json_object_set_new(o, "sha", d->sha[0] ? json_string(d->sha) : json_null());
    if (!d->evaluated)
        return o;
    json_object_set_new(o, "phase", json_string(eval_phase_name(d->v.phase)));
    json_object_set_new(o, "reason", safe_string(d->v.reason));
    json_object_set_new(o, "image", safe_string(d->v.image));
    if (d->sha[0])
        json_object_set_new(o, "image_match", json_string(d->v.image_match == IMAGE_MATCH ? "match"
                                                          : d->v.image_match == IMAGE_OTHER ? "other"
                                                                                             : "unknown"));
    json_object_set_new(o, "revision", json_string(d->v.revision));
    json_object_set_new(o, "desired", json_integer(d->v.desired));
    json_object_set_new(o, "updated", json_integer(d->v.updated));
    json_object_set_new(o, "ready", json_integer(d->v.ready));
    json_object_set_new(o, "available", json_integer(d->v.available));
    json_object_set_new(o, "old_pods", json_integer(d->v.old_pods));
    json_object_set_new(o, "elapsed", json_real((double)(long)(elapsed(d) * 1000) / 1000));
    return o;
}

/* Emits the verdict if it changed (plain, JSON) or redraws (terminal). */
static void emit(struct deploy *d)
{
    struct buf line;
    buf_init(&line, 0);
    progress_line(d, &line);
    switch (d->ctx->mode) {
    case OUTPUT_TTY: {
        struct buf f;
        buf_init(&f, 0);
        frame(d, &f, 0, 0);
        term_live(&d->term, f.data, clock_now(), 0);
        buf_release(&f);
        break;
    }
    case OUTPUT_PLAIN:
        term_plain_line(&d->plain, stderr, line.data);
        break;
    case OUTPUT_JSON:
        if (!d->last_line || strcmp(d->last_line, line.data)) {
            free(d->last_line);
            d->last_line = xstrdup(line.data);
            json_t *o = verdict_json(d, "progress");
            term_json_line(o);
            json_decref(o);
        }
        break;
    }
    buf_release(&line);
}

/* ---- failure details ---- */

static int fetch_log(struct deploy *d, const struct eval_failure *f, int previous, struct buf *out,
                     struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    namespaced_path(d, "/api/v1", "pods/", &path);
    kube_escape(&path, f->pod);
    buf_adds(&path, "/log?container=");
    kube_escape(&path, f->container);
    buf_addf(&path, "&tailLines=%d%s", LOG_LINES, previous ? "&previous=true" : "");
    int rc = kube_get_raw(&d->kc, path.data, out, e);
    buf_release(&path);
    return rc;
}

/* The last LOG_LINES lines of the failing container, escaped, one per entry. */
static json_t *log_tail(struct deploy *d, const struct eval_failure *f, const char **which)
{
    /* Colour from the program's own log survives only on a colour terminal. */
    unsigned sgr = d->ctx->mode == OUTPUT_TTY && d->ctx->color ? SANITIZE_KEEP_SGR
                                                                : SANITIZE_DROP_SGR;
    struct buf body;
    struct err e;
    buf_init(&body, 0);
    err_clear(&e);
    *which = NULL;
    int rc = -1;
    if (f->logs == EVAL_LOGS_PREVIOUS) {
        rc = fetch_log(d, f, 1, &body, &e);
        *which = "previous";
    }
    if (rc < 0 && !term_interrupted()) {
        err_clear(&e);
        rc = fetch_log(d, f, 0, &body, &e);
        *which = "current";
    }
    if (rc < 0) {
        buf_release(&body);
        return NULL;
    }
    /* Keep the last LOG_LINES lines even if the server sent more. */
    json_t *lines = json_array();
    size_t n = body.len;
    if (n && body.data[n - 1] == '\n')
        n--;
    size_t start = n, count = 0;
    while (start > 0 && count < LOG_LINES) {
        size_t s = start;
        while (s > 0 && body.data[s - 1] != '\n')
            s--;
        count++;
        if (s == 0) {
            start = 0;
            break;
        }
        start = s - 1;
    }
    if (start > 0)
        start++;
    const char *p = body.data + start, *end = body.data + n;
    while (n && p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct buf l;
        buf_init(&l, 0);
        sanitize_append(&l, p, len > 2000 ? 2000 : len, sgr);
        json_t *s = json_string(l.data);
        json_array_append_new(lines, s ? s : json_string("(line not UTF-8)"));
        buf_release(&l);
        if (!nl)
            break;
        p = nl + 1;
    }
    buf_release(&body);
    return lines;
}

static json_t *failure_json(const struct eval_failure *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "pod", f->pod[0] ? safe_string(f->pod) : json_null());
    json_object_set_new(o, "container", f->container[0] ? safe_string(f->container) : json_null());
    json_object_set_new(o, "init_container", json_boolean(f->init));
    json_object_set_new(o, "reason", safe_string(f->reason));
    json_object_set_new(o, "message", safe_string(f->message));
    json_object_set_new(o, "restarts", json_integer(f->restarts));
    json_object_set_new(o, "last_termination_reason",
                        f->last_reason[0] ? safe_string(f->last_reason) : json_null());
    json_object_set_new(o, "last_exit_code",
                        f->last_exit_code >= 0 ? json_integer(f->last_exit_code) : json_null());
    return o;
}

/* One failure for the terminal: what, where, restarts, and its log lines (or NULL). */
static void failure_text(const struct deploy *d, const struct eval_failure *f,
                         const json_t *lines, const char *which, struct buf *b)
{
    int color = d->ctx->color;
    if (f->pod[0]) {
        buf_adds(b, "pod ");
        add_safes(b, f->pod);
    } else {
        buf_adds(b, d->label);
    }
    if (f->container[0]) {
        buf_addf(b, ", %scontainer ", f->init ? "init " : "");
        add_safes(b, f->container);
    }
    buf_adds(b, ": ");
    struct buf r;
    buf_init(&r, 0);
    add_safes(&r, f->reason);
    term_paint(b, color, TERM_RED, r.data);
    buf_release(&r);
    buf_addc(b, '\n');
    if (f->message[0]) {
        buf_adds(b, "  ");
        add_safes(b, f->message);
        buf_addc(b, '\n');
    }
    if (f->container[0]) {
        buf_addf(b, "  restarts %ld", f->restarts);
        if (f->last_reason[0]) {
            buf_adds(b, ", last termination ");
            add_safes(b, f->last_reason);
            if (f->last_exit_code >= 0)
                buf_addf(b, " (exit %d)", f->last_exit_code);
        }
        buf_addc(b, '\n');
    }
    if (lines) {
        size_t n = json_array_size(lines);
        buf_addf(b, "  last %zu log line%s (%s instance):\n", n, n == 1 ? "" : "s", which);
        for (size_t k = 0; k < n; k++) {
            term_paint(b, color, TERM_DIM, "  | ");
            buf_adds(b, json_string_value(json_array_get(lines, k)));
            buf_addc(b, '\n');
        }
        if (!n)
            buf_adds(b, "  (the log is empty)\n");
    }
}

/* Prints (or, in JSON mode, collects into `arr`) every failure and its log. */
static void report_failures(struct deploy *d, json_t *arr)
{
    int logs = 0;
    for (size_t i = 0; i < d->v.nfailures; i++) {
        const struct eval_failure *f = &d->v.failures[i];
        json_t *lines = NULL;
        const char *which = NULL;
        if (f->pod[0] && f->container[0] && f->logs != EVAL_LOGS_NONE && logs < LOG_CONTAINERS &&
            !term_interrupted()) {
            lines = log_tail(d, f, &which);
            logs++;
        }
        if (arr) {
            json_t *o = failure_json(f);
            if (lines) {
                json_object_set_new(o, "log_instance", json_string(which));
                json_object_set(o, "log", lines);
            }
            json_array_append_new(arr, o);
        } else {
            struct buf b;
            buf_init(&b, 0);
            failure_text(d, f, lines, which, &b);
            fputs(b.data, stderr);
            buf_release(&b);
        }
        json_decref(lines);
    }
    fflush(stderr);
}

/* ---- results ---- */

static const char *status_name(int code, enum eval_phase phase)
{
    switch (code) {
    case EXIT_OK: return "complete";
    case EXIT_FAILED: return phase == EVAL_SUPERSEDED ? "superseded" : "failed";
    case EXIT_TIMEOUT: return "timeout";
    case EXIT_NEEDS_PERSON: return "needs-person";
    default: return exit_code_name(code);
    }
}

static int phase_exit(enum eval_phase p)
{
    switch (p) {
    case EVAL_COMPLETE: return EXIT_OK;
    case EVAL_FAILED:
    case EVAL_SUPERSEDED: return EXIT_FAILED;
    case EVAL_NEEDS_PERSON: return EXIT_NEEDS_PERSON;
    default: return -1;
    }
}

/*
 * The end of a wait: the last frame, failure details, and the result on
 * stdout (a summary line, or the final JSON object). Errors (`e` set)
 * print nothing on stdout except in JSON mode; the dispatcher prints them.
 */
static int finish(struct deploy *d, int code, const struct err *e)
{
    struct cmd_ctx *ctx = d->ctx;
    int verdict = d->evaluated && (!e || !e->code || code == EXIT_TIMEOUT);
    if (ctx->mode == OUTPUT_TTY) {
        if (d->evaluated) {
            struct buf f;
            buf_init(&f, 0);
            frame(d, &f, 1, code);
            term_live(&d->term, f.data, clock_now(), 1);
            buf_release(&f);
        }
        term_live_done(&d->term);
    }
    json_t *failures = ctx->mode == OUTPUT_JSON ? json_array() : NULL;
    if (code == EXIT_FAILED && d->v.nfailures)
        report_failures(d, failures);
    if (ctx->mode == OUTPUT_JSON) {
        json_t *o = verdict_json(d, "result");
        json_object_set_new(o, "status", json_string(status_name(code, d->v.phase)));
        json_object_set_new(o, "exit_code", json_integer(code));
        json_object_set_new(o, "failures", failures);
        if (e && e->code)
            json_object_set_new(o, "error", safe_string(e->msg));
        term_json_line(o);
        json_decref(o);
    } else if (verdict) {
        struct buf s;
        buf_init(&s, 0);
        char dur[32];
        term_fmt_duration(dur, sizeof(dur), elapsed(d));
        summary_line(d, status_name(code, d->v.phase), &s);
        buf_addf(&s, " [%s]\n", dur);
        fputs(s.data, stdout);
        buf_release(&s);
    }
    if (e && e->code && code != EXIT_TIMEOUT)
        ctx->err = *e;
    return code;
}

/* ---- the wait ---- */

static int not_found(struct deploy *d, struct err *e)
{
    json_t *obj = NULL;
    if (read_item(d, &obj, e) == 0) {
        /* created between the list and the get */
        d->workload = obj;
        return 0;
    }
    if (e->code == EXIT_NOT_FOUND)
        err_hint(e, "'%s/%s' names a %s; other kinds: statefulset/NS/NAME, daemonset/NS/NAME",
                 d->t.ns, d->t.name, kube_kind_name(d->t.kind));
    return -1;
}

/* A workload event; returns 1 when the object changed. */
static int workload_event(struct deploy *d, const struct kube_event *ev, int *deleted)
{
    json_t *obj = ev->object;
    switch (ev->type) {
    case KUBE_RELISTED:
        obj = kube_find_item(ev->object, d->t.name);
        /* fall through */
    case KUBE_ADDED:
    case KUBE_MODIFIED:
        if (!obj) {
            *deleted = 1;
            return 1;
        }
        json_decref(d->workload);
        d->workload = json_incref(obj);
        return 1;
    case KUBE_DELETED:
        *deleted = 1;
        return 1;
    default:
        return 0;
    }
}

/* ---- the pod cache, kept by the pod watch ---- */

/* Keyed by name: names are unique in a namespace at any moment, so a pod
 * that reappears under its old name (a StatefulSet's db-0) replaces the
 * one before it even when no DELETED event was seen for that one. */
static const char *pod_key(const json_t *pod)
{
    return json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
}

static void pods_replace(struct deploy *d, const json_t *items)
{
    json_object_clear(d->pod_cache);
    size_t i;
    json_t *pod;
    json_array_foreach(items, i, pod)
        if (pod_key(pod))
            json_object_set(d->pod_cache, pod_key(pod), pod);
}

/* A pod event; returns 1 when the cache changed. */
static int pod_event(struct deploy *d, const struct kube_event *ev)
{
    const char *key = ev->object ? pod_key(ev->object) : NULL;
    switch (ev->type) {
    case KUBE_RELISTED:
        pods_replace(d, ev->object);
        return 1;
    case KUBE_ADDED:
    case KUBE_MODIFIED:
        if (!key)
            return 0;
        json_object_set(d->pod_cache, key, ev->object);
        return 1;
    case KUBE_DELETED:
        if (key)
            json_object_del(d->pod_cache, key);
        return 1;
    default:
        return 0;
    }
}

/* d->pods from the cache, in a stable (name) order. */
static void pods_rebuild(struct deploy *d)
{
    json_t *arr = json_array();
    const char *k;
    json_t *pod;
    json_object_foreach(d->pod_cache, k, pod)
        json_array_append(arr, pod);
    json_decref(d->pods);
    d->pods = arr;
}

/* ---- the loop ---- */

/*
 * Two watch children (the workload by name, its pods by label) and a
 * ReplicaSet read when the Deployment changes (and every RS_POLL). The
 * verdict is re-evaluated on every turn: cheap, and grace periods are
 * about time passing, not events arriving.
 */
static int wait_loop(struct deploy *d, double deadline)
{
    struct err e;
    err_clear(&e);
    struct buf coll, sel;
    buf_init(&coll, 0);
    buf_init(&sel, 0);
    kube_collection_path(&d->t, &coll);
    kube_name_selector(&sel, d->t.name);
    struct kube_watch ww, pw;
    kube_watch_init(&ww, &d->kc, coll.data, sel.data);
    buf_reset(&coll);
    buf_reset(&sel);
    int pw_ready = 0, code = -1;
    json_t *items = NULL;

    if (kube_watch_list(&ww, &items, &e) < 0)
        goto fail;
    d->workload = json_incref(kube_find_item(items, d->t.name));
    json_decref(items);
    items = NULL;
    if (!d->workload && not_found(d, &e) < 0)
        goto fail;
    namespaced_path(d, "/api/v1", "pods", &coll);
    pod_selector(d, &sel);
    kube_watch_init(&pw, &d->kc, coll.data, sel.data);
    pw_ready = 1;
    if (kube_watch_list(&pw, &items, &e) < 0 || read_rss(d, &e) < 0)
        goto fail;
    pods_replace(d, items);
    json_decref(items);
    items = NULL;
    pods_rebuild(d);

    double now = clock_now(), last_rs = now, failing_since = 0;
    int rs_due = 0, deleted = 0;
    evaluate(d);
    if (phase_exit(d->v.phase) < 0)
        emit(d);

    while ((code = phase_exit(d->v.phase)) < 0) {
        if (term_interrupted()) {
            err_set(&e, EXIT_INTERRUPTED, "interrupted");
            code = EXIT_INTERRUPTED;
            break;
        }
        now = clock_now();
        if (now >= deadline) {
            char dur[32];
            term_fmt_duration(dur, sizeof(dur), now - d->t0);
            err_set(&e, EXIT_TIMEOUT, "timed out after %s", dur);
            code = EXIT_TIMEOUT;
            break;
        }
        double wake = now + (d->ctx->mode == OUTPUT_TTY ? 0.1 : EVAL_EVERY);
        if (d->t.kind == KUBE_DEPLOYMENT && last_rs + RS_POLL < wake)
            wake = last_rs + RS_POLL;
        if (wake > deadline)
            wake = deadline;
        struct kube_watch *ws[2] = { &ww, &pw };
        struct pollfd p[2];
        for (int i = 0; i < 2; i++) {
            if (!ws[i]->running && ws[i]->start_at < wake)
                wake = ws[i]->start_at;
            p[i].fd = kube_watch_fd(ws[i]);
            p[i].events = POLLIN;
            p[i].revents = 0;
        }
        int ms = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
        poll(p, 2, ms);
        now = clock_now();

        int changed = 0;
        struct kube_event ev;
        if (kube_watch_pump(&ww, now, &e) < 0 || kube_watch_pump(&pw, now, &e) < 0) {
            code = e.code;
            break;
        }
        while (kube_watch_next(&ww, &ev)) {
            if (workload_event(d, &ev, &deleted))
                rs_due = 1;
            kube_event_release(&ev);
        }
        while (kube_watch_next(&pw, &ev)) {
            changed |= pod_event(d, &ev);
            kube_event_release(&ev);
        }
        if (deleted) {
            err_set(&e, EXIT_NOT_FOUND, "%s was deleted while waiting", d->label);
            code = EXIT_NOT_FOUND;
            break;
        }
        if (changed)
            pods_rebuild(d);
        if (d->t.kind == KUBE_DEPLOYMENT && (rs_due || now - last_rs >= RS_POLL)) {
            struct err re;
            err_clear(&re);
            if (read_rss(d, &re) == 0) {
                rs_due = 0;
            } else if (re.code != EXIT_UNAVAILABLE) {
                if (re.code != EXIT_INTERRUPTED) {
                    e = re;
                    code = re.code;
                    break;
                }
            } else if (!failing_since) {
                failing_since = now;
            }
            last_rs = clock_now();
        }
        /* An API that keeps failing (watches restarting, reads failing) for
         * a minute is unavailable; a quiet, healthy watch is not. */
        if (ww.failures || pw.failures) {
            if (!failing_since)
                failing_since = now;
            if (now - failing_since > OUTAGE_LIMIT) {
                err_set(&e, EXIT_UNAVAILABLE, "the API has not answered for %.0f s: %s",
                        now - failing_since,
                        ww.failures ? ww.last_error : pw.last_error);
                code = EXIT_UNAVAILABLE;
                break;
            }
        } else if (!rs_due) {
            failing_since = 0;
        }
        evaluate(d);
        if (phase_exit(d->v.phase) < 0)
            emit(d); /* a final verdict is shown once, by finish() */
    }
    goto out;
fail:
    json_decref(items);
    code = e.code ? e.code : EXIT_UNAVAILABLE;
out:
    kube_watch_release(&ww);
    if (pw_ready)
        kube_watch_release(&pw);
    buf_release(&coll);
    buf_release(&sel);
    return finish(d, code, &e);
}

/* ---- set-up shared by both verbs ---- */

static int resolve_sha(struct deploy *d, const char *given, int required, struct err *e)
{
    char *sha = NULL;
    if (given && image_sha_valid(given)) {
        snprintf(d->sha, sizeof(d->sha), "%s", given);
    } else if (given) {
        struct err ge;
        err_clear(&ge);
        if (git_rev_parse_commit(&git_here, given, &sha, &ge) < 0) {
            char shown[200];
            kube_quote(shown, sizeof(shown), given);
            return err_set(e, EXIT_USAGE, "--sha wants a commit id of 7 to 40 hex digits, not '%s'",
                           shown);
        }
    } else {
        struct err ge;
        err_clear(&ge);
        if (git_rev_parse_commit(&git_here, "HEAD", &sha, &ge) < 0) {
            if (!required)
                return 0;
            *e = ge;
            err_wrap(e, "finding the commit to wait for");
            err_hint(e, "pass --sha SHA, or run inside the repository");
            return -1;
        }
    }
    if (sha) {
        snprintf(d->sha, sizeof(d->sha), "%s", sha);
        free(sha);
    }
    for (char *p = d->sha; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return 0;
}

static int deploy_setup(struct deploy *d, struct cmd_ctx *ctx, const char *target, struct err *e)
{
    memset(d, 0, sizeof(*d));
    d->ctx = ctx;
    d->t0 = clock_now();
    d->pod_cache = json_object();
    if (kube_parse_target(target, &d->t, e) < 0)
        return -1;
    if (opt_container && !kube_valid_label(opt_container)) {
        char shown[200];
        kube_quote(shown, sizeof(shown), opt_container);
        return err_set(e, EXIT_USAGE, "'%s' is not a valid container name", shown);
    }
    snprintf(d->label, sizeof(d->label), "%s %s/%s", kube_kind_name(d->t.kind), d->t.ns, d->t.name);
    kube_client_init(&d->kc, ctx->cfg.kubectl, ctx->cfg.context);
    d->kc.verbose = ctx->g.verbose;
    eval_input_init(&d->in);
    d->in.kind = d->t.kind;
    d->in.container = opt_container;
    if (opt_grace >= 0)
        d->in.unschedulable_grace = opt_grace;
    term_init(&d->term, STDERR_FILENO, ctx->color);
    return 0;
}

static void deploy_release(struct deploy *d)
{
    json_decref(d->workload);
    json_decref(d->rss);
    json_decref(d->pods);
    json_decref(d->pod_cache);
    eval_memo_release(&d->memo);
    term_release(&d->term);
    term_plain_release(&d->plain);
    free(d->last_line);
}

static double wait_timeout(const struct cmd_ctx *ctx)
{
    if (ctx->g.timeout > 0)
        return ctx->g.timeout;
    if (ctx->cmd && ctx->cmd->default_timeout > 0 && ctx->cmd->run == cmd_deploy_wait)
        return ctx->cmd->default_timeout;
    return 600;
}

int deploy_wait_target(struct cmd_ctx *ctx, const char *target, const char *sha)
{
    struct deploy d;
    struct err e;
    err_clear(&e);
    if (deploy_setup(&d, ctx, target, &e) < 0 || resolve_sha(&d, sha, 1, &e) < 0) {
        ctx->err = e;
        deploy_release(&d);
        return e.code;
    }
    d.in.sha = d.sha;
    d.in.memo = &d.memo;
    term_catch_signals();
    int code = wait_loop(&d, d.t0 + wait_timeout(ctx));
    deploy_release(&d);
    return code;
}

int cmd_deploy_wait(struct cmd_ctx *ctx)
{
    if (ctx->npos != 1)
        return err_fail(&ctx->err, EXIT_USAGE, "deploy wait takes one target: NS/NAME");
    return deploy_wait_target(ctx, ctx->pos[0], opt_sha);
}

int cmd_deploy_status(struct cmd_ctx *ctx)
{
    if (ctx->npos != 1)
        return err_fail(&ctx->err, EXIT_USAGE, "deploy status takes one target: NS/NAME");
    struct deploy d;
    struct err e;
    err_clear(&e);
    int code = EXIT_OK;
    if (deploy_setup(&d, ctx, ctx->pos[0], &e) < 0 || resolve_sha(&d, opt_sha, 0, &e) < 0) {
        ctx->err = e;
        deploy_release(&d);
        return e.code;
    }
    d.in.sha = d.sha[0] ? d.sha : NULL;
    term_catch_signals();
    if (read_item(&d, &d.workload, &e) < 0 || read_rss(&d, &e) < 0 || read_pods(&d, &e) < 0) {
        code = e.code ? e.code : EXIT_UNAVAILABLE;
        if (ctx->mode == OUTPUT_JSON) {
            json_t *o = verdict_json(&d, NULL);
            json_object_set_new(o, "status", json_string(exit_code_name(code)));
            json_object_set_new(o, "exit_code", json_integer(code));
            json_object_set_new(o, "error", safe_string(e.msg));
            term_json_line(o);
            json_decref(o);
        }
        ctx->err = e;
        deploy_release(&d);
        return code;
    }
    evaluate(&d);
    if (ctx->mode == OUTPUT_JSON) {
        json_t *o = verdict_json(&d, NULL);
        json_t *failures = json_array();
        report_failures(&d, failures);
        json_object_set_new(o, "status", json_string(eval_phase_name(d.v.phase)));
        json_object_set_new(o, "exit_code", json_integer(EXIT_OK));
        json_object_set_new(o, "failures", failures);
        term_json_line(o);
        json_decref(o);
    } else {
        struct buf s;
        buf_init(&s, 0);
        summary_line(&d, eval_phase_name(d.v.phase), &s);
        buf_addc(&s, '\n');
        fputs(s.data, stdout);
        buf_reset(&s);
        buf_adds(&s, "  image     ");
        add_safes(&s, d.v.image[0] ? d.v.image : "?");
        if (d.sha[0])
            buf_addf(&s, " (%s)", image_match_name(d.v.image_match));
        else
            buf_adds(&s, " (no commit to compare: not checked)");
        buf_addf(&s, "\n  replicas  %ld desired, %ld updated, %ld ready, %ld available\n",
                 d.v.desired, d.v.updated, d.v.ready, d.v.available);
        fputs(s.data, stderr);
        buf_release(&s);
        report_failures(&d, NULL);
    }
    deploy_release(&d);
    return term_interrupted() ? EXIT_INTERRUPTED : code;
}
