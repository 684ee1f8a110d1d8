/*
 * workload: one workload and what belongs to it, as read from the API:
 * the object, its ReplicaSets (a Deployment's), its pods, and a
 * container's log. `deploy wait` and `deploy status` keep one of these;
 * the verbs own flags, rendering and exit codes, this module the API
 * paths, the list reads and the pod cache the pod watch keeps.
 *
 * JSON held here is owned by the struct (released by
 * kube_workload_release()); pointers handed out are borrowed.
 */
#ifndef HOMELAB_KUBE_WORKLOAD_H
#define HOMELAB_KUBE_WORKLOAD_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "kube/transport.h"

struct kube_workload {
    struct kube_client kc;
    struct kube_target t;
    json_t *object;    /* the latest workload object, or NULL */
    json_t *rss;       /* its ReplicaSets (Deployment only), or NULL */
    json_t *pods;      /* its pods, an array in name order */
    json_t *pod_cache; /* name -> pod, kept by kube_workload_pod_event() */
    /* What w->rss was read against (kube_workload_rss_stale()): */
    char *rss_key;     /* the Deployment's uid, observedGeneration, revision */
    json_t *rss_orphans; /* uid -> true: pods' ReplicaSets the read did not list */
};

void kube_workload_init(struct kube_workload *w, const struct kube_target *t,
                        const struct kube_client *kc);
void kube_workload_release(struct kube_workload *w);

/* GET the object itself into w->object: kubectl's own NotFound when gone. */
int kube_workload_get(struct kube_workload *w, struct err *e);
/* LIST its pods (by the workload's selector) into w->pods and the cache. */
int kube_workload_read_pods(struct kube_workload *w, struct err *e);
/* LIST its ReplicaSets into w->rss; does nothing for other kinds. */
int kube_workload_read_rss(struct kube_workload *w, struct err *e);
/* Takes `items` (a ReplicaSet list's items) as read now, against w->object
 * and w->pods as they are (what kube_workload_read_rss() does after the read). */
void kube_workload_set_rss(struct kube_workload *w, const json_t *items);
/*
 * Whether w->rss may no longer hold what the evaluator needs of the
 * Deployment's ReplicaSets: which one is the current template's (uid,
 * revision, images), which ones own which pods, and the new one's
 * ReplicaFailure. 1 when never read, when the Deployment's uid,
 * status.observedGeneration or deployment.kubernetes.io/revision differ
 * from what they were at the read, or when a pod's controller is a
 * ReplicaSet the read did not list and had no pod of then. The deployment
 * controller creates or re-numbers a ReplicaSet (a new template, a
 * rollback) before it writes the revision and observedGeneration that
 * describe it, and mirrors a ReplicaSet's ReplicaFailure into the
 * Deployment's own conditions, so a list read after the Deployment
 * showed those values holds the ReplicaSets they describe; other
 * Deployment changes (status counts, conditions, generation alone) do
 * not change them. 0 for other kinds.
 */
int kube_workload_rss_stale(const struct kube_workload *w);
/*
 * GET the last `lines` lines of a container's log (`previous`: of the
 * instance before, for a crash loop) into out, raw.
 */
int kube_workload_log(const struct kube_workload *w, const char *pod, const char *container,
                      int lines, int previous, struct buf *out, struct err *e);

/* ---- watching ---- */

/* The watch on the workload by name; kube_watch_release() it. */
void kube_workload_watch(const struct kube_workload *w, struct kube_watch *ww);
/* The watch on its pods by the workload's selector (needs w->object). */
void kube_workload_pod_watch(const struct kube_workload *w, struct kube_watch *pw);
/* Takes the object from a list of the workload's collection (NULL when absent). */
void kube_workload_take_item(struct kube_workload *w, const json_t *items);
/*
 * A workload watch event: returns 1 when the object changed, setting
 * *deleted when it is gone.
 */
int kube_workload_event(struct kube_workload *w, const struct kube_event *ev, int *deleted);
/* Replaces the pods with `items` (a list's items array). */
void kube_workload_set_pods(struct kube_workload *w, const json_t *items);
/*
 * A pod watch event into the cache; returns 1 when it changed. Call
 * kube_workload_pods_rebuild() after a batch of events to refresh w->pods.
 */
int kube_workload_pod_event(struct kube_workload *w, const struct kube_event *ev);
void kube_workload_pods_rebuild(struct kube_workload *w);

#endif
