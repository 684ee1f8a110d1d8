/*
 * eval: from API objects to a rollout verdict. The order of the checks and
 * the reasons behind them are in eval.h; the Kubernetes facts (which field
 * means what, what kubectl rollout status does) come from the rollout
 * reference the project was built on, sections 2 to 6.
 *
 * Everything here reads borrowed json_t values and writes into the
 * caller's verdict; the only allocation is the memo's.
 *
 * Longer than 800 lines on purpose: it is one decision, the ordered checks
 * of eval.h applied to three kinds of workload, and the checks read best
 * in that order in one place; the helpers are small and pure, and
 * tests/unit/test_kube_eval.c drives each rule through captured objects.
 */
#include "kube/eval.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

/* Seconds a new pod may run without being Ready before the verdict says so. */
#define NOT_READY_NOTE 10
/* deploy status: a not-Ready container that died this recently is failing. */
#define RECENT_CRASH 120

/* ---- memo ---- */

double eval_memo_first(struct eval_memo *m, const char *key, double value)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].key, key))
            return m->v[i].value;
    if (m->n == m->alloc) {
        m->alloc = m->alloc ? m->alloc * 2 : 16;
        m->v = xrealloc(m->v, m->alloc * sizeof(*m->v));
    }
    m->v[m->n].key = xstrdup(key);
    m->v[m->n].value = value;
    m->n++;
    return value;
}

void eval_memo_release(struct eval_memo *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].key);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

void eval_input_init(struct eval_input *in)
{
    memset(in, 0, sizeof(*in));
    in->unschedulable_grace = 60;
    in->pull_grace = 30;
    in->restart_limit = 2;
}

/* ---- JSON access: missing or mistyped fields read as absent ---- */

static const json_t *jget_(const json_t *o, ...)
{
    va_list ap;
    va_start(ap, o);
    const char *k;
    while (o && (k = va_arg(ap, const char *)))
        o = json_is_object(o) ? json_object_get(o, k) : NULL;
    va_end(ap);
    return o;
}
#define jget(...) jget_(__VA_ARGS__, (const char *)NULL)

/*
 * Counts in API objects are int32 (replicas, restarts) or int64
 * (generation); anything beyond +-2^53 is nonsense and is clamped, so that
 * the differences taken below cannot overflow and a real like 1e300 is
 * never converted to long (undefined behaviour; found by
 * tests/fuzz/fuzz_kube_eval).
 */
#define JLONG_LIMIT (1L << 53)

static long jlong(const json_t *v, long def)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i > JLONG_LIMIT ? JLONG_LIMIT : i < -JLONG_LIMIT ? -JLONG_LIMIT : (long)i;
    }
    if (!json_is_real(v))
        return def;
    d = json_real_value(v);
    return d != d ? def : d > JLONG_LIMIT ? JLONG_LIMIT : d < -JLONG_LIMIT ? -JLONG_LIMIT : (long)d;
}

/* Whole seconds of a time difference for a message, clamped to int (a
 * timestamp far in the past or future made the plain cast undefined). */
static int whole_seconds(double d)
{
    if (d != d)
        return 0;
    return d >= INT_MAX ? INT_MAX : d <= INT_MIN ? INT_MIN : (int)d;
}

static const char *jstr(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jtrue(const json_t *v)
{
    return json_is_true(v);
}

static int streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static void copy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static const json_t *condition(const json_t *obj, const char *type)
{
    const json_t *conds = jget(obj, "status", "conditions");
    size_t i;
    const json_t *c;
    json_array_foreach(conds, i, c)
        if (streq(jstr(jget(c, "type")), type))
            return c;
    return NULL;
}

/* The uid of the controlling owner (ownerReferences[controller=true]). */
static const char *controller_uid(const json_t *obj)
{
    const json_t *refs = jget(obj, "metadata", "ownerReferences");
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r)
        if (jtrue(jget(r, "controller")))
            return jstr(jget(r, "uid"));
    return NULL;
}

static int has_owner(const json_t *obj)
{
    return json_array_size(jget(obj, "metadata", "ownerReferences")) > 0;
}

/* Owned by uid; objects without any owner reference are taken as owned
 * (they were listed by the workload's selector). */
static int owned_by(const json_t *obj, const char *uid)
{
    if (!has_owner(obj) || !uid)
        return 1;
    return streq(controller_uid(obj), uid);
}

static const char *label(const json_t *obj, const char *key)
{
    return jstr(jget(obj, "metadata", "labels", key));
}

static const char *pod_uid(const json_t *pod)
{
    const char *uid = jstr(jget(pod, "metadata", "uid"));
    return uid ? uid : jstr(jget(pod, "metadata", "name"));
}

double eval_parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!s)
        return -1;
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++)
            ;
    if (*end != 'Z' || end[1])
        return -1;
    return (double)timegm(&tm);
}

/* ---- image checks ---- */

struct image_check {
    enum image_match m;
    const char *image;   /* the image that decided, or NULL */
    int missing;         /* the named container is not there */
};

static const char *container_image(const json_t *c)
{
    return jstr(jget(c, "image"));
}

/*
 * Which containers decide: with `only`, that one. Otherwise at least one
 * container must match, and no container of the same repository as a
 * matching one may name another commit; sidecars of other repositories
 * are ignored. Without a match, a container naming another commit is
 * reported before one that cannot tell.
 */
static void check_images(const json_t *podspec, const char *sha, const char *only,
                         struct image_check *ic)
{
    const json_t *cs = jget(podspec, "containers");
    size_t i;
    const json_t *c;
    memset(ic, 0, sizeof(*ic));
    ic->m = IMAGE_UNKNOWN;
    if (only) {
        json_array_foreach(cs, i, c)
            if (streq(jstr(jget(c, "name")), only)) {
                ic->image = container_image(c);
                ic->m = sha && ic->image ? image_match_sha(ic->image, sha) : IMAGE_UNKNOWN;
                return;
            }
        ic->missing = 1;
        return;
    }
    ic->image = container_image(json_array_get(cs, 0));
    if (!sha)
        return;
    const char *matched = NULL;
    json_array_foreach(cs, i, c) {
        const char *img = container_image(c);
        if (img && image_match_sha(img, sha) == IMAGE_MATCH) {
            matched = img;
            break;
        }
    }
    if (matched) {
        json_array_foreach(cs, i, c) {
            const char *img = container_image(c);
            if (img && image_same_repo(img, matched) && image_match_sha(img, sha) == IMAGE_OTHER) {
                ic->m = IMAGE_OTHER;
                ic->image = img;
                return;
            }
        }
        ic->m = IMAGE_MATCH;
        ic->image = matched;
        return;
    }
    json_array_foreach(cs, i, c) {
        const char *img = container_image(c);
        if (img && image_match_sha(img, sha) == IMAGE_OTHER) {
            ic->m = IMAGE_OTHER;
            ic->image = img;
            return;
        }
    }
}

static int same_images(const json_t *a, const json_t *b)
{
    const json_t *ca = jget(a, "containers"), *cb = jget(b, "containers");
    if (json_array_size(ca) != json_array_size(cb))
        return 0;
    for (size_t i = 0; i < json_array_size(ca); i++)
        if (!streq(container_image(json_array_get(ca, i)), container_image(json_array_get(cb, i))))
            return 0;
    return 1;
}

/* ---- the evaluation state ---- */

enum pod_role { POD_IGNORE, POD_NEW, POD_OLD };

struct ev {
    const struct eval_input *in;
    struct eval_verdict *out;
    const char *uid;           /* the workload's uid */
    /* Deployment */
    const json_t *new_rs;
    const char *new_rs_uid, *new_hash;
    /* StatefulSet */
    const char *update_rev;
    /* DaemonSet */
    long generation;
    long wrong_image;          /* new pods not running the expected image */
    const char *wrong_pod;
    char note[320];            /* a pod state worth showing while rolling */
};

static void verdict(struct ev *e, enum eval_phase p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void verdict(struct ev *e, enum eval_phase p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->out->reason, sizeof(e->out->reason), fmt, ap);
    va_end(ap);
    e->out->phase = p;
}

/* A rolling verdict, with the pod note appended when there is one. */
static void rolling(struct ev *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rolling(struct ev *e, const char *fmt, ...)
{
    char text[sizeof(e->out->reason)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (e->note[0])
        verdict(e, EVAL_ROLLING, "%s; %s", text, e->note);
    else
        verdict(e, EVAL_ROLLING, "%s", text);
}

static struct eval_failure *add_failure(struct ev *e, const json_t *pod)
{
    if (e->out->nfailures >= EVAL_MAX_FAILURES)
        return NULL;
    struct eval_failure *f = &e->out->failures[e->out->nfailures++];
    memset(f, 0, sizeof(*f));
    f->last_exit_code = -1;
    if (pod)
        copy(f->pod, sizeof(f->pod), jstr(jget(pod, "metadata", "name")));
    return f;
}

static void describe_failure(const struct eval_failure *f, char *dst, size_t n)
{
    struct buf b;
    buf_init(&b, 0);
    if (f->pod[0])
        buf_addf(&b, "pod %s: ", f->pod);
    if (f->container[0])
        buf_addf(&b, "%scontainer %s ", f->init ? "init " : "", f->container);
    buf_adds(&b, f->reason);
    if (f->container[0]) {
        buf_addf(&b, " (%ld restart%s", f->restarts, f->restarts == 1 ? "" : "s");
        if (f->last_reason[0])
            buf_addf(&b, ", last %s", f->last_reason);
        if (f->last_exit_code >= 0)
            buf_addf(&b, " exit %d", f->last_exit_code);
        buf_adds(&b, ")");
    }
    if (f->message[0])
        buf_addf(&b, ": %s", f->message);
    copy(dst, n, b.data);
    buf_release(&b);
}

/* ---- pods that will not get better on their own ---- */

static int in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

static const char *const fail_at_once[] = {
    "CrashLoopBackOff", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "CreateContainerConfigError", "CreateContainerError", NULL,
};
static const char *const fail_after_grace[] = {
    "ErrImagePull", "RegistryUnavailable", "SignatureValidationFailed", "ImageInspectError",
    "RunContainerError", "PreStartHookError", "PostStartHookError", "PreCreateHookError", NULL,
};

/* No durations in notes: a plain-mode line is printed per change, and a
 * ticking counter would be a change every second. */
static void set_note(struct ev *e, const char *pod, const char *what)
{
    if (!e->note[0])
        snprintf(e->note, sizeof(e->note), "pod %s %s", pod, what);
}

/*
 * When the state named by the key (printf-style) was first seen during this
 * wait; now when there is no memo (deploy status looks once).
 */
static double first_seen(const struct ev *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static double first_seen(const struct ev *e, const char *fmt, ...)
{
    if (!e->in->memo)
        return e->in->now;
    char key[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof(key), fmt, ap);
    va_end(ap);
    return eval_memo_first(e->in->memo, key, e->in->now);
}

static void fill_container_failure(struct eval_failure *f, const json_t *cs, int init,
                                   const char *reason, const char *message)
{
    copy(f->container, sizeof(f->container), jstr(jget(cs, "name")));
    f->init = init;
    copy(f->reason, sizeof(f->reason), reason);
    copy(f->message, sizeof(f->message), message);
    f->restarts = jlong(jget(cs, "restartCount"), 0);
    const json_t *last = jget(cs, "lastState", "terminated");
    copy(f->last_reason, sizeof(f->last_reason), jstr(jget(last, "reason")));
    f->last_exit_code = (int)jlong(jget(last, "exitCode"), -1); /* int32 in the API */
    if (!strcmp(reason, "CrashLoopBackOff") || last)
        f->logs = EVAL_LOGS_PREVIOUS;
    else if (jget(cs, "state", "running") || jget(cs, "state", "terminated"))
        f->logs = EVAL_LOGS_CURRENT;
    else
        f->logs = EVAL_LOGS_NONE;
}

/* A container that keeps dying: the previous instance's log says why. */
static void restarting_failure(struct ev *e, const json_t *pod, const json_t *cs, int init,
                               const char *message)
{
    struct eval_failure *f = add_failure(e, pod);
    if (f) {
        fill_container_failure(f, cs, init, "Restarting", message);
        f->logs = EVAL_LOGS_PREVIOUS;
    }
}

static void check_container(struct ev *e, const json_t *pod, const json_t *cs, int init)
{
    const struct eval_input *in = e->in;
    const char *pname = jstr(jget(pod, "metadata", "name"));
    const char *cname = jstr(jget(cs, "name"));
    const json_t *waiting = jget(cs, "state", "waiting");
    const char *reason = jstr(jget(waiting, "reason"));
    const char *message = jstr(jget(waiting, "message"));
    if (in_list(reason, fail_at_once)) {
        struct eval_failure *f = add_failure(e, pod);
        if (f)
            fill_container_failure(f, cs, init, reason, message);
        return;
    }
    if (in_list(reason, fail_after_grace)) {
        double since = first_seen(e, "wait/%s/%s/%s", pod_uid(pod), cname ? cname : "", reason);
        if (in->memo && in->now - since >= in->pull_grace) {
            struct eval_failure *f = add_failure(e, pod);
            if (f) {
                fill_container_failure(f, cs, init, reason, message);
                char extra[64];
                snprintf(extra, sizeof(extra), " (for %ds)", whole_seconds(in->now - since));
                size_t l = strlen(f->reason);
                if (l + strlen(extra) < sizeof(f->reason))
                    snprintf(f->reason + l, sizeof(f->reason) - l, "%s", extra);
            }
            return;
        }
        set_note(e, pname ? pname : "?", reason);
        return;
    }
    if (reason && strcmp(reason, "ContainerCreating") && strcmp(reason, "PodInitializing"))
        set_note(e, pname ? pname : "?", reason);
    long restarts = jlong(jget(cs, "restartCount"), 0);
    /* One look, no history (deploy status): between two crash-loop
     * back-offs a container runs, not Ready, having died moments ago. */
    const json_t *last = jget(cs, "lastState", "terminated");
    double died = eval_parse_time(jstr(jget(last, "finishedAt")));
    if (!in->memo && restarts > 0 && last && !jtrue(jget(cs, "ready")) && died > 0 &&
        in->now - died <= RECENT_CRASH) {
        char msg[96];
        snprintf(msg, sizeof(msg), "not ready; the last instance died %ds ago",
                 whole_seconds(in->now - died));
        restarting_failure(e, pod, cs, init, msg);
        return;
    }
    if (in->memo && in->restart_limit > 0) {
        char key[600];
        snprintf(key, sizeof(key), "restarts/%s/%s", pod_uid(pod), cname ? cname : "");
        double base = eval_memo_first(in->memo, key, (double)restarts);
        if (restarts - (long)base >= in->restart_limit) {
            char msg[96];
            snprintf(msg, sizeof(msg), "restarted %ld times during the wait",
                     restarts - (long)base);
            restarting_failure(e, pod, cs, init, msg);
        }
    }
}

static int pod_ready(const json_t *pod)
{
    return streq(jstr(jget(condition(pod, "Ready"), "status")), "True");
}

static int pod_terminating(const json_t *pod)
{
    return jget(pod, "metadata", "deletionTimestamp") != NULL;
}

static void check_pod(struct ev *e, const json_t *pod)
{
    const struct eval_input *in = e->in;
    const char *pname = jstr(jget(pod, "metadata", "name"));
    const json_t *sched = NULL;
    size_t i;
    const json_t *c;
    json_array_foreach(jget(pod, "status", "conditions"), i, c)
        if (streq(jstr(jget(c, "type")), "PodScheduled"))
            sched = c;
    if (sched && streq(jstr(jget(sched, "status")), "False") &&
        streq(jstr(jget(sched, "reason")), "Unschedulable")) {
        double since = first_seen(e, "unschedulable/%s", pod_uid(pod));
        /* metav1.Time has whole seconds: the transition may have come up
         * to a second after the stamp, so count from the stamp's end. */
        double t = eval_parse_time(jstr(jget(sched, "lastTransitionTime")));
        if (t > 0 && t + 1 <= in->now && t + 1 < since)
            since = t + 1;
        if (in->now - since >= in->unschedulable_grace) {
            struct eval_failure *f = add_failure(e, pod);
            if (f) {
                snprintf(f->reason, sizeof(f->reason), "Unschedulable (for %ds)",
                         whole_seconds(in->now - since));
                copy(f->message, sizeof(f->message), jstr(jget(sched, "message")));
            }
        } else {
            set_note(e, pname ? pname : "?", "unschedulable");
        }
    }
    json_array_foreach(jget(pod, "status", "initContainerStatuses"), i, c)
        check_container(e, pod, c, 1);
    json_array_foreach(jget(pod, "status", "containerStatuses"), i, c)
        check_container(e, pod, c, 0);
    /* Running, no waiting reason, not Ready: a readiness probe failing. Not
     * a failure (the progress deadline decides), but worth saying. */
    if (streq(jstr(jget(pod, "status", "phase")), "Running") && !pod_ready(pod) &&
        !pod_terminating(pod)) {
        double since = first_seen(e, "notready/%s", pod_uid(pod));
        if (!in->memo || in->now - since >= NOT_READY_NOTE)
            set_note(e, pname ? pname : "?", "is running but not Ready");
    }
}


/* Evicted and otherwise finished pods are replaced by their controller. */
static int pod_finished(const json_t *pod)
{
    const char *phase = jstr(jget(pod, "status", "phase"));
    return streq(phase, "Failed") || streq(phase, "Succeeded");
}

static int pod_runs_sha(const struct ev *e, const json_t *pod)
{
    struct image_check ic;
    check_images(jget(pod, "spec"), e->in->sha, e->in->container, &ic);
    return ic.m == IMAGE_MATCH;
}

static enum pod_role role_deployment(const struct ev *e, const json_t *pod)
{
    const char *owner = controller_uid(pod);
    const json_t *rss = e->in->replicasets;
    if (e->new_rs && owner && streq(owner, e->new_rs_uid))
        return POD_NEW;
    if (!has_owner(pod) && e->new_hash && streq(label(pod, "pod-template-hash"), e->new_hash))
        return POD_NEW;
    size_t i;
    const json_t *rs;
    json_array_foreach(rss, i, rs) {
        if (!owned_by(rs, e->uid))
            continue;
        if (owner && streq(owner, jstr(jget(rs, "metadata", "uid"))))
            return e->new_rs ? POD_OLD : (e->in->sha && pod_runs_sha(e, pod) ? POD_NEW : POD_OLD);
        if (!has_owner(pod) &&
            streq(label(pod, "pod-template-hash"), label(rs, "pod-template-hash")))
            return POD_OLD;
    }
    if (!rss && e->in->sha)
        return pod_runs_sha(e, pod) ? POD_NEW : POD_OLD;
    return POD_IGNORE;
}

static enum pod_role role_of(const struct ev *e, const json_t *pod)
{
    switch (e->in->kind) {
    case KUBE_DEPLOYMENT:
        return role_deployment(e, pod);
    case KUBE_STATEFULSET:
        if (!owned_by(pod, e->uid))
            return POD_IGNORE;
        if (e->update_rev)
            return streq(label(pod, "controller-revision-hash"), e->update_rev) ? POD_NEW : POD_OLD;
        return !e->in->sha || pod_runs_sha(e, pod) ? POD_NEW : POD_OLD;
    case KUBE_DAEMONSET:
        if (!owned_by(pod, e->uid))
            return POD_IGNORE;
        if (e->in->sha)
            return pod_runs_sha(e, pod) ? POD_NEW : POD_OLD;
        {
            const char *g = label(pod, "pod-template-generation");
            if (!g)
                return POD_NEW;
            return strtol(g, NULL, 10) == e->generation ? POD_NEW : POD_OLD;
        }
    }
    return POD_IGNORE;
}

/* Counts the pods by role and looks for new pods that fail. */
static void scan_pods(struct ev *e)
{
    size_t i;
    const json_t *pod;
    json_array_foreach(e->in->pods, i, pod) {
        enum pod_role r = role_of(e, pod);
        if (r == POD_IGNORE || pod_finished(pod))
            continue;
        int term = pod_terminating(pod);
        if (term)
            e->out->terminating++;
        if (r == POD_OLD) {
            e->out->old_pods++;
            continue;
        }
        if (term)
            continue;
        e->out->new_pods++;
        if (pod_ready(pod))
            e->out->new_ready++;
        if (e->in->sha && !pod_runs_sha(e, pod)) {
            e->wrong_image++;
            e->wrong_pod = jstr(jget(pod, "metadata", "name"));
        }
        check_pod(e, pod);
    }
}

/* FAILED when a new pod fails; returns 1 when the verdict is set. */
static int pods_failed(struct ev *e)
{
    if (!e->out->nfailures)
        return 0;
    char text[sizeof(e->out->reason)];
    describe_failure(&e->out->failures[0], text, sizeof(text));
    if (e->out->nfailures > 1)
        verdict(e, EVAL_FAILED, "%s (and %zu more)", text, e->out->nfailures - 1);
    else
        verdict(e, EVAL_FAILED, "%s", text);
    return 1;
}

static void workload_failure(struct ev *e, const char *reason, const char *message)
{
    struct eval_failure *f = add_failure(e, NULL);
    if (f) {
        copy(f->reason, sizeof(f->reason), reason);
        copy(f->message, sizeof(f->message), message);
    }
    verdict(e, EVAL_FAILED, "%s: %s", reason, message ? message : "");
}

/* Progressing=False ProgressDeadlineExceeded / ReplicaSetCreateError,
 * ReplicaFailure=True on the workload or the new ReplicaSet. */
static int conditions_failed(struct ev *e)
{
    const json_t *w = e->in->workload;
    const json_t *p = condition(w, "Progressing");
    const char *reason = jstr(jget(p, "reason"));
    if (p && streq(jstr(jget(p, "status")), "False") &&
        (streq(reason, "ProgressDeadlineExceeded") || streq(reason, "ReplicaSetCreateError"))) {
        workload_failure(e, reason, jstr(jget(p, "message")));
        return 1;
    }
    const json_t *objs[] = { w, e->new_rs };
    for (size_t i = 0; i < 2; i++) {
        const json_t *rf = objs[i] ? condition(objs[i], "ReplicaFailure") : NULL;
        if (rf && streq(jstr(jget(rf, "status")), "True")) {
            char what[128];
            snprintf(what, sizeof(what), "ReplicaFailure (%s)",
                     jstr(jget(rf, "reason")) ? jstr(jget(rf, "reason")) : "unknown");
            workload_failure(e, what, jstr(jget(rf, "message")));
            return 1;
        }
    }
    return 0;
}

/* The checks on the pods shared by every kind; 1 when still rolling. */
static int pods_pending(struct ev *e, long need, int old_allowed)
{
    struct eval_verdict *o = e->out;
    if (!e->in->pods) {
        rolling(e, "reading pods");
        return 1;
    }
    if (o->new_ready < need) {
        rolling(e, "%ld of %ld new pods ready", o->new_ready, need);
        return 1;
    }
    if (e->wrong_image) {
        rolling(e, "pod %s does not run the expected image", e->wrong_pod ? e->wrong_pod : "?");
        return 1;
    }
    if (!old_allowed && o->old_pods) {
        rolling(e, "%ld old pod%s still %s", o->old_pods, o->old_pods == 1 ? "" : "s",
                o->terminating ? "terminating" : "running");
        return 1;
    }
    if (o->terminating) {
        rolling(e, "%ld pod%s terminating", o->terminating, o->terminating == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

/* ---- per kind ---- */

static void waiting_for_controller(struct ev *e, long gen, long obs)
{
    verdict(e, EVAL_WAITING_CONTROLLER,
            "waiting for the controller to observe generation %ld (observed %ld)", gen, obs);
}

static void counts_deployment(struct ev *e)
{
    const json_t *w = e->in->workload;
    struct eval_verdict *o = e->out;
    o->desired = jlong(jget(w, "spec", "replicas"), 1);
    o->updated = jlong(jget(w, "status", "updatedReplicas"), 0);
    o->ready = jlong(jget(w, "status", "readyReplicas"), 0);
    o->available = jlong(jget(w, "status", "availableReplicas"), 0);
    copy(o->revision, sizeof(o->revision),
         jstr(jget(w, "metadata", "annotations", "deployment.kubernetes.io/revision")));
}

static long revision_of(const json_t *obj)
{
    const char *r = jstr(jget(obj, "metadata", "annotations", "deployment.kubernetes.io/revision"));
    return r ? strtol(r, NULL, 10) : -1;
}

/* The ReplicaSet of the current template (see eval.h); NULL when none yet. */
static const json_t *find_new_rs(struct ev *e)
{
    const json_t *w = e->in->workload;
    const json_t *tmpl = jget(w, "spec", "template", "spec");
    long rev = revision_of(w);
    const json_t *best = NULL;
    long best_rev = -2;
    size_t i;
    const json_t *rs;
    json_array_foreach(e->in->replicasets, i, rs) {
        if (!owned_by(rs, e->uid))
            continue;
        const json_t *rs_tmpl = jget(rs, "spec", "template", "spec");
        int images = same_images(tmpl, rs_tmpl);
        long r = revision_of(rs);
        if (rev >= 0 && r == rev && (images || !jget(rs_tmpl, "containers")))
            return rs;
        if (images && r > best_rev) {
            best = rs;
            best_rev = r;
        }
    }
    return best;
}

static void eval_deployment(struct ev *e)
{
    const json_t *w = e->in->workload;
    struct eval_verdict *o = e->out;
    long gen = jlong(jget(w, "metadata", "generation"), 0);
    long obs = jlong(jget(w, "status", "observedGeneration"), 0);
    long replicas = jlong(jget(w, "status", "replicas"), 0);

    if (jtrue(jget(w, "spec", "paused"))) {
        verdict(e, EVAL_NEEDS_PERSON, "the deployment is paused; 'kubectl rollout resume' lets it continue");
        return;
    }
    if (gen > obs) {
        waiting_for_controller(e, gen, obs);
        return;
    }
    /* Every check from here on reads the ReplicaSets (which pods are new,
     * the new one's ReplicaFailure): none is made from a stale list. */
    if (e->in->replicasets_stale) {
        o->need_replicasets = 1;
        verdict(e, EVAL_ROLLING, "reading ReplicaSets");
        return;
    }
    e->new_rs = find_new_rs(e);
    if (e->new_rs) {
        e->new_rs_uid = jstr(jget(e->new_rs, "metadata", "uid"));
        e->new_hash = label(e->new_rs, "pod-template-hash");
    }
    scan_pods(e);
    if (pods_failed(e) || conditions_failed(e))
        return;
    if (o->updated < o->desired) {
        rolling(e, "%ld of %ld new replicas updated", o->updated, o->desired);
        return;
    }
    if (replicas > o->updated) {
        rolling(e, "%ld old replica%s pending termination", replicas - o->updated,
                replicas - o->updated == 1 ? "" : "s");
        return;
    }
    if (o->available < o->updated) {
        rolling(e, "%ld of %ld updated replicas available", o->available, o->updated);
        return;
    }
    if (!e->new_rs && o->desired > 0 && e->in->replicasets) {
        rolling(e, "waiting for the new ReplicaSet");
        return;
    }
    if (pods_pending(e, o->desired, 0))
        return;
    verdict(e, EVAL_COMPLETE, "%ld of %ld replicas updated and available", o->available,
            o->desired);
}

static void counts_statefulset(struct ev *e)
{
    const json_t *w = e->in->workload;
    struct eval_verdict *o = e->out;
    o->desired = jlong(jget(w, "spec", "replicas"), 1);
    o->updated = jlong(jget(w, "status", "updatedReplicas"), 0);
    o->ready = jlong(jget(w, "status", "readyReplicas"), 0);
    o->available = jlong(jget(w, "status", "availableReplicas"), o->ready);
    copy(o->revision, sizeof(o->revision), jstr(jget(w, "status", "updateRevision")));
}

static int on_delete(const json_t *w)
{
    return streq(jstr(jget(w, "spec", "updateStrategy", "type")), "OnDelete");
}

/* OnDelete: the controller only replaces pods someone deletes; judge by pods. */
static void eval_on_delete(struct ev *e, const char *kind)
{
    struct eval_verdict *o = e->out;
    if (!e->in->pods) {
        rolling(e, "reading pods");
        return;
    }
    long old_live = o->old_pods - o->terminating;
    if (old_live > 0) {
        verdict(e, EVAL_NEEDS_PERSON,
                "updateStrategy OnDelete: %ld pod%s of this %s still run%s the old revision; "
                "delete %s to roll out",
                old_live, old_live == 1 ? "" : "s", kind, old_live == 1 ? "s" : "",
                old_live == 1 ? "it" : "them");
        return;
    }
    if (pods_pending(e, o->desired, 0))
        return;
    verdict(e, EVAL_COMPLETE, "%ld of %ld pods on the new revision and ready", o->new_ready,
            o->desired);
}

/*
 * StatefulSet and DaemonSet, once the controller is current: scans the
 * pods; a failing new pod or the OnDelete strategy decides. 1 when the
 * verdict is set.
 */
static int pods_decide(struct ev *e)
{
    scan_pods(e);
    if (pods_failed(e))
        return 1;
    if (!on_delete(e->in->workload))
        return 0;
    eval_on_delete(e, kube_kind_name(e->in->kind));
    return 1;
}

static void eval_statefulset(struct ev *e)
{
    const json_t *w = e->in->workload;
    struct eval_verdict *o = e->out;
    long gen = jlong(jget(w, "metadata", "generation"), 0);
    long obs = jlong(jget(w, "status", "observedGeneration"), 0);
    long replicas = jlong(jget(w, "status", "replicas"), 0);
    e->update_rev = jstr(jget(w, "status", "updateRevision"));

    if (obs == 0 || gen > obs) {
        waiting_for_controller(e, gen, obs);
        return;
    }
    if (pods_decide(e))
        return;
    if (o->ready < o->desired) {
        rolling(e, "%ld of %ld pods ready", o->ready, o->desired);
        return;
    }
    const json_t *ru = jget(w, "spec", "updateStrategy", "rollingUpdate");
    long partition = 0;
    if (json_is_object(ru)) {
        partition = jlong(jget(ru, "partition"), 0);
        if (partition < 0)
            partition = 0;
        if (o->updated < o->desired - partition) {
            rolling(e, "%ld of %ld pods updated", o->updated, o->desired - partition);
            return;
        }
    } else {
        const char *cur = jstr(jget(w, "status", "currentRevision"));
        if (!streq(cur, e->update_rev)) {
            rolling(e, "waiting for revision %s to replace %s", e->update_rev ? e->update_rev : "?",
                    cur ? cur : "?");
            return;
        }
    }
    if (replicas > o->desired) {
        rolling(e, "%ld extra pod%s pending termination", replicas - o->desired,
                replicas - o->desired == 1 ? "" : "s");
        return;
    }
    long need = o->desired - partition > 0 ? o->desired - partition : 0;
    if (pods_pending(e, need, partition > 0))
        return;
    if (partition > 0 && partition < o->desired) {
        o->partitioned = 1;
        verdict(e, EVAL_COMPLETE, "partitioned roll out complete: %ld of %ld pods updated (partition %ld)",
                need, o->desired, partition);
        return;
    }
    verdict(e, EVAL_COMPLETE, "%ld of %ld pods updated and ready", o->ready, o->desired);
}

static void counts_daemonset(struct ev *e)
{
    const json_t *w = e->in->workload;
    struct eval_verdict *o = e->out;
    o->desired = jlong(jget(w, "status", "desiredNumberScheduled"), 0);
    o->updated = jlong(jget(w, "status", "updatedNumberScheduled"), 0);
    o->ready = jlong(jget(w, "status", "numberReady"), 0);
    o->available = jlong(jget(w, "status", "numberAvailable"), 0);
    snprintf(o->revision, sizeof(o->revision), "%ld", jlong(jget(w, "metadata", "generation"), 0));
}

static void eval_daemonset(struct ev *e)
{
    const json_t *w = e->in->workload;
    struct eval_verdict *o = e->out;
    long gen = jlong(jget(w, "metadata", "generation"), 0);
    const json_t *obsj = jget(w, "status", "observedGeneration");
    long obs = jlong(obsj, 0);
    e->generation = gen;

    if (!obsj || gen > obs || !jget(w, "status", "desiredNumberScheduled")) {
        waiting_for_controller(e, gen, obs);
        return;
    }
    if (pods_decide(e))
        return;
    if (o->updated < o->desired) {
        rolling(e, "%ld of %ld nodes updated", o->updated, o->desired);
        return;
    }
    if (o->available < o->desired) {
        rolling(e, "%ld of %ld nodes available", o->available, o->desired);
        return;
    }
    if (pods_pending(e, o->desired, 0))
        return;
    verdict(e, EVAL_COMPLETE, "%ld of %ld nodes updated and available", o->available, o->desired);
}

/* ---- entry ---- */

void eval_workload(const struct eval_input *in, struct eval_verdict *out)
{
    struct ev e;
    memset(&e, 0, sizeof(e));
    memset(out, 0, sizeof(*out));
    e.in = in;
    e.out = out;
    e.uid = jstr(jget(in->workload, "metadata", "uid"));
    out->phase = EVAL_ROLLING;
    out->image_match = IMAGE_UNKNOWN;

    switch (in->kind) {
    case KUBE_DEPLOYMENT: counts_deployment(&e); break;
    case KUBE_STATEFULSET: counts_statefulset(&e); break;
    case KUBE_DAEMONSET: counts_daemonset(&e); break;
    }

    struct image_check ic;
    check_images(jget(in->workload, "spec", "template", "spec"), in->sha, in->container, &ic);
    copy(out->image, sizeof(out->image), ic.image);
    if (ic.missing) {
        verdict(&e, EVAL_WAITING_IMAGE, "the pod template has no container named %s",
                in->container);
        return;
    }
    if (in->sha) {
        out->image_match = ic.m;
        if (ic.m != IMAGE_MATCH) {
            if (in->memo && in->memo->matched)
                verdict(&e, EVAL_SUPERSEDED, "the pod template moved on to %s",
                        ic.image ? ic.image : "another image");
            else if (ic.m == IMAGE_OTHER)
                verdict(&e, EVAL_WAITING_IMAGE, "the pod template has %s (another commit)",
                        ic.image);
            else
                verdict(&e, EVAL_WAITING_IMAGE,
                        "the pod template has %s (its tag names no commit)",
                        ic.image ? ic.image : "no image");
            return;
        }
        if (in->memo)
            in->memo->matched = 1;
    }

    switch (in->kind) {
    case KUBE_DEPLOYMENT: eval_deployment(&e); break;
    case KUBE_STATEFULSET: eval_statefulset(&e); break;
    case KUBE_DAEMONSET: eval_daemonset(&e); break;
    }
}

const char *eval_phase_name(enum eval_phase p)
{
    switch (p) {
    case EVAL_WAITING_IMAGE: return "waiting-for-image";
    case EVAL_WAITING_CONTROLLER: return "waiting-for-controller";
    case EVAL_ROLLING: return "rolling";
    case EVAL_COMPLETE: return "complete";
    case EVAL_FAILED: return "failed";
    case EVAL_NEEDS_PERSON: return "needs-person";
    case EVAL_SUPERSEDED: return "superseded";
    }
    return "unknown";
}

const char *kube_kind_name(enum kube_kind k)
{
    switch (k) {
    case KUBE_DEPLOYMENT: return "deployment";
    case KUBE_STATEFULSET: return "statefulset";
    case KUBE_DAEMONSET: return "daemonset";
    }
    return "workload";
}
