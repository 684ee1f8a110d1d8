#!/usr/bin/env python3
"""A fake Kubernetes API server with a simulated rollout controller.

homelab's `deploy wait` and `deploy status` reach Kubernetes only through
`kubectl get --raw`, so the tests run the real kubectl against this server.
It answers the API paths those commands use: objects, lists and watches of
Deployments, StatefulSets, DaemonSets, ReplicaSets, ControllerRevisions,
Pods, Events and Namespaces, and pod logs. Status codes, `Status` error
bodies, query parameters and chunked watch framing follow a real apiserver
(reference: kubernetes-rollout.md, sections 1 and 8).

Behind the API sits a small simulation rather than canned replies. A
scenario file (JSON) describes the workloads and a timeline of actions
(set_image, scale, delete a pod ...). A controller loop then does, one step
at a time, what the deployment, replicaset, statefulset and daemonset
controllers and the kubelet would do: create the new ReplicaSet or
revision, start pods (Pending -> ContainerCreating -> Running/Ready, or
crash-looping, failing to pull ...), terminate old ones, and keep status
fields and conditions the way the real controllers compute them. Every
change is a new object version under one global, increasing
resourceVersion, so GETs, LISTs and WATCHes see one consistent history.

Faults (401/403/5xx/429 with Retry-After, resets, stalls, empty or truncated
bodies, dropped, ended or expired watches) are scripted in the scenario or
added at run time through the control API under /__fake/ (JSON, no token).
The control API also runs actions now and reports the request log and the
simulation's state, including when each rollout completed or first showed
a failure, for benchmarks that measure detection latency.

Usage:
  kube.py --cert PEM --key KEY --ca CA.pem --scenario FILE.json
          --port-file FILE --kubeconfig OUT [--request-log FILE] [--token T]
          [--control-port-file FILE]

The scenario format and the control API are documented in
tests/fakes/README.md ("Kubernetes"). Python 3 standard library only;
listens on 127.0.0.1 only.
"""
import argparse
import collections
import copy
import hashlib
import heapq
import itertools
import json
import math
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

from fakehttp import (FakeServer, FaultRules, RequestLog, TlsHandler, listen_control, listen_tls,
                      rst_close, write_atomic, write_port_file)

DEFAULT_TOKEN = "kube-test-token-s3cr3t"

# Simulation timing, overridable per scenario under "settings". Real clusters
# take seconds to minutes; the fake compresses that so a rollout ends in a
# few seconds but every intermediate state is still visible to a poller.
DEFAULT_SETTINGS = {
    "step": 0.2,               # controller sync interval
    "pod_step": 0.3,           # scheduling, sandbox and readiness each take this long
    "terminate_seconds": 1.0,  # how long a deleted pod stays Terminating
    "backoff": 1.0,            # first crash / image-pull back-off, doubling up to 8x
    "crash_after": 0.6,        # how long a crash-looping container runs
    "bookmark_interval": 2.0,  # BOOKMARK period for watches that allow them
    "watch_window": 100000,    # events kept for watches; older RVs get 410
    "watch_max_seconds": 1800,  # a watch without timeoutSeconds ends after this
    "first_resource_version": 1000,
    "server_version": "1.30.1",
    "nodes": ["node-1", "node-2", "node-3"],
    "seed": 1,
}

BEHAVIOURS = ("ok", "crashloop", "imagepull", "invalidimage", "configerror",
              "unschedulable", "notready", "deadline", "replicafailure")

# Waiting reasons that mean "this pod will not get better by itself";
# used only for the first_failure mark.
FAILURE_REASONS = ("CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff",
                   "InvalidImageName", "CreateContainerConfigError")


# ---------------------------------------------------------------- helpers

def rfc3339(t):
    """metav1.Time: UTC, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def rfc3339_nano(t):
    """The timestamp kubelet puts in front of log lines with timestamps=true."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)


def go_duration(seconds):
    """Formats like Go's time.Duration.String() for whole seconds: 10s, 1m20s, 5m0s."""
    m, s = divmod(int(seconds), 60)
    return "%dm%ds" % (m, s) if m else "%ds" % s


SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text):
    """apimachinery's rand.SafeEncodeString: maps bytes onto a vowel-free alphabet."""
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in text)


def fnv32a(data):
    h = 0x811c9dc5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def template_hash(template, collision_count=0):
    """pod-template-hash / controller-revision-hash, shaped like ComputeHash's:
    FNV-32a printed in decimal and safe-encoded ("7c9d6b5f8d"). Real clusters
    hash Go's object dump, so the values differ, but they derive from the
    template the same way: same template, same hash."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")) + str(collision_count)
    return safe_encode(str(fnv32a(data.encode())))


def resolve_intstr(value, total, round_up):
    """IntOrString for maxSurge/maxUnavailable: "25%" of total, or an int."""
    if isinstance(value, str) and value.endswith("%"):
        scaled = total * int(value[:-1]) / 100.0
        return int(math.ceil(scaled) if round_up else math.floor(scaled))
    return int(value)


def omit_zero(d):
    """Go's omitempty for the integer status fields that carry it."""
    return {k: v for k, v in d.items() if v not in (0, None, "", [], {})}


def short_sha(sha):
    return sha[:7]


class Ids:
    """Deterministic uids, name suffixes and container ids (seeded per scenario)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def uid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s-%s" % (h[:8], h[8:12], h[13:16], "8" + h[17:20], h[20:])

    def suffix(self, n=5):
        return "".join(self.rng.choice(SAFE_ALPHABET) for _ in range(n))


def digest(*parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


# ---------------------------------------------------------------- selectors

def split_selector(text):
    """Splits on commas outside parentheses ("a=b,c in (x,y)")."""
    terms, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        cur += ch
    if cur.strip():
        terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


LABEL_KEY = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
LABEL_EQ = re.compile(r"^(%s)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$" % LABEL_KEY)
LABEL_SET = re.compile(r"^(%s)\s+(in|notin)\s*\(([^)]*)\)$" % LABEL_KEY)
LABEL_EXISTS = re.compile(r"^(!?)\s*(%s)$" % LABEL_KEY)


def parse_label_selector(text):
    """Returns a predicate over a labels dict; raises ValueError like the apiserver."""
    preds = []
    for term in split_selector(text or ""):
        m = LABEL_EQ.match(term)
        if m:
            k, op, v = m.groups()
            if op == "!=":
                preds.append(lambda l, k=k, v=v: l.get(k) != v)
            else:
                preds.append(lambda l, k=k, v=v: l.get(k) == v)
            continue
        m = LABEL_SET.match(term)
        if m:
            k, op, vals = m.groups()
            vs = {x.strip() for x in vals.split(",") if x.strip()}
            if op == "in":
                preds.append(lambda l, k=k, vs=vs: l.get(k) in vs)
            else:
                preds.append(lambda l, k=k, vs=vs: l.get(k) not in vs)
            continue
        m = LABEL_EXISTS.match(term)
        if m:
            neg, k = m.groups()
            preds.append(lambda l, k=k, neg=neg: (k in l) != bool(neg))
            continue
        raise ValueError("unable to parse requirement: found '%s', expected: "
                         "'=', '!=', '==', 'in', notin'" % term)
    return lambda labels: all(p(labels or {}) for p in preds)


def field_value(obj, field):
    cur = obj
    for part in field.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part, "")
    return "" if cur is None else str(cur)


def parse_field_selector(text, resource):
    """metadata.name / metadata.namespace for everything, plus the pod and
    event fields the apiserver indexes; anything else is a 400, as real."""
    preds = []
    for term in split_selector(text or ""):
        m = re.match(r"^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$", term)
        if not m:
            raise ValueError("invalid selector: '%s'; can't understand '%s'" % (text, term))
        field, op, want = m.groups()
        if not resource.field_supported(field):
            raise ValueError('field label not supported: %s' % field)
        if op == "!=":
            preds.append(lambda o, f=field, w=want: field_value(o, f) != w)
        else:
            preds.append(lambda o, f=field, w=want: field_value(o, f) == w)
    return lambda obj: all(p(obj) for p in preds)


# ---------------------------------------------------------------- API resources

class Resource:
    """One served resource: where it lives and how it is spelled."""

    def __init__(self, gv, plural, kind, namespaced, short_names, extra_fields=()):
        self.gv, self.plural, self.kind = gv, plural, kind
        self.namespaced, self.short_names = namespaced, short_names
        self.extra_fields = extra_fields

    @property
    def group(self):
        return self.gv.split("/")[0] if "/" in self.gv else ""

    @property
    def qualified(self):
        """How NotFound messages name it: deployments.apps, pods."""
        return self.plural + ("." + self.group if self.group else "")

    def field_supported(self, field):
        return field in ("metadata.name", "metadata.namespace") or \
            any(field == f or (f.endswith(".") and field.startswith(f)) for f in self.extra_fields)

    def zero_object(self):
        """What a BOOKMARK carries: the kind's zero value with only the RV set,
        so a naive client that evaluates it sees 0 replicas."""
        spec = {
            "Deployment": {"selector": None, "template": {"metadata": {"creationTimestamp": None},
                                                          "spec": {"containers": None}},
                           "strategy": {}},
            "StatefulSet": {"selector": None, "template": {"metadata": {"creationTimestamp": None},
                                                           "spec": {"containers": None}},
                            "serviceName": "", "updateStrategy": {}},
            "DaemonSet": {"selector": None, "template": {"metadata": {"creationTimestamp": None},
                                                         "spec": {"containers": None}},
                          "updateStrategy": {}},
            "ReplicaSet": {"selector": None, "template": {"metadata": {"creationTimestamp": None},
                                                          "spec": {"containers": None}}},
            "Pod": {"containers": None},
        }.get(self.kind)
        obj = {"kind": self.kind, "apiVersion": self.gv,
               "metadata": {"creationTimestamp": None}}
        if spec is not None:
            obj["spec"] = spec
            obj["status"] = {}
        return obj


RESOURCES = {}
for _r in (
        Resource("v1", "pods", "Pod", True, ["po"], ("spec.nodeName", "status.phase")),
        Resource("v1", "events", "Event", True, ["ev"], ("involvedObject.", "reason", "type")),
        Resource("v1", "namespaces", "Namespace", False, ["ns"], ("status.phase",)),
        Resource("apps/v1", "deployments", "Deployment", True, ["deploy"]),
        Resource("apps/v1", "replicasets", "ReplicaSet", True, ["rs"]),
        Resource("apps/v1", "statefulsets", "StatefulSet", True, ["sts"]),
        Resource("apps/v1", "daemonsets", "DaemonSet", True, ["ds"]),
        Resource("apps/v1", "controllerrevisions", "ControllerRevision", True, [])):
    RESOURCES[(_r.gv, _r.plural)] = _r


def resource_for_kind(kind):
    for r in RESOURCES.values():
        if r.kind == kind:
            return r
    raise KeyError(kind)


REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}


def status_object(code, message, reason=None, details=None):
    """A metav1.Status error body, in the apiserver's field order."""
    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason or REASONS.get(code, "Unknown")}
    if details is not None:
        obj["details"] = details
    obj["code"] = code
    return obj


def expired_status(message):
    return status_object(410, message, "Expired")


# ---------------------------------------------------------------- object store

class Store:
    """Every API object at its current version, and the event history watches read.

    One lock guards the store and the simulation (the same RLock, through
    `cond`), so a reader never sees half a controller step. Objects are
    keyed (gv, plural, namespace, name). The simulation renders the whole
    world after each step and calls sync(); only objects whose content
    changed get a new resourceVersion and an event, as with real updates.
    """

    def __init__(self, first_rv, window):
        self.cond = threading.Condition(threading.RLock())
        self.rv = first_rv
        self.objects = {}    # key -> stored object (with resourceVersion)
        self.canonical = {}  # key -> JSON of the rendered object, to detect changes
        self.history = collections.deque()  # (rv, key, type, obj, previous obj)
        self.window = window
        self.compacted_rv = first_rv  # watches from an RV below this get 410

    def sync(self, desired):
        """Makes the store hold exactly `desired` (key -> rendered object)."""
        changed = False
        for key, obj in desired.items():
            text = json.dumps(obj, sort_keys=True)
            if self.canonical.get(key) == text:
                continue
            self.canonical[key] = text
            prev = self.objects.get(key)
            stored = self._stamp(obj)
            self.objects[key] = stored
            self._record(key, "MODIFIED" if prev else "ADDED", stored, prev)
            changed = True
        for key in [k for k in self.objects if k not in desired]:
            prev = self.objects.pop(key)
            del self.canonical[key]
            # A DELETED event carries the object's last state at a new version.
            gone = self._stamp(copy.deepcopy(prev))
            self._record(key, "DELETED", gone, prev)
            changed = True
        if changed:
            self.cond.notify_all()

    def _stamp(self, obj):
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        return obj

    def _record(self, key, etype, obj, prev):
        self.history.append((self.rv, key, etype, obj, prev))
        while len(self.history) > self.window:
            self.compacted_rv = self.history.popleft()[0]

    def compact(self):
        """Forgets all history, like an etcd compaction: watches from any
        older resourceVersion now get 410 Expired."""
        self.history.clear()
        self.compacted_rv = self.rv

    def items(self, gv, plural, namespace=None):
        return [o for (g, p, ns, _), o in sorted(self.objects.items())
                if g == gv and p == plural and (namespace is None or ns == namespace)]

    def get(self, gv, plural, namespace, name):
        return self.objects.get((gv, plural, namespace or "", name))

    def events_after(self, rv):
        """History entries newer than rv (the deque is ordered by rv)."""
        if not self.history or self.history[-1][0] <= rv:
            return []
        return [e for e in self.history if e[0] > rv]


# ---------------------------------------------------------------- containers and pods

class Life:
    """What one container shows at one moment."""

    def __init__(self, state, restarts=0, last=None, ready=False, started=False,
                 ran=False, ready_since=None, done_at=None, pulled=True, instances=(), cid=None):
        self.state = state            # {"waiting"|"running"|"terminated": {...}}
        self.restarts = restarts
        self.last = last or {}        # lastState
        self.ready = ready
        self.started = started
        self.ran = ran                # a container instance exists (has a containerID)
        self.ready_since = ready_since
        self.done_at = done_at        # init containers: when it completed
        self.pulled = pulled          # the image is present (imageID known)
        self.instances = list(instances)  # (start, end or None, terminated or None, cid) for logs
        self.cid = cid                # containerID of the current (or last dead) instance

    @property
    def waiting_reason(self):
        return self.state.get("waiting", {}).get("reason")


def waiting(reason, message=None, pulled=False):
    w = {"reason": reason}
    if message:
        w["message"] = message
    return Life({"waiting": w}, pulled=pulled)


def crashloop_life(c, start, now, st, opts, pod):
    """Runs for crash_after, dies (Error or OOMKilled), shows terminated
    briefly, then waits in CrashLoopBackOff for a doubling back-off, and so on.
    restartCount counts the instances that were replaced, as kubelet does."""
    run = float(opts.get("crash_after", st["crash_after"]))
    base = float(opts.get("backoff", st["backoff"]))
    reason = opts.get("crash_reason", "Error")
    code = int(opts.get("exit_code", 137 if reason == "OOMKilled" else 1))
    ready_while_running = bool(opts.get("ready_while_running", False))
    instances, prev_term, i, s = [], None, 0, start
    while True:
        e = s + run
        cid = container_id(pod, c, i)
        term = {"terminated": {"exitCode": code, "reason": reason, "startedAt": rfc3339(s),
                               "finishedAt": rfc3339(e), "containerID": cid}}
        if now < e:
            instances.append((s, None, None, cid))
            return Life({"running": {"startedAt": rfc3339(s)}}, i, prev_term,
                        ready=ready_while_running, started=True, ran=True,
                        ready_since=s if ready_while_running else None, instances=instances,
                        cid=cid)
        instances.append((s, e, term["terminated"], cid))
        back = min(base * 2 ** i, base * 8)
        if now < e + back or i > 10000:
            if now < e + min(st["pod_step"], back / 2):
                return Life(term, i, prev_term, ran=True, instances=instances, cid=cid)
            shown = go_duration(min(10 * 2 ** i, 300))  # what a real kubelet would say
            msg = "back-off %s restarting failed container=%s pod=%s_%s(%s)" % (
                shown, c["name"], pod.name, pod.namespace, pod.uid)
            return Life({"waiting": {"reason": "CrashLoopBackOff", "message": msg}}, i + 1, term,
                        ran=True, instances=instances, cid=cid)
        prev_term, i, s = term, i + 1, e + back


def imagepull_life(c, start, now, st, opts):
    """ErrImagePull, then ImagePullBackOff for a doubling back-off, repeated."""
    image = c["image"]
    err = opts.get("message") or (
        'rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to '
        'resolve reference "%s": %s: not found' % (image, image, image))
    base = float(opts.get("backoff", st["backoff"]))
    i, s = 0, start
    while True:
        e = s + st["pod_step"]
        if now < e:
            return waiting("ErrImagePull", err)
        back = min(base * 2 ** i, base * 8)
        if now < e + back or i > 10000:
            return waiting("ImagePullBackOff", 'Back-off pulling image "%s"' % image)
        i, s = i + 1, e + back


def container_id(pod, c, instance):
    return "containerd://" + digest(pod.uid, c["name"], instance)


def container_life(c, behaviour, start, now, st, pod, is_init=False):
    """The state of container spec `c` whose creation began at `start`."""
    name, opts = behaviour["behaviour"], behaviour
    if now < start:
        return waiting("PodInitializing" if is_init else "ContainerCreating")
    if name == "deadline":  # e.g. a volume that never mounts: no error, no progress
        return waiting("ContainerCreating")
    if name == "imagepull":
        return imagepull_life(c, start, now, st, opts)
    if name == "invalidimage":
        return waiting("InvalidImageName", opts.get("message") or (
            'Failed to apply default image tag "%s": couldn\'t parse image reference "%s": '
            'invalid reference format' % (c["image"], c["image"])))
    if name == "configerror":
        return waiting("CreateContainerConfigError",
                       opts.get("message") or 'secret "%s-env" not found' % pod.app_name,
                       pulled=True)
    if name == "crashloop":
        return crashloop_life(c, start, now, st, opts, pod)
    running = {"running": {"startedAt": rfc3339(start)}}
    cid = container_id(pod, c, 0)
    if is_init:  # runs to completion, then the next one starts
        end = start + st["pod_step"]
        if now < end:
            return Life(running, started=True, ran=True, instances=[(start, None, None, cid)],
                        cid=cid)
        term = {"exitCode": 0, "reason": "Completed", "startedAt": rfc3339(start),
                "finishedAt": rfc3339(end), "containerID": cid}
        return Life({"terminated": term}, ready=True, ran=True, done_at=end,
                    instances=[(start, end, term, cid)], cid=cid)
    if name == "notready":
        return Life(running, started=True, ran=True, instances=[(start, None, None, cid)],
                    cid=cid)
    ready_at = start + float(opts.get("ready_after", st["pod_step"]))
    ready = now >= ready_at
    return Life(running, ready=ready, started=True, ran=True,
                ready_since=ready_at if ready else None, instances=[(start, None, None, cid)],
                cid=cid)


class PodView:
    """A pod's computed condition at one moment (see PodSim.view)."""

    def __init__(self):
        self.scheduled = False
        self.unschedulable = False
        self.sandbox = False
        self.initialized = False
        self.init = []        # [(container spec, Life)]
        self.main = []        # [(container spec, Life)]
        self.phase = "Pending"
        self.ready = False
        self.ready_since = None


class PodSim:
    """One pod. Its whole status is a pure function of its creation time,
    its containers' behaviours and `now`, so re-rendering it is cheap and
    only changes when the pod really moves to another state."""

    def __init__(self, cluster, name, namespace, template, owner, created,
                 node=None, extra_labels=None, generate_name=None, hostname=None):
        self.cluster = cluster
        self.name, self.namespace = name, namespace
        self.uid = cluster.ids.uid()
        self.template = template
        self.labels = dict(template["metadata"].get("labels", {}), **(extra_labels or {}))
        self.owner = owner  # (kind, name, uid)
        self.created = created
        self.generate_name = generate_name
        self.hostname = hostname
        self.node = node or cluster.pick_node()
        self.deleted_at = None
        spec = template["spec"]
        self.behaviours = {c["name"]: cluster.behaviour_for(c["image"])
                           for c in spec.get("initContainers", []) + spec["containers"]}
        names = [b["behaviour"] for b in self.behaviours.values()]
        self.unschedulable = "unschedulable" in names
        self.index = cluster.next_pod_index()
        self.app_name = self.labels.get("app", name)

    # -- lifecycle

    @property
    def terminating(self):
        return self.deleted_at is not None

    def delete(self, now):
        if self.deleted_at is None:
            self.deleted_at = now

    def gone(self, now):
        """A deleted pod disappears after its (compressed) grace period; one
        never bound to a node goes at once, as the apiserver does."""
        if self.deleted_at is None:
            return False
        if not self.view(now).scheduled:
            return True
        return now >= self.deleted_at + self.cluster.settings["terminate_seconds"]

    def view(self, now):
        st = self.cluster.settings
        v = PodView()
        t_sched = self.created + st["pod_step"]
        if now < t_sched or self.unschedulable:
            v.unschedulable = self.unschedulable and now >= t_sched
            return v
        v.scheduled = True
        t = t_sched + st["pod_step"]  # sandbox ready, containers being created
        v.sandbox = now >= t
        spec = self.template["spec"]
        v.initialized = True
        for c in spec.get("initContainers", []):
            if not v.initialized:
                v.init.append((c, waiting("PodInitializing")))
                continue
            life = container_life(c, self.behaviours[c["name"]], t, now, st, self, is_init=True)
            v.init.append((c, life))
            if life.done_at is None:
                v.initialized = False
            else:
                t = life.done_at
        for c in spec["containers"]:
            if not v.initialized:
                v.main.append((c, waiting("PodInitializing")))
            else:
                v.main.append((c, container_life(c, self.behaviours[c["name"]], t, now, st, self)))
        if v.initialized and all(l.ran for _, l in v.main):
            v.phase = "Running"
        if self.terminating:  # kubelet marks a terminating pod unready at once
            for _, l in v.main:
                l.ready = False
        v.ready = v.phase == "Running" and all(l.ready for _, l in v.main)
        if v.ready:
            v.ready_since = max(l.ready_since for _, l in v.main)
        return v

    def ready(self, now):
        return self.view(now).ready

    def available(self, now, min_ready):
        v = self.view(now)
        return v.ready and now - v.ready_since >= min_ready

    # -- rendering

    def render(self, now):
        v = self.view(now)
        meta = {"name": self.name}
        if self.generate_name:
            meta["generateName"] = self.generate_name
        meta.update({"namespace": self.namespace, "uid": self.uid,
                     "creationTimestamp": rfc3339(self.created)})
        if self.terminating:
            meta["deletionTimestamp"] = rfc3339(self.deleted_at + 30)
            meta["deletionGracePeriodSeconds"] = 30
        meta["labels"] = self.labels
        kind, oname, ouid = self.owner
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": kind, "name": oname,
                                    "uid": ouid, "controller": True, "blockOwnerDeletion": True}]
        spec = copy.deepcopy(self.template["spec"])
        spec["serviceAccountName"] = "default"
        if self.hostname:
            spec["hostname"] = self.hostname
        if v.scheduled:
            spec["nodeName"] = self.node
        spec["tolerations"] = [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300}]
        spec["priority"] = 0
        return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
                "status": self.render_status(v, now)}

    def render_status(self, v, now):
        st = self.cluster.settings
        t_sched = self.created + st["pod_step"]
        if not v.scheduled:
            status = {"phase": "Pending"}
            if v.unschedulable:
                b = next(b for b in self.behaviours.values() if b["behaviour"] == "unschedulable")
                n = len(st["nodes"])
                msg = b.get("message") or (
                    "0/%d nodes are available: %d Insufficient memory. preemption: 0/%d nodes "
                    "are available: %d No preemption victims found for incoming pod."
                    % (n, n, n, n))
                status["conditions"] = [cond("PodScheduled", "False", t_sched,
                                             "Unschedulable", msg)]
            status["qosClass"] = "BestEffort"
            return status
        t_box = t_sched + st["pod_step"]
        status = {"phase": v.phase, "conditions": self.render_conditions(v, t_sched, t_box)}
        ip = "10.0.0.%d" % (11 + st["nodes"].index(self.node) if self.node in st["nodes"] else 10)
        status["hostIP"] = ip
        status["hostIPs"] = [{"ip": ip}]
        if v.sandbox:
            pip = "10.244.%d.%d" % (self.index // 200, 10 + self.index % 200)
            status["podIP"] = pip
            status["podIPs"] = [{"ip": pip}]
        status["startTime"] = rfc3339(t_sched)
        if v.init:
            status["initContainerStatuses"] = [self.render_container(c, l) for c, l in v.init]
        status["containerStatuses"] = [self.render_container(c, l) for c, l in v.main]
        status["qosClass"] = "BestEffort"
        return status

    def render_conditions(self, v, t_sched, t_box):
        conds = [cond("PodReadyToStartContainers", "True" if v.sandbox else "False", t_box)]
        if v.initialized:
            conds.append(cond("Initialized", "True", t_sched))
        else:
            pending = [c["name"] for c, l in v.init if l.done_at is None]
            conds.append(cond("Initialized", "False", t_sched, "ContainersNotInitialized",
                              "containers with incomplete status: [%s]" % " ".join(pending)))
        if v.ready:
            conds.append(cond("Ready", "True", v.ready_since))
            conds.append(cond("ContainersReady", "True", v.ready_since))
        else:
            unready = " ".join(c["name"] for c, l in v.main if not l.ready)
            since = self.deleted_at or t_sched
            conds.append(cond("Ready", "False", since, "ContainersNotReady",
                              "containers with unready status: [%s]" % unready))
            conds.append(cond("ContainersReady", "False", since, "ContainersNotReady",
                              "containers with unready status: [%s]" % unready))
        conds.append(cond("PodScheduled", "True", t_sched))
        return conds

    def render_container(self, c, life):
        image = c["image"]
        s = {"name": c["name"], "state": life.state, "lastState": life.last,
             "ready": life.ready, "restartCount": life.restarts, "image": image,
             "imageID": image_id(image) if life.pulled else ""}
        if life.cid:
            s["containerID"] = life.cid
        s["started"] = life.started
        return s

    # -- logs

    def logs(self, container, previous, now):
        """(lines, error Status or None), choosing the instance the way
        kubelet's validateContainerLogStatus does: previous = lastState's
        container; otherwise the running or terminated one, or, while
        waiting (CrashLoopBackOff), the one that died last."""
        v = self.view(now)
        c, life = dict((c["name"], (c, l)) for c, l in v.init + v.main)[container]
        last = life.last.get("terminated")
        if previous:
            if not last:
                return None, status_object(
                    400, 'previous terminated container "%s" in pod "%s" not found'
                    % (container, self.name), "BadRequest")
            cid = last["containerID"]
        elif "waiting" in life.state and last:
            cid = last["containerID"]
        elif "waiting" in life.state or not life.cid:
            why = {"ErrImagePull": "image can't be pulled",
                   "ImagePullBackOff": "trying and failing to pull image"}.get(
                life.waiting_reason, life.waiting_reason or "ContainerCreating")
            return None, status_object(
                400, 'container "%s" in pod "%s" is waiting to start: %s'
                % (container, self.name, why), "BadRequest")
        else:
            cid = life.cid
        number, inst = next((n, i) for n, i in enumerate(life.instances) if i[3] == cid)
        return self.instance_log(c, inst, number, now), None

    def instance_log(self, c, inst, number, now=None):
        """[(time, line)] for one container instance: scenario-given lines
        ("logs", with {image} {pod} {container} {instance} filled in), or a
        plausible server log that ends in the crash when it crashed."""
        start, end, term, _ = inst
        custom = self.behaviours[c["name"]].get("logs")
        tag = c["image"].rsplit(":", 1)[-1]
        if custom:
            body = [l.format(image=c["image"], pod=self.name, container=c["name"],
                             instance=number) for l in custom]
        else:
            body = ['level=info msg="starting %s" version=%s' % (c["name"], tag),
                    'level=info msg="loading configuration" path=/etc/%s/config.yaml' % c["name"]]
            if term is not None and term["exitCode"] != 0:
                body += self.crash_lines(c, term)
            else:
                body.append('level=info msg="listening" addr=:8080')
        lines = [(start + 0.01 * i, line) for i, line in enumerate(body)]
        if not custom and term is None and now is not None:
            # a healthy server keeps logging: a health check every 2 s
            t = start + 2
            while t <= now and len(lines) < 200:
                lines.append((t, 'level=info msg="request" method=GET path=/healthz status=200'))
                t += 2
        return lines

    def crash_lines(self, c, term):
        if term["reason"] == "OOMKilled":
            return ['level=info msg="warming cache" entries=4000000']
        return ['level=info msg="connecting to database" host=db.%s.svc:5432' % self.namespace,
                'level=error msg="database unreachable" err="dial tcp 10.96.0.12:5432: '
                'connect: connection refused"',
                "panic: dial tcp 10.96.0.12:5432: connect: connection refused",
                "", "goroutine 1 [running]:", "main.main()",
                "\t/src/cmd/%s/main.go:42 +0x1d4" % c["name"]]


def cond(ctype, status, t, reason=None, message=None):
    c = {"type": ctype, "status": status, "lastProbeTime": None,
         "lastTransitionTime": rfc3339(t)}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def image_id(image):
    repo = image.split("@")[0]
    slash = repo.rfind("/")
    colon = repo.rfind(":")
    if colon > slash:
        repo = repo[:colon]
    return "%s@sha256:%s" % (repo, digest("image", image))


# ---------------------------------------------------------------- workloads

def container_spec(c):
    """A container as the apiserver returns it after defaulting."""
    d = {"name": c["name"], "image": c["image"]}
    if c.get("ports"):
        d["ports"] = [{"containerPort": p, "protocol": "TCP"} for p in c["ports"]]
    d.update({"resources": {}, "terminationMessagePath": "/dev/termination-log",
              "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"})
    return d


def build_template(labels, spec):
    pod_spec = {}
    if spec.get("initContainers"):
        pod_spec["initContainers"] = [container_spec(c) for c in spec["initContainers"]]
    pod_spec["containers"] = [container_spec(c) for c in spec["containers"]]
    pod_spec.update({"restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                     "dnsPolicy": "ClusterFirst", "securityContext": {},
                     "schedulerName": "default-scheduler"})
    return {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": pod_spec}


def with_label(template, key, value):
    t = copy.deepcopy(template)
    t["metadata"]["labels"][key] = value
    return t


def template_images(template):
    return [c["image"] for c in template["spec"]["containers"]]


class Rollout:
    """One set_image and what happened after it, for /__fake/state."""

    def __init__(self, workload, container, image, behaviour, sha, now):
        self.container, self.image, self.behaviour, self.sha = container, image, behaviour, sha
        self.generation = workload.generation
        self.marks = {"requested": now}
        self.details = {}

    def mark(self, name, now, **detail):
        if name not in self.marks:
            self.marks[name] = now
            if detail:
                self.details[name] = detail

    def to_json(self):
        return {"container": self.container, "image": self.image, "sha": self.sha,
                "behaviour": self.behaviour, "generation": self.generation,
                "marks": dict(self.marks), "details": dict(self.details)}


class Workload:
    """What Deployments, StatefulSets and DaemonSets share: identity, the pod
    template, generation bookkeeping, spec changes and rollout marks."""

    kind = plural = None

    def __init__(self, cluster, spec):
        self.cluster = cluster
        self.namespace = spec.get("namespace", "default")
        self.name = spec["name"]
        self.uid = cluster.ids.uid()
        self.labels = dict(spec.get("labels") or {"app": self.name})
        self.created = cluster.started - float(spec.get("age", 86400))
        self.generation = int(spec.get("generation", 1))
        self.observed_generation = self.generation
        self.observe_at = 0.0  # the controller ignores a new generation until then
        self.template = build_template(self.labels, spec)
        self.min_ready = int(spec.get("minReadySeconds", 0))
        self.rollouts = []
        self.deleted = False

    @property
    def ref(self):
        return "%s/%s/%s" % (self.kind.lower(), self.namespace, self.name)

    @property
    def stale(self):
        """The controller has not yet seen the latest spec."""
        return self.generation > self.observed_generation

    def owner(self):
        return (self.kind, self.name, self.uid)

    def base_metadata(self, annotations=None):
        meta = {"name": self.name, "namespace": self.namespace, "uid": self.uid,
                "generation": self.generation, "creationTimestamp": rfc3339(self.created),
                "labels": self.labels}
        if annotations:
            meta["annotations"] = annotations
        return meta

    def find_container(self, name):
        spec = self.template["spec"]
        all_c = spec.get("initContainers", []) + spec["containers"]
        if name is None:
            return spec["containers"][0]
        for c in all_c:
            if c["name"] == name:
                return c
        raise ValueError("%s has no container %r" % (self.ref, name))

    def spec_changed(self, now, observe_after):
        """The apiserver bumps the generation at once; the controller sees
        it on a later sync (at least one step later), so a reader can catch
        generation > observedGeneration, as on a real cluster."""
        self.generation += 1
        if observe_after is None:
            observe_after = self.cluster.settings["step"]
        delay = float(observe_after)
        self.observe_at = now + max(delay, 0.001)

    def set_image(self, now, container, image, behaviour, sha, observe_after):
        c = self.find_container(container)
        c["image"] = image
        self.spec_changed(now, observe_after)
        self.rollouts.append(Rollout(self, c["name"], image, behaviour, sha, now))

    def observe(self, now):
        """Whether the controller may act on the current generation now."""
        return not self.stale or now >= self.observe_at

    def check_marks(self, now, obj):
        """Records, once per rollout, when it was observed, completed (by
        kubectl's own rule) and settled (no old pods left), and when a
        failure first became visible in the API."""
        if not self.rollouts:
            return
        r = self.rollouts[-1]
        if self.observed_generation >= r.generation:
            r.mark("observed", now)
        if r.image not in self.images():
            return  # superseded by a later spec change
        done, failed, _ = kubectl_rollout_status(obj)
        if done:
            r.mark("rollout_complete", now)
            new, old = self.new_pods(), self.old_pods()
            if not old and new and all(p.ready(now) for p in new):
                r.mark("pods_settled", now)
        if failed:
            r.mark("deadline_exceeded", now)
        for cond_ in obj["status"].get("conditions", []):
            if cond_["type"] == "ReplicaFailure" and cond_["status"] == "True":
                r.mark("replica_failure", now, message=cond_.get("message"))
                r.mark("first_failure", now, reason="FailedCreate", pod=None)
        for pod in self.new_pods():
            self.check_pod_marks(r, pod, now)

    def check_pod_marks(self, r, pod, now):
        v = pod.view(now)
        if v.unschedulable:
            r.mark("first_unschedulable", now, pod=pod.name)
            r.mark("first_failure", now, reason="Unschedulable", pod=pod.name)
        for c, life in v.init + v.main:
            reason = life.waiting_reason
            if reason in FAILURE_REASONS:
                r.mark("first_failure", now, reason=reason, pod=pod.name, container=c["name"])
                if reason == "CrashLoopBackOff":
                    r.mark("first_crashloop", now, pod=pod.name, container=c["name"])
            if life.restarts > 0:
                r.mark("first_restart", now, pod=pod.name, container=c["name"])

    def images(self):
        spec = self.template["spec"]
        return [c["image"] for c in spec.get("initContainers", []) + spec["containers"]]

    def state_json(self):
        return {"ref": self.ref, "kind": self.kind, "namespace": self.namespace,
                "name": self.name, "generation": self.generation,
                "observedGeneration": self.observed_generation, "images": self.images(),
                "marks": self.rollouts[-1].to_json()["marks"] if self.rollouts else {},
                "rollouts": [r.to_json() for r in self.rollouts]}

    # Subclasses: tick(now), render_all(now), new_pods(), old_pods(), pods(),
    # scale(replicas), set_paused(flag).

    def set_paused(self, now, paused):
        raise ValueError("%s cannot be paused" % self.ref)


def kubectl_rollout_status(obj):
    """kubectl's rollout-status rules (reference section 2): (done, failed, message).
    Used only for the marks, so benchmarks compare against the same rule."""
    kind, spec, st = obj["kind"], obj["spec"], obj["status"]
    gen = obj["metadata"].get("generation", 0)
    if kind == "Deployment":
        if gen > st.get("observedGeneration", 0):
            return False, False, "waiting for spec update to be observed"
        for c in st.get("conditions", []):
            if c["type"] == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
                return False, True, "exceeded its progress deadline"
        want = spec.get("replicas", 1)
        if st.get("updatedReplicas", 0) < want:
            return False, False, "new replicas updated"
        if st.get("replicas", 0) > st.get("updatedReplicas", 0):
            return False, False, "old replicas pending termination"
        if st.get("availableReplicas", 0) < st.get("updatedReplicas", 0):
            return False, False, "updated replicas available"
        return True, False, "successfully rolled out"
    strategy = spec.get("updateStrategy", {})
    if strategy.get("type") != "RollingUpdate":
        return False, False, "rollout status is only available for RollingUpdate strategy type"
    if kind == "StatefulSet":
        if st.get("observedGeneration", 0) == 0 or gen > st.get("observedGeneration", 0):
            return False, False, "waiting for statefulset spec update to be observed"
        want = spec.get("replicas", 1)
        if st.get("readyReplicas", 0) < want:
            return False, False, "pods ready"
        ru = strategy.get("rollingUpdate")
        if ru is not None and ru.get("partition") is not None:
            if st.get("updatedReplicas", 0) < want - ru["partition"]:
                return False, False, "pods updated"
            return True, False, "partitioned roll out complete"
        if st.get("updateRevision") != st.get("currentRevision"):
            return False, False, "waiting for statefulset rolling update to complete"
        return True, False, "rolling update complete"
    if gen > st.get("observedGeneration", 0):
        return False, False, "waiting for daemon set spec update to be observed"
    if st.get("updatedNumberScheduled", 0) < st.get("desiredNumberScheduled", 0):
        return False, False, "pods updated"
    if st.get("numberAvailable", 0) < st.get("desiredNumberScheduled", 0):
        return False, False, "pods available"
    return True, False, "successfully rolled out"


# -- Deployment

class ReplicaSetSim:
    """A ReplicaSet and its share of the replicaset controller: keep
    spec.replicas non-terminating pods, or report why it cannot."""

    def __init__(self, dep, template, hash_, revision, replicas, created):
        self.dep, self.cluster = dep, dep.cluster
        self.name = "%s-%s" % (dep.name, hash_)
        self.uid = self.cluster.ids.uid()
        self.hash = hash_
        self.template = with_label(template, "pod-template-hash", hash_)
        self.revision = revision
        self.revision_history = []
        self.replicas = replicas
        self.generation = 1
        self.created = created
        self.pods = []
        self.failure = None  # ReplicaFailure condition while pods cannot be created

    def active(self):
        return [p for p in self.pods if not p.terminating]

    def sync(self, now):
        active = self.active()
        missing = self.replicas - len(active)
        if missing > 0:
            self.create_pods(now, missing)
        elif missing < 0:
            for p in sorted(active, key=lambda p: deletion_rank(p, now))[:-missing]:
                p.delete(now)
        else:
            self.failure = None

    def create_pods(self, now, n):
        blocked = [self.cluster.behaviour_for(i) for i in template_images(self.template)]
        blocked = [b for b in blocked if b["behaviour"] == "replicafailure"]
        if blocked:  # e.g. a quota: the apiserver refuses the pods
            msg = blocked[0].get("message") or (
                'pods "%s-" is forbidden: exceeded quota: compute-resources, requested: '
                'limits.memory=512Mi, used: limits.memory=1536Mi, limited: limits.memory=2Gi'
                % self.name)
            if self.failure is None:
                self.failure = {"type": "ReplicaFailure", "status": "True",
                                "lastTransitionTime": rfc3339(now), "reason": "FailedCreate",
                                "message": msg}
            return
        self.failure = None
        for _ in range(n):
            name = "%s-%s" % (self.name, self.cluster.ids.suffix())
            self.pods.append(PodSim(self.cluster, name, self.dep.namespace, self.template,
                                    ("ReplicaSet", self.name, self.uid), now,
                                    generate_name=self.name + "-"))

    def scale(self, n):
        if n != self.replicas:
            self.replicas = n
            self.generation += 1

    def counts(self, now):
        active = self.active()
        return (len(active), sum(p.ready(now) for p in active),
                sum(p.available(now, self.dep.min_ready) for p in active))

    def available(self, now):
        return self.counts(now)[2]

    def render(self, now):
        replicas, ready, avail = self.counts(now)
        surge = self.dep.fenceposts()[0]
        ann = {"deployment.kubernetes.io/desired-replicas": str(self.dep.replicas),
               "deployment.kubernetes.io/max-replicas": str(self.dep.replicas + surge),
               "deployment.kubernetes.io/revision": str(self.revision)}
        if self.revision_history:
            ann["deployment.kubernetes.io/revision-history"] = \
                ",".join(map(str, self.revision_history))
        meta = {"name": self.name, "namespace": self.dep.namespace, "uid": self.uid,
                "generation": self.generation, "creationTimestamp": rfc3339(self.created),
                "labels": self.template["metadata"]["labels"], "annotations": ann,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": self.dep.name, "uid": self.dep.uid,
                                     "controller": True, "blockOwnerDeletion": True}]}
        selector = dict(self.dep.labels, **{"pod-template-hash": self.hash})
        spec = {"replicas": self.replicas, "minReadySeconds": self.dep.min_ready,
                "selector": {"matchLabels": selector}, "template": self.template}
        if not spec["minReadySeconds"]:
            del spec["minReadySeconds"]
        status = {"replicas": replicas}
        status.update(omit_zero({"fullyLabeledReplicas": replicas, "readyReplicas": ready,
                                 "availableReplicas": avail}))
        status["observedGeneration"] = self.generation
        if self.failure:
            status["conditions"] = [self.failure]
        return {"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": meta,
                "spec": spec, "status": status}


def deletion_rank(pod, now):
    """controller.ActivePods order: unscheduled, then pending, then not
    ready, then the newest pods go first."""
    v = pod.view(now)
    return (v.scheduled, v.phase == "Running", v.ready, -pod.created)


class DeploymentSim(Workload):
    kind, plural = "Deployment", "deployments"

    def __init__(self, cluster, spec):
        super().__init__(cluster, spec)
        self.replicas = int(spec.get("replicas", 1))
        strategy = spec.get("strategy") or {}
        self.strategy = strategy.get("type", "RollingUpdate")
        self.max_surge = strategy.get("maxSurge", "25%")
        self.max_unavailable = strategy.get("maxUnavailable", "25%")
        self.deadline = spec.get("progressDeadlineSeconds", 600)
        self.paused = bool(spec.get("paused", False))
        self.replicasets = []
        self.conditions = []
        self.status = {}
        self.seed(spec)

    # -- initial state: earlier revisions scaled to zero, the current one complete

    def seed(self, spec):
        now = self.cluster.started
        history = spec.get("history", [])
        revision = int(spec.get("revision", len(history) + 1))
        current = self.template
        for i, image in enumerate(history):
            t = copy.deepcopy(current)
            t["spec"]["containers"][0]["image"] = image
            rs = ReplicaSetSim(self, t, template_hash(t), revision - len(history) + i, 0,
                               self.created + 3600 * i)
            self.replicasets.append(rs)
        rs = ReplicaSetSim(self, current, template_hash(current), revision, self.replicas,
                           now - 3600)
        rs.pods = [PodSim(self.cluster, "%s-%s" % (rs.name, self.cluster.ids.suffix()),
                          self.namespace, rs.template, ("ReplicaSet", rs.name, rs.uid),
                          now - 3600 + i, generate_name=rs.name + "-")
                   for i in range(self.replicas)]
        self.replicasets.append(rs)
        self.revision = revision
        t0 = now - 3600
        self.conditions = [
            dcond("Available", "True", "MinimumReplicasAvailable",
                  "Deployment has minimum availability.", t0 + 60),
            dcond("Progressing", "True", "NewReplicaSetAvailable",
                  'ReplicaSet "%s" has successfully progressed.' % rs.name, t0 + 60, t0 - 60)]
        if self.deadline is None:
            self.conditions.pop()
        self.status = self.compute_counts(now, rs)

    # -- the deployment controller

    def fenceposts(self):
        """(maxSurge, maxUnavailable) resolved against spec.replicas, as
        ResolveFenceposts does: surge rounds up, unavailable down, never both 0."""
        if self.strategy != "RollingUpdate":
            return 0, 0
        surge = resolve_intstr(self.max_surge, self.replicas, True)
        unavailable = resolve_intstr(self.max_unavailable, self.replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, unavailable

    def max_unavailable_count(self):
        if self.strategy != "RollingUpdate" or self.replicas == 0:
            return 0
        return min(self.fenceposts()[1], self.replicas)

    def pods(self):
        return [p for rs in self.replicasets for p in rs.pods]

    def new_rs(self):
        h = template_hash(self.template)
        return next((rs for rs in self.replicasets if rs.hash == h), None)

    def new_pods(self):
        rs = self.new_rs()
        return list(rs.pods) if rs else []

    def old_pods(self):
        rs = self.new_rs()
        return [p for r in self.replicasets if r is not rs for p in r.pods]

    def reap(self, now):
        for rs in self.replicasets:
            rs.pods = [p for p in rs.pods if not p.gone(now)]

    def tick(self, now):
        self.reap(now)
        for rs in self.replicasets:  # the replicaset controller
            rs.sync(now)
        if not self.observe(now):
            return  # stale: the deployment controller has not seen the new spec
        self.check_paused(now)
        new_rs = self.sync_revision(now)
        if not self.paused and new_rs is not None:
            if self.strategy == "Recreate":
                self.rollout_recreate(new_rs)
            elif not self.reconcile_new(new_rs):
                self.reconcile_old(new_rs, now)
        self.sync_status(now, new_rs)

    def sync_revision(self, now):
        """getNewReplicaSet: find the ReplicaSet for the current template or,
        unless paused, create it with the next revision number."""
        rs = self.new_rs()
        max_rev = max(r.revision for r in self.replicasets)
        if rs is None:
            if self.paused:
                return None
            h = template_hash(self.template)
            rs = ReplicaSetSim(self, self.template, h, max_rev + 1, 0, now)
            self.replicasets.append(rs)
            self.revision = rs.revision
            set_condition(self.conditions, dcond(
                "Progressing", "True", "NewReplicaSetCreated",
                'Created new replica set "%s"' % rs.name, now))
        elif rs.revision < max_rev:  # a rollback re-uses the old ReplicaSet
            rs.revision_history.append(rs.revision)
            rs.revision = max_rev + 1
            self.revision = rs.revision
            if get_condition(self.conditions, "Progressing") is None and self.deadline is not None:
                set_condition(self.conditions, dcond(
                    "Progressing", "True", "FoundNewReplicaSet",
                    'Found new replica set "%s"' % rs.name, now))
        return rs

    def scale(self, rs, n):
        rs.scale(n)

    def reconcile_new(self, new_rs):
        """reconcileNewReplicaSet: surge the new ReplicaSet up. True when it scaled."""
        if new_rs.replicas == self.replicas:
            return False
        if new_rs.replicas > self.replicas:
            self.scale(new_rs, self.replicas)
            return True
        surge = self.fenceposts()[0]
        current = sum(rs.replicas for rs in self.replicasets)
        max_total = self.replicas + surge
        if current >= max_total:
            return False
        up = min(max_total - current, self.replicas - new_rs.replicas)
        self.scale(new_rs, new_rs.replicas + up)
        return True

    def reconcile_old(self, new_rs, now):
        """reconcileOldReplicaSets: scale old ReplicaSets down as far as
        maxUnavailable allows, unhealthy pods first."""
        olds = sorted((rs for rs in self.replicasets if rs is not new_rs), key=lambda r: r.created)
        if sum(rs.replicas for rs in olds) == 0:
            return
        all_count = sum(rs.replicas for rs in self.replicasets)
        min_available = self.replicas - self.fenceposts()[1]
        new_unavailable = new_rs.replicas - new_rs.available(now)
        max_down = all_count - min_available - new_unavailable
        if max_down <= 0:
            return
        cleaned = 0
        for rs in olds:  # cleanupUnhealthyReplicas
            if cleaned >= max_down or rs.replicas == 0:
                continue
            avail = rs.available(now)
            if rs.replicas == avail:
                continue
            down = min(max_down - cleaned, rs.replicas - avail)
            self.scale(rs, rs.replicas - down)
            cleaned += down
        available = sum(rs.available(now) for rs in self.replicasets)
        if available <= min_available:
            return
        budget = available - min_available  # scaleDownOldReplicaSetsForRollingUpdate
        for rs in olds:
            if budget <= 0 or rs.replicas == 0:
                continue
            down = min(rs.replicas, budget)
            self.scale(rs, rs.replicas - down)
            budget -= down

    def rollout_recreate(self, new_rs):
        olds = [rs for rs in self.replicasets if rs is not new_rs]
        if any(rs.replicas for rs in olds):
            for rs in olds:
                self.scale(rs, 0)
            return
        if any(rs.pods for rs in olds):
            return  # wait until every old pod is gone
        if new_rs.replicas != self.replicas:
            self.scale(new_rs, self.replicas)

    def check_paused(self, now):
        cur = get_condition(self.conditions, "Progressing")
        is_paused_cond = cur is not None and cur.get("reason") == "DeploymentPaused"
        if self.deadline is None:
            return
        if self.paused and not is_paused_cond:
            set_condition(self.conditions, dcond("Progressing", "Unknown", "DeploymentPaused",
                                                 "Deployment is paused", now))
        elif not self.paused and is_paused_cond:
            set_condition(self.conditions, dcond("Progressing", "Unknown", "DeploymentResumed",
                                                 "Deployment is resumed", now))

    def compute_counts(self, now, new_rs):
        counts = [rs.counts(now) for rs in self.replicasets]
        available = sum(c[2] for c in counts)
        total = sum(rs.replicas for rs in self.replicasets)
        return {"observedGeneration": self.generation,
                "replicas": sum(c[0] for c in counts),
                "updatedReplicas": new_rs.counts(now)[0] if new_rs else 0,
                "readyReplicas": sum(c[1] for c in counts),
                "availableReplicas": available,
                "unavailableReplicas": max(0, total - available)}

    def sync_status(self, now, new_rs):
        """calculateStatus + syncRolloutStatus (sync.go, progress.go)."""
        old = self.status
        st = self.compute_counts(now, new_rs)
        self.observed_generation = self.generation
        conds = self.conditions
        if st["availableReplicas"] >= self.replicas - self.max_unavailable_count():
            set_condition(conds, dcond("Available", "True", "MinimumReplicasAvailable",
                                       "Deployment has minimum availability.", now))
        else:
            set_condition(conds, dcond("Available", "False", "MinimumReplicasUnavailable",
                                       "Deployment does not have minimum availability.", now))
        failure = next((rs.failure for rs in [new_rs] + self.replicasets
                        if rs and rs.failure), None)
        if failure:
            set_condition(conds, dcond("ReplicaFailure", "True", "FailedCreate",
                                       failure["message"], now))
        else:
            remove_condition(conds, "ReplicaFailure")
        if self.deadline is None:
            remove_condition(conds, "Progressing")
        elif not self.paused:
            self.sync_progress(now, new_rs, st, old)
        self.status = st

    def sync_progress(self, now, new_rs, st, old):
        cur = get_condition(self.conditions, "Progressing")
        if st["replicas"] == st["updatedReplicas"] and cur and \
                cur.get("reason") == "NewReplicaSetAvailable":
            return  # already complete; nothing to refresh
        name = new_rs.name if new_rs else None
        if self.complete(st):
            msg = ('ReplicaSet "%s" has successfully progressed.' % name) if name \
                else "Deployment has successfully progressed."
            set_condition(self.conditions, dcond("Progressing", "True", "NewReplicaSetAvailable",
                                                 msg, now))
        elif self.progressing(st, old):
            # Progress refreshes lastUpdateTime (the deadline's start) but
            # keeps lastTransitionTime while the status stays True.
            c = dcond("Progressing", "True", "ReplicaSetUpdated",
                      'ReplicaSet "%s" is progressing.' % name if name
                      else "Deployment is progressing.", now)
            if cur is not None and cur["status"] == "True":
                c["lastTransitionTime"] = cur["lastTransitionTime"]
            remove_condition(self.conditions, "Progressing")
            self.conditions.append(c)
        elif self.timed_out(cur, now):
            set_condition(self.conditions, dcond(
                "Progressing", "False", "ProgressDeadlineExceeded",
                'ReplicaSet "%s" has timed out progressing.' % name, now))

    def complete(self, st):
        return (st["updatedReplicas"] == self.replicas and st["replicas"] == self.replicas
                and st["availableReplicas"] >= self.replicas - self.max_unavailable_count()
                and st["observedGeneration"] >= self.generation)

    @staticmethod
    def progressing(st, old):
        old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
        new_old = st["replicas"] - st["updatedReplicas"]
        return (st["updatedReplicas"] > old.get("updatedReplicas", 0) or new_old < old_old
                or st["readyReplicas"] > old.get("readyReplicas", 0)
                or st["availableReplicas"] > old.get("availableReplicas", 0))

    def timed_out(self, cur, now):
        if cur is None or cur.get("reason") == "NewReplicaSetAvailable":
            return False
        if cur.get("reason") == "ProgressDeadlineExceeded":
            return True
        since = cur.get("_updated", now)
        return now > since + float(self.deadline)

    # -- actions

    def set_replicas(self, now, n):
        self.replicas = int(n)
        self.spec_changed(now, None)

    def set_paused(self, now, paused):
        self.paused = bool(paused)
        self.spec_changed(now, None)

    # -- rendering

    def render_all(self, now):
        out = [self.render(now)]
        out += [rs.render(now) for rs in self.replicasets]
        out += [p.render(now) for rs in self.replicasets for p in rs.pods]
        return out

    def render(self, now):
        spec = {"replicas": self.replicas, "selector": {"matchLabels": self.labels},
                "template": self.template}
        if self.strategy == "RollingUpdate":
            spec["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": self.max_unavailable,
                                                  "maxSurge": self.max_surge}}
        else:
            spec["strategy"] = {"type": self.strategy}
        if self.min_ready:
            spec["minReadySeconds"] = self.min_ready
        spec["revisionHistoryLimit"] = 10
        if self.paused:
            spec["paused"] = True
        if self.deadline is not None:
            spec["progressDeadlineSeconds"] = self.deadline
        status = omit_zero(self.status)
        if self.conditions:
            status["conditions"] = [public_condition(c) for c in self.conditions]
        ann = {"deployment.kubernetes.io/revision": str(self.revision)}
        return {"kind": "Deployment", "apiVersion": "apps/v1",
                "metadata": self.base_metadata(ann), "spec": spec, "status": status}


def dcond(ctype, status, reason, message, now, transition=None):
    """A Deployment condition. `_updated` keeps lastUpdateTime at full
    precision for the deadline arithmetic; it is stripped on output."""
    return {"type": ctype, "status": status, "lastUpdateTime": rfc3339(now),
            "lastTransitionTime": rfc3339(transition if transition is not None else now),
            "reason": reason, "message": message, "_updated": now}


def public_condition(c):
    return {k: v for k, v in c.items() if not k.startswith("_")}


def get_condition(conds, ctype):
    return next((c for c in conds if c["type"] == ctype), None)


def remove_condition(conds, ctype):
    conds[:] = [c for c in conds if c["type"] != ctype]


def set_condition(conds, c):
    """SetDeploymentCondition: no-op when status and reason are unchanged;
    keeps lastTransitionTime when only the reason changes; moves it last."""
    cur = get_condition(conds, c["type"])
    if cur is not None and cur["status"] == c["status"] and cur["reason"] == c["reason"]:
        return
    if cur is not None and cur["status"] == c["status"]:
        c["lastTransitionTime"] = cur["lastTransitionTime"]
    remove_condition(conds, c["type"])
    conds.append(c)


# -- StatefulSet and DaemonSet: revisions are ControllerRevisions

class RevisionSim:
    def __init__(self, owner, template, number, created, name_hash_label):
        self.owner = owner
        self.hash = template_hash(template)
        self.name = "%s-%s" % (owner.name, self.hash)
        self.uid = owner.cluster.ids.uid()
        self.template = template
        self.number = number
        self.created = created
        self.label_value = self.name if name_hash_label else self.hash

    def render(self):
        labels = dict(self.owner.labels)
        labels["controller.kubernetes.io/hash" if self.owner.kind == "StatefulSet"
               else "controller-revision-hash"] = self.hash
        meta = {"name": self.name, "namespace": self.owner.namespace, "uid": self.uid,
                "creationTimestamp": rfc3339(self.created), "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": self.owner.kind,
                                     "name": self.owner.name, "uid": self.owner.uid,
                                     "controller": True, "blockOwnerDeletion": True}]}
        tpl = copy.deepcopy(self.template)
        tpl["$patch"] = "replace"
        return {"kind": "ControllerRevision", "apiVersion": "apps/v1", "metadata": meta,
                "data": {"spec": {"template": tpl}}, "revision": self.number}


class RevisionedWorkload(Workload):
    """StatefulSet and DaemonSet keep their templates as ControllerRevisions
    and label each pod with the revision it was made from."""

    label_is_name = True  # StatefulSet pods carry the revision's name, DaemonSet pods its hash

    def __init__(self, cluster, spec):
        super().__init__(cluster, spec)
        strategy = spec.get("updateStrategy") or {}
        self.strategy = strategy.get("type", "RollingUpdate")
        self.revisions = [RevisionSim(self, copy.deepcopy(self.template),
                                      int(spec.get("revision", 1)), cluster.started - 3600,
                                      self.label_is_name)]
        self.update_revision = self.current_revision = self.revisions[0]
        self.pod_list = []

    def sync_revision(self, now):
        """Adopts the current template as the update revision: an existing
        ControllerRevision with the same hash (rollback) or a new one."""
        h = template_hash(self.template)
        top = max(r.number for r in self.revisions)
        rev = next((r for r in self.revisions if r.hash == h), None)
        if rev is None:
            rev = RevisionSim(self, copy.deepcopy(self.template), top + 1, now, self.label_is_name)
            self.revisions.append(rev)
        elif rev.number < top:
            rev.number = top + 1
        self.update_revision = rev
        self.observed_generation = self.generation

    def pods(self):
        return list(self.pod_list)

    def pod_revision(self, pod):
        return pod.labels.get("controller-revision-hash")

    def new_pods(self):
        want = self.update_revision.label_value
        return [p for p in self.pod_list if self.pod_revision(p) == want]

    def old_pods(self):
        want = self.update_revision.label_value
        return [p for p in self.pod_list if self.pod_revision(p) != want]

    def reap(self, now):
        self.pod_list = [p for p in self.pod_list if not p.gone(now)]

    def tick(self, now):
        self.reap(now)
        if not self.observe(now):
            return  # stale: the controller has not seen the new spec yet
        if self.stale:
            self.sync_revision(now)
        self.sync_pods(now)
        self.after_sync(now)

    def after_sync(self, now):
        pass

    def render_all(self, now):
        return ([self.render(now)] + [r.render() for r in self.revisions]
                + [p.render(now) for p in self.pod_list])


class StatefulSetSim(RevisionedWorkload):
    kind, plural = "StatefulSet", "statefulsets"

    def __init__(self, cluster, spec):
        super().__init__(cluster, spec)
        self.replicas = int(spec.get("replicas", 1))
        strategy = spec.get("updateStrategy") or {}
        self.partition = int(strategy.get("partition", 0))
        self.service_name = spec.get("serviceName", self.name)
        rev = self.current_revision
        self.pod_list = [self.make_pod(i, rev, cluster.started - 3600 + i)
                         for i in range(self.replicas)]

    def make_pod(self, ordinal, rev, now):
        name = "%s-%d" % (self.name, ordinal)
        pod = PodSim(self.cluster, name, self.namespace, rev.template, self.owner(), now,
                     extra_labels={"controller-revision-hash": rev.name,
                                   "statefulset.kubernetes.io/pod-name": name,
                                   "apps.kubernetes.io/pod-index": str(ordinal)},
                     hostname=name)
        pod.ordinal = ordinal
        return pod

    def by_ordinal(self):
        return {p.ordinal: p for p in self.pod_list}

    def sync_pods(self, now):
        """OrderedReady: create ordinals in order, each only when the ones
        before it are Running and Ready; then replace, highest ordinal first
        and one at a time, pods not on the update revision (RollingUpdate,
        down to the partition). An unhealthy pod blocks everything."""
        pods = self.by_ordinal()
        for ordinal in range(self.replicas):
            pod = pods.get(ordinal)
            if pod is None:
                rev = self.update_revision
                if self.strategy == "RollingUpdate" and ordinal < self.partition:
                    rev = self.current_revision
                self.pod_list.append(self.make_pod(ordinal, rev, now))
                return
            if pod.terminating or not pod.ready(now):
                return
        for ordinal in sorted((o for o in pods if o >= self.replicas), reverse=True):
            if not pods[ordinal].terminating:
                pods[ordinal].delete(now)
            return
        if self.strategy != "RollingUpdate":
            return  # OnDelete: only a person deleting pods updates them
        for ordinal in range(self.replicas - 1, self.partition - 1, -1):
            if self.pod_revision(pods[ordinal]) != self.update_revision.label_value:
                pods[ordinal].delete(now)
                return

    def after_sync(self, now):
        """completeRollingUpdate: once every pod is updated and ready, the
        update revision becomes the current one (RollingUpdate only)."""
        st = self.counts(now)
        if self.strategy == "RollingUpdate" and st["updatedReplicas"] == st["replicas"] \
                and st["readyReplicas"] == st["replicas"]:
            self.current_revision = self.update_revision

    def counts(self, now):
        cur, upd = self.current_revision.label_value, self.update_revision.label_value
        live = [p for p in self.pod_list if not p.terminating]
        return {"replicas": len(self.pod_list),
                "readyReplicas": sum(p.ready(now) for p in self.pod_list),
                "availableReplicas": sum(p.available(now, self.min_ready) for p in self.pod_list),
                "currentReplicas": sum(self.pod_revision(p) == cur for p in live),
                "updatedReplicas": sum(self.pod_revision(p) == upd for p in live)}

    def set_replicas(self, now, n):
        self.replicas = int(n)
        self.spec_changed(now, None)

    def render(self, now):
        strategy = {"type": self.strategy}
        if self.strategy == "RollingUpdate":
            strategy["rollingUpdate"] = {"partition": self.partition}
        spec = {"replicas": self.replicas, "selector": {"matchLabels": self.labels},
                "template": self.template, "serviceName": self.service_name,
                "podManagementPolicy": "OrderedReady", "updateStrategy": strategy,
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain",
                                                         "whenScaled": "Retain"}}
        if self.min_ready:
            spec["minReadySeconds"] = self.min_ready
        c = self.counts(now)
        status = {"observedGeneration": self.observed_generation, "replicas": c["replicas"]}
        status.update(omit_zero({"readyReplicas": c["readyReplicas"],
                                 "currentReplicas": c["currentReplicas"],
                                 "updatedReplicas": c["updatedReplicas"]}))
        status.update({"currentRevision": self.current_revision.name,
                       "updateRevision": self.update_revision.name,
                       "collisionCount": 0, "availableReplicas": c["availableReplicas"]})
        return {"kind": "StatefulSet", "apiVersion": "apps/v1", "metadata": self.base_metadata(),
                "spec": spec, "status": status}


class DaemonSetSim(RevisionedWorkload):
    kind, plural = "DaemonSet", "daemonsets"
    label_is_name = False  # DaemonSet pods carry the bare hash

    def __init__(self, cluster, spec):
        super().__init__(cluster, spec)
        strategy = spec.get("updateStrategy") or {}
        self.max_unavailable = strategy.get("maxUnavailable", 1)
        self.nodes = list(spec.get("nodes") or cluster.settings["nodes"])
        rev = self.current_revision
        self.pod_list = [self.make_pod(node, rev, cluster.started - 3600) for node in self.nodes]

    def make_pod(self, node, rev, now):
        name = "%s-%s" % (self.name, self.cluster.ids.suffix())
        return PodSim(self.cluster, name, self.namespace, rev.template, self.owner(), now,
                      node=node, generate_name=self.name + "-",
                      extra_labels={"controller-revision-hash": rev.hash,
                                    "pod-template-generation": str(self.generation)})

    def on_node(self, node):
        return [p for p in self.pod_list if p.node == node and not p.terminating]

    def sync_pods(self, now):
        for node in self.nodes:  # one daemon pod per node
            if not self.on_node(node):
                self.pod_list.append(self.make_pod(node, self.update_revision, now))
        if self.strategy == "RollingUpdate":
            self.rolling_update(now)

    def rolling_update(self, now):
        """Old pods that are not available go at once; available ones only
        while fewer than maxUnavailable nodes lack an available pod."""
        budget = resolve_intstr(self.max_unavailable, len(self.nodes), True)
        want = self.update_revision.hash
        unavailable = sum(1 for n in self.nodes
                          if not any(p.available(now, self.min_ready) for p in self.on_node(n)))
        for node in self.nodes:
            for pod in self.on_node(node):
                if self.pod_revision(pod) == want:
                    continue
                if not pod.available(now, self.min_ready):
                    pod.delete(now)
                elif unavailable < budget:
                    pod.delete(now)
                    unavailable += 1

    def render(self, now):
        want = self.update_revision.hash
        scheduled = [self.on_node(n)[0] for n in self.nodes if self.on_node(n)]
        ready = sum(p.ready(now) for p in scheduled)
        available = sum(p.available(now, self.min_ready) for p in scheduled)
        strategy = {"type": self.strategy}
        if self.strategy == "RollingUpdate":
            strategy["rollingUpdate"] = {"maxUnavailable": self.max_unavailable, "maxSurge": 0}
        spec = {"selector": {"matchLabels": self.labels}, "template": self.template,
                "updateStrategy": strategy, "revisionHistoryLimit": 10}
        if self.min_ready:
            spec["minReadySeconds"] = self.min_ready
        status = {"currentNumberScheduled": len(scheduled), "numberMisscheduled": 0,
                  "desiredNumberScheduled": len(self.nodes), "numberReady": ready,
                  "observedGeneration": self.observed_generation}
        status.update(omit_zero({
            "updatedNumberScheduled": sum(self.pod_revision(p) == want for p in scheduled),
            "numberAvailable": available,
            "numberUnavailable": len(self.nodes) - available}))
        ann = {"deprecated.daemonset.template.generation": str(self.generation)}
        return {"kind": "DaemonSet", "apiVersion": "apps/v1",
                "metadata": self.base_metadata(ann), "spec": spec, "status": status}


WORKLOAD_KINDS = {"deployment": DeploymentSim, "statefulset": StatefulSetSim,
                  "daemonset": DaemonSetSim}


# ---------------------------------------------------------------- the cluster

class Cluster:
    """The workloads, the behaviour of each image, the timeline, and the loop
    that advances the simulated controllers and publishes to the store."""

    def __init__(self, scenario, store, faults):
        self.scenario = scenario
        self.settings = dict(DEFAULT_SETTINGS, **scenario.get("settings", {}))
        self.store = store
        self.lock = store.cond
        self.faults = faults
        self.ids = Ids(self.settings["seed"])
        self.started = time.time()
        self.pod_counter = itertools.count()
        self.node_counter = itertools.count()
        self.behaviours = {}
        self.ns_uids = {}
        for image, b in (scenario.get("images") or {}).items():
            self.behaviours[image] = normalise_behaviour(b)
        self.workloads = [self.make_workload(w) for w in scenario.get("workloads", [])]
        self.queue = []
        self.seq = itertools.count()
        self.triggers = []
        self.triggers_lock = threading.Lock()
        for action in scenario.get("timeline", []):
            if "on" in action:
                self.add_trigger(action)
            else:
                self.schedule(self.started + float(action.get("at", 0)), action)
        for fault in scenario.get("faults", []):
            faults.add(fault)
        with self.lock:
            self.run_due(self.started)
            self.publish(self.started)
            # The seed objects "existed before the watch window": a watch from
            # an RV older than the current one must get 410.
            store.compact()

    def make_workload(self, spec):
        kind = spec.get("kind", "Deployment").lower()
        if kind not in WORKLOAD_KINDS:
            raise ValueError("unknown workload kind %r" % spec.get("kind"))
        return WORKLOAD_KINDS[kind](self, spec)

    def next_pod_index(self):
        return next(self.pod_counter)

    def pick_node(self):
        nodes = self.settings["nodes"]
        return nodes[next(self.node_counter) % len(nodes)]

    def behaviour_for(self, image):
        return self.behaviours.get(image, {"behaviour": "ok"})

    # -- timeline

    def schedule(self, due, action):
        heapq.heappush(self.queue, (due, next(self.seq), action))

    # -- triggers: actions that fire on the client's requests, not the clock

    def add_trigger(self, action):
        """An action with "on": {"request": REGEX, "count": N, "watch": BOOL}
        runs once the Nth request whose path?query matches REGEX (and is, or
        is not, a watch) has been answered (a watch: its stream opened)."""
        on = action.get("on")
        if not isinstance(on, dict) or "request" not in on:
            raise ValueError('a triggered action needs "on": {"request": REGEX}')
        t = {"action": {k: v for k, v in action.items() if k not in ("on", "at")},
             "on": on, "re": re.compile(on["request"]), "count": int(on.get("count", 1)),
             "seen": 0, "fired_at": None}
        with self.triggers_lock:
            self.triggers.append(t)

    def saw_request(self, entry):
        target = entry["path"] + ("?" + entry["raw_query"] if entry.get("raw_query") else "")
        due = []
        with self.triggers_lock:
            for t in self.triggers:
                if t["fired_at"] is not None or not t["re"].search(target):
                    continue
                if "watch" in t["on"] and bool(t["on"]["watch"]) != bool(entry.get("watch")):
                    continue
                t["seen"] += 1
                if t["seen"] >= t["count"]:
                    t["fired_at"] = time.time()
                    due.append(t)
        for t in due:
            # Another thread: the reply that triggered it may hold the lock.
            threading.Thread(target=self.fire, args=(t,), daemon=True).start()

    def fire(self, t):
        with self.lock:
            now = time.time()
            try:
                self.apply(t["action"], now)
            except (ValueError, KeyError) as e:
                log("triggered action %s failed: %s" % (json.dumps(t["action"]), e))
            self.publish(now)

    def triggers_json(self):
        with self.triggers_lock:
            return [{"on": t["on"], "action": t["action"], "seen": t["seen"],
                     "fired_at": t["fired_at"]} for t in self.triggers]

    def run_due(self, now):
        """Runs the actions due by now; returns how many ran."""
        ran = 0
        while self.queue and self.queue[0][0] <= now:
            _, _, action = heapq.heappop(self.queue)
            ran += 1
            try:
                self.apply(action, now)
            except (ValueError, KeyError) as e:
                log("action %s failed: %s" % (json.dumps(action), e))
        return ran

    def run_forever(self):
        step = float(self.settings["step"])
        while True:
            time.sleep(step)
            with self.lock:
                now = time.time()
                if self.run_due(now):
                    self.publish(now)  # the spec change alone, before any controller reacts
                for w in self.workloads:
                    if not w.deleted:
                        w.tick(now)
                self.publish(now)

    # -- actions

    def find(self, target):
        """'deployment/apps/web', 'statefulset/apps/db', 'apps/web' (a
        Deployment) or None (the first workload)."""
        if target is None:
            live = [w for w in self.workloads if not w.deleted]
            if not live:
                raise ValueError("the scenario has no workload")
            return live[0]
        parts = target.split("/")
        kind = "deployment" if len(parts) == 2 else parts[0].lower()
        ns, name = parts[-2], parts[-1]
        for w in self.workloads:
            if w.kind.lower() == kind and w.namespace == ns and w.name == name and not w.deleted:
                return w
        raise ValueError("no workload %s" % target)

    def apply(self, action, now):
        """Runs one timeline or control action; returns a JSON-able result."""
        kind = action.get("action")
        handler = getattr(self, "act_" + str(kind), None)
        if handler is None:
            raise ValueError("unknown action %r" % kind)
        return handler(action, now) or {}

    def act_set_image(self, a, now):
        w = self.find(a.get("target"))
        c = w.find_container(a.get("container"))
        sha = a.get("sha")
        image = a.get("image")
        if image is None:
            if not sha:
                raise ValueError("set_image needs image or sha")
            image = "%s:sha-%s" % (c["image"].rsplit(":", 1)[0] if ":" in c["image"].split("/")[-1]
                                   else c["image"], short_sha(sha))
        b = dict(a.get("options") or {}, behaviour=a.get("behaviour", "ok"))
        self.behaviours[image] = normalise_behaviour(b)
        w.set_image(now, c["name"], image, b["behaviour"], sha, a.get("observe_after"))
        return {"target": w.ref, "image": image, "generation": w.generation}

    def act_scale(self, a, now):
        w = self.find(a.get("target"))
        if not hasattr(w, "set_replicas"):
            raise ValueError("%s cannot be scaled" % w.ref)
        w.set_replicas(now, a["replicas"])
        return {"target": w.ref, "generation": w.generation}

    def act_observe(self, a, now):
        """The controller notices a pending spec change on its next step (for
        a set_image whose observe_after is long: the stale phase then ends
        when the test says, not at a time the client could miss)."""
        w = self.find(a.get("target"))
        w.observe_at = min(w.observe_at, now)
        return {"target": w.ref, "generation": w.generation}

    def act_pause(self, a, now):
        self.find(a.get("target")).set_paused(now, True)

    def act_resume(self, a, now):
        self.find(a.get("target")).set_paused(now, False)

    def act_delete_pod(self, a, now):
        """A person deleting pods (how OnDelete StatefulSets/DaemonSets update)."""
        w = self.find(a.get("target"))
        names = a.get("names") or ([a["name"]] if a.get("name") else None)
        pods = [p for p in w.pods() if not p.terminating and (names is None or p.name in names)]
        if names and not pods:
            raise ValueError("no pod %s in %s" % (names, w.ref))
        for p in pods:
            p.delete(now)
        return {"deleted": [p.name for p in pods]}

    def act_delete_workload(self, a, now):
        w = self.find(a.get("target"))
        w.deleted = True
        self.workloads.remove(w)
        return {"deleted": w.ref}

    def act_create_workload(self, a, now):
        w = self.make_workload(a["workload"])
        self.workloads.append(w)
        return {"created": w.ref}

    def act_compact(self, a, now):
        self.store.compact()
        return {"compacted_rv": str(self.store.compacted_rv)}

    def act_fault(self, a, now):
        return {"id": self.faults.add(a["fault"])}

    def act_clear_faults(self, a, now):
        self.faults.clear()

    # -- publishing

    def publish(self, now):
        desired = {}
        namespaces = {"default", "kube-system"}
        for w in self.workloads:
            namespaces.add(w.namespace)
            for obj in w.render_all(now):
                r = resource_for_kind(obj["kind"])
                meta = obj["metadata"]
                desired[(r.gv, r.plural, meta.get("namespace", ""), meta["name"])] = obj
        for ns in sorted(namespaces):
            if ns not in self.ns_uids:
                self.ns_uids[ns] = self.ids.uid()
            desired[("v1", "namespaces", "", ns)] = namespace_object(ns, self.ns_uids[ns],
                                                                     self.started)
        self.store.sync(desired)
        for w in self.workloads:
            w.check_marks(now, w.render(now))

    def find_pod(self, namespace, name):
        for w in self.workloads:
            for p in w.pods():
                if p.namespace == namespace and p.name == name:
                    return p
        return None

    def state_json(self):
        with self.lock:
            objects = collections.defaultdict(list)
            for (gv, plural, _, _), obj in sorted(self.store.objects.items()):
                objects[plural].append(obj)
            return {"started": self.started, "now": time.time(),
                    "resourceVersion": str(self.store.rv),
                    "compactedResourceVersion": str(self.store.compacted_rv),
                    "old_sha": self.scenario.get("old_sha"),
                    "new_sha": self.scenario.get("new_sha"),
                    "workloads": [w.state_json() for w in self.workloads],
                    "pending_actions": [dict(a, due=d) for d, _, a in sorted(self.queue)],
                    "objects": objects}


def namespace_object(ns, uid, started):
    return {"kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": ns, "uid": uid,
                         "creationTimestamp": rfc3339(started - 30 * 86400),
                         "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def normalise_behaviour(b):
    """"crashloop" or {"behaviour": "crashloop", ...options} -> dict."""
    if isinstance(b, str):
        b = {"behaviour": b}
    b = dict(b)
    b.setdefault("behaviour", "ok")
    if b["behaviour"] not in BEHAVIOURS:
        raise ValueError("unknown behaviour %r (known: %s)"
                         % (b["behaviour"], ", ".join(BEHAVIOURS)))
    return b


# ---------------------------------------------------------------- faults

FAULT_TYPES = ("status", "reset", "stall", "empty", "truncate", "warning",
               "drop_watch", "gone", "end_watch", "hang_watch", "stale_rv")
WATCH_FAULTS = ("drop_watch", "gone", "end_watch", "hang_watch", "stale_rv")


class Faults(FaultRules):
    """Scripted misbehaviour. Each rule matches requests (path, path_prefix,
    path_regex, method, watch) and acts on some of them (`skip` the first N,
    then `times` of them, default every one). The first rule that matches
    and has budget left wins; one rule per request."""

    def __init__(self):
        super().__init__()
        self.ids = itertools.count(1)

    def add(self, spec):
        specs = spec if isinstance(spec, list) else [spec]
        ids = []
        for s in specs:
            s = self.new_rule(s)
            if s.get("type") not in FAULT_TYPES:
                raise ValueError("unknown fault type %r (known: %s)"
                                 % (s.get("type"), ", ".join(FAULT_TYPES)))
            if s["type"] in WATCH_FAULTS:
                s.setdefault("watch", True)
            s["id"] = next(self.ids)
            with self.lock:
                self.rules.append(s)
            ids.append(s["id"])
        return ids if isinstance(spec, list) else ids[0]

    @staticmethod
    def matches(rule, method, path, is_watch):
        if "path" in rule and rule["path"] != path:
            return False
        if "path_prefix" in rule and not path.startswith(rule["path_prefix"]):
            return False
        if "path_regex" in rule and not re.search(rule["path_regex"], path):
            return False
        if "method" in rule and rule["method"].upper() != method:
            return False
        if "watch" in rule and bool(rule["watch"]) != is_watch:
            return False
        # The version dispatcher's /version probe is left alone unless a
        # rule names it: a fault there would change which kubectl runs.
        if path == "/version" and rule.get("path") != "/version":
            return False
        return True

    def pick_for(self, method, path, is_watch):
        """A copy of the rule to apply, or None."""
        r = self.pick(lambda r: self.matches(r, method, path, is_watch))
        return dict(r) if r is not None else None


# ---------------------------------------------------------------- HTTP

class AbortConnection(Exception):
    """Ends the connection without a proper HTTP ending (reset or drop)."""


API_PATH = re.compile(r"^/(api/v1|apis/apps/v1)(?:/namespaces/([^/]+))?/([^/]+)"
                      r"(?:/([^/]+))?(?:/([^/]+))?$")


class Handler(TlsHandler):
    """The Kubernetes API. The control API (/__fake/) is in ControlHandler."""

    idle_timeout = None  # watches and kubectl's keep-alive idle as long as they like
    entry = None  # this request's log entry (None for control requests)
    fault = None  # the fault rule applied to this request

    # -- plumbing

    def handle(self):
        try:
            super().handle()
        except (AbortConnection, ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except (ConnectionError, ssl.SSLError, OSError):
            pass

    def send_response(self, code, message=None):
        # No Server header, like the apiserver; record the status for the log.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self.send_header("Audit-Id", self.server.ids.uid())
        if self.entry is not None and self.entry.get("status") is None:
            self.entry["status"] = code
            self.server.reqlog.written(self.entry)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # -- replies

    def reply_body(self, code, body, ctype, extra_headers=()):
        fault = self.fault
        if code == 200 and fault and fault["type"] == "empty":
            body = b""
        if code == 200 and fault and fault["type"] == "truncate":
            full = len(body)
            body = body[:full // 2]
            if fault.get("close"):  # promise the whole body, send half, hang up
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(full))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.drop()
        self.send_response(code)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        if fault and fault["type"] == "warning":
            self.send_header("Warning", '299 - "%s"' % fault.get("text", "fake warning"))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, code, obj, extra_headers=()):
        body = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.reply_body(code, body, "application/json", extra_headers)

    def reply_status(self, code, message, reason=None, details=None, extra_headers=()):
        self.reply_json(code, status_object(code, message, reason, details), extra_headers)

    def not_found_path(self):
        self.reply_status(404, "the server could not find the requested resource",
                          details={"causes": [{"reason": "UnexpectedServerResponse",
                                               "message": "404 page not found"}]})

    def drop(self):
        """Hangs up without a TLS close_notify or the terminating chunk:
        kubectl sees `unexpected EOF`."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise AbortConnection()

    def reset(self):
        """Closes with a TCP RST before any response."""
        if self.entry is not None:
            self.server.reqlog.written(self.entry)
        rst_close(self.connection)
        raise AbortConnection()

    # -- dispatch

    def dispatch(self, method):
        self.entry = None
        self.fault = None
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self.read_body()
        if path.startswith("/__fake/"):
            return self.control(method, path, query, body)
        is_watch = query.get("watch", "").lower() in ("1", "true")
        auth = self.headers.get("Authorization")
        token_ok = auth == "Bearer " + self.server.token
        self.entry = {"time": time.time(), "method": method, "path": path, "query": query,
                      "raw_query": url.query, "authorization": auth is not None,
                      "auth": "none" if auth is None else ("valid" if token_ok else "invalid"),
                      "user_agent": self.headers.get("User-Agent"),
                      "accept": self.headers.get("Accept"), "watch": is_watch,
                      "status": None, "fault": None}
        self.server.reqlog.enter(self.entry)
        self.fault = self.server.faults.pick_for(method, path, is_watch)
        if self.fault:
            self.entry["fault"] = self.fault["type"]
            if self.apply_fault(path):
                return
        if path == "/version" and auth is None:  # anonymous may read it; a bad token may not
            return self.reply_json(200, version_object(self.server.cluster.settings))
        if not token_ok:
            return self.reply_status(401, "Unauthorized")
        if path == "/version":
            return self.reply_json(200, version_object(self.server.cluster.settings))
        if method != "GET":
            return self.reply_status(405, "the server does not allow this method on the "
                                          "requested resource")
        self.route(path, query, is_watch)

    def apply_fault(self, path):
        """Handles the faults that replace the response. True when done."""
        f = self.fault
        t = f["type"]
        if t == "stall":  # then answer normally
            time.sleep(float(f.get("seconds", 10)))
            return False
        if t == "reset":
            self.reset()
        if t == "status":
            code = int(f.get("code", 500))
            headers = []
            if f.get("retry_after") is not None:
                headers.append(("Retry-After", str(f["retry_after"])))
            if f.get("text") is not None:
                self.reply_body(code, f["text"].encode(), "text/plain; charset=utf-8", headers)
            else:
                self.reply_status(code, f.get("message") or default_fault_message(code, path),
                                  f.get("reason"), extra_headers=headers)
            return True
        return False

    def route(self, path, query, is_watch):
        simple = DISCOVERY.get(path)
        if simple is not None:
            return self.reply_json(200, simple(self.server))
        m = API_PATH.match(path)
        if not m:
            return self.not_found_path()
        api, ns, plural, name, sub = m.groups()
        gv = "v1" if api == "api/v1" else "apps/v1"
        res = RESOURCES.get((gv, plural))
        if res is None or (ns is not None and not res.namespaced):
            return self.not_found_path()
        if sub == "log" and plural == "pods":
            return self.pod_log(ns, name, query)
        if sub not in (None, "status"):
            return self.not_found_path()
        if name is not None and is_watch:
            # Watching one object is a watch of the collection by name.
            query = dict(query, fieldSelector="metadata.name=" + name)
            return self.watch(res, ns, query)
        if name is not None:
            return self.get_object(res, ns, name)
        if is_watch:
            return self.watch(res, ns, query)
        return self.list(res, ns, query)

    # -- GET and LIST

    def get_object(self, res, ns, name):
        store = self.server.store
        with store.cond:
            obj = store.get(res.gv, res.plural, ns, name)
        if obj is None:
            details = {"name": name, "kind": res.plural}
            if res.group:
                details = {"name": name, "group": res.group, "kind": res.plural}
            return self.reply_status(404, '%s "%s" not found' % (res.qualified, name),
                                     details=details)
        self.reply_json(200, obj)

    def selectors(self, res, query):
        """(predicate, None) or (None, error already sent)."""
        try:
            fsel = parse_field_selector(query.get("fieldSelector", ""), res)
            lsel = parse_label_selector(query.get("labelSelector", ""))
        except ValueError as e:
            self.reply_status(400, str(e), "BadRequest")
            return None
        return lambda o: fsel(o) and lsel(o["metadata"].get("labels"))

    def list(self, res, ns, query):
        match = self.selectors(res, query)
        if match is None:
            return
        store = self.server.store
        with store.cond:
            items = [strip_type(o) for o in store.items(res.gv, res.plural, ns) if match(o)]
            rv = store.rv
        self.reply_json(200, {"kind": res.kind + "List", "apiVersion": res.gv,
                              "metadata": {"resourceVersion": str(rv)}, "items": items})

    # -- WATCH

    def watch(self, res, ns, query):
        match = self.selectors(res, query)
        if match is None:
            return
        w = Watch(self, res, ns, query, match)
        w.serve()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- pod logs

    def pod_log(self, ns, name, query):
        cluster = self.server.cluster
        with cluster.lock:
            pod = cluster.find_pod(ns, name)
            if pod is None:
                return self.reply_status(404, 'pods "%s" not found' % name,
                                         details={"name": name, "kind": "pods"})
            names = [c["name"] for c in pod.template["spec"].get("initContainers", [])
                     + pod.template["spec"]["containers"]]
            main = [c["name"] for c in pod.template["spec"]["containers"]]
            container = query.get("container")
            if not container:
                if len(main) > 1:
                    return self.reply_status(
                        400, "a container name must be specified for pod %s, choose one of: "
                             "[%s]" % (name, " ".join(main)), "BadRequest")
                container = main[0]
            if container not in names:
                return self.reply_status(400, "container %s is not valid for pod %s"
                                         % (container, name), "BadRequest")
            if not pod.view(time.time()).scheduled:
                return self.reply_status(400, "pod %s does not have a host assigned" % name,
                                         "BadRequest")
            lines, err = pod.logs(container, query.get("previous") == "true", time.time())
        if err is not None:
            return self.reply_json(err["code"], err)
        text = format_log(lines, query)
        self.reply_body(200, text.encode(), "text/plain")


def strip_type(obj):
    """LIST items carry no kind/apiVersion, as the apiserver returns them."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def format_log(lines, query):
    if query.get("timestamps") == "true":
        lines = [(t, rfc3339_nano(t) + " " + l) for t, l in lines]
    if query.get("sinceSeconds"):
        cutoff = time.time() - float(query["sinceSeconds"])
        lines = [(t, l) for t, l in lines if t >= cutoff]
    texts = [l for _, l in lines]
    if query.get("tailLines") not in (None, ""):
        n = int(query["tailLines"])
        texts = texts[-n:] if n > 0 else []
    text = "".join(l + "\n" for l in texts)
    if query.get("limitBytes"):
        text = text[:int(query["limitBytes"])]
    return text


def default_fault_message(code, path):
    m = API_PATH.match(path)
    if code == 403 and m:
        api, ns, plural, name, sub = m.groups()
        group = "" if api == "api/v1" else "apps"
        verb = "get" if name else "list"
        where = ' in the namespace "%s"' % ns if ns else " at the cluster scope"
        subject = '%s "%s"' % (plural + ("." + group if group else ""), name) if name else plural
        return ('%s is forbidden: User "system:serviceaccount:ci:deployer" cannot %s resource '
                '"%s" in API group "%s"%s' % (subject, verb, plural, group, where))
    return {401: "Unauthorized",
            403: 'forbidden: User "system:serviceaccount:ci:deployer" cannot get path "%s"'
                 % path,
            404: "the server could not find the requested resource",
            429: "Too many requests, please try again later.",
            500: "Internal error occurred: fake fault injected",
            503: "the server is currently unable to handle the request",
            504: "the server was unable to return a response in the time allotted, "
                 "but may still be processing the request"}.get(code, "fake fault")


class Watch:
    """One watch stream: initial events when asked for, then history after
    the requested resourceVersion, filtered by namespace and selectors, with
    bookmarks, timeoutSeconds and the scripted watch faults."""

    def __init__(self, handler, res, ns, query, match):
        self.h, self.res, self.ns, self.query, self.match = handler, res, ns, query, match
        self.store = handler.server.store
        self.settings = handler.server.cluster.settings
        self.fault = handler.fault if handler.fault and handler.fault["type"] in WATCH_FAULTS \
            else None
        self.sent = 0  # ADDED/MODIFIED/DELETED events written
        self.started = time.time()

    def serve(self):
        q = self.query
        rv_param = q.get("resourceVersion", "")
        if rv_param not in ("", "0") and not rv_param.isdigit():
            return self.h.reply_status(400, 'resourceVersion: Invalid value: "%s": must be an '
                                            'integer' % rv_param, "BadRequest")
        timeout = float(q.get("timeoutSeconds") or self.settings["watch_max_seconds"])
        self.deadline = self.started + timeout
        self.bookmarks = q.get("allowWatchBookmarks") == "true"
        initial = q.get("sendInitialEvents") == "true"
        with self.store.cond:
            current = self.store.rv
            expired = rv_param not in ("", "0") and int(rv_param) < self.store.compacted_rv
            if self.fault and self.fault["type"] == "stale_rv" and rv_param not in ("", "0") \
                    and int(rv_param) < current:
                expired = True
            first = []
            if not expired and (rv_param in ("", "0") or initial):
                items = self.store.items(self.res.gv, self.res.plural, self.ns)
                first = [("ADDED", o) for o in items if self.match(o)]
                self.last = current
            else:
                self.last = int(rv_param) if rv_param.isdigit() else current
        self.h.send_response(200)
        self.h.send_header("Cache-Control", "no-cache, private")
        self.h.send_header("Content-Type", "application/json")
        self.h.send_header("Transfer-Encoding", "chunked")
        self.h.end_headers()
        if expired:
            self.emit("ERROR", expired_status("too old resource version: %s (%d)"
                                              % (rv_param, current)))
            return self.h.end_chunks()
        if self.fault_due():  # e.g. drop_watch with after_events 0: right after the headers
            return self.after_event()
        for etype, obj in first:
            if not self.emit(etype, obj):
                return
        if initial and self.bookmarks:
            self.bookmark(current, initial_end=True)
        self.loop()

    def emit(self, etype, obj):
        """Writes one event; False when a fault ended the stream."""
        line = json.dumps({"type": etype, "object": obj}, separators=(",", ":")) + "\n"
        self.h.write_chunk(line.encode())
        if etype in ("ADDED", "MODIFIED", "DELETED"):
            self.sent += 1
            return self.after_event()
        return True

    def bookmark(self, rv, initial_end=False):
        obj = self.res.zero_object()
        obj["metadata"]["resourceVersion"] = str(rv)
        if initial_end:
            obj["metadata"]["annotations"] = {"k8s.io/initial-events-end": "true"}
        self.emit("BOOKMARK", obj)

    def fault_due(self):
        f = self.fault
        if f is None or f["type"] == "stale_rv":
            return False
        if "after_seconds" in f:
            return time.time() - self.started >= float(f["after_seconds"])
        return self.sent >= int(f.get("after_events", 0))

    def after_event(self):
        if not self.fault_due():
            return True
        t = self.fault["type"]
        if t == "drop_watch":
            self.h.drop()
        if t == "gone":
            self.emit("ERROR", status_object(
                410, self.fault.get("message", "The resourceVersion for the provided watch is "
                                               "too old."), self.fault.get("reason", "Expired")))
            self.h.end_chunks()
        elif t == "end_watch":
            self.h.end_chunks()
        elif t == "hang_watch":  # silent: no events, no bookmarks, no end
            time.sleep(float(self.fault.get("seconds", 3600)))
            self.h.drop()
        return False

    def relevant(self, entry):
        """Maps a history entry through the selectors, as the watch cache
        does: an object that starts matching is ADDED, one that stops is DELETED."""
        rv, key, etype, obj, prev = entry
        gv, plural, ns, _ = key
        if gv != self.res.gv or plural != self.res.plural:
            return None
        if self.ns is not None and ns != self.ns:
            return None
        now_match = self.match(obj)
        was_match = prev is not None and self.match(prev)
        if etype == "DELETED":
            return ("DELETED", obj) if was_match or now_match else None
        if now_match and was_match:
            return ("MODIFIED", obj)
        if now_match:
            return ("ADDED", obj)
        if was_match:
            return ("DELETED", obj)
        return None

    def loop(self):
        interval = float(self.settings["bookmark_interval"])
        next_bookmark = time.time() + interval
        while True:
            with self.store.cond:
                now = time.time()
                wake = min(self.deadline, next_bookmark if self.bookmarks else self.deadline)
                if self.fault and "after_seconds" in self.fault:
                    wake = min(wake, self.started + float(self.fault["after_seconds"]))
                if self.store.rv <= self.last and now < wake:
                    self.store.cond.wait(wake - now)
                if self.last < self.store.compacted_rv:
                    # events this watch still needed were compacted away: 410
                    self.emit("ERROR", expired_status("too old resource version: %d (%d)"
                                                      % (self.last, self.store.rv)))
                    return self.h.end_chunks()
                entries = self.store.events_after(self.last)
                self.last = max(self.last, self.store.rv)
                current = self.store.rv
            for entry in entries:
                ev = self.relevant(entry)
                if ev is not None and not self.emit(*ev):
                    return
            now = time.time()
            if self.fault_due():
                self.after_event()
                return
            if now >= self.deadline:
                return self.h.end_chunks()
            if self.bookmarks and now >= next_bookmark:
                self.bookmark(current)
                next_bookmark = now + interval


def version_object(settings):
    ver = settings["server_version"].lstrip("v")
    major, minor = ver.split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": "v" + ver,
            "gitCommit": "6911225c3f747e1cd9d109c305436d08b668f086",
            "gitTreeState": "clean", "buildDate": "2024-05-14T10:42:02Z",
            "goVersion": "go1.22.2", "compiler": "gc", "platform": "linux/amd64"}


def api_resource_list(gv):
    res = [r for r in RESOURCES.values() if r.gv == gv]
    out = []
    for r in res:
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        entry = {"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                 "kind": r.kind, "verbs": verbs}
        if r.short_names:
            entry["shortNames"] = r.short_names
        if r.kind in ("Deployment", "StatefulSet", "DaemonSet"):
            entry["categories"] = ["all"]
        out.append(entry)
        if r.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"):
            out.append({"name": r.plural + "/status", "singularName": "", "namespaced": True,
                        "kind": r.kind, "verbs": ["get", "patch", "update"]})
        if r.kind == "Pod":
            out.append({"name": "pods/log", "singularName": "", "namespaced": True,
                        "kind": "Pod", "verbs": ["get"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def apps_group():
    return {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}


DISCOVERY = {
    "/api": lambda s: {"kind": "APIVersions", "versions": ["v1"],
                       "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                       "serverAddress": "127.0.0.1:%d" % s.port}]},
    "/apis": lambda s: {"kind": "APIGroupList", "apiVersion": "v1", "groups": [apps_group()]},
    "/apis/apps": lambda s: dict({"kind": "APIGroup", "apiVersion": "v1"}, **apps_group()),
    "/api/v1": lambda s: api_resource_list("v1"),
    "/apis/apps/v1": lambda s: api_resource_list("apps/v1"),
}


# -- control API

class ControlHandler(Handler):
    """/__fake/...: the tests' and benchmarks' side door. No token; JSON in and out."""

    def control(self, method, path, query, body):
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError as e:
            return self.reply_json(400, {"error": "bad JSON: %s" % e})
        route = (method, path)
        try:
            if route == ("GET", "/__fake/state"):
                return self.reply_json(200, self.server.cluster.state_json())
            if route == ("GET", "/__fake/requests"):
                since = int(query.get("since", 0))
                if "wait_path" in query:
                    return self.reply_json(200, self.server.reqlog.wait_for(
                        since, query["wait_path"], float(query.get("timeout", 300))))
                return self.reply_json(200, self.server.reqlog.since(since))
            if route == ("DELETE", "/__fake/requests"):
                self.server.reqlog.clear()
                return self.reply_json(200, {"ok": True})
            if route == ("POST", "/__fake/actions"):
                return self.reply_json(200, {"ok": True, "results": self.run_actions(data)})
            if route == ("GET", "/__fake/faults"):
                return self.reply_json(200, self.server.faults.list())
            if route == ("POST", "/__fake/faults"):
                return self.reply_json(200, {"ok": True, "id": self.server.faults.add(data)})
            if route == ("DELETE", "/__fake/faults"):
                self.server.faults.clear()
                return self.reply_json(200, {"ok": True})
            if route == ("GET", "/__fake/triggers"):
                return self.reply_json(200, self.server.cluster.triggers_json())
            if route == ("GET", "/__fake/scenario"):
                return self.reply_json(200, self.server.cluster.scenario)
        except (ValueError, KeyError, TypeError) as e:
            return self.reply_json(400, {"error": str(e)})
        self.reply_json(404, {"error": "no control endpoint %s %s" % (method, path)})

    def run_actions(self, data):
        """One action or a list. `in` (seconds) schedules it for later;
        otherwise it runs now and its effect is published before we answer."""
        actions = data if isinstance(data, list) else [data]
        cluster = self.server.cluster
        results = []
        with cluster.lock:
            now = time.time()
            for a in actions:
                if not isinstance(a, dict):
                    raise ValueError("an action is a JSON object")
                if "on" in a:
                    cluster.add_trigger(a)
                    results.append({"trigger": a["on"]})
                elif float(a.get("in", 0)) > 0:
                    cluster.schedule(now + float(a["in"]), a)
                    results.append({"scheduled": now + float(a["in"])})
                else:
                    results.append(cluster.apply(a, now))
            cluster.publish(now)
        return results


class KubeServer(FakeServer):
    name = "kube"
    verbose = True               # failed handshakes and resets go to the log

    @property
    def port(self):
        return self.server_port


# ---------------------------------------------------------------- start-up

def log(msg):
    sys.stderr.write("kube: %s\n" % msg)
    sys.stderr.flush()


def closed_port():
    """A bound but never listening socket: connecting gets ECONNREFUSED, and
    holding it keeps the port from being reused while we run."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


def kubeconfig_text(port, refused_port, ca, other_ca, token):
    """Contexts: fake (current), fake-badtoken, fake-wrongca, fake-refused,
    fake-plainhttp (http:// to the TLS port). Written as JSON, which is YAML."""
    server = "https://127.0.0.1:%d" % port
    clusters = [("fake", server, ca), ("fake-wrongca", server, other_ca),
                ("fake-refused", "https://127.0.0.1:%d" % refused_port, ca),
                ("fake-plainhttp", "http://127.0.0.1:%d" % port, None)]
    contexts = [("fake", "fake", "fake"), ("fake-badtoken", "fake", "fake-badtoken"),
                ("fake-wrongca", "fake-wrongca", "fake"), ("fake-refused", "fake-refused", "fake"),
                ("fake-plainhttp", "fake-plainhttp", "fake")]
    cfg = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": n, "cluster": dict({"server": s},
                                                     **({"certificate-authority": c} if c else {}))}
                        for n, s, c in clusters],
           "users": [{"name": "fake", "user": {"token": token}},
                     {"name": "fake-badtoken", "user": {"token": "not-the-token"}}],
           "contexts": [{"name": n, "context": {"cluster": c, "user": u}} for n, c, u in contexts],
           "current-context": "fake"}
    return json.dumps(cfg, indent=2) + "\n"


def parse_args(argv):
    p = argparse.ArgumentParser(description="fake Kubernetes API server for homelab tests")
    p.add_argument("--cert", required=True, help="server certificate (PEM)")
    p.add_argument("--key", required=True, help="server key (PEM)")
    p.add_argument("--ca", required=True,
                   help="CA that signed --cert; other-ca.pem must sit next to it")
    p.add_argument("--scenario", required=True, help="scenario JSON")
    p.add_argument("--port-file", required=True, help="written (atomically) once listening")
    p.add_argument("--control-port-file",
                   help="also serve /__fake/ in plain HTTP; its port is written here")
    p.add_argument("--kubeconfig", required=True, help="kubeconfig to write")
    p.add_argument("--request-log", help="append one JSON line per request")
    p.add_argument("--token", default=DEFAULT_TOKEN, help="the bearer token to accept")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    with open(args.scenario) as f:
        scenario = json.load(f)
    settings = dict(DEFAULT_SETTINGS, **scenario.get("settings", {}))
    store = Store(int(settings["first_resource_version"]), int(settings["watch_window"]))
    faults = Faults()
    try:
        cluster = Cluster(scenario, store, faults)
    except (ValueError, KeyError) as e:
        log("bad scenario %s: %s" % (args.scenario, e))
        return 2

    server = listen_tls(KubeServer(("127.0.0.1", 0), ControlHandler), args.cert, args.key)
    server.cluster, server.store, server.faults = cluster, store, faults
    server.reqlog = RequestLog(args.request_log, cluster.saw_request, sort_keys=True)
    server.token = args.token
    server.ids = Ids(settings["seed"] + 1)

    refused = closed_port()
    ca = os.path.abspath(args.ca)
    other_ca = os.path.join(os.path.dirname(ca), "other-ca.pem")
    write_atomic(args.kubeconfig, kubeconfig_text(server.port, refused.getsockname()[1],
                                                  ca, other_ca, args.token))
    threading.Thread(target=cluster.run_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.control_port_file:
        listen_control(server, args.control_port_file)
    write_port_file(args.port_file, server.port)
    log("listening on https://127.0.0.1:%d (scenario %s)" % (server.port, args.scenario))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
