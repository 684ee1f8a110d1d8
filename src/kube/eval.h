/*
 * eval: the workload evaluator. From API objects (a Deployment, StatefulSet
 * or DaemonSet, its ReplicaSets, its pods) and the expected commit to a
 * verdict: which phase the rollout is in, why, and which pods fail.
 *
 * The order of the checks is the contract (DESIGN.md "deploy wait"):
 *
 *   1. image: the pod template must reference the sha (kube/image.h);
 *      until then WAITING_IMAGE, or SUPERSEDED when it referenced the sha
 *      earlier in this wait and has moved on to another image;
 *   2. needs a person: a paused Deployment; an OnDelete StatefulSet or
 *      DaemonSet whose pods still run the old revision;
 *   3. generation gate: metadata.generation > status.observedGeneration
 *      means the status describes an older spec: WAITING_CONTROLLER;
 *   4. fail fast: a pod of the new revision stuck in a state that will not
 *      heal (CrashLoopBackOff, ImagePullBackOff, InvalidImageName,
 *      ErrImageNeverPull, CreateContainerConfigError, CreateContainerError
 *      at once; ErrImagePull and other pull/runtime errors after
 *      pull_grace; Unschedulable after unschedulable_grace; restarts rising
 *      by restart_limit during the wait), init containers included; then a
 *      Progressing condition with ProgressDeadlineExceeded or
 *      ReplicaSetCreateError, or ReplicaFailure=True: FAILED;
 *   5. kubectl's rollout-status logic per kind (updated, old replicas,
 *      available; partition and revisions; scheduled and available nodes);
 *   6. the pods themselves: every pod of the new revision Ready and running
 *      the expected image, no pod of an old revision left (terminating
 *      ones included). Only then COMPLETE.
 *
 * eval_workload() is a pure function of its input and the memo: the memo
 * carries what must be remembered between evaluations of one wait (when
 * a pod was first seen in a state, restart counts at the start, whether
 * the template ever matched). With a NULL memo (deploy status) the
 * time-based rules use only what the objects say, and a not-Ready
 * container whose last instance died in the last two minutes counts as
 * failing (one look cannot see a count rise).
 *
 * Strings in the verdict are raw text from the server, cut to fit: escape
 * them before printing.
 */
#ifndef HOMELAB_KUBE_EVAL_H
#define HOMELAB_KUBE_EVAL_H

#include <jansson.h>
#include <stddef.h>

#include "kube/image.h"

enum kube_kind {
    KUBE_DEPLOYMENT,
    KUBE_STATEFULSET,
    KUBE_DAEMONSET,
};

enum eval_phase {
    EVAL_WAITING_IMAGE,      /* the template does not reference the sha yet */
    EVAL_WAITING_CONTROLLER, /* the controller has not observed the spec yet */
    EVAL_ROLLING,            /* in progress */
    EVAL_COMPLETE,           /* rolled out and healthy on the expected image */
    EVAL_FAILED,             /* cannot become healthy without a change */
    EVAL_NEEDS_PERSON,       /* paused, or OnDelete pods to delete */
    EVAL_SUPERSEDED,         /* the template moved on to another image */
};

/* What one evaluation remembers for the next (owned by the caller). */
struct eval_memo {
    struct eval_memo_entry {
        char *key;
        double value;
    } *v;
    size_t n, alloc;
    int matched; /* the template referenced the sha at some point */
};

#define EVAL_MEMO_INIT {0}

/* The value stored under key, storing `value` first when the key is new. */
double eval_memo_first(struct eval_memo *m, const char *key, double value);
void eval_memo_release(struct eval_memo *m);

struct eval_input {
    enum kube_kind kind;
    const json_t *workload;      /* the object (borrowed) */
    const json_t *replicasets;   /* Deployment: array of its ReplicaSets, or NULL */
    int replicasets_stale;       /* Deployment: `replicasets` may predate the object
                                    (kube_workload_rss_stale()); see need_replicasets */
    const json_t *pods;          /* array of the workload's pods, or NULL when unread */
    const char *sha;             /* expected commit (7-40 hex); NULL = no image check */
    const char *container;       /* restrict the image check to this container, or NULL */
    double now;                  /* wall-clock unix seconds */
    double unschedulable_grace;  /* seconds (60) */
    double pull_grace;           /* ErrImagePull and similar, seconds (30) */
    int restart_limit;           /* restarts during the wait that fail a pod (2); 0 = off */
    struct eval_memo *memo;      /* NULL = no history */
};

/* Sets the defaults above; the caller fills kind, objects and sha. */
void eval_input_init(struct eval_input *in);

enum eval_logs {
    EVAL_LOGS_NONE,     /* never ran: no log to show */
    EVAL_LOGS_CURRENT,  /* the running (or last) instance */
    EVAL_LOGS_PREVIOUS, /* crash loop: the instance that died */
};

struct eval_failure {
    char pod[254];
    char container[64];     /* empty for pod-level failures (Unschedulable) */
    int init;               /* an init container */
    char reason[64];        /* CrashLoopBackOff, Unschedulable, ProgressDeadlineExceeded… */
    char message[512];
    long restarts;
    char last_reason[64];   /* lastState.terminated.reason: OOMKilled, Error… */
    int last_exit_code;     /* lastState.terminated.exitCode, -1 when none */
    enum eval_logs logs;
};

#define EVAL_MAX_FAILURES 8

struct eval_verdict {
    enum eval_phase phase;
    char reason[640];        /* one line: why this phase */
    char image[512];         /* the template image that decided the image check */
    enum image_match image_match;
    char revision[128];      /* Deployment revision, StatefulSet updateRevision, DaemonSet generation */
    long desired;            /* spec.replicas / desiredNumberScheduled */
    long updated;            /* updatedReplicas / updatedNumberScheduled */
    long ready;              /* readyReplicas / numberReady */
    long available;          /* availableReplicas / numberAvailable */
    long new_pods, new_ready;/* pods of the new revision, and how many are Ready */
    long old_pods;           /* pods of older revisions, terminating included */
    long terminating;        /* pods with a deletionTimestamp */
    int partitioned;         /* StatefulSet: complete up to a partition */
    /* The evaluation stopped where a Deployment's ReplicaSets would decide
     * (image matched, not paused, status observed) because the input said
     * they were stale: nothing was decided from them and the memo is as it
     * was. Read them and evaluate again; until then the phase is ROLLING
     * with the reason "reading ReplicaSets". */
    int need_replicasets;
    size_t nfailures;
    struct eval_failure failures[EVAL_MAX_FAILURES];
};

void eval_workload(const struct eval_input *in, struct eval_verdict *out);

/* "waiting-for-image", "waiting-for-controller", "rolling", "complete",
 * "failed", "needs-person", "superseded". */
const char *eval_phase_name(enum eval_phase p);
/* "deployment", "statefulset", "daemonset". */
const char *kube_kind_name(enum kube_kind k);

/* Parses an RFC 3339 UTC time ("2026-11-26T17:02:11Z"); -1 when malformed. */
double eval_parse_time(const char *s);

#endif
