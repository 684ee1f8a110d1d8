/*
 * workload: the API side of `deploy`: paths in the workload's namespace,
 * list reads by its selector, and the pod cache. Pods are keyed by name:
 * names are unique in a namespace at any moment, so a pod that reappears
 * under its old name (a StatefulSet's db-0) replaces the one before it
 * even when no DELETED event was seen for that one.
 */
#include "kube/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kube_workload_init(struct kube_workload *w, const struct kube_target *t,
                        const struct kube_client *kc)
{
    memset(w, 0, sizeof(*w));
    w->t = *t;
    w->kc = *kc;
    w->pod_cache = json_object();
    w->rss_orphans = json_object();
}

void kube_workload_release(struct kube_workload *w)
{
    json_decref(w->object);
    json_decref(w->rss);
    json_decref(w->pods);
    json_decref(w->pod_cache);
    json_decref(w->rss_orphans);
    free(w->rss_key);
    w->object = w->rss = w->pods = w->pod_cache = w->rss_orphans = NULL;
    w->rss_key = NULL;
}

/* GROUP/namespaces/NS/RESOURCE in the workload's namespace. */
static void namespaced_path(const struct kube_workload *w, const char *group,
                            const char *resource, struct buf *out)
{
    buf_addf(out, "%s/namespaces/", group);
    kube_escape(out, w->t.ns);
    buf_addf(out, "/%s", resource);
}

/* labelSelector=... for the workload's pods; nothing when it has no labels. */
static void pod_selector(const struct kube_workload *w, struct buf *out)
{
    struct buf sel;
    buf_init(&sel, 0);
    kube_label_selector(json_object_get(json_object_get(w->object, "spec"), "selector"), &sel);
    if (sel.len)
        buf_addf(out, "labelSelector=%s", sel.data);
    buf_release(&sel);
}

/* Lists `resource` under `group` in the workload's namespace, by its selector. */
static int read_list(struct kube_workload *w, const char *group, const char *resource,
                     json_t **items, struct err *e)
{
    struct buf path, sel;
    buf_init(&path, 0);
    buf_init(&sel, 0);
    namespaced_path(w, group, resource, &path);
    pod_selector(w, &sel);
    if (sel.len)
        buf_addf(&path, "?%s", sel.data);
    buf_release(&sel);
    json_t *list = NULL;
    int rc = kube_get_json(&w->kc, path.data, &list, e);
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

int kube_workload_read_pods(struct kube_workload *w, struct err *e)
{
    json_t *items = NULL;
    if (read_list(w, "/api/v1", "pods", &items, e) < 0)
        return -1;
    kube_workload_set_pods(w, items);
    json_decref(items);
    return 0;
}

int kube_workload_read_rss(struct kube_workload *w, struct err *e)
{
    if (w->t.kind != KUBE_DEPLOYMENT)
        return 0;
    json_t *items = NULL;
    if (read_list(w, "/apis/apps/v1", "replicasets", &items, e) < 0)
        return -1;
    kube_workload_set_rss(w, items);
    json_decref(items);
    return 0;
}

/* ---- when the ReplicaSets must be read again ---- */

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
    const json_t *v = json_object_get(json_object_get(obj, a), b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "uid observedGeneration revision" of the Deployment (see workload.h). */
static char *rss_key(const json_t *obj)
{
    const json_t *obs = json_object_get(json_object_get(obj, "status"), "observedGeneration");
    const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    const json_t *rev = json_object_get(ann, "deployment.kubernetes.io/revision");
    const char *uid = str_at(obj, "metadata", "uid");
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "%s %" JSON_INTEGER_FORMAT " %s", uid ? uid : "-",
             json_is_integer(obs) ? json_integer_value(obs) : (json_int_t)-1,
             json_is_string(rev) ? json_string_value(rev) : "-");
    return buf_detach(&b);
}

/* The uid of a pod's controller when that is a ReplicaSet, else NULL. */
static const char *pod_rs_uid(const json_t *pod)
{
    const json_t *refs = json_object_get(json_object_get(pod, "metadata"), "ownerReferences");
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r) {
        if (!json_is_true(json_object_get(r, "controller")))
            continue;
        const json_t *kind = json_object_get(r, "kind");
        const json_t *uid = json_object_get(r, "uid");
        if (json_is_string(kind) && !strcmp(json_string_value(kind), "ReplicaSet") &&
            json_is_string(uid))
            return json_string_value(uid);
        return NULL;
    }
    return NULL;
}

static int rss_has_uid(const json_t *rss, const char *uid)
{
    size_t i;
    const json_t *rs;
    json_array_foreach(rss, i, rs) {
        const char *u = str_at(rs, "metadata", "uid");
        if (u && !strcmp(u, uid))
            return 1;
    }
    return 0;
}

/* A pod whose ReplicaSet neither the list nor its orphans know. */
static int pod_rs_unknown(const struct kube_workload *w)
{
    size_t i;
    const json_t *pod;
    json_array_foreach(w->pods, i, pod) {
        const char *uid = pod_rs_uid(pod);
        if (uid && !rss_has_uid(w->rss, uid) && !json_object_get(w->rss_orphans, uid))
            return 1;
    }
    return 0;
}

void kube_workload_set_rss(struct kube_workload *w, const json_t *items)
{
    json_decref(w->rss);
    w->rss = json_incref((json_t *)items);
    free(w->rss_key);
    w->rss_key = rss_key(w->object);
    /* Pods of a ReplicaSet that is gone (or never matched the selector)
     * would otherwise ask for a read at every evaluation. */
    json_object_clear(w->rss_orphans);
    size_t i;
    const json_t *pod;
    json_array_foreach(w->pods, i, pod) {
        const char *uid = pod_rs_uid(pod);
        if (uid && !rss_has_uid(w->rss, uid))
            json_object_set_new(w->rss_orphans, uid, json_true());
    }
}

int kube_workload_rss_stale(const struct kube_workload *w)
{
    if (w->t.kind != KUBE_DEPLOYMENT)
        return 0;
    if (!w->rss || !w->rss_key)
        return 1;
    char *key = rss_key(w->object);
    int changed = strcmp(key, w->rss_key) != 0;
    free(key);
    return changed || pod_rs_unknown(w);
}

int kube_workload_get(struct kube_workload *w, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    kube_collection_path(&w->t, &path);
    buf_addc(&path, '/');
    kube_escape(&path, w->t.name);
    json_t *obj = NULL;
    int rc = kube_get_json(&w->kc, path.data, &obj, e);
    buf_release(&path);
    if (rc == 0) {
        json_decref(w->object);
        w->object = obj;
    }
    return rc;
}

int kube_workload_log(const struct kube_workload *w, const char *pod, const char *container,
                      int lines, int previous, struct buf *out, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    namespaced_path(w, "/api/v1", "pods/", &path);
    kube_escape(&path, pod);
    buf_adds(&path, "/log?container=");
    kube_escape(&path, container);
    buf_addf(&path, "&tailLines=%d%s", lines, previous ? "&previous=true" : "");
    int rc = kube_get_raw(&w->kc, path.data, out, e);
    buf_release(&path);
    return rc;
}

/* ---- watching ---- */

void kube_workload_watch(const struct kube_workload *w, struct kube_watch *ww)
{
    struct buf coll, sel;
    buf_init(&coll, 0);
    buf_init(&sel, 0);
    kube_collection_path(&w->t, &coll);
    kube_name_selector(&sel, w->t.name);
    kube_watch_init(ww, &w->kc, coll.data, sel.data);
    buf_release(&coll);
    buf_release(&sel);
}

void kube_workload_pod_watch(const struct kube_workload *w, struct kube_watch *pw)
{
    struct buf coll, sel;
    buf_init(&coll, 0);
    buf_init(&sel, 0);
    namespaced_path(w, "/api/v1", "pods", &coll);
    pod_selector(w, &sel);
    kube_watch_init(pw, &w->kc, coll.data, sel.data);
    buf_release(&coll);
    buf_release(&sel);
}

void kube_workload_take_item(struct kube_workload *w, const json_t *items)
{
    json_decref(w->object);
    w->object = json_incref(kube_find_item(items, w->t.name));
}

int kube_workload_event(struct kube_workload *w, const struct kube_event *ev, int *deleted)
{
    json_t *obj = ev->object;
    switch (ev->type) {
    case KUBE_RELISTED:
        obj = kube_find_item(ev->object, w->t.name);
        /* fall through */
    case KUBE_ADDED:
    case KUBE_MODIFIED:
        if (!obj) {
            *deleted = 1;
            return 1;
        }
        json_decref(w->object);
        w->object = json_incref(obj);
        return 1;
    case KUBE_DELETED:
        *deleted = 1;
        return 1;
    default:
        return 0;
    }
}

/* ---- the pod cache ---- */

static const char *pod_key(const json_t *pod)
{
    return json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
}

static void pods_replace(struct kube_workload *w, const json_t *items)
{
    json_object_clear(w->pod_cache);
    size_t i;
    json_t *pod;
    json_array_foreach(items, i, pod)
        if (pod_key(pod))
            json_object_set(w->pod_cache, pod_key(pod), pod);
}

void kube_workload_set_pods(struct kube_workload *w, const json_t *items)
{
    pods_replace(w, items);
    kube_workload_pods_rebuild(w);
}

int kube_workload_pod_event(struct kube_workload *w, const struct kube_event *ev)
{
    const char *key = ev->object ? pod_key(ev->object) : NULL;
    switch (ev->type) {
    case KUBE_RELISTED:
        pods_replace(w, ev->object);
        return 1;
    case KUBE_ADDED:
    case KUBE_MODIFIED:
        if (!key)
            return 0;
        json_object_set(w->pod_cache, key, ev->object);
        return 1;
    case KUBE_DELETED:
        if (key)
            json_object_del(w->pod_cache, key);
        return 1;
    default:
        return 0;
    }
}

void kube_workload_pods_rebuild(struct kube_workload *w)
{
    json_t *arr = json_array();
    const char *k;
    json_t *pod;
    json_object_foreach(w->pod_cache, k, pod)
        json_array_append(arr, pod);
    json_decref(w->pods);
    w->pods = arr;
}
