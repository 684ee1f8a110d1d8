/*
 * Unit tests for kube/eval: the workload evaluator, on API objects built
 * from small JSON fixtures (single quotes stand for double quotes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json_fixture.h"

#include "kube/eval.h"

#define SHA "3f9c2e1a7b4d5e6f708192a3b4c5d6e7f8091a2b"
#define NEW_IMAGE "registry.lan:5000/web:sha-3f9c2e1"
#define OLD_IMAGE "registry.lan:5000/web:sha-0a1b2c3"
#define NOW 1800000000.0 /* 2027-01-15T08:00:00Z */
#define DEP_UID "dep-uid"

/* ---- fixtures ---- */

/* Sets a value at a dotted path, creating objects on the way; steals v. */
static void set(json_t *o, const char *path, json_t *v)
{
    char *copy = strdup(path), *save = NULL;
    char *key = strtok_r(copy, ".", &save), *next;
    while ((next = strtok_r(NULL, ".", &save))) {
        json_t *child = json_object_get(o, key);
        if (!child) {
            child = json_object();
            json_object_set_new(o, key, child);
        }
        o = child;
        key = next;
    }
    json_object_set_new(o, key, v);
    free(copy);
}

static json_t *deployment(const char *image, long gen, long obs, long replicas, long updated,
                          long ready, long available, long status_replicas, long revision)
{
    return Jf("{'kind':'Deployment','metadata':{'name':'web','namespace':'apps','uid':'" DEP_UID "',"
              "'generation':%ld,'annotations':{'deployment.kubernetes.io/revision':'%ld'}},"
              "'spec':{'replicas':%ld,'progressDeadlineSeconds':600,"
              "'selector':{'matchLabels':{'app':'web'}},"
              "'template':{'metadata':{'labels':{'app':'web'}},"
              "'spec':{'containers':[{'name':'web','image':'%s'},"
              "{'name':'proxy','image':'envoyproxy/envoy:v1.30.1'}]}}},"
              "'status':{'observedGeneration':%ld,'replicas':%ld,'updatedReplicas':%ld,"
              "'readyReplicas':%ld,'availableReplicas':%ld,"
              "'conditions':[{'type':'Available','status':'True','reason':'MinimumReplicasAvailable'},"
              "{'type':'Progressing','status':'True','reason':'ReplicaSetUpdated'}]}}",
              gen, revision, replicas, image, obs, status_replicas, updated, ready, available);
}

static json_t *replicaset(const char *hash, long revision, const char *image)
{
    return Jf("{'kind':'ReplicaSet','metadata':{'name':'web-%s','uid':'rs-%s',"
              "'labels':{'app':'web','pod-template-hash':'%s'},"
              "'annotations':{'deployment.kubernetes.io/revision':'%ld'},"
              "'ownerReferences':[{'kind':'Deployment','name':'web','uid':'" DEP_UID "','controller':true}]},"
              "'spec':{'template':{'spec':{'containers':[{'name':'web','image':'%s'},"
              "{'name':'proxy','image':'envoyproxy/envoy:v1.30.1'}]}}}}",
              hash, hash, hash, revision, image);
}

static json_t *pod(const char *name, const char *owner_uid, const char *image, int ready)
{
    return Jf("{'kind':'Pod','metadata':{'name':'%s','uid':'uid-%s','labels':{'app':'web'},"
              "'ownerReferences':[{'kind':'ReplicaSet','uid':'%s','controller':true}]},"
              "'spec':{'containers':[{'name':'web','image':'%s'},"
              "{'name':'proxy','image':'envoyproxy/envoy:v1.30.1'}]},"
              "'status':{'phase':'Running','conditions':[{'type':'PodScheduled','status':'True'},"
              "{'type':'Ready','status':'%s'}],"
              "'containerStatuses':[{'name':'web','ready':%s,'restartCount':0,'state':{'running':{}}},"
              "{'name':'proxy','ready':true,'restartCount':0,'state':{'running':{}}}]}}",
              name, name, owner_uid, image, ready ? "True" : "False", ready ? "true" : "false");
}

/* Replaces the web container's status. */
static void web_status(json_t *p, const char *status_json)
{
    json_array_set_new(json_object_get(json_object_get(p, "status"), "containerStatuses"), 0,
                       J(status_json));
}

struct world {
    json_t *workload, *rss, *pods;
    struct eval_input in;
    struct eval_memo memo;
    struct eval_verdict v;
};

static void world_init(struct world *w, enum kube_kind kind, json_t *workload)
{
    memset(w, 0, sizeof(*w));
    w->workload = workload;
    w->rss = json_array();
    w->pods = json_array();
    eval_input_init(&w->in);
    w->in.kind = kind;
    w->in.sha = SHA;
    w->in.now = NOW;
    w->in.memo = &w->memo;
}

static const struct eval_verdict *evaluate(struct world *w)
{
    w->in.workload = w->workload;
    w->in.replicasets = w->in.kind == KUBE_DEPLOYMENT ? w->rss : NULL;
    w->in.pods = w->pods;
    eval_workload(&w->in, &w->v);
    return &w->v;
}

static void world_release(struct world *w)
{
    json_decref(w->workload);
    json_decref(w->rss);
    json_decref(w->pods);
    eval_memo_release(&w->memo);
}

#define assert_phase(v, p)                                                                  \
    do {                                                                                    \
        if ((v)->phase != (p))                                                              \
            fail_msg("phase %s, want %s (%s)", eval_phase_name((v)->phase),                 \
                     eval_phase_name(p), (v)->reason);                                      \
    } while (0)
#define assert_reason(v, s)                                                                 \
    do {                                                                                    \
        if (!strstr((v)->reason, (s)))                                                      \
            fail_msg("reason '%s' lacks '%s'", (v)->reason, (s));                           \
    } while (0)

/* A finished rollout of NEW_IMAGE: 3 new pods, the old RS scaled to 0. */
static void complete_world(struct world *w)
{
    world_init(w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 3, 3, 3, 3, 5));
    json_array_append_new(w->rss, replicaset("old111", 4, OLD_IMAGE));
    json_array_append_new(w->rss, replicaset("new222", 5, NEW_IMAGE));
    json_array_append_new(w->pods, pod("web-new222-a", "rs-new222", NEW_IMAGE, 1));
    json_array_append_new(w->pods, pod("web-new222-b", "rs-new222", NEW_IMAGE, 1));
    json_array_append_new(w->pods, pod("web-new222-c", "rs-new222", NEW_IMAGE, 1));
}

/* ---- Deployment ---- */

static void test_deploy__complete(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    assert_reason(v, "3 of 3 replicas updated and available");
    assert_int_equal(v->image_match, IMAGE_MATCH);
    assert_string_equal(v->image, NEW_IMAGE);
    assert_string_equal(v->revision, "5");
    assert_int_equal(v->new_pods, 3);
    assert_int_equal(v->new_ready, 3);
    assert_int_equal(v->old_pods, 0);
    assert_true(w.memo.matched);
    world_release(&w);
}

static void test_deploy__waiting_for_image(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(OLD_IMAGE, 7, 7, 3, 3, 3, 3, 3, 4));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_IMAGE);
    assert_int_equal(v->image_match, IMAGE_OTHER);
    assert_reason(v, OLD_IMAGE " (another commit)");
    world_release(&w);

    world_init(&w, KUBE_DEPLOYMENT, deployment("registry.lan:5000/web:latest", 7, 7, 3, 3, 3, 3, 3, 4));
    v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_IMAGE);
    assert_int_equal(v->image_match, IMAGE_UNKNOWN);
    assert_reason(v, "tag names no commit");
    world_release(&w);
}

/* The old rollout is complete in status, the template is new, the
 * controller has not observed it: kubectl's generation gate. */
static void test_deploy__stale_status(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 7, 3, 3, 3, 3, 3, 4));
    set(w.workload, "status.conditions",
        J("[{'type':'Progressing','status':'True','reason':'NewReplicaSetAvailable'}]"));
    json_array_append_new(w.rss, replicaset("old111", 4, OLD_IMAGE));
    json_array_append_new(w.pods, pod("web-old111-a", "rs-old111", OLD_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_CONTROLLER);
    assert_reason(v, "generation 8 (observed 7)");
    world_release(&w);
}

/* Observed, but the new RS has no pods yet and the old ones still serve. */
static void test_deploy__rolling(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 1, 3, 3, 4, 5));
    json_array_append_new(w.rss, replicaset("old111", 4, OLD_IMAGE));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_array_append_new(w.pods, pod("web-old111-a", "rs-old111", OLD_IMAGE, 1));
    json_array_append_new(w.pods, pod("web-old111-b", "rs-old111", OLD_IMAGE, 1));
    json_array_append_new(w.pods, pod("web-old111-c", "rs-old111", OLD_IMAGE, 1));
    json_array_append_new(w.pods, pod("web-new222-a", "rs-new222", NEW_IMAGE, 0));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "1 of 3 new replicas updated");
    assert_int_equal(v->old_pods, 3);
    assert_int_equal(v->new_pods, 1);
    world_release(&w);
}

/* status says done, yet an old pod is still in its grace period. */
static void test_deploy__old_pods_terminating(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    json_t *old = pod("web-old111-a", "rs-old111", OLD_IMAGE, 0);
    set(old, "metadata.deletionTimestamp", json_string("2027-01-15T07:59:50Z"));
    json_array_append_new(w.pods, old);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "1 old pod still terminating");
    assert_int_equal(v->terminating, 1);
    world_release(&w);
}

static void test_deploy__new_pod_not_ready(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    set(json_array_get(w.pods, 1), "status.conditions",
        J("[{'type':'Ready','status':'False'}]"));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "2 of 3 new pods ready");
    world_release(&w);
}

static void test_deploy__crash_loop(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 1, 3, 3, 4, 5));
    json_array_append_new(w.rss, replicaset("old111", 4, OLD_IMAGE));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_t *p = pod("web-new222-x", "rs-new222", NEW_IMAGE, 0);
    web_status(p, "{'name':'web','ready':false,'restartCount':4,"
                  "'state':{'waiting':{'reason':'CrashLoopBackOff','message':'back-off 1m20s restarting failed container'}},"
                  "'lastState':{'terminated':{'reason':'OOMKilled','exitCode':137}}}");
    json_array_append_new(w.pods, p);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_int_equal(v->nfailures, 1);
    const struct eval_failure *f = &v->failures[0];
    assert_string_equal(f->pod, "web-new222-x");
    assert_string_equal(f->container, "web");
    assert_string_equal(f->reason, "CrashLoopBackOff");
    assert_string_equal(f->message, "back-off 1m20s restarting failed container");
    assert_int_equal(f->restarts, 4);
    assert_string_equal(f->last_reason, "OOMKilled");
    assert_int_equal(f->last_exit_code, 137);
    assert_int_equal(f->logs, EVAL_LOGS_PREVIOUS);
    assert_false(f->init);
    assert_reason(v, "pod web-new222-x: container web CrashLoopBackOff (4 restarts, last OOMKilled exit 137)");
    world_release(&w);
}

/* A crash-looping pod of the old ReplicaSet is not this rollout's problem. */
static void test_deploy__old_pod_crash_ignored(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 2, 1, 1, 1, 2, 5));
    json_array_append_new(w.rss, replicaset("old111", 4, OLD_IMAGE));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_t *p = pod("web-old111-a", "rs-old111", OLD_IMAGE, 0);
    web_status(p, "{'name':'web','restartCount':9,'state':{'waiting':{'reason':'CrashLoopBackOff'}}}");
    json_array_append_new(w.pods, p);
    json_array_append_new(w.pods, pod("web-new222-a", "rs-new222", NEW_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_int_equal(v->nfailures, 0);
    world_release(&w);
}

static void test_deploy__init_container_crash(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 1, 1, 0, 0, 2, 5));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_t *p = pod("web-new222-a", "rs-new222", NEW_IMAGE, 0);
    set(p, "status.initContainerStatuses",
        J("[{'name':'migrate','restartCount':3,'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
          "'lastState':{'terminated':{'reason':'Error','exitCode':1}}}]"));
    web_status(p, "{'name':'web','restartCount':0,'state':{'waiting':{'reason':'PodInitializing'}}}");
    json_array_append_new(w.pods, p);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_true(v->failures[0].init);
    assert_string_equal(v->failures[0].container, "migrate");
    assert_reason(v, "init container migrate CrashLoopBackOff");
    world_release(&w);
}

static void test_deploy__image_pull(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 1, 1, 1, 1, 2, 5));
    json_array_append_new(w.rss, replicaset("old111", 4, OLD_IMAGE));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_array_append_new(w.pods, pod("web-old111-a", "rs-old111", OLD_IMAGE, 1));
    json_t *p = pod("web-new222-a", "rs-new222", NEW_IMAGE, 0);
    web_status(p, "{'name':'web','restartCount':0,'state':{'waiting':{'reason':'ErrImagePull',"
                  "'message':'rpc error: manifest unknown'}}}");
    json_array_append_new(w.pods, p);

    const struct eval_verdict *v = evaluate(&w); /* first seen now */
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "pod web-new222-a ErrImagePull");
    w.in.now = NOW + 20;
    v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "pod web-new222-a ErrImagePull");
    w.in.now = NOW + 31;
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "ErrImagePull (for 31s)");
    assert_int_equal(v->failures[0].logs, EVAL_LOGS_NONE);

    /* the kubelet's back-off state fails at once */
    web_status(p, "{'name':'web','restartCount':0,'state':{'waiting':{'reason':'ImagePullBackOff',"
                  "'message':'Back-off pulling image'}}}");
    eval_memo_release(&w.memo);
    w.in.now = NOW;
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "ImagePullBackOff");
    world_release(&w);
}

static void test_deploy__config_error_fails_at_once(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    set(w.workload, "status.availableReplicas", json_integer(2));
    web_status(json_array_get(w.pods, 2),
               "{'name':'web','restartCount':0,'state':{'waiting':{'reason':'CreateContainerConfigError',"
               "'message':'secret \\'db\\' not found'}}}");
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "CreateContainerConfigError");
    assert_string_equal(v->failures[0].message, "secret \"db\" not found");
    world_release(&w);
}

static void test_deploy__unschedulable(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 1, 1, 1, 1, 2, 5));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_t *p = pod("web-new222-a", "rs-new222", NEW_IMAGE, 0);
    set(p, "status.phase", json_string("Pending"));
    set(p, "status.conditions",
        J("[{'type':'PodScheduled','status':'False','reason':'Unschedulable',"
          "'message':'0/3 nodes are available: 3 Insufficient memory.',"
          "'lastTransitionTime':'2027-01-15T07:59:50Z'}]"));
    json_object_del(json_object_get(p, "status"), "containerStatuses");
    json_array_append_new(w.pods, p);

    const struct eval_verdict *v = evaluate(&w); /* 9-10 s into a 60 s grace */
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "pod web-new222-a unschedulable");
    w.in.now = NOW + 50.5;
    v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING); /* the stamp has whole seconds: not yet */
    w.in.now = NOW + 51;
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "Unschedulable (for 60s)");
    assert_reason(v, "Insufficient memory");
    assert_string_equal(v->failures[0].container, "");

    /* a shorter --unschedulable-grace */
    w.in.now = NOW;
    w.in.unschedulable_grace = 5;
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    world_release(&w);
}

static void test_deploy__deadline_exceeded(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 1, 3, 3, 4, 5));
    set(w.workload, "status.conditions",
        J("[{'type':'Progressing','status':'False','reason':'ProgressDeadlineExceeded',"
          "'message':'ReplicaSet \\'web-new222\\' has timed out progressing.'}]"));
    json_array_append_new(w.rss, replicaset("new222", 5, NEW_IMAGE));
    json_array_append_new(w.pods, pod("web-new222-a", "rs-new222", NEW_IMAGE, 0));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_reason(v, "ProgressDeadlineExceeded: ReplicaSet \"web-new222\" has timed out progressing.");
    assert_string_equal(v->failures[0].pod, "");
    world_release(&w);
}

static void test_deploy__replica_failure(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 0, 3, 3, 3, 5));
    json_t *rs = replicaset("new222", 5, NEW_IMAGE);
    set(rs, "status.conditions",
        J("[{'type':'ReplicaFailure','status':'True','reason':'FailedCreate',"
          "'message':'pods \\'web-new222-x\\' is forbidden: exceeded quota: compute'}]"));
    json_array_append_new(w.rss, rs);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_reason(v, "ReplicaFailure (FailedCreate): pods \"web-new222-x\" is forbidden: exceeded quota");
    world_release(&w);

    /* the same, copied onto the Deployment */
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 0, 3, 3, 3, 5));
    set(w.workload, "status.conditions",
        J("[{'type':'ReplicaFailure','status':'True','reason':'FailedCreate','message':'quota'}]"));
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    world_release(&w);
}

static void test_deploy__paused(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 0, 3, 3, 3, 4));
    set(w.workload, "spec.paused", json_true());
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_NEEDS_PERSON);
    assert_reason(v, "paused");
    world_release(&w);
}

/*
 * ReplicaSets that may predate the Deployment (deploy wait reads them only
 * when they may have changed): the evaluation stops where they would
 * decide, remembering nothing, and asks for them; the phases decided
 * before that point (image, paused, generation) never ask.
 */
static void test_deploy__stale_replicasets(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    /* a newer ReplicaSet with the same images that the list lacks: a
     * stale list would count the previous ReplicaSet's pods as new */
    set(w.workload, "metadata.annotations", J("{'deployment.kubernetes.io/revision':'6'}"));
    json_array_append_new(w.pods, pod("web-new333-a", "rs-new333", NEW_IMAGE, 0));
    w.in.replicasets_stale = 1;
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_true(v->need_replicasets);
    assert_reason(v, "reading ReplicaSets");
    assert_int_equal(w.memo.n, 0);
    /* the fresh list: the new ReplicaSet decides */
    json_array_append_new(w.rss, replicaset("new333", 6, NEW_IMAGE));
    w.in.replicasets_stale = 0;
    v = evaluate(&w);
    assert_false(v->need_replicasets);
    assert_phase(v, EVAL_ROLLING);
    assert_int_equal(v->new_pods, 1);
    assert_int_equal(v->old_pods, 3);
    world_release(&w);

    world_init(&w, KUBE_DEPLOYMENT, deployment(OLD_IMAGE, 7, 7, 3, 3, 3, 3, 3, 4));
    w.in.replicasets_stale = 1;
    v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_IMAGE);
    assert_false(v->need_replicasets);
    world_release(&w);

    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 7, 3, 3, 3, 3, 3, 4));
    w.in.replicasets_stale = 1;
    v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_CONTROLLER);
    assert_false(v->need_replicasets);
    set(w.workload, "spec.paused", json_true());
    v = evaluate(&w);
    assert_phase(v, EVAL_NEEDS_PERSON);
    assert_false(v->need_replicasets);
    world_release(&w);
}

static void test_deploy__superseded(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, KUBE_DEPLOYMENT, deployment(NEW_IMAGE, 8, 8, 3, 1, 3, 3, 4, 5));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    json_decref(w.workload);
    w.workload = deployment("registry.lan:5000/web:sha-9999aaa", 9, 8, 3, 1, 3, 3, 4, 5);
    v = evaluate(&w);
    assert_phase(v, EVAL_SUPERSEDED);
    assert_reason(v, "moved on to registry.lan:5000/web:sha-9999aaa");
    world_release(&w);
}

/* Running between back-offs, but restarting: fails once restarts rise. */
static void test_deploy__restarts_during_wait(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    json_t *p = json_array_get(w.pods, 0);
    web_status(p, "{'name':'web','restartCount':1,'state':{'running':{}},"
                  "'lastState':{'terminated':{'reason':'Error','exitCode':2}}}");
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    web_status(p, "{'name':'web','restartCount':3,'state':{'running':{}},"
                  "'lastState':{'terminated':{'reason':'Error','exitCode':2}}}");
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "Restarting");
    assert_string_equal(v->failures[0].message, "restarted 2 times during the wait");
    assert_int_equal(v->failures[0].logs, EVAL_LOGS_PREVIOUS);
    world_release(&w);
}

/* deploy status has no history: a container that died moments ago and is
 * not Ready is failing; one that died long ago and is Ready is not. */
static void test_deploy__status_recent_crash(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    w.in.memo = NULL;
    set(w.workload, "status.availableReplicas", json_integer(2));
    json_t *p = json_array_get(w.pods, 0);
    set(p, "status.conditions", J("[{'type':'Ready','status':'False'}]"));
    web_status(p, "{'name':'web','ready':false,'restartCount':1,'state':{'running':{}},"
                  "'lastState':{'terminated':{'reason':'Error','exitCode':1,"
                  "'finishedAt':'2027-01-15T07:59:57Z'}}}");
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "Restarting");
    assert_string_equal(v->failures[0].message, "not ready; the last instance died 3s ago");
    web_status(p, "{'name':'web','ready':true,'restartCount':7,'state':{'running':{}},"
                  "'lastState':{'terminated':{'reason':'Error','exitCode':1,"
                  "'finishedAt':'2026-12-01T00:00:00Z'}}}");
    set(p, "status.conditions", J("[{'type':'Ready','status':'True'}]"));
    set(w.workload, "status.availableReplicas", json_integer(3));
    v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    world_release(&w);
}

static void test_deploy__evicted_pod_ignored(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    json_t *p = pod("web-new222-z", "rs-new222", NEW_IMAGE, 0);
    set(p, "status.phase", json_string("Failed"));
    set(p, "status.reason", json_string("Evicted"));
    json_array_append_new(w.pods, p);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    world_release(&w);
}

static void test_deploy__container_filter(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    w.in.container = "proxy"; /* envoy's tag names no commit */
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_IMAGE);
    assert_string_equal(v->image, "envoyproxy/envoy:v1.30.1");
    w.in.container = "nope";
    v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_IMAGE);
    assert_reason(v, "no container named nope");
    w.in.container = "web";
    v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    world_release(&w);
}

/* A second container of the same repository on another commit conflicts. */
static void test_deploy__same_repo_conflict(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    json_t *cs = json_object_get(
        json_object_get(json_object_get(json_object_get(w.workload, "spec"), "template"), "spec"),
        "containers");
    json_array_append_new(cs, J("{'name':'worker','image':'" OLD_IMAGE "'}"));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_IMAGE);
    assert_string_equal(v->image, OLD_IMAGE);
    world_release(&w);
}

/* deploy status outside a repository: no sha, judge the rollout alone. */
static void test_deploy__no_sha(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    w.in.sha = NULL;
    w.in.memo = NULL;
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    assert_string_equal(v->image, NEW_IMAGE);
    world_release(&w);
}

static void test_deploy__old_rs_pods_pending(void **state)
{
    (void)state;
    struct world w;
    complete_world(&w);
    set(w.workload, "status.replicas", json_integer(4));
    json_array_append_new(w.pods, pod("web-old111-a", "rs-old111", OLD_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "1 old replica pending termination");
    world_release(&w);
}

/* ---- StatefulSet ---- */

static json_t *statefulset(const char *image, long gen, long obs, long replicas, long ready,
                           long updated, const char *cur, const char *upd, const char *strategy)
{
    return Jf("{'kind':'StatefulSet','metadata':{'name':'db','namespace':'apps','uid':'sts-uid',"
              "'generation':%ld},'spec':{'replicas':%ld,%s"
              "'template':{'spec':{'containers':[{'name':'db','image':'%s'}]}}},"
              "'status':{'observedGeneration':%ld,'replicas':%ld,'readyReplicas':%ld,"
              "'currentReplicas':%ld,'updatedReplicas':%ld,'currentRevision':'%s','updateRevision':'%s'}}",
              gen, replicas, strategy, image, obs, replicas, ready, replicas - updated, updated, cur,
              upd);
}

static json_t *sts_pod(const char *name, const char *rev, const char *image, int ready)
{
    json_t *p = pod(name, "sts-uid", image, ready);
    set(p, "metadata.labels.controller-revision-hash", json_string(rev));
    json_array_remove(json_object_get(json_object_get(p, "spec"), "containers"), 1);
    return p;
}

static void test_sts__complete_and_rolling(void **state)
{
    (void)state;
    struct world w;
    const char *ru = "'updateStrategy':{'type':'RollingUpdate','rollingUpdate':{'partition':0}},";
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 3, 3, 3, "db-new", "db-new", ru));
    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof(n), "db-%d", i);
        json_array_append_new(w.pods, sts_pod(n, "db-new", NEW_IMAGE, 1));
    }
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    assert_string_equal(v->revision, "db-new");
    world_release(&w);

    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 3, 3, 1, "db-old", "db-new", ru));
    json_array_append_new(w.pods, sts_pod("db-0", "db-old", OLD_IMAGE, 1));
    json_array_append_new(w.pods, sts_pod("db-1", "db-old", OLD_IMAGE, 1));
    json_array_append_new(w.pods, sts_pod("db-2", "db-new", NEW_IMAGE, 1));
    v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "1 of 3 pods updated");
    world_release(&w);

    /* generation not observed yet */
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 5, 4, 3, 3, 3, "db-old", "db-old", ru));
    v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_CONTROLLER);
    world_release(&w);
}

static void test_sts__partition(void **state)
{
    (void)state;
    struct world w;
    const char *ru = "'updateStrategy':{'type':'RollingUpdate','rollingUpdate':{'partition':2}},";
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 3, 3, 1, "db-old", "db-new", ru));
    json_array_append_new(w.pods, sts_pod("db-0", "db-old", OLD_IMAGE, 1));
    json_array_append_new(w.pods, sts_pod("db-1", "db-old", OLD_IMAGE, 1));
    json_array_append_new(w.pods, sts_pod("db-2", "db-new", NEW_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    assert_true(v->partitioned);
    assert_reason(v, "partitioned roll out complete: 1 of 3 pods updated (partition 2)");
    world_release(&w);

    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 3, 3, 0, "db-old", "db-new", ru));
    v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "0 of 1 pods updated");
    world_release(&w);
}

/* RollingUpdate without a rollingUpdate block: revisions decide. */
static void test_sts__revisions(void **state)
{
    (void)state;
    struct world w;
    const char *ru = "'updateStrategy':{'type':'RollingUpdate'},";
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 2, 2, 2, "db-old", "db-new", ru));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "waiting for revision db-new to replace db-old");
    world_release(&w);
}

static void test_sts__on_delete(void **state)
{
    (void)state;
    struct world w;
    const char *od = "'updateStrategy':{'type':'OnDelete'},";
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 2, 2, 0, "db-old", "db-new", od));
    json_array_append_new(w.pods, sts_pod("db-0", "db-old", OLD_IMAGE, 1));
    json_array_append_new(w.pods, sts_pod("db-1", "db-old", OLD_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_NEEDS_PERSON);
    assert_reason(v, "OnDelete: 2 pods of this statefulset still run the old revision");
    world_release(&w);

    /* pods replaced by hand: currentRevision lags, pods decide */
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 2, 2, 2, "db-old", "db-new", od));
    json_array_append_new(w.pods, sts_pod("db-0", "db-new", NEW_IMAGE, 1));
    json_array_append_new(w.pods, sts_pod("db-1", "db-new", NEW_IMAGE, 1));
    v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    world_release(&w);
}

static void test_sts__broken_pod_fails(void **state)
{
    (void)state;
    struct world w;
    const char *ru = "'updateStrategy':{'type':'RollingUpdate','rollingUpdate':{'partition':0}},";
    world_init(&w, KUBE_STATEFULSET, statefulset(NEW_IMAGE, 4, 4, 2, 1, 1, "db-old", "db-new", ru));
    json_array_append_new(w.pods, sts_pod("db-0", "db-old", OLD_IMAGE, 1));
    json_t *p = sts_pod("db-1", "db-new", NEW_IMAGE, 0);
    web_status(p, "{'name':'db','restartCount':2,'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
                  "'lastState':{'terminated':{'reason':'Error','exitCode':1}}}");
    json_array_append_new(w.pods, p);
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].pod, "db-1");
    world_release(&w);
}

/* ---- DaemonSet ---- */

static json_t *daemonset(const char *image, long gen, long obs, long desired, long updated,
                         long available, const char *strategy)
{
    return Jf("{'kind':'DaemonSet','metadata':{'name':'agent','namespace':'kube-system','uid':'ds-uid',"
              "'generation':%ld},'spec':{%s"
              "'template':{'spec':{'containers':[{'name':'agent','image':'%s'}]}}},"
              "'status':{'observedGeneration':%ld,'desiredNumberScheduled':%ld,"
              "'currentNumberScheduled':%ld,'updatedNumberScheduled':%ld,'numberReady':%ld,"
              "'numberAvailable':%ld}}",
              gen, strategy, image, obs, desired, desired, updated, available, available);
}

static json_t *ds_pod(const char *name, const char *image, int ready)
{
    json_t *p = pod(name, "ds-uid", image, ready);
    json_array_remove(json_object_get(json_object_get(p, "spec"), "containers"), 1);
    return p;
}

static void test_ds__rollout(void **state)
{
    (void)state;
    struct world w;
    const char *ru = "'updateStrategy':{'type':'RollingUpdate'},";
    world_init(&w, KUBE_DAEMONSET, daemonset(NEW_IMAGE, 3, 3, 3, 2, 2, ru));
    json_array_append_new(w.pods, ds_pod("agent-a", NEW_IMAGE, 1));
    json_array_append_new(w.pods, ds_pod("agent-b", NEW_IMAGE, 1));
    json_array_append_new(w.pods, ds_pod("agent-c", OLD_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_ROLLING);
    assert_reason(v, "2 of 3 nodes updated");
    assert_int_equal(v->old_pods, 1);
    world_release(&w);

    world_init(&w, KUBE_DAEMONSET, daemonset(NEW_IMAGE, 3, 3, 3, 3, 3, ru));
    json_array_append_new(w.pods, ds_pod("agent-a", NEW_IMAGE, 1));
    json_array_append_new(w.pods, ds_pod("agent-b", NEW_IMAGE, 1));
    json_array_append_new(w.pods, ds_pod("agent-c", NEW_IMAGE, 1));
    v = evaluate(&w);
    assert_phase(v, EVAL_COMPLETE);
    assert_reason(v, "3 of 3 nodes updated and available");
    world_release(&w);

    world_init(&w, KUBE_DAEMONSET, daemonset(NEW_IMAGE, 4, 3, 3, 3, 3, ru));
    v = evaluate(&w);
    assert_phase(v, EVAL_WAITING_CONTROLLER);
    world_release(&w);
}

static void test_ds__on_delete_and_crash(void **state)
{
    (void)state;
    struct world w;
    const char *od = "'updateStrategy':{'type':'OnDelete'},";
    world_init(&w, KUBE_DAEMONSET, daemonset(NEW_IMAGE, 3, 3, 2, 0, 2, od));
    json_array_append_new(w.pods, ds_pod("agent-a", OLD_IMAGE, 1));
    json_array_append_new(w.pods, ds_pod("agent-b", OLD_IMAGE, 1));
    const struct eval_verdict *v = evaluate(&w);
    assert_phase(v, EVAL_NEEDS_PERSON);
    world_release(&w);

    world_init(&w, KUBE_DAEMONSET,
               daemonset(NEW_IMAGE, 3, 3, 2, 1, 1, "'updateStrategy':{'type':'RollingUpdate'},"));
    json_array_append_new(w.pods, ds_pod("agent-a", OLD_IMAGE, 1));
    json_t *p = ds_pod("agent-b", NEW_IMAGE, 0);
    web_status(p, "{'name':'agent','restartCount':0,'state':{'waiting':{'reason':'InvalidImageName'}}}");
    json_array_append_new(w.pods, p);
    v = evaluate(&w);
    assert_phase(v, EVAL_FAILED);
    assert_string_equal(v->failures[0].reason, "InvalidImageName");
    world_release(&w);
}

/* ---- helpers ---- */

static void test_eval__parse_time(void **state)
{
    (void)state;
    assert_true(eval_parse_time("2027-01-15T08:00:00Z") == NOW);
    assert_true(eval_parse_time("2027-01-15T08:00:00.123456Z") == NOW);
    assert_true(eval_parse_time("2027-01-15T08:00:00+01:00") < 0);
    assert_true(eval_parse_time("yesterday") < 0);
    assert_true(eval_parse_time(NULL) < 0);
}

static void test_eval__memo(void **state)
{
    (void)state;
    struct eval_memo m = EVAL_MEMO_INIT;
    assert_true(eval_memo_first(&m, "a", 1) == 1);
    assert_true(eval_memo_first(&m, "a", 5) == 1);
    for (int i = 0; i < 40; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        eval_memo_first(&m, k, i);
    }
    assert_true(eval_memo_first(&m, "k39", 0) == 39);
    eval_memo_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deploy__complete),
        cmocka_unit_test(test_deploy__waiting_for_image),
        cmocka_unit_test(test_deploy__stale_status),
        cmocka_unit_test(test_deploy__rolling),
        cmocka_unit_test(test_deploy__old_pods_terminating),
        cmocka_unit_test(test_deploy__new_pod_not_ready),
        cmocka_unit_test(test_deploy__crash_loop),
        cmocka_unit_test(test_deploy__old_pod_crash_ignored),
        cmocka_unit_test(test_deploy__init_container_crash),
        cmocka_unit_test(test_deploy__image_pull),
        cmocka_unit_test(test_deploy__config_error_fails_at_once),
        cmocka_unit_test(test_deploy__unschedulable),
        cmocka_unit_test(test_deploy__deadline_exceeded),
        cmocka_unit_test(test_deploy__replica_failure),
        cmocka_unit_test(test_deploy__paused),
        cmocka_unit_test(test_deploy__stale_replicasets),
        cmocka_unit_test(test_deploy__superseded),
        cmocka_unit_test(test_deploy__restarts_during_wait),
        cmocka_unit_test(test_deploy__status_recent_crash),
        cmocka_unit_test(test_deploy__evicted_pod_ignored),
        cmocka_unit_test(test_deploy__container_filter),
        cmocka_unit_test(test_deploy__same_repo_conflict),
        cmocka_unit_test(test_deploy__no_sha),
        cmocka_unit_test(test_deploy__old_rs_pods_pending),
        cmocka_unit_test(test_sts__complete_and_rolling),
        cmocka_unit_test(test_sts__partition),
        cmocka_unit_test(test_sts__revisions),
        cmocka_unit_test(test_sts__on_delete),
        cmocka_unit_test(test_sts__broken_pod_fails),
        cmocka_unit_test(test_ds__rollout),
        cmocka_unit_test(test_ds__on_delete_and_crash),
        cmocka_unit_test(test_eval__parse_time),
        cmocka_unit_test(test_eval__memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
