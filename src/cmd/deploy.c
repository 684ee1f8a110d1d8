/*
 * deploy: `deploy wait` and `deploy status`.
 *
 * `deploy wait NS/NAME` reads the workload and its pods with consistent
 * LISTs (kube/workload holds them: paths, list reads, the pod cache), then
 * keeps two kubectl watch children (kube/transport): the
 * workload by name, and its pods by label, since pod trouble (crash
 * loops, pulls) never touches the workload object. A Deployment's
 * ReplicaSets are read only when an evaluation needs them and they may
 * have changed since the last read (kube_workload_rss_stale()). Every
 * change feeds the pure evaluator
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
#include "cmd/deploy_render.h"
#include "core/clock.h"
#include "core/linering.h"
#include "core/sanitize.h"
#include "core/signal.h"
#include "core/term.h"
#include "git/git.h"
#include "kube/eval.h"
#include "kube/image.h"
#include "kube/transport.h"
#include "kube/workload.h"

#define EVAL_EVERY 0.5      /* re-evaluate at least this often (grace periods) */
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
    struct kube_workload w;   /* the API side: object, ReplicaSets, pods */
    char label[300];          /* "deployment apps/web" */
    char sha[41];             /* lower-case, empty = no image check */
    struct eval_input in;
    struct eval_memo memo;
    struct eval_verdict v;
    int evaluated;            /* v holds a verdict */
    double t0;                /* clock_now() at the start */
    struct term term;
    struct term_plain plain;
    char *last_line;          /* last progress line emitted (JSON mode) */
};

/* ---- text helpers ---- */



static double elapsed(const struct deploy *d)
{
    return clock_now() - d->t0;
}



/* ---- evaluating ---- */

static void evaluate(struct deploy *d)
{
    d->in.workload = d->w.object;
    d->in.replicasets = d->w.t.kind == KUBE_DEPLOYMENT ? d->w.rss : NULL;
    d->in.replicasets_stale = kube_workload_rss_stale(&d->w);
    d->in.pods = d->w.pods;
    d->in.now = clock_wall();
    eval_workload(&d->in, &d->v);
    d->evaluated = 1;
}

/*
 * Evaluates, reading the Deployment's ReplicaSets first when the verdict
 * needs them and they may be stale (the evaluator then stops before
 * deciding anything from them). -1 when that read failed: d->v is then
 * not a verdict.
 */
static int evaluate_reading(struct deploy *d, struct err *e)
{
    evaluate(d);
    if (!d->v.need_replicasets)
        return 0;
    if (kube_workload_read_rss(&d->w, e) < 0)
        return -1;
    evaluate(d);
    return 0;
}

/* ---- rendering (cmd/deploy_render) ---- */

static struct deploy_view view(const struct deploy *d)
{
    struct deploy_view dv = { d->label, d->sha, &d->v, d->t0, d->ctx->color, d->term.utf8 };
    return dv;
}




/* A JSON string of server text, escaped like everything else we show. */
static json_t *safe_string(const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    deploy_add_safes(&b, s);
    json_t *j = json_string(b.data);
    buf_release(&b);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *verdict_json(const struct deploy *d, const char *event)
{
    json_t *o = json_object();
    if (event)
        json_object_set_new(o, "event", json_string(event));
    json_object_set_new(o, "target", json_sprintf("%s/%s/%s", kube_kind_name(d->w.t.kind), d->w.t.ns,
                                                  d->w.t.name));
    json_object_set_new(o, "kind", json_string(kube_kind_name(d->w.t.kind)));
    json_object_set_new(o, "namespace", json_string(d->w.t.ns));
    json_object_set_new(o, "name", json_string(d->w.t.name));
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
    struct deploy_view dv = view(d);
    struct buf line;
    buf_init(&line, 0);
    deploy_render_progress(&dv, &line);
    switch (d->ctx->mode) {
    case OUTPUT_TTY: {
        struct buf f;
        buf_init(&f, 0);
        deploy_render_frame(&dv, 0, 0, clock_now(), &f);
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
        rc = kube_workload_log(&d->w, f->pod, f->container, LOG_LINES, 1, &body, &e);
        *which = "previous";
    }
    if (rc < 0 && !signal_interrupted()) {
        err_clear(&e);
        rc = kube_workload_log(&d->w, f->pod, f->container, LOG_LINES, 0, &body, &e);
        *which = "current";
    }
    if (rc < 0) {
        buf_release(&body);
        return NULL;
    }
    /* Keep the last LOG_LINES lines even if the server sent more. */
    struct line_ring ring;
    line_ring_init(&ring, LOG_LINES);
    line_ring_add(&ring, body.data, body.len);
    line_ring_finish(&ring);
    json_t *lines = json_array();
    for (size_t i = 0; i < ring.count; i++) {
        size_t len;
        const char *p = line_ring_get(&ring, i, &len);
        struct buf l;
        buf_init(&l, 0);
        sanitize_append(&l, p, len > 2000 ? 2000 : len, sgr);
        json_t *js = json_string(l.data);
        json_array_append_new(lines, js ? js : json_string("(line not UTF-8)"));
        buf_release(&l);
    }
    line_ring_release(&ring);
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


/* Prints (or, in JSON mode, collects into `arr`) every failure and its log. */
static void report_failures(struct deploy *d, json_t *arr)
{
    struct deploy_view dv = view(d);
    int logs = 0;
    for (size_t i = 0; i < d->v.nfailures; i++) {
        const struct eval_failure *f = &d->v.failures[i];
        json_t *lines = NULL;
        const char *which = NULL;
        if (f->pod[0] && f->container[0] && f->logs != EVAL_LOGS_NONE && logs < LOG_CONTAINERS &&
            !signal_interrupted()) {
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
            deploy_render_failure(&dv, f, lines, which, &b);
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
    struct deploy_view dv = view(d);
    struct cmd_ctx *ctx = d->ctx;
    int verdict = d->evaluated && (!e || !e->code || code == EXIT_TIMEOUT);
    if (ctx->mode == OUTPUT_TTY) {
        if (d->evaluated) {
            struct buf f;
            buf_init(&f, 0);
            deploy_render_frame(&dv, 1, code, clock_now(), &f);
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
        term_stage_prefix(&s);
        deploy_render_summary(&dv, status_name(code, d->v.phase), &s);
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
    if (kube_workload_get(&d->w, e) == 0)
        return 0; /* created between the list and the get */
    if (e->code == EXIT_NOT_FOUND)
        err_hint(e, "'%s/%s' names a %s; other kinds: statefulset/NS/NAME, daemonset/NS/NAME",
                 d->w.t.ns, d->w.t.name, kube_kind_name(d->w.t.kind));
    return -1;
}

/* ---- the loop ---- */

/*
 * Two watch children (the workload by name, its pods by label) and a
 * ReplicaSet read when an evaluation needs one (evaluate_reading()). The
 * verdict is re-evaluated on every turn: cheap, and grace periods are
 * about time passing, not events arriving. Each step below returns -1 to
 * go on, or the exit code that ends the wait (with st->e set).
 */
struct wait {
    struct deploy *d;
    double deadline;
    struct kube_watch ww;   /* the workload, by name */
    struct kube_watch pw;   /* its pods, by label */
    int pw_ready;
    double failing_since;   /* when the API started failing, or 0 */
    int rs_failing;         /* the last ReplicaSet read failed */
    struct err e;
};

static int wait_failed(struct wait *st, json_t *items)
{
    json_decref(items);
    return st->e.code ? st->e.code : EXIT_UNAVAILABLE;
}

/* Set-up: list the workload and its pods, start both watches, show the first verdict. */
static int wait_start(struct wait *st)
{
    struct deploy *d = st->d;
    json_t *items = NULL;
    kube_workload_watch(&d->w, &st->ww);
    if (kube_watch_list(&st->ww, &items, &st->e) < 0)
        return wait_failed(st, items);
    kube_workload_take_item(&d->w, items);
    json_decref(items);
    items = NULL;
    if (!d->w.object && not_found(d, &st->e) < 0)
        return wait_failed(st, NULL);
    kube_workload_pod_watch(&d->w, &st->pw);
    st->pw_ready = 1;
    if (kube_watch_list(&st->pw, &items, &st->e) < 0)
        return wait_failed(st, items);
    kube_workload_set_pods(&d->w, items);
    json_decref(items);
    if (evaluate_reading(d, &st->e) < 0) {
        d->evaluated = 0;
        return wait_failed(st, NULL);
    }
    int code = phase_exit(d->v.phase);
    if (code < 0)
        emit(d);
    return code;
}

/* The ends that do not depend on the cluster: SIGINT and the deadline. */
static int wait_ends(struct wait *st, double now)
{
    if (signal_interrupted())
        return err_fail(&st->e, EXIT_INTERRUPTED, "interrupted");
    if (now >= st->deadline) {
        char dur[32];
        term_fmt_duration(dur, sizeof(dur), now - st->d->t0);
        return err_fail(&st->e, EXIT_TIMEOUT, "timed out after %s", dur);
    }
    return -1;
}

/* Sleeps until a watch has data or is due to restart, or the next
 * evaluation or the deadline comes. */
static void wait_poll(struct wait *st, double now)
{
    const struct deploy *d = st->d;
    double wake = now + (d->ctx->mode == OUTPUT_TTY ? 0.1 : EVAL_EVERY);
    if (wake > st->deadline)
        wake = st->deadline;
    struct kube_watch *ws[2] = { &st->ww, &st->pw };
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
}

/* Takes what both watches saw into the workload and its pod cache. */
static int wait_events(struct wait *st, double now)
{
    struct deploy *d = st->d;
    struct kube_event ev;
    int changed = 0, deleted = 0;
    if (kube_watch_pump(&st->ww, now, &st->e) < 0 || kube_watch_pump(&st->pw, now, &st->e) < 0)
        return st->e.code;
    while (kube_watch_next(&st->ww, &ev)) {
        kube_workload_event(&d->w, &ev, &deleted);
        kube_event_release(&ev);
    }
    while (kube_watch_next(&st->pw, &ev)) {
        changed |= kube_workload_pod_event(&d->w, &ev);
        kube_event_release(&ev);
    }
    if (deleted)
        return err_fail(&st->e, EXIT_NOT_FOUND, "%s was deleted while waiting", d->label);
    if (changed)
        kube_workload_pods_rebuild(&d->w);
    return -1;
}

/* An API that keeps failing (watches restarting, reads failing) for a
 * minute is unavailable; a quiet, healthy watch is not. */
static int wait_outage(struct wait *st, double now)
{
    if (!st->ww.failures && !st->pw.failures) {
        if (!st->rs_failing)
            st->failing_since = 0;
        return -1;
    }
    if (!st->failing_since)
        st->failing_since = now;
    if (now - st->failing_since <= OUTAGE_LIMIT)
        return -1;
    return err_fail(&st->e, EXIT_UNAVAILABLE, "the API has not answered for %.0f s: %s",
                    now - st->failing_since,
                    st->ww.failures ? st->ww.last_error : st->pw.last_error);
}

/*
 * Evaluates, reading the ReplicaSets when needed. A read the API could
 * not answer keeps the previous verdict (nothing is decided from a stale
 * list) and is tried again next turn; one refused for good ends the wait.
 */
static int wait_evaluate(struct wait *st, double now)
{
    struct deploy *d = st->d;
    struct eval_verdict before = d->v;
    struct err re;
    err_clear(&re);
    if (evaluate_reading(d, &re) == 0) {
        st->rs_failing = 0;
        return -1;
    }
    d->v = before;
    if (re.code != EXIT_UNAVAILABLE && re.code != EXIT_INTERRUPTED) {
        st->e = re;
        return re.code;
    }
    if (re.code == EXIT_UNAVAILABLE) {
        st->rs_failing = 1;
        if (!st->failing_since)
            st->failing_since = now;
    }
    return -1;
}

/* One turn: wait for something to happen, take it in, evaluate. */
static int wait_turn(struct wait *st)
{
    double now = clock_now();
    int code;
    if ((code = wait_ends(st, now)) >= 0)
        return code;
    wait_poll(st, now);
    now = clock_now();
    if ((code = wait_events(st, now)) >= 0 || (code = wait_outage(st, now)) >= 0 ||
        (code = wait_evaluate(st, now)) >= 0)
        return code;
    code = phase_exit(st->d->v.phase);
    if (code < 0)
        emit(st->d); /* a final verdict is shown once, by finish() */
    return code;
}

static int wait_loop(struct deploy *d, double deadline)
{
    struct wait st;
    memset(&st, 0, sizeof(st));
    st.d = d;
    st.deadline = deadline;
    err_clear(&st.e);
    int code = wait_start(&st);
    if (code < 0) {
        while ((code = wait_turn(&st)) < 0)
            ;
        /* The workload existed when the wait started: however its absence
         * shows now (a delete event, or a re-list or read answering
         * NotFound), it was deleted while waiting. */
        if (code == EXIT_NOT_FOUND)
            code = err_fail(&st.e, EXIT_NOT_FOUND, "%s was deleted while waiting", d->label);
    }
    kube_watch_release(&st.ww);
    if (st.pw_ready)
        kube_watch_release(&st.pw);
    return finish(d, code, &st.e);
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
    struct kube_target t;
    if (kube_parse_target(target, &t, e) < 0)
        return -1;
    struct kube_client kc;
    kube_client_init(&kc, ctx->cfg.kubectl, ctx->cfg.context);
    kc.verbose = ctx->g.verbose;
    kube_workload_init(&d->w, &t, &kc);
    if (opt_container && !kube_valid_label(opt_container)) {
        char shown[200];
        kube_quote(shown, sizeof(shown), opt_container);
        return err_set(e, EXIT_USAGE, "'%s' is not a valid container name", shown);
    }
    snprintf(d->label, sizeof(d->label), "%s %s/%s", kube_kind_name(d->w.t.kind), d->w.t.ns, d->w.t.name);
    eval_input_init(&d->in);
    d->in.kind = d->w.t.kind;
    d->in.container = opt_container;
    if (opt_grace >= 0)
        d->in.unschedulable_grace = opt_grace;
    term_init(&d->term, STDERR_FILENO, ctx->color);
    return 0;
}

static void deploy_release(struct deploy *d)
{
    kube_workload_release(&d->w);
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
    signal_catch();
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

/* deploy status of `target`, checking `sha` (NULL: HEAD when in a repository). */
static int status_target(struct cmd_ctx *ctx, const char *target, const char *sha)
{
    struct deploy d;
    struct err e;
    err_clear(&e);
    int code = EXIT_OK;
    if (deploy_setup(&d, ctx, target, &e) < 0 || resolve_sha(&d, sha, 0, &e) < 0) {
        ctx->err = e;
        deploy_release(&d);
        return e.code;
    }
    d.in.sha = d.sha[0] ? d.sha : NULL;
    signal_catch();
    if (kube_workload_get(&d.w, &e) < 0 || kube_workload_read_pods(&d.w, &e) < 0 ||
        evaluate_reading(&d, &e) < 0) {
        d.evaluated = 0;
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
        struct deploy_view dv = view(&d);
        term_stage_prefix(&s);
        deploy_render_summary(&dv, eval_phase_name(d.v.phase), &s);
        buf_addc(&s, '\n');
        fputs(s.data, stdout);
        fflush(stdout); /* before the details on stderr */
        buf_reset(&s);
        buf_adds(&s, "  image     ");
        deploy_add_safes(&s, d.v.image[0] ? d.v.image : "?");
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
    return signal_interrupted() ? EXIT_INTERRUPTED : code;
}

int cmd_deploy_status(struct cmd_ctx *ctx)
{
    if (ctx->npos != 1)
        return err_fail(&ctx->err, EXIT_USAGE, "deploy status takes one target: NS/NAME");
    return status_target(ctx, ctx->pos[0], opt_sha);
}

typedef int (*target_fn)(struct cmd_ctx *ctx, const char *target, const char *sha);

/* Runs a verb's target function for a ship stage, whose container stands
 * in for --container. */
static int as_stage(target_fn fn, struct cmd_ctx *ctx, const char *target, const char *sha,
                    const char *container)
{
    const char *saved = opt_container;
    opt_container = container;
    int code = fn(ctx, target, sha);
    opt_container = saved;
    return code;
}

int deploy_stage_wait(struct cmd_ctx *ctx, const char *target, const char *sha,
                      const char *container)
{
    return as_stage(deploy_wait_target, ctx, target, sha, container);
}

int deploy_stage_status(struct cmd_ctx *ctx, const char *target, const char *sha,
                        const char *container)
{
    return as_stage(status_target, ctx, target, sha, container);
}
