/*
 * Unit tests for kube/workload: when a Deployment's ReplicaSets must be
 * read again (kube_workload_rss_stale()), on objects built from small JSON
 * fixtures (single quotes stand for double quotes). No kubectl runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json_fixture.h"

#include "kube/workload.h"

static json_t *deployment(const char *uid, long gen, long obs, long revision, long updated)
{
    return Jf("{'kind':'Deployment','metadata':{'name':'web','namespace':'apps','uid':'%s',"
              "'generation':%ld,'annotations':{'deployment.kubernetes.io/revision':'%ld'}},"
              "'spec':{'replicas':3,'selector':{'matchLabels':{'app':'web'}}},"
              "'status':{'observedGeneration':%ld,'replicas':3,'updatedReplicas':%ld}}",
              uid, gen, revision, obs, updated);
}

static json_t *rs_list(const char *uids)
{
    json_t *arr = json_array();
    char *copy = strdup(uids), *save = NULL;
    for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save))
        json_array_append_new(arr, Jf("{'metadata':{'name':'web-%s','uid':'%s'}}", u, u));
    free(copy);
    return arr;
}

/* A pod whose controller is `kind` `uid` (NULL: no owner at all). */
static json_t *pod(const char *name, const char *kind, const char *uid)
{
    if (!kind)
        return Jf("{'metadata':{'name':'%s','labels':{'app':'web'}}}", name);
    return Jf("{'metadata':{'name':'%s','labels':{'app':'web'},"
              "'ownerReferences':[{'kind':'%s','uid':'%s','controller':true}]}}",
              name, kind, uid);
}

static void set_object(struct kube_workload *w, json_t *obj)
{
    json_decref(w->object);
    w->object = obj;
}

static void set_rss(struct kube_workload *w, const char *uids)
{
    json_t *items = rs_list(uids);
    kube_workload_set_rss(w, items);
    json_decref(items);
}

static void add_pod(struct kube_workload *w, json_t *p)
{
    struct kube_event ev = { .type = KUBE_ADDED, .object = p };
    kube_workload_pod_event(w, &ev);
    kube_workload_pods_rebuild(w);
    json_decref(p);
}

static void init(struct kube_workload *w, const char *target)
{
    struct kube_target t;
    struct kube_client kc;
    struct err e;
    err_clear(&e);
    assert_int_equal(kube_parse_target(target, &t, &e), 0);
    kube_client_init(&kc, "kubectl", NULL);
    kube_workload_init(w, &t, &kc);
    kube_workload_set_pods(w, NULL);
}

static void test_rss__other_kinds_never_stale(void **state)
{
    (void)state;
    struct kube_workload w;
    init(&w, "statefulset/apps/db");
    assert_false(kube_workload_rss_stale(&w));
    kube_workload_release(&w);
}

/* What the deployment controller changes when the ReplicaSets change
 * (observedGeneration, revision) asks for a read; the rest does not. */
static void test_rss__deployment_changes(void **state)
{
    (void)state;
    struct kube_workload w;
    init(&w, "apps/web");
    set_object(&w, deployment("u1", 7, 7, 4, 3));
    assert_true(kube_workload_rss_stale(&w)); /* never read */
    set_rss(&w, "rs-a,rs-b");
    assert_false(kube_workload_rss_stale(&w));

    set_object(&w, deployment("u1", 7, 7, 4, 1)); /* status counts */
    assert_false(kube_workload_rss_stale(&w));
    set_object(&w, deployment("u1", 8, 7, 4, 1)); /* a spec change, not yet observed */
    assert_false(kube_workload_rss_stale(&w));
    set_object(&w, deployment("u1", 8, 8, 4, 1)); /* observed (a scale) */
    assert_true(kube_workload_rss_stale(&w));
    set_rss(&w, "rs-a,rs-b");
    assert_false(kube_workload_rss_stale(&w));

    set_object(&w, deployment("u1", 8, 8, 5, 1)); /* a new or rolled-back ReplicaSet */
    assert_true(kube_workload_rss_stale(&w));
    set_rss(&w, "rs-a,rs-b,rs-c");
    assert_false(kube_workload_rss_stale(&w));

    set_object(&w, deployment("u2", 8, 8, 5, 1)); /* deleted and created again */
    assert_true(kube_workload_rss_stale(&w));
    set_rss(&w, "rs-d");
    json_t *no_status = deployment("u2", 8, 8, 5, 1);
    json_object_del(no_status, "status");
    set_object(&w, no_status);
    assert_true(kube_workload_rss_stale(&w));
    kube_workload_release(&w);
}

/* A pod of a ReplicaSet the last read did not list asks for a read, once:
 * one the next read does not list either (gone) is not asked about again. */
static void test_rss__pods_of_unknown_replicasets(void **state)
{
    (void)state;
    struct kube_workload w;
    init(&w, "apps/web");
    set_object(&w, deployment("u1", 7, 7, 4, 3));
    set_rss(&w, "rs-a");
    add_pod(&w, pod("web-a-1", "ReplicaSet", "rs-a"));
    add_pod(&w, pod("web-x-1", NULL, NULL));
    add_pod(&w, pod("web-j-1", "Job", "job-1"));
    assert_false(kube_workload_rss_stale(&w));

    add_pod(&w, pod("web-b-1", "ReplicaSet", "rs-b"));
    assert_true(kube_workload_rss_stale(&w));
    set_rss(&w, "rs-a,rs-b");
    assert_false(kube_workload_rss_stale(&w));

    add_pod(&w, pod("web-z-1", "ReplicaSet", "rs-gone"));
    assert_true(kube_workload_rss_stale(&w));
    set_rss(&w, "rs-a,rs-b");
    assert_false(kube_workload_rss_stale(&w));
    add_pod(&w, pod("web-z-2", "ReplicaSet", "rs-gone"));
    assert_false(kube_workload_rss_stale(&w));
    add_pod(&w, pod("web-c-1", "ReplicaSet", "rs-c"));
    assert_true(kube_workload_rss_stale(&w));
    kube_workload_release(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss__other_kinds_never_stale),
        cmocka_unit_test(test_rss__deployment_changes),
        cmocka_unit_test(test_rss__pods_of_unknown_replicasets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
