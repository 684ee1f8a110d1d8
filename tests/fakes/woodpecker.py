#!/usr/bin/env python3
"""A fake Woodpecker CI server for homelab's integration tests and benchmarks.

It speaks the Woodpecker v3.14+ REST and SSE API over HTTPS on 127.0.0.1,
closely enough that a real client cannot tell it from the real server: the
same paths, query parameters, field names, status codes, empty error bodies,
headers and stream framing (see the project's Woodpecker API reference).

What it serves is scripted by a scenario file (JSON): users and their tokens,
repos, and pipelines whose states follow a timeline relative to the server's
start. A control API under /__fake/ lets tests create pipelines (from a git
hook, say), approve blocked ones, jump the clock, install faults and read the
request log. tests/fakes/README.md documents the scenario format, the control
API and the fault kinds.

Usage:
  woodpecker.py --cert PEM --key KEY --scenario FILE.json --port-file FILE
                [--request-log FILE] [--port N] [--token TOKEN]...
                [--control-port-file FILE]
                [--ping-interval SECONDS] [--verbose]

Design notes:
  * Time. Every scenario time is in seconds relative to the server's start;
    "now" is monotonic time since the start plus any /__fake/advance offset.
    Each pipeline's states are precomputed as a list of frames (time,
    snapshot), and a request simply picks the frame for "now". REST answers
    are therefore a pure function of time and never wait on a thread.
  * The event stream is fed by one scheduler thread that wakes at each frame
    time and publishes the frame of that moment, so an event describes the
    exact state it announces even when the thread runs late.
  * One thread per connection (daemon threads): a stalled request or an
    endless stream blocks nothing else, and SIGTERM ends the process at once.
"""

import argparse
import base64
import bisect
import hashlib
import itertools
import json
import math
import queue
import random
import re
import socket
import ssl
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from fakehttp import (FakeServer, FaultRules, RequestLog, TlsHandler, add_common_args,
                      listen_control, listen_tls, load_json, rst_close, serve, stop_on_signals,
                      write_port_file)
from reactions import Reactions

# ---------------------------------------------------------------------------
# Woodpecker vocabulary (server/model/const.go, server/pipeline/status.go)
# ---------------------------------------------------------------------------

DEFAULT_VERSION = "3.17.0"
STATUSES = ("created", "pending", "running", "blocked", "success", "failure",
            "killed", "canceled", "error", "declined", "skipped")
TERMINAL = frozenset(("success", "failure", "killed", "canceled", "error",
                      "declined", "skipped"))
# States in which a step or workflow has certainly run, so it has timestamps.
RAN = frozenset(("running", "success", "failure", "killed", "error"))
FAILING = frozenset(("failure", "error", "killed"))
EVENTS = ("push", "pull_request", "pull_request_closed", "pull_request_metadata",
          "tag", "release", "deployment", "cron", "manual")
# Merge priority of workflow states into a pipeline status, highest first.
_PRIORITY_ORDER = ("declined", "blocked", "created", "error", "killed", "canceled",
                   "running", "pending", "failure", "success", "skipped")
PRIORITY = {s: len(_PRIORITY_ORDER) - i for i, s in enumerate(_PRIORITY_ORDER)}

MAX_PAGE_SIZE = 50
DEFAULT_PING_INTERVAL = 30.0
DEFAULT_LINE_INTERVAL = 0.5      # a running step with no known end logs this fast
IDLE_TIMEOUT = 300.0             # idle keep-alive connections are closed after this
CHUNKED_LOG_BYTES = 4 << 20      # log bodies above this are sent chunked, built lazily
FAKE_PREFIX = "/__fake/"
FORGE = "https://git.homelab.test"

INDEX_HTML = (b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="UTF-8" />\n'
              b'<link rel="icon" href="/favicons/favicon-light-default.png" />\n'
              b'<meta name="viewport" content="width=device-width, initial-scale=1.0" />\n'
              b'<title>Woodpecker</title>\n<script type="module" src="/assets/index.js"></script>\n'
              b'</head>\n<body>\n<div id="app"></div>\n</body>\n</html>\n')
HTML_TYPE = "text/html; charset=UTF-8"
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


class ScenarioError(Exception):
    """A scenario (or control API request) that does not make sense."""


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
               "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def go_json(obj):
    """Encode like Go's encoding/json: compact, raw UTF-8, and <>& escaped as
    \\u003c etc. (they can only occur inside strings, so replacing them in the
    encoded text is safe)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group()], text)
    return text.encode("utf-8", "replace")


def plain_json(obj):
    return (json.dumps(obj, indent=1) + "\n").encode()


_INT_RE = re.compile(r"^[+-]?[0-9]+$")


def go_parse_int(text):
    """strconv.ParseInt(text, 10, 64) / Atoi: None when Go would fail."""
    if text is None or not _INT_RE.match(text):
        return None
    value = int(text)
    if not -(1 << 63) <= value < (1 << 63):
        return None
    return value


_RFC3339_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                         r"(Z|([+-])(\d{2}):(\d{2}))$")


def parse_rfc3339(text):
    """Go's time.Parse(time.RFC3339, text) -> unix seconds (floored), or None."""
    m = _RFC3339_RE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    tz = timezone.utc
    if m.group(8) != "Z":
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        sign = -1 if m.group(9) == "-" else 1
        tz = timezone(sign * timedelta(hours=oh, minutes=om))
    try:
        dt = datetime(y, mo, d, h, mi, s, tzinfo=tz)
    except ValueError:
        return None
    return math.floor(dt.timestamp())


def sql_like_contains(pattern, value):
    """SQL `value LIKE '%pattern%'` (SQLite: ASCII case-insensitive)."""
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.search(rx, value, re.S | re.I) is not None


def line_bytes(item, where):
    """A log line from the scenario: a string (JSON escapes such as \\u001b
    allowed; lone surrogates \\udc80-\\udcff stand for raw bytes 0x80-0xff, as
    Python's surrogateescape) or {"b64": "..."} for arbitrary bytes."""
    if isinstance(item, str):
        return item.encode("utf-8", "surrogateescape")
    if isinstance(item, dict) and "b64" in item:
        return base64.b64decode(item["b64"])
    raise ScenarioError("%s: a log line must be a string or {\"b64\": ...}" % where)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def fake_ulid(seed):
    """A stable ULID-looking string (steps carry one; nothing uses it)."""
    digest = int.from_bytes(hashlib.sha1(str(seed).encode()).digest()[:17], "big")
    return "01" + "".join(_CROCKFORD[(digest >> (5 * i)) & 31] for i in range(24))


def fake_sha(seed):
    return hashlib.sha1(str(seed).encode()).hexdigest()


class Clock:
    """Scenario time: seconds since the server started, plus an offset that
    /__fake/advance can grow. unix() maps scenario time to wall-clock time."""

    def __init__(self):
        self.wall0 = time.time()
        self.mono0 = time.monotonic()
        self.offset = 0.0

    def now(self):
        return time.monotonic() - self.mono0 + self.offset

    def unix(self, rel):
        return self.wall0 + rel

    def unix_int(self, rel):
        """Go's time.Now().Unix() at scenario time rel; 0 for "not set"."""
        return 0 if rel is None else int(math.floor(self.wall0 + rel))


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

_LINE_MAX = 1 << 20             # Woodpecker splits longer lines; we do not
_FILLER = (b"the quick brown fox jumps over the lazy dog 0123456789 "
           b"THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG ") * 4


class LogSpec:
    """The lines of one step's log: an optional generated prefix (any size,
    produced on demand) followed by literal lines. Also how fast the lines
    appear (`interval`) and how many GET requests see no log yet (`empty_for`)."""

    def __init__(self, spec, where):
        if spec is None:
            spec = {}
        if isinstance(spec, list):
            spec = {"lines": spec}
        if not isinstance(spec, dict):
            raise ScenarioError("%s: log must be a list of lines or an object" % where)
        lines = []
        if "text" in spec:
            lines += [line_bytes(x, where) for x in spec["text"].split("\n")]
        lines += [line_bytes(x, where) for x in spec.get("lines", [])]
        lines += [base64.b64decode(x) for x in spec.get("lines_b64", [])]
        gen = spec.get("generate") or {}
        self.gen_lines = int(gen.get("lines", 0))
        self.gen_width = max(8, int(gen.get("width", 80)))
        if self.gen_width > _LINE_MAX:
            raise ScenarioError("%s: generated lines wider than 1 MiB are not supported" % where)
        self.lines = lines
        self.count = self.gen_lines + len(lines)
        self.interval = spec.get("interval")
        self.empty_for = int(spec.get("empty_for", 0))
        self.requests = 0          # GET /logs requests so far, for empty_for
        self._filler = _FILLER * (self.gen_width // len(_FILLER) + 1)

    def line(self, i):
        if i < self.gen_lines:
            return (b"%07d " % (i + 1) + self._filler)[:self.gen_width]
        return self.lines[i - self.gen_lines]

    def estimated_json_bytes(self, n):
        avg = self.gen_width if self.gen_lines else 60
        return n * (avg * 4 // 3 + 70)


# ---------------------------------------------------------------------------
# Repos, users
# ---------------------------------------------------------------------------

class User:
    def __init__(self, spec):
        self.id = int(spec.get("id", 1))
        self.login = spec.get("login", "octocat")
        self.email = spec.get("email", "%s@example.com" % self.login)
        self.admin = bool(spec.get("admin", False))
        self.tokens = set(spec.get("tokens", []))
        if "token" in spec:
            self.tokens.add(spec["token"])
        self.token_regex = [re.compile(r) for r in spec.get("token_regex", [])]

    def has_token(self, token):
        return token in self.tokens or any(r.fullmatch(token) for r in self.token_regex)

    def json(self):
        d = {"id": self.id, "login": self.login, "email": self.email,
             "avatar_url": "https://avatars.homelab.test/%s" % self.login}
        if self.admin:
            d["admin"] = True
        d.update(org_id=self.id, forge_id=1, forge_remote_id=str(self.id))
        return d


class Repo:
    def __init__(self, spec, default_members):
        self.id = int(spec["id"])
        self.full_name = spec["full_name"]
        if "/" not in self.full_name:
            raise ScenarioError("repo %r: full_name must be OWNER/NAME" % self.full_name)
        self.owner, self.name = self.full_name.rsplit("/", 1)
        self.active = bool(spec.get("active", True))
        self.private = bool(spec.get("private", False))
        self.visibility = spec.get("visibility", "private" if self.private else "public")
        if self.visibility not in ("public", "private", "internal"):
            raise ScenarioError("repo %s: bad visibility %r" % (self.full_name, self.visibility))
        self.default_branch = spec.get("default_branch", "main")
        self.members = set(spec.get("members", default_members))
        self.aliases = [a.lower() for a in spec.get("aliases", [])]
        self.require_approval = spec.get("require_approval", "forks")
        self.extra = spec.get("extra", {})
        self.spec = spec            # the write block reads push/branches/manual from it

    def json(self):
        url = "%s/%s" % (FORGE, self.full_name)
        d = {"id": self.id, "forge_id": 1, "forge_remote_id": str(100000 + self.id),
             "org_id": 1, "owner": self.owner, "name": self.name, "full_name": self.full_name,
             "avatar_url": "https://avatars.homelab.test/%s" % self.owner,
             "forge_url": url, "clone_url": url + ".git",
             "clone_url_ssh": "git@git.homelab.test:%s.git" % self.full_name}
        if self.default_branch:
            d["default_branch"] = self.default_branch
        d.update({"pr_enabled": True, "timeout": 60, "visibility": self.visibility,
                  "private": self.private,
                  "trusted": {"network": False, "volumes": False, "security": False},
                  "require_approval": self.require_approval, "approval_allowed_users": None,
                  "active": self.active, "allow_pr": True, "allow_deploy": False,
                  "config_file": "", "cancel_previous_pipeline_events": None,
                  "netrc_trusted": None, "config_extension_endpoint": "",
                  "config_extension_exclusive": False, "config_extension_netrc": False,
                  "registry_extension_endpoint": "", "registry_extension_netrc": False,
                  "secret_extension_endpoint": ""})
        d.update(self.extra)
        return d


# ---------------------------------------------------------------------------
# Pipelines and their timelines
# ---------------------------------------------------------------------------

class StepDef:
    def __init__(self, spec, pid, ppid, where):
        self.name = spec["name"]
        self.pid = int(spec.get("pid", pid))
        self.ppid = ppid
        self.type = spec.get("type", "clone" if self.name == "clone" else "commands")
        self.log = LogSpec(spec.get("log"), where)
        self.ignore_failure = spec.get("failure") == "ignore"
        self.stream_error = spec.get("stream_error")
        # Shorthand timeline: running at `start`, `result` at `end`.
        self.start = spec.get("start")
        self.end = spec.get("end")
        self.result = spec.get("result")
        self.exit_code = spec.get("exit_code")
        self.error = spec.get("error")
        if self.result is not None and self.result not in STATUSES:
            raise ScenarioError("%s: unknown result %r" % (where, self.result))


class WorkflowDef:
    def __init__(self, spec, pid, where):
        self.name = spec["name"]
        self.pid = int(spec.get("pid", pid))
        self.platform = spec.get("platform", "linux/amd64")
        self.environ = spec.get("environ")
        self.steps = []


def default_exit_code(state):
    return {"failure": 1, "killed": 137, "error": 1}.get(state, 0)


def derive_workflow_state(states, ignore):
    """A workflow's state from its steps' (Woodpecker sets it when the agent
    reports: running while any step runs, then failure/success at the end)."""
    if not states or all(s == "pending" for s in states):
        return "pending"
    if all(s == "blocked" for s in states):
        return "blocked"
    if not all(s in TERMINAL for s in states):
        return "running"
    counted = [s for s, ign in zip(states, ignore) if not (ign and s in FAILING)]
    if "killed" in counted:
        return "killed"
    if any(s in ("failure", "error") for s in counted):
        return "failure"
    if all(s == "skipped" for s in states):
        return "skipped"
    if all(s in ("canceled", "skipped") for s in states):
        return "canceled"
    return "success"


def merge_status(states):
    """server/pipeline/status.go: merge by priority starting from success;
    canceled+canceled stays canceled, canceled with anything else is killed."""
    if states and all(s == "canceled" for s in states):
        return "canceled"
    result = "success"
    for s in states:
        s = "killed" if s == "canceled" else s
        if PRIORITY[s] > PRIORITY[result]:
            result = s
    return result


def derive_pipeline_status(wf_states):
    if not wf_states:
        return "pending"
    if all(s in TERMINAL for s in wf_states):
        return merge_status(wf_states)
    if any(s == "running" or s in TERMINAL for s in wf_states):
        return "running"
    if all(s == "blocked" for s in wf_states):
        return "blocked"
    return "pending"


class Pipeline:
    """One pipeline: static fields, its workflow/step structure, and the
    frames its timeline produces. Scenario times are absolute (seconds since
    server start); timeline `at` values are relative to the run's base (its
    creation, or its approval when it was blocked)."""

    def __init__(self, world, repo, spec, number, created):
        self.world = world
        self.repo = repo
        self.number = number
        self.created = float(created)
        self.id = world.next_id("pipeline")
        where = "%s#%s" % (repo.full_name, number if number is not None else "?")
        self.where = where
        self.commit = spec.get("commit") or fake_sha("%s-%s-%s" % (repo.full_name, number, created))
        self.branch = spec.get("branch", repo.default_branch)
        self.event = spec.get("event", "push")
        if self.event not in EVENTS:
            raise ScenarioError("%s: unknown event %r" % (where, self.event))
        self.message = spec.get("message", "Update %s" % self.branch)
        self.title = spec.get("title", "")
        self.author = spec.get("author", "octocat")
        self.author_email = spec.get("author_email", "%s@example.com" % self.author)
        self.parent = int(spec.get("parent", 0))
        self.rerun_count = int(spec.get("rerun_count", 1 if self.parent else 0))
        self.ref = spec.get("ref") or self._default_ref(spec)
        self.refspec = spec.get("refspec", "")
        self.deploy_to = spec.get("deploy_to", "")
        self.deploy_task = spec.get("deploy_task", "")
        self.cron = spec.get("cron")
        self.errors = spec.get("errors")
        self.changed_files = spec.get("changed_files")
        self.variables = spec.get("variables")
        self.cancel_info = spec.get("cancel_info")
        self.sender = spec.get("sender", self.author)
        self.timestamp = int(spec.get("timestamp", 0)) or None
        self.spec = spec            # a restart re-runs it (see the write block)
        self.workflows = self._parse_workflows(spec.get("workflows", []))
        self.entries = self._parse_timeline(spec)
        self.restarts = list(spec.get("restarts", []))
        self.gated = bool(spec.get("blocked", False))
        self.approved_at = None
        self.declined_at = None
        self.reviewer = spec.get("reviewer", "octocat")
        if self.gated:
            if spec.get("approve_at") is not None:
                self.approved_at = self.created + float(spec["approve_at"])
            if spec.get("decline_at") is not None:
                self.declined_at = self.created + float(spec["decline_at"])
        # Step/workflow ids: one set while blocked, a new one once approved
        # (approval rebuilds the tree, so ids seen while blocked go stale).
        self.ids = {"blocked": None, "run": None}
        if self.gated:
            self.ids["blocked"] = self._new_ids()
        if not self.gated or self._run_base() is not None:
            self.ids["run"] = self._new_ids()
        self.compile()

    # --- parsing -----------------------------------------------------------

    def _default_ref(self, spec):
        if self.event == "tag" or self.event == "release":
            return "refs/tags/%s" % spec.get("tag", "v1.0.0")
        if self.event.startswith("pull_request"):
            return "refs/pull/%d/head" % int(spec.get("pull_request", 1))
        return "refs/heads/%s" % self.branch

    def _parse_workflows(self, specs):
        wfs = []
        for i, ws in enumerate(specs):
            wfs.append(WorkflowDef(ws, i + 1, "%s workflow %d" % (self.where, i + 1)))
        next_pid = max([w.pid for w in wfs] or [0]) + 1
        for wf, ws in zip(wfs, specs):
            for ss in ws.get("steps", []):
                where = "%s step %s/%s" % (self.where, wf.name, ss.get("name"))
                step = StepDef(ss, next_pid, wf.pid, where)
                next_pid = step.pid + 1
                wf.steps.append(step)
        return wfs

    def _step_index(self, key):
        """Timeline step key "workflow/step" or a step name unique in the pipeline."""
        hits = []
        for wi, wf in enumerate(self.workflows):
            for si, st in enumerate(wf.steps):
                if key == "%s/%s" % (wf.name, st.name) or key == st.name:
                    hits.append((wi, si))
        if len(hits) != 1:
            raise ScenarioError("%s: timeline names step %r, which matches %d steps"
                                % (self.where, key, len(hits)))
        return hits[0]

    def _wf_index(self, key):
        for wi, wf in enumerate(self.workflows):
            if wf.name == key:
                return wi
        raise ScenarioError("%s: timeline names unknown workflow %r" % (self.where, key))

    @staticmethod
    def _check_state(state, where):
        if state not in STATUSES:
            raise ScenarioError("%s: unknown state %r" % (where, state))
        return state

    def _parse_timeline(self, spec):
        """Timeline entries plus the steps' start/end shorthand, as a sorted
        list of (at, kind, index, change)."""
        entries = []
        seq = itertools.count()
        last_end = 0.0
        for wf in self.workflows:
            for st in wf.steps:
                for t in (st.start, st.end):
                    if t is not None:
                        last_end = max(last_end, float(t))
        for wi, wf in enumerate(self.workflows):
            for si, st in enumerate(wf.steps):
                if st.start is not None:
                    entries.append((float(st.start), next(seq), "step", (wi, si),
                                    {"state": "running"}))
                if st.result is not None:
                    end = st.end if st.end is not None else (
                        st.start if st.result in RAN and st.start is not None else last_end)
                    change = {"state": st.result, "exit_code": st.exit_code, "error": st.error}
                    entries.append((float(end), next(seq), "step", (wi, si), change))
        for e in spec.get("timeline", []):
            at = float(e.get("at", 0))
            where = "%s timeline at %s" % (self.where, at)
            if "status" in e:
                entries.append((at, next(seq), "pipeline", None,
                                {"state": self._check_state(e["status"], where)}))
            for name, val in (e.get("workflows") or {}).items():
                val = val if isinstance(val, dict) else {"state": val}
                self._check_state(val.get("state"), where)
                entries.append((at, next(seq), "workflow", self._wf_index(name), val))
            for name, val in (e.get("steps") or {}).items():
                val = val if isinstance(val, dict) else {"state": val}
                self._check_state(val.get("state"), where)
                entries.append((at, next(seq), "step", self._step_index(name), val))
        entries.sort(key=lambda e: (e[0], e[1]))
        return entries

    def _new_ids(self):
        return {"wf": [self.world.next_id("workflow") for _ in self.workflows],
                "st": [[self.world.next_id("step") for _ in wf.steps] for wf in self.workflows]}

    # --- frames ------------------------------------------------------------

    def _run_base(self):
        if not self.gated:
            return self.created
        if self.approved_at is not None and (self.declined_at is None
                                             or self.approved_at <= self.declined_at):
            return self.approved_at
        return None

    def compile(self):
        """Precompute the frames: (time, snapshot) at every change."""
        frames = []
        if self.gated:
            frames.append((self.created, self._uniform_frame("blocked", self.created)))
            if self._run_base() is None and self.declined_at is not None:
                frames.append((self.declined_at, self._uniform_frame("declined", self.declined_at)))
        base = self._run_base()
        if base is not None:
            frames += self._run_frames(base)
        self.frames = frames
        self.times = [t for t, _ in frames]
        # The schedule of each step's log: when it started and finished in the run.
        last = frames[-1][1]
        ran = last["ids"] == "run"
        self.log_schedule = [[(s["started"], s["finished"]) if ran else (None, None)
                              for s in wst] for wst in last["st"]]

    def _uniform_frame(self, state, t):
        return {"status": state, "started": None, "finished": None, "updated": t,
                "ids": "blocked",
                "wf": [{"state": state, "started": None, "finished": None, "error": None}
                       for _ in self.workflows],
                "st": [[{"state": state, "exit_code": 0, "error": None, "started": None,
                         "finished": None} for _ in wf.steps] for wf in self.workflows]}

    def _run_frames(self, base):
        steps = [[{"state": "pending", "exit_code": 0, "error": None, "started": None,
                   "finished": None} for _ in wf.steps] for wf in self.workflows]
        wf_explicit = [None] * len(self.workflows)
        p_explicit = [None]
        frames = []

        def emit(t):
            prev = frames[-1][1] if frames else None
            frame = self._derive(t, steps, wf_explicit, p_explicit[0], prev)
            if prev is not None and self._same(prev, frame):
                return
            if frames and frames[-1][0] == t:
                frames[-1] = (t, frame)
            else:
                frames.append((t, frame))

        emit(base)
        for at, group in itertools.groupby(self.entries, key=lambda e: e[0]):
            t = base + at
            for _, _, kind, idx, change in group:
                if kind == "pipeline":
                    p_explicit[0] = change["state"]
                elif kind == "workflow":
                    wf_explicit[idx] = change
                else:
                    self._apply_step(steps[idx[0]][idx[1]], change, t)
            emit(t)
        return frames

    @staticmethod
    def _apply_step(step, change, t):
        state = change["state"]
        if state in ("pending", "blocked"):
            step.update(started=None, finished=None)
        if state in RAN and step["started"] is None:
            step["started"] = t
        if state in TERMINAL:
            step["finished"] = t if step["started"] is not None else None
        else:
            step["finished"] = None
        code = change.get("exit_code")
        step["exit_code"] = default_exit_code(state) if code is None else int(code)
        step["error"] = change.get("error")
        step["state"] = state

    @staticmethod
    def _same(a, b):
        keys = ("status", "started", "finished", "wf", "st")
        return all(a[k] == b[k] for k in keys)

    def _derive(self, t, steps, wf_explicit, p_explicit, prev):
        wfs = []
        for wi, wf in enumerate(self.workflows):
            sts = steps[wi]
            old = prev["wf"][wi] if prev else {"state": None, "started": None, "finished": None}
            exp = wf_explicit[wi]
            state = exp["state"] if exp else derive_workflow_state(
                [s["state"] for s in sts], [st.ignore_failure for st in wf.steps])
            starts = [s["started"] for s in sts if s["started"] is not None]
            started = old["started"]
            if started is None and starts:
                started = min(starts)
            if started is None and state == "running":
                started = t
            finished = None
            if state in TERMINAL:
                if started is None and state in RAN:
                    started = t
                if started is not None:
                    finished = old["finished"] if old["state"] in TERMINAL else t
            wfs.append({"state": state, "started": started, "finished": finished,
                        "error": exp.get("error") if exp else None})
        old = prev or {"status": None, "started": None, "finished": None}
        status = p_explicit or derive_pipeline_status([w["state"] for w in wfs])
        wf_starts = [w["started"] for w in wfs if w["started"] is not None]
        started = old["started"]
        if started is None and wf_starts:
            started = min(wf_starts)
        if started is None and status in ("running", "error"):
            started = t
        finished = None
        if status in TERMINAL:
            finished = old["finished"] if old["status"] in TERMINAL else t
        return {"status": status, "started": started, "finished": finished, "updated": t,
                "ids": "run", "wf": wfs, "st": [[dict(s) for s in sts] for sts in steps]}

    # --- queries -----------------------------------------------------------

    def visible(self, now):
        return self.number is not None and now >= self.created

    def frame_at(self, t):
        i = bisect.bisect_right(self.times, t) - 1
        return self.frames[i][1] if i >= 0 else None

    def changes_between(self, a, b):
        """Frame times in (a, b]."""
        lo = bisect.bisect_right(self.times, a)
        hi = bisect.bisect_right(self.times, b)
        return self.times[lo:hi]

    def next_change_after(self, t):
        i = bisect.bisect_right(self.times, t)
        return self.times[i] if i < len(self.times) else None

    def terminal_at(self):
        """Scenario time at which the pipeline reached its final terminal status."""
        if not self.frames or self.frames[-1][1]["status"] not in TERMINAL:
            return None
        t = self.frames[-1][0]
        for ft, frame in reversed(self.frames):
            if frame["status"] not in TERMINAL:
                break
            t = ft
        return t

    def reviewed(self, t):
        for when in (self.approved_at, self.declined_at):
            if when is not None and when <= t:
                return self.reviewer, when
        return "", None

    def step_ids(self, frame):
        return self.ids[frame["ids"]]

    def find_step(self, frame, step_id):
        ids = self.step_ids(frame)
        for wi, row in enumerate(ids["st"]):
            for si, sid in enumerate(row):
                if sid == step_id:
                    return wi, si
        return None

    def visible_lines(self, wi, si, t):
        """How many log lines of a step exist at time t."""
        spec = self.workflows[wi].steps[si].log
        start, end = self.log_schedule[wi][si]
        if spec.count == 0 or start is None or t < start:
            return 0
        if end is not None and t >= end:
            return spec.count
        if spec.interval:
            k = math.floor((t - start) / float(spec.interval)) + 1
        elif end is not None and end > start:
            k = math.floor((t - start) * spec.count / (end - start)) + 1
        else:
            k = math.floor((t - start) / DEFAULT_LINE_INTERVAL) + 1
        return max(0, min(spec.count, k))

    def line_time(self, wi, si, i):
        """Scenario time at which line i of a step appears."""
        spec = self.workflows[wi].steps[si].log
        start, end = self.log_schedule[wi][si]
        if spec.interval:
            t = start + i * float(spec.interval)
        elif end is not None and end > start:
            t = start + i * (end - start) / spec.count
        else:
            t = start + i * DEFAULT_LINE_INTERVAL
        return min(t, end) if end is not None else t

    # --- JSON --------------------------------------------------------------

    def json(self, frame, t, workflows):
        clock = self.world.clock
        ts = clock.unix_int
        reviewer, reviewed = self.reviewed(t)
        d = {"id": self.id, "number": self.number, "author": self.author,
             "parent": self.parent, "event": self.event, "event_reason": None,
             "status": frame["status"], "errors": self.errors,
             "created": ts(self.created), "updated": ts(max(frame["updated"], self.created)),
             "started": ts(frame["started"]), "finished": ts(frame["finished"]),
             "deploy_to": self.deploy_to, "deploy_task": self.deploy_task,
             "commit": self.commit, "branch": self.branch, "rerun_count": self.rerun_count,
             "ref": self.ref, "refspec": self.refspec,
             "author_avatar": "https://avatars.homelab.test/%s" % self.author,
             "forge_url": "%s/%s/commit/%s" % (FORGE, self.repo.full_name, self.commit),
             "reviewed_by": reviewer, "reviewed": ts(reviewed)}
        if self.cancel_info and frame["status"] in ("killed", "canceled"):
            d["cancel_info"] = self.cancel_info
        if workflows and self.workflows:
            d["workflows"] = self._workflows_json(frame)
        if self.changed_files:
            d["changed_files"] = self.changed_files
        if self.variables:
            d["variables"] = self.variables
        if self.cron:
            d["cron"] = self.cron
        d.update({"version": self.world.version, "title": self.title, "message": self.message,
                  "timestamp": self.timestamp or ts(self.created - 60), "sender": self.sender,
                  "author_email": self.author_email})
        return d

    def _workflows_json(self, frame):
        ts = self.world.clock.unix_int
        ids = self.step_ids(frame)
        out = []
        for wi, wf in enumerate(self.workflows):
            wst = frame["wf"][wi]
            w = {"id": ids["wf"][wi], "pipeline_id": self.id, "pid": wf.pid, "name": wf.name,
                 "state": wst["state"]}
            if wst["error"]:
                w["error"] = wst["error"]
            if wst["started"] is not None:
                w["started"] = ts(wst["started"])
            if wst["finished"] is not None:
                w["finished"] = ts(wst["finished"])
            if wst["started"] is not None:
                w["agent_id"] = 1
            if wf.platform:
                w["platform"] = wf.platform
            if wf.environ:
                w["environ"] = wf.environ
            children = []
            for si, st in enumerate(wf.steps):
                s = frame["st"][wi][si]
                sid = ids["st"][wi][si]
                c = {"id": sid, "uuid": fake_ulid(sid), "pipeline_id": self.id, "pid": st.pid,
                     "ppid": st.ppid, "name": st.name, "state": s["state"]}
                if s["error"]:
                    c["error"] = s["error"]
                c["exit_code"] = s["exit_code"]
                if s["started"] is not None:
                    c["started"] = ts(s["started"])
                if s["finished"] is not None:
                    c["finished"] = ts(s["finished"])
                if st.type:
                    c["type"] = st.type
                children.append(c)
            if children:
                w["children"] = children
            out.append(w)
        return out


# ---------------------------------------------------------------------------
# The world: everything the scenario defines, behind one lock
# ---------------------------------------------------------------------------

class World:
    def __init__(self, scenario, clock, extra_tokens):
        self.clock = clock
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.version = scenario.get("version", DEFAULT_VERSION)
        self._ids = {"pipeline": 1200, "workflow": 300, "step": 1000}
        self.users = [User(u) for u in scenario.get("users", [{"id": 1, "login": "octocat"}])]
        if not self.users:
            raise ScenarioError("the scenario needs at least one user")
        self.users[0].tokens.update(extra_tokens)
        for tok in scenario.get("tokens", []):
            self.users[0].tokens.add(tok)
        self.repos = []
        for rs in scenario.get("repos", []):
            self.repos.append(Repo(rs, [self.users[0].login]))
        self.templates = scenario.get("templates", {})
        self.published_until = clock.now()   # events: what happened before is history
        self.pipelines = []          # every pipeline, visible or not yet
        self.spawns = []             # (time, parent, restart spec) not yet created
        for ps in scenario.get("pipelines", []):
            repo = self.repo_by_name(ps.get("repo")) if ps.get("repo") else self._only_repo()
            if repo is None:
                raise ScenarioError("pipeline names unknown repo %r" % ps.get("repo"))
            number = ps.get("number") or self.max_number(repo) + 1
            self.add_pipeline(repo, ps, number, float(ps.get("created", 0)))

    def _only_repo(self):
        if not self.repos:
            raise ScenarioError("pipelines need a repo")
        return self.repos[0]

    def next_id(self, kind):
        self._ids[kind] += 1
        return self._ids[kind]

    def expand(self, spec):
        """A pipeline spec with its template's fields filled in."""
        name = spec.get("template")
        if name is None:
            return spec
        if name not in self.templates:
            raise ScenarioError("unknown template %r" % name)
        merged = dict(self.templates[name])
        merged.update(spec)
        return merged

    def add_pipeline(self, repo, spec, number, created):
        p = Pipeline(self, repo, self.expand(spec), number, created)
        self.pipelines.append(p)
        self._schedule_restarts(p)
        return p

    def _schedule_restarts(self, p):
        for r in p.restarts:
            if "template" not in r and "workflows" not in r:
                raise ScenarioError("%s: a restart needs a template or workflows" % p.where)
            if r.get("template") is not None and r["template"] not in self.templates:
                raise ScenarioError("%s: restart uses unknown template %r"
                                    % (p.where, r["template"]))
        base = p._run_base()
        if base is None:
            return
        for r in p.restarts:
            self.spawns.append((base + float(r.get("at", 0)), p, r))
        p.restarts = []
        self.spawns.sort(key=lambda s: s[0])

    # --- lookups -----------------------------------------------------------

    def repo_by_name(self, name):
        low = (name or "").lower()
        for r in self.repos:
            if r.full_name.lower() == low:
                return r
        for r in self.repos:          # the redirections table: old names
            if low in r.aliases:
                return r
        return None

    def repo_by_id(self, rid):
        return next((r for r in self.repos if r.id == rid), None)

    def user_for_token(self, token):
        return next((u for u in self.users if u.has_token(token)), None) if token else None

    def user_by_login(self, login):
        return next((u for u in self.users if u.login == login), None)

    @staticmethod
    def can_pull(user, repo):
        """server/router/middleware/session/repo.go SetPerm."""
        if repo.visibility == "public":
            return True
        if user is None:
            return False
        if user.admin or repo.visibility == "internal":
            return True
        return user.login in repo.members

    def event_repo_ids(self, user):
        """Repos whose private events a user's event stream receives: active
        repos with a permission row for the user (computed at connect)."""
        if user is None:
            return set()
        return {r.id for r in self.repos if r.active and user.login in r.members}

    def max_number(self, repo):
        return max([p.number for p in self.pipelines if p.repo is repo and p.number] or [0])

    def visible_pipelines(self, repo, now):
        ps = [p for p in self.pipelines if p.repo is repo and p.visible(now)]
        ps.sort(key=lambda p: p.number, reverse=True)
        return ps

    def find_pipeline(self, repo, number, now):
        for p in self.pipelines:
            if p.repo is repo and p.number == number and p.visible(now):
                return p
        return None

    # --- time --------------------------------------------------------------

    def tick(self, now):
        """Create the restarts whose time has come (numbers are handed out at
        creation, as MAX(number)+1 at insert)."""
        while self.spawns and self.spawns[0][0] <= now:
            at, parent, r = self.spawns.pop(0)
            spec = {k: getattr(parent, k) for k in ("commit", "branch", "event", "message",
                                                    "author", "ref", "refspec")}
            spec.update(parent=parent.number, rerun_count=parent.rerun_count + 1)
            spec.update(r)
            spec.pop("at", None)
            self.add_pipeline(parent.repo, spec, self.max_number(parent.repo) + 1, at)

    def changes_between(self, a, b):
        out = []
        for p in self.pipelines:
            if p.number is None:
                continue
            for t in p.changes_between(a, b):
                out.append((t, p.id, p))
        out.sort(key=lambda c: (c[0], c[1]))
        return [(t, p) for t, _, p in out]

    def next_change_after(self, t):
        times = [p.next_change_after(t) for p in self.pipelines]
        times = [x for x in times if x is not None]
        if self.spawns:
            times.append(self.spawns[0][0])
        return min(times) if times else None

    # --- control API mutations ----------------------------------------------

    def create(self, body, now):
        repo = self.repo_by_name(body["repo"]) if body.get("repo") else self._only_repo()
        if repo is None:
            raise ScenarioError("unknown repo %r" % body.get("repo"))
        spec = dict(body)
        spec.pop("repo", None)
        delay = float(spec.pop("delay", 0))
        spec.pop("created", None)
        number = spec.pop("number", None) or self.max_number(repo) + 1
        return self.add_pipeline(repo, spec, number, now + delay)

    def approve(self, repo, number, by, now):
        p = self._blocked(repo, number, now)
        p.approved_at = now
        if by:
            p.reviewer = by
        p.ids["run"] = p._new_ids()
        p.compile()
        self._schedule_restarts(p)
        return p

    def decline(self, repo, number, by, now):
        p = self._blocked(repo, number, now)
        p.declined_at = now
        if by:
            p.reviewer = by
        p.compile()
        return p

    def _blocked(self, repo_name, number, now):
        repo = self.repo_by_name(repo_name) if repo_name else self._only_repo()
        p = self.find_pipeline(repo, int(number), now) if repo else None
        if p is None:
            raise LookupError("no pipeline %s#%s" % (repo_name, number))
        if p.frame_at(now)["status"] != "blocked":
            raise ScenarioError("pipeline #%s is not blocked" % number)
        return p

    def state(self, now):
        clock = self.clock
        out = []
        for p in sorted(self.pipelines, key=lambda p: (p.repo.id, p.created)):
            frame = p.frame_at(now) if p.visible(now) else None
            term = p.terminal_at()
            rec = {"repo": p.repo.full_name, "number": p.number, "id": p.id,
                   "commit": p.commit, "branch": p.branch, "event": p.event,
                   "parent": p.parent, "visible": frame is not None,
                   "created_at": clock.unix(p.created),
                   "status": frame["status"] if frame else None,
                   "terminal_at": clock.unix(term) if term is not None and term <= now else None,
                   "scheduled_terminal_at": clock.unix(term) if term is not None else None}
            if frame:
                ids = p.step_ids(frame)
                rec["workflows"] = [
                    {"name": wf.name, "id": ids["wf"][wi], "state": frame["wf"][wi]["state"],
                     "steps": [{"name": st.name, "id": ids["st"][wi][si], "pid": st.pid,
                                "state": frame["st"][wi][si]["state"],
                                "exit_code": frame["st"][wi][si]["exit_code"]}
                               for si, st in enumerate(wf.steps)]}
                    for wi, wf in enumerate(p.workflows)]
            out.append(rec)
        return {"now": now, "now_unix": clock.unix(now), "pipelines": out}


# ---------------------------------------------------------------------------
# Event fan-out and the scheduler that feeds it
# ---------------------------------------------------------------------------

class Subscriber:
    def __init__(self, repo_ids):
        self.repo_ids = repo_ids
        self.queue = queue.Queue()


class EventHub:
    def __init__(self):
        self.lock = threading.Lock()
        self.subs = set()

    def subscribe(self, repo_ids):
        sub = Subscriber(repo_ids)
        with self.lock:
            self.subs.add(sub)
        return sub

    def unsubscribe(self, sub):
        with self.lock:
            self.subs.discard(sub)

    def publish(self, repo, payload):
        """Public repos (forge flag `private` false) reach everyone; private
        ones only the subscribers that had the repo at connect time."""
        with self.lock:
            for sub in self.subs:
                if not repo.private or repo.id in sub.repo_ids:
                    sub.queue.put(payload)


def publish_due(world, hub, now):
    """Publish one event per pipeline frame in (published_until, now]. The
    scheduler calls it; so does a write endpoint before it answers, since
    Woodpecker publishes during the request. Call with world.lock held."""
    world.tick(now)
    for t, p in world.changes_between(world.published_until, now):
        frame = p.frame_at(t)
        payload = go_json({"repo": p.repo.json(), "pipeline": p.json(frame, t, True)})
        hub.publish(p.repo, payload)
    world.published_until = max(world.published_until, now)


REACTIONS = Reactions()


def react_finished(world, now):
    """Hands each pipeline that has finished to the reactions (reactions.py)."""
    for p in world.pipelines:
        term = p.terminal_at()
        if term is None or term > now or p.created > now:
            continue
        frame = p.frame_at(now)
        REACTIONS.finished(p.id, {"repo": p.repo.full_name, "number": p.number,
                                  "commit": p.commit, "event": p.event,
                                  "status": frame["status"], "variables": p.variables})


def run_scheduler(world, hub):
    """Publish one event per pipeline frame, at the frame's time."""
    clock = world.clock
    with world.cond:
        while True:
            now = clock.now()
            publish_due(world, hub, now)
            react_finished(world, now)
            nxt = world.next_change_after(now)
            timeout = 5.0 if nxt is None else min(5.0, max(0.0, nxt - clock.now()))
            world.cond.wait(timeout)


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

REQUEST_FAULTS = {"empty200", "500", "502", "503", "429", "reset", "stall",
                  "truncated", "html", "401"}
STREAM_FAULTS = {"drop_stream", "refuse_stream"}
EVENT_FAULTS = {"dup_events", "reorder_events"}
WRITE_FAULTS = {"reset_after"}              # applied by WriteHandler (the write block)
FAULT_KINDS = REQUEST_FAULTS | STREAM_FAULTS | EVENT_FAULTS | WRITE_FAULTS


class FaultRule(dict):
    """A rule as installed (its spec plus the counters, see fakehttp), with
    the parsed fields the engine matches on."""

    def __init__(self, spec, installed):
        kind = str(spec.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ScenarioError("unknown fault kind %r (known: %s)"
                                % (kind, ", ".join(sorted(FAULT_KINDS))))
        super().__init__(spec)
        self.kind = kind
        self.path = re.compile(spec.get("path", ".*"))
        self.method = spec.get("method")
        self.probability = float(spec.get("probability", 1.0))
        self.after = float(spec.get("after", 0))
        self.installed = installed


class FaultEngine(FaultRules):
    """Rules tried in order; the first that matches a request is applied
    (`count` of them, after `skip`). Probabilities draw from one seeded
    generator, so a run is reproducible for a given request order."""

    budget_key = "count"
    count_key = "applied"

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.rng = random.Random(0)

    def install(self, rules, seed=None, append=False):
        now = self.clock.now()
        new = [FaultRule(self.new_rule(r), now) for r in rules]
        with self.lock:
            if seed is not None:
                self.rng = random.Random(seed)
            self.rules = (self.rules if append else []) + new

    def match(self, method, target, route):
        now = self.clock.now()

        def concerns(r):
            if r.kind in STREAM_FAULTS and route not in ("events", "logstream"):
                return False
            if r.kind in EVENT_FAULTS and route != "events":
                return False
            if r.method and r.method.upper() != method:
                return False
            return r.path.search(target) and now >= r.installed + r.after

        def chance(r):
            return r.probability >= 1.0 or self.rng.random() < r.probability
        return self.pick(concerns, chance)

    def json(self):
        return self.list()


# ---------------------------------------------------------------------------
# Triggers
# ---------------------------------------------------------------------------

class Triggers:
    """Scenario steps that fire on the client's actions, not on the clock: a
    trigger {"on": {"request": REGEX, "count": N}, "do": ACTION} runs ACTION
    once the fake has answered (for a stream: opened) the Nth request whose
    path with its query matches REGEX. ACTION is what a control call does:
    {"pipeline": SPEC} (POST /__fake/pipelines), {"approve": BODY},
    {"decline": BODY}, {"advance": SECONDS}. See tests/fakes/README.md."""

    KINDS = ("pipeline", "approve", "decline", "advance")

    def __init__(self):
        self.lock = threading.Lock()
        self.pending = []
        self.fired = []
        self.server = None

    def add(self, specs):
        specs = specs if isinstance(specs, list) else [specs]
        checked = []
        for spec in specs:
            on = spec.get("on") if isinstance(spec, dict) else None
            do = spec.get("do") if isinstance(spec, dict) else None
            if not isinstance(on, dict) or "request" not in on:
                raise ScenarioError("a trigger needs \"on\": {\"request\": REGEX}")
            if not isinstance(do, dict) or len(do) != 1 or next(iter(do)) not in self.KINDS:
                raise ScenarioError("a trigger's \"do\" is one of %s" % ", ".join(self.KINDS))
            checked.append({"on": on, "do": do, "re": re.compile(on["request"]),
                            "count": int(on.get("count", 1)), "seen": 0})
        with self.lock:
            self.pending.extend(checked)
        return len(checked)

    def saw(self, path):
        """Called for every answered API request; fires what is due."""
        due = []
        with self.lock:
            for t in list(self.pending):
                if t["re"].search(path):
                    t["seen"] += 1
                    if t["seen"] >= t["count"]:
                        self.pending.remove(t)
                        self.fired.append(t)
                        due.append(t)
        for t in due:
            # Not in the request's thread: the reply (or stream) goes on.
            threading.Thread(target=self.fire, args=(t,), daemon=True).start()

    def fire(self, t):
        srv = self.server
        world = srv.world
        (kind, arg), = t["do"].items()
        try:
            with world.cond:
                if kind == "advance":
                    srv.clock.offset += float(arg)
                now = srv.clock.now()
                world.tick(now)
                if kind == "pipeline":
                    world.create(arg, now)
                elif kind in ("approve", "decline"):
                    act = world.approve if kind == "approve" else world.decline
                    act(arg.get("repo"), arg.get("number"), arg.get("by"), now)
                world.cond.notify_all()
            t["fired_at"] = time.time()
        except (LookupError, ScenarioError, ValueError, KeyError, TypeError) as e:
            sys.stderr.write("woodpecker: trigger %s failed: %s\n" % (json.dumps(t["do"]), e))

    def json(self):
        with self.lock:
            return [{"on": t["on"], "do": t["do"], "seen": t["seen"],
                     "fired_at": t.get("fired_at")} for t in self.fired + self.pending]


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

ROUTES = [
    ("healthz", re.compile(r"^/healthz$")),
    ("version", re.compile(r"^/version$")),
    ("user", re.compile(r"^/api/user$")),
    ("lookup", re.compile(r"^/api/repos/lookup/(.*)$")),        # gin catch-all
    ("repo", re.compile(r"^/api/repos/([^/]+)$")),
    ("pipelines", re.compile(r"^/api/repos/([^/]+)/pipelines$")),
    ("pipeline", re.compile(r"^/api/repos/([^/]+)/pipelines/([^/]+)$")),
    ("logs", re.compile(r"^/api/repos/([^/]+)/logs/([^/]+)/([^/]+)$")),
    ("events", re.compile(r"^/api/stream/events$")),
    ("logstream", re.compile(r"^/api/stream/logs/([^/]+)/([^/]+)/([^/]+)$")),
]


def match_route(raw_path):
    """Routes match the raw (still escaped) path, params are unescaped
    afterwards: gin with UseRawPath and UnescapePathValues."""
    for name, rx in ROUTES:
        m = rx.match(raw_path)
        if m:
            return name, [unquote(g) for g in m.groups()]
    return None, []


class StreamClosed(Exception):
    """The client went away, or a fault drops the stream."""


class Handler(TlsHandler):
    idle_timeout = IDLE_TIMEOUT

    # --- plumbing ------------------------------------------------------------

    def send_response(self, code, message=None):
        # Go sends Date but no Server header.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def dispatch(self):
        srv = self.server
        self.t_start = srv.clock.now()
        self.fault = None
        self.user = None
        self.logged = False
        self.body = self.read_body()
        split = urlsplit(self.path)
        self.raw_path = split.path
        self.query = parse_qs(split.query, keep_blank_values=True)
        try:
            if self.raw_path.startswith(FAKE_PREFIX):
                return self.control()
            self.handle_api()
        except StreamClosed:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def q(self, name):
        """First value of a query parameter, "" when absent (gin c.Query)."""
        return self.query.get(name, [""])[0]

    def record(self, status, stream=False):
        """Append this request to the request log (once)."""
        if self.logged or self.raw_path.startswith(FAKE_PREFIX):
            return
        self.logged = True
        srv = self.server
        user = self.user
        rec = {"time": round(srv.clock.unix(self.t_start), 6), "t": round(self.t_start, 6),
               "method": self.command, "path": self.path, "status": status,
               "authorization": self.headers.get("Authorization"),
               "last_event_id": self.headers.get("Last-Event-ID"),
               "host": self.headers.get("Host"),
               "sni": getattr(self.request, "fake_sni", None),
               "user": user.login if user else None,
               "stream": stream,
               "fault": self.fault.kind if self.fault else None}
        srv.reqlog.add(rec)
        if srv.verbose:
            note = " (fault %s)" % rec["fault"] if rec["fault"] else ""
            sys.stderr.write("woodpecker: %s %s -> %s%s\n"
                             % (self.command, self.path, status, note))

    def std_headers(self, cache_control=None):
        """Headers Woodpecker's middleware adds to every response."""
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", cache_control or
                         "no-cache, no-store, max-age=0, must-revalidate, value")
        self.send_header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
        self.send_header("Last-Modified", formatdate(usegmt=True))
        self.send_header("Strict-Transport-Security", "max-age=31536000")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Woodpecker-Version", self.server.world.version)
        self.send_header("X-Xss-Protection", "1; mode=block")

    def respond(self, status, body=b"", ctype=None, headers=(), std=True):
        if (self.fault and self.fault.kind == "truncated" and 200 <= status < 300
                and len(body) > 1):
            body = body[:len(body) // 2]
        self.record(status)
        self.send_response(status)
        if std:
            self.std_headers()
        for k, v in headers:
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        if status != 204 and status >= 200:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def empty(self, status):
        """gin AbortWithStatus: no body, no content type, Content-Length: 0."""
        self.respond(status)

    def json_reply(self, obj, status=200):
        self.respond(status, go_json(obj), JSON_TYPE)

    def html(self):
        self.respond(200, INDEX_HTML, HTML_TYPE)

    def begin_chunked(self, status, ctype, cache_control=None, extra=()):
        self.record(status, stream=True)
        self.send_response(status)
        self.std_headers(cache_control)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        if data:
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            except (OSError, ValueError) as e:
                raise StreamClosed() from e

    def end_chunked(self):
        self.chunk_raw(b"0\r\n\r\n")

    def chunk_raw(self, data):
        try:
            self.wfile.write(data)
        except (OSError, ValueError) as e:
            raise StreamClosed() from e

    def reset(self):
        """Close the TCP connection with RST and no response."""
        rst_close(self.request)
        self.close_connection = True
        raise StreamClosed()

    # --- auth ----------------------------------------------------------------

    def token(self):
        """shared/token/token.go ParseRequest: the first non-empty source
        only, no fallback when it is malformed."""
        auth = self.headers.get("Authorization")
        if auth:
            m = re.match(r"Bearer\s+(\S+)", auth)
            return m.group(1) if m else None
        gitlab = self.headers.get("X-Gitlab-Token")
        if gitlab:
            return gitlab
        if self.q("access_token"):
            return self.q("access_token")
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "user_sess" and v:
                return v
        return None

    # --- API dispatch ----------------------------------------------------------

    def handle_api(self):
        srv = self.server
        world = srv.world
        with world.lock:
            self.user = world.user_for_token(self.token())
        if self.command == "OPTIONS":
            return self.respond(200, b"", "application/json", headers=(
                ("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS"),
                ("Access-Control-Allow-Headers", "authorization, origin, content-type, accept"),
                ("Allow", "HEAD,GET,POST,PUT,PATCH,DELETE,OPTIONS")))
        route, params = self.route_for()
        self.fault = srv.faults.match(self.command, self.path, route)
        if self.fault and self.fault.kind in REQUEST_FAULTS and self.fault.kind != "truncated":
            return self.apply_fault(self.fault)
        if route is None:
            return self.no_route()
        getattr(self, "h_" + route)(*params)

    def route_for(self):
        """The read routes; WriteHandler adds the writes."""
        return match_route(self.raw_path) if self.command == "GET" else (None, [])

    def no_route(self):
        """Gin: a trailing-slash variant of a route redirects; anything else
        falls through to the web UI's index.html with 200."""
        path = self.raw_path
        if self.command == "GET" and len(path) > 1 and path.endswith("/"):
            if match_route(path[:-1])[0] is not None:
                target = path[:-1] + ("?" + urlsplit(self.path).query if "?" in self.path else "")
                body = ('<a href="%s">Moved Permanently</a>.\n\n' % target).encode()
                return self.respond(301, body, "text/html; charset=utf-8",
                                    headers=(("Location", target),), std=False)
        self.html()

    def apply_fault(self, rule):
        kind = rule.kind
        retry = rule.get("retry_after")
        if kind == "empty200":
            return self.respond(200, b"", JSON_TYPE)
        if kind == "html":
            return self.html()
        if kind in ("401", "500"):
            return self.empty(int(kind))
        if kind in ("502", "503"):
            title = "502 Bad Gateway" if kind == "502" else "503 Service Temporarily Unavailable"
            body = ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1>"
                    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
                    % (title, title)).encode()
            hdrs = (("Retry-After", str(retry)),) if retry is not None else ()
            return self.respond(int(kind), body, "text/html", headers=hdrs, std=False)
        if kind == "429":
            return self.respond(429, b"Too Many Requests", TEXT_TYPE,
                                headers=(("Retry-After", str(retry if retry is not None else 1)),),
                                std=False)
        if kind == "reset":
            self.record(None)
            return self.reset()
        if kind == "stall":
            self.record(None)
            time.sleep(float(rule.get("seconds", 30)))
            return self.reset()
        raise AssertionError(kind)

    # --- middleware equivalents ---------------------------------------------------

    def deny(self):
        """MustPull: anonymous gets 401, a logged-in user 404 (hides existence)."""
        self.empty(401 if self.user is None else 404)

    def repo_from_id(self, raw):
        rid = go_parse_int(raw)
        if rid is None:
            self.empty(400)
            return None
        return self.allowed(self.server.world.repo_by_id(rid))

    def allowed(self, repo):
        if repo is None or not self.server.world.can_pull(self.user, repo):
            self.deny()
            return None
        return repo

    def pipeline_from(self, repo, raw, now):
        number = go_parse_int(raw)
        if number is None:
            self.empty(400)
            return None
        p = self.server.world.find_pipeline(repo, number, now)
        if p is None:
            self.empty(404)
        return p

    # --- endpoints -----------------------------------------------------------

    def h_healthz(self):
        self.respond(204)

    def h_version(self):
        self.json_reply({"source": "https://github.com/woodpecker-ci/woodpecker",
                         "version": self.server.world.version})

    def h_user(self):
        if self.user is None:
            return self.respond(401, b"User not authorized", TEXT_TYPE)
        self.json_reply(self.user.json())

    def h_lookup(self, name):
        world = self.server.world
        with world.lock:
            repo = self.allowed(world.repo_by_name(name.lstrip("/")))
            if repo:
                self.json_reply(repo.json())

    def h_repo(self, rid):
        with self.server.world.lock:
            repo = self.repo_from_id(rid)
            if repo:
                self.json_reply(repo.json())

    def h_pipelines(self, rid):
        world = self.server.world
        with world.lock:
            repo = self.repo_from_id(rid)
            if repo is None:
                return
            filters = self.list_filters()
            if filters is None:
                return self.empty(400)
            page = go_parse_int(self.q("page"))
            page = page if page is not None and page >= 1 else 1
            per = go_parse_int(self.q("perPage"))
            per = per if per is not None and 1 <= per <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
            now = world.clock.now()
            world.tick(now)
            items = [p for p in world.visible_pipelines(repo, now) if self.keep(p, filters, now)]
            items = items[(page - 1) * per: page * per]
            body = [p.json(p.frame_at(now), now, False) for p in items]
        self.json_reply(body)

    def list_filters(self):
        """server/api/pipeline.go GetPipelines: None means 400."""
        f = {"branch": self.q("branch"), "ref": self.q("ref"), "events": None,
             "status": None, "before": None, "after": None}
        if self.q("event"):
            f["events"] = self.q("event").split(",")
            if any(e not in EVENTS for e in f["events"]):
                return None
        if self.q("status"):
            if self.q("status") not in STATUSES:
                return None
            f["status"] = self.q("status")
        for key in ("before", "after"):
            if self.q(key):
                f[key] = parse_rfc3339(self.q(key))
                if f[key] is None:
                    return None
        return f

    def keep(self, p, f, now):
        created = self.server.clock.unix_int(p.created)
        return ((not f["branch"] or p.branch == f["branch"])
                and (f["events"] is None or p.event in f["events"])
                and (not f["ref"] or sql_like_contains(f["ref"], p.ref))
                and (f["status"] is None or p.frame_at(now)["status"] == f["status"])
                and (f["before"] is None or created < f["before"])
                and (f["after"] is None or created > f["after"]))

    def h_pipeline(self, rid, raw_number):
        world = self.server.world
        with world.lock:
            repo = self.repo_from_id(rid)
            if repo is None:
                return
            now = world.clock.now()
            world.tick(now)
            if raw_number == "latest":
                branch = self.q("branch") or repo.default_branch
                ps = [p for p in world.visible_pipelines(repo, now)
                      if p.event == "push" and p.branch == branch]
                if not ps:
                    return self.empty(404)
                p = ps[0]
            else:
                p = self.pipeline_from(repo, raw_number, now)
                if p is None:
                    return
            body = go_json(p.json(p.frame_at(now), now, True))
        self.respond(200, body, JSON_TYPE)

    def h_logs(self, rid, raw_number, raw_step):
        world = self.server.world
        with world.lock:
            repo = self.repo_from_id(rid)
            if repo is None:
                return
            now = world.clock.now()
            world.tick(now)
            p = self.pipeline_from(repo, raw_number, now)
            if p is None:
                return
            step_id = go_parse_int(raw_step)
            if step_id is None:
                return self.empty(400)
            where = p.find_step(p.frame_at(now), step_id)
            if where is None:
                return self.empty(404)
            wi, si = where
            spec = p.workflows[wi].steps[si].log
            n = p.visible_lines(wi, si, now)
            spec.requests += 1
            if spec.requests <= spec.empty_for:
                n = 0
        if n == 0:
            return self.respond(200, b"null", JSON_TYPE)
        entries = self.log_entries(p, wi, si, step_id, n, with_row_ids=True)
        if spec.estimated_json_bytes(n) <= CHUNKED_LOG_BYTES:
            return self.respond(200, b"[" + b",".join(entries) + b"]", JSON_TYPE)
        # Big logs: streamed chunked, as Go does for any body it did not size.
        self.begin_chunked(200, JSON_TYPE)
        budget = spec.estimated_json_bytes(n) // 2 if (
            self.fault and self.fault.kind == "truncated") else None
        sent = 0
        buf = [b"["]
        size = 1
        for i, e in enumerate(entries):
            buf.append(e if i == 0 else b"," + e)
            size += len(e) + 1
            if size >= 256 << 10:
                data = b"".join(buf)
                if budget is not None and sent + len(data) > budget:
                    self.chunk(data[:max(0, budget - sent)])
                    return self.end_chunked()
                self.chunk(data)
                sent += len(data)
                buf, size = [], 0
        buf.append(b"]")
        self.chunk(b"".join(buf))
        self.end_chunked()

    @staticmethod
    def log_entries(p, wi, si, step_id, n, with_row_ids, first=0):
        """LogEntry JSON objects for lines first..n-1 (a generator)."""
        spec = p.workflows[wi].steps[si].log
        start = p.log_schedule[wi][si][0]
        for i in range(first, n):
            data = base64.b64encode(spec.line(i))
            rel = int(p.line_time(wi, si, i) - start) if start is not None else 0
            row = step_id * 10000000 + i + 1 if with_row_ids else 0
            yield (b'{"id":%d,"step_id":%d,"time":%d,"line":%d,"data":"%s","type":0}'
                   % (row, step_id, rel, i, data))

    # --- SSE -------------------------------------------------------------------

    def stream_fault(self):
        """refuse_stream answers now; other stream faults shape the stream."""
        f = self.fault
        if f and f.kind == "refuse_stream":
            if str(f.get("as", "404")) == "html":
                self.html()
            else:
                self.empty(404)
            return True
        return False

    def drop_limits(self):
        f = self.fault
        if not f or f.kind != "drop_stream":
            return None, None
        seconds = f.get("seconds")
        deadline = self.server.clock.now() + float(seconds) if seconds is not None else None
        events = f.get("after_events")
        if events is None and deadline is None:
            events = 0
        return (int(events) if events is not None else None), deadline

    def h_events(self):
        srv = self.server
        if self.stream_fault():
            return
        with srv.world.lock:
            repo_ids = srv.world.event_repo_ids(self.user)
        sub = srv.hub.subscribe(repo_ids)
        try:
            self.event_loop(sub)
        finally:
            srv.hub.unsubscribe(sub)

    def event_loop(self, sub):
        srv = self.server
        kind = self.fault.kind if self.fault else None
        max_events, deadline = self.drop_limits()
        self.begin_chunked(200, "text/event-stream", "no-store", (
            ("Connection", "keep-alive"), ("X-Accel-Buffering", "no")))
        self.chunk(b": ping\n\n")
        sent = 0
        held = None
        while True:
            if max_events is not None and sent >= max_events:
                return self.reset()
            timeout = srv.ping_interval
            if held is not None:
                timeout = min(timeout, 1.0)     # a held event waits at most 1 s
            if deadline is not None:
                timeout = min(timeout, deadline - srv.clock.now())
                if timeout <= 0:
                    return self.reset()
            try:
                payload = sub.queue.get(timeout=timeout)
            except queue.Empty:
                if deadline is not None and srv.clock.now() >= deadline:
                    return self.reset()
                if held is not None:
                    self.chunk(b"data: " + held + b"\n\n")
                    held = None
                    sent += 1
                    continue
                self.chunk(b": ping\n\n")
                continue
            out = [payload]
            if kind == "dup_events":
                out = [payload, payload]
            elif kind == "reorder_events":
                if held is None:
                    held = payload
                    continue
                out, held = [payload, held], None
            for m in out:
                self.chunk(b"data: " + m + b"\n\n")
                sent += 1
                if max_events is not None and sent >= max_events:
                    return self.reset()

    def h_logstream(self, rid, raw_number, raw_step):
        world = self.server.world
        with world.lock:
            repo = self.repo_from_id(rid)
            if repo is None:
                return
        if self.stream_fault():
            return
        self.begin_chunked(200, "text/event-stream", "no-cache", (
            ("Connection", "keep-alive"), ("X-Accel-Buffering", "no")))
        self.chunk(b": ping\n\n")
        with world.lock:
            now = world.clock.now()
            world.tick(now)
            err, target = self.logstream_target(repo, raw_number, raw_step, now)
        if err:
            self.chunk(b"event: error\ndata: " + err.encode() + b"\n\n")
            return self.end_chunked()
        self.log_loop(*target)

    def logstream_target(self, repo, raw_number, raw_step, now):
        """The in-band errors of server/api/stream.go LogStreamSSE, in order."""
        world = self.server.world
        number = go_parse_int(raw_number)
        if number is None:
            return "pipeline number invalid", None
        p = world.find_pipeline(repo, number, now)
        if p is None:
            return "pipeline not found", None
        step_id = go_parse_int(raw_step)
        if step_id is None:
            return "step id invalid", None
        frame = p.frame_at(now)
        where = p.find_step(frame, step_id)
        if where is None:
            return "process not found", None
        wi, si = where
        if frame["st"][wi][si]["state"] not in ("pending", "running"):
            return "step not running (anymore)", None
        if p.workflows[wi].steps[si].stream_error:
            return p.workflows[wi].steps[si].stream_error, None
        return None, (p, wi, si, step_id)

    def log_loop(self, p, wi, si, step_id):
        """Replay the lines so far, follow new ones, end with eof when the
        step's workflow is done. Skipped/canceled steps are never closed by
        Woodpecker, so their streams only ping."""
        srv = self.server
        world = srv.world
        last = go_parse_int(self.headers.get("Last-Event-ID", "")) or 0
        max_events, deadline = self.drop_limits()
        counter = 1
        sent_lines = 0
        last_write = srv.clock.now()
        while True:
            if max_events is not None and max(0, counter - 1 - last) >= max_events:
                return self.reset()
            with world.lock:
                now = srv.clock.now()
                frame = p.frame_at(now)
                n = p.visible_lines(wi, si, now)
                done = (frame["wf"][wi]["state"] in TERMINAL
                        and frame["st"][wi][si]["state"] not in ("skipped", "canceled"))
            if sent_lines < n:
                for entry in self.log_entries(p, wi, si, step_id, n, False, sent_lines):
                    if counter > last:
                        self.chunk(b"id: %d\ndata: %s\n\n" % (counter, entry))
                        last_write = srv.clock.now()
                    counter += 1
                    if max_events is not None and counter - 1 - last >= max_events:
                        return self.reset()
                sent_lines = n
            if done:
                self.chunk(b"event: eof\ndata: eof\n\n")
                return self.end_chunked()
            with world.cond:
                now = srv.clock.now()
                if deadline is not None and now >= deadline:
                    return self.reset()
                wake = last_write + srv.ping_interval
                more = n < p.workflows[wi].steps[si].log.count
                if more and p.log_schedule[wi][si][0] is not None:
                    wake = min(wake, p.line_time(wi, si, n))
                nxt = p.next_change_after(now)
                if nxt is not None:
                    wake = min(wake, nxt)
                if deadline is not None:
                    wake = min(wake, deadline)
                # (at least 1 ms: float rounding must not make this a busy loop)
                world.cond.wait(max(wake - now, 0.001))
            if srv.clock.now() - last_write >= srv.ping_interval:
                self.chunk(b": ping\n\n")
                last_write = srv.clock.now()

    # --- control API ---------------------------------------------------------

    def control(self):
        srv = self.server
        world = srv.world
        path = self.raw_path[len(FAKE_PREFIX):].rstrip("/")
        method = self.command
        try:
            body = json.loads(self.body.decode() or "{}") if self.body else {}
            if not isinstance(body, dict):
                raise ScenarioError("the body must be a JSON object")
            if (method, path) == ("GET", "requests"):
                since = go_parse_int(self.q("since")) or 0
                recs = srv.reqlog.since(since)
                if self.q("format") == "jsonl":
                    data = "".join(json.dumps(r) + "\n" for r in recs).encode()
                    return self.respond(200, data, "application/x-ndjson", std=False)
                return self.ctl_reply(recs)
            if (method, path) == ("DELETE", "requests"):
                srv.reqlog.clear()
                return self.ctl_reply({"ok": True})
            if (method, path) == ("GET", "state"):
                with world.lock:
                    now = srv.clock.now()
                    world.tick(now)
                    return self.ctl_reply(world.state(now))
            if (method, path) == ("GET", "faults"):
                return self.ctl_reply(srv.faults.json())
            if (method, path) == ("POST", "faults"):
                srv.faults.install(body.get("rules", []), body.get("seed"),
                                   bool(body.get("append")))
                return self.ctl_reply({"ok": True, "rules": len(srv.faults.rules)})
            if (method, path) == ("DELETE", "faults"):
                srv.faults.install([])
                return self.ctl_reply({"ok": True})
            if (method, path) == ("POST", "pipelines"):
                with world.cond:
                    now = srv.clock.now()
                    world.tick(now)
                    p = world.create(body, now)
                    world.cond.notify_all()
                    return self.ctl_reply({"number": p.number, "id": p.id,
                                           "repo": p.repo.full_name, "commit": p.commit,
                                           "created_at": srv.clock.unix(p.created)})
            if (method, path) in (("POST", "approve"), ("POST", "decline")):
                with world.cond:
                    now = srv.clock.now()
                    world.tick(now)
                    act = world.approve if path == "approve" else world.decline
                    p = act(body.get("repo"), body.get("number"), body.get("by"), now)
                    world.cond.notify_all()
                    return self.ctl_reply({"number": p.number,
                                           "status": p.frame_at(now)["status"]})
            if (method, path) == ("POST", "triggers"):
                n = srv.triggers.add(body.get("triggers", []))
                return self.ctl_reply({"ok": True, "added": n})
            if (method, path) == ("GET", "triggers"):
                return self.ctl_reply(srv.triggers.json())
            if (method, path) == ("POST", "advance"):
                with world.cond:
                    srv.clock.offset += float(body.get("seconds", 0))
                    world.cond.notify_all()
                    return self.ctl_reply({"now": srv.clock.now()})
            if path == "reactions":
                return self.ctl_reply(REACTIONS.control(method, body))
            return self.ctl_reply({"error": "no such control endpoint: %s %s"
                                   % (method, self.raw_path)}, 404)
        except LookupError as e:
            return self.ctl_reply({"error": str(e)}, 404)
        except (ScenarioError, ValueError, KeyError, TypeError, re.error) as e:
            return self.ctl_reply({"error": "%s: %s" % (type(e).__name__, e)}, 400)

    def ctl_reply(self, obj, status=200):
        self.respond(status, plain_json(obj), "application/json", std=False)


# ===========================================================================
# Write endpoints: restart, approve, decline, cancel, manual pipelines,
# repo permissions (reference sections 16-21), and the reset_after fault.
# Kept in one block: the read side above knows nothing of it except the
# route_for() hook, the publish_due() helper and the spec kept on Pipeline
# and Repo.
# ===========================================================================

CANCEL_TEXT = "Cannot cancel a non-running or non-pending or non-blocked pipeline"
ACTIVE = frozenset(("running", "pending", "blocked"))
# Keys of a pipeline spec that describe its history, not what it runs.
_NOT_RERUN = ("number", "created", "blocked", "approve_at", "decline_at", "reviewer",
              "restarts", "parent", "rerun_count", "cancel_info", "template", "delay",
              "on_restart", "repo")

WRITE_ROUTES = [
    ("w_create", re.compile(r"^/api/repos/([^/]+)/pipelines$")),
    ("w_restart", re.compile(r"^/api/repos/([^/]+)/pipelines/([^/]+)$")),
    ("w_approve", re.compile(r"^/api/repos/([^/]+)/pipelines/([^/]+)/approve$")),
    ("w_decline", re.compile(r"^/api/repos/([^/]+)/pipelines/([^/]+)/decline$")),
    ("w_cancel", re.compile(r"^/api/repos/([^/]+)/pipelines/([^/]+)/cancel$")),
]
PERMISSIONS_ROUTE = re.compile(r"^/api/repos/([^/]+)/permissions$")


def version_tuple(text):
    return tuple(int(x) for x in re.findall(r"[0-9]+", text)[:3])


def repo_can_push(user, repo):
    """Scenario repo key `push` (logins), default its members; admins push anywhere."""
    if user is None:
        return False
    return user.admin or user.login in set(repo.spec.get("push", repo.members))


def repo_is_admin(user, repo):
    return user is not None and (user.admin or user.login in set(repo.spec.get("admins", [])))


def branch_head(world, repo, branch):
    """The forge's head of `branch`, or None when the branch does not exist.
    Repo key `branches`: {name: sha} or [names]; without it, the default
    branch and every branch a pipeline of the repo names. /__fake/branches
    moves or adds heads."""
    heads = getattr(repo, "heads", None)
    if heads is None:
        heads = repo.heads = {}
        spec = repo.spec.get("branches")
        if isinstance(spec, dict):
            heads.update(spec)
        elif isinstance(spec, list):
            heads.update({b: None for b in spec})
        else:
            heads[repo.default_branch] = None
            for p in sorted(world.pipelines, key=lambda p: p.number or 0):
                if p.repo is repo and p.event in ("push", "manual", "cron", "deployment"):
                    heads[p.branch] = p.commit
    if branch not in heads:
        return None
    return heads[branch] or fake_sha("%s-head-%s" % (repo.full_name, branch))


def manual_config(world, repo, branch):
    """Repo key `manual`: {BRANCH or "*": SPEC | "filtered" | "fetch_error"}.
    Without it every branch runs the `success` template when the scenario
    has one, else nothing accepts a manual run (filtered)."""
    table = repo.spec.get("manual")
    if table is None:
        return {"template": "success"} if "success" in world.templates else "filtered"
    return table.get(branch, table.get("*", "filtered"))


def cancel_frames(p, now, by):
    """server/pipeline/cancel.go, v3.14+: pending workflows skipped, pending
    steps canceled; running steps killed at once (the agents' Done is folded
    into the same moment); `canceled` when nothing had started, else
    `killed`; a blocked pipeline ends `killed` with its tree left blocked."""
    cur = p.frame_at(now)
    new = {"status": "killed", "started": cur["started"], "finished": now, "updated": now,
           "ids": cur["ids"], "wf": [dict(w) for w in cur["wf"]],
           "st": [[dict(s) for s in row] for row in cur["st"]]}
    if cur["status"] != "blocked":
        started = False
        for wi, w in enumerate(new["wf"]):
            if w["state"] != "pending":
                started = True
            for s in new["st"][wi]:
                if s["state"] == "running":
                    s.update(state="killed", exit_code=137, finished=now)
                elif s["state"] in ("pending", "created"):
                    s.update(state="canceled", exit_code=0)
            if w["state"] == "pending":
                w["state"] = "skipped"
            elif w["state"] == "running":
                w.update(state="killed", finished=now)
        new["status"] = "killed" if started else "canceled"
    p.frames = [f for f in p.frames if f[0] < now] + [(now, new)]
    p.times = [t for t, _ in p.frames]
    ran = new["ids"] == "run"
    p.log_schedule = [[(s["started"], s["finished"]) if ran else (None, None) for s in row]
                      for row in new["st"]]
    p.cancel_info = {"canceled_by_user": by}


def rerun_spec(world, p):
    """A restart: a copy of the old pipeline (what it runs, commit, branch,
    variables...) with parent and rerun_count; the old spec's `on_restart`
    (a partial spec, e.g. {"template": "success"}) overrides what it runs."""
    spec = {k: v for k, v in p.spec.items() if k not in _NOT_RERUN}
    for k in ("commit", "branch", "event", "message", "author", "ref", "refspec"):
        spec[k] = getattr(p, k)
    if p.spec.get("on_restart"):
        over = world.expand(dict(p.spec["on_restart"]))
        if "workflows" in over:
            spec.pop("timeline", None)
        spec.update({k: v for k, v in over.items() if k not in ("template",)})
        spec["on_restart"] = p.spec["on_restart"]
    spec.update(parent=p.number, rerun_count=p.rerun_count + 1)
    return spec


class WriteHandler(Handler):
    """Handler plus the write endpoints of reference section 16."""

    def route_for(self):
        if self.command == "POST":
            for name, rx in WRITE_ROUTES:
                m = rx.match(self.raw_path)
                if m:
                    return name, [unquote(g) for g in m.groups()]
            return None, []
        if self.command == "GET":
            m = PERMISSIONS_ROUTE.match(self.raw_path)
            if m:
                return "w_permissions", [unquote(m.group(1))]
        return super().route_for()

    def respond(self, status, body=b"", ctype=None, headers=(), std=True):
        """reset_after: the request took effect, then the connection is reset
        (after `seconds`, default 0) instead of answering."""
        if self.fault and self.fault.kind == "reset_after":
            self.record(status)
            if self.fault.get("seconds"):
                time.sleep(float(self.fault.get("seconds")))
            return self.reset()
        return super().respond(status, body, ctype, headers, std)

    # --- middleware: SetRepo, SetPerm, MustPull, MustPush, SetPipeline -----

    def write_repo(self, raw):
        repo = self.repo_from_id(raw)
        if repo is None:
            return None
        if not repo_can_push(self.user, repo):
            self.empty(401 if self.user is None else 404)
            return None
        return repo

    def write_target(self, rid, raw_number, now):
        repo = self.write_repo(rid)
        return self.pipeline_from(repo, raw_number, now) if repo else None

    def answer_pipeline(self, p, now):
        self.json_reply(p.json(p.frame_at(now), now, True))

    def login(self):
        return self.user.login if self.user else ""

    # --- endpoints ---------------------------------------------------------

    def h_w_permissions(self, rid):
        """No MustPull: any existing repo answers with the flags SetPerm computed."""
        world = self.server.world
        with world.lock:
            num = go_parse_int(rid)
            if num is None:
                return self.empty(400)
            repo = world.repo_by_id(num)
            if repo is None:
                return self.empty(401 if self.user is None else 404)
            now = world.clock.unix_int(world.clock.now())
            body = {"pull": world.can_pull(self.user, repo),
                    "push": repo_can_push(self.user, repo),
                    "admin": repo_is_admin(self.user, repo),
                    "synced": now if self.user else 0, "created": 0, "updated": 0}
        self.json_reply(body)

    def pipeline_write(self, rid, raw_number, act):
        """The shape of every write on one pipeline: SetPipeline, then
        act(p, now) under the world's lock. act returns a refusal made before
        anything changed, as respond() arguments (status, [body, type]), or
        the pipeline to answer with (None: 204) once its events are out."""
        world = self.server.world
        with world.cond:
            now = world.clock.now()
            world.tick(now)
            p = self.write_target(rid, raw_number, now)
            if p is None:
                return None
            out = act(p, now)
            if isinstance(out, tuple):
                return self.respond(*out)
            publish_due(world, self.server.hub, now)
            world.cond.notify_all()
            body = None if out is None else go_json(out.json(out.frame_at(now), now, True))
        if body is None:
            return self.respond(204)
        return self.respond(200, body, JSON_TYPE)

    def h_w_restart(self, rid, raw_number):
        world = self.server.world

        def act(p, now):
            if "event" in self.query:
                if self.q("event") != "deployment":
                    return (400,)
                if not p.repo.json().get("allow_deploy"):
                    return (403,)
            if p.frame_at(now)["status"] == "blocked":
                return 400, b"cannot restart a pipeline with status blocked", TEXT_TYPE
            spec = rerun_spec(world, p)
            if "event" in self.query:
                spec.update(event="deployment",
                            deploy_to=self.q("deploy_to") or p.deploy_to)
            return world.add_pipeline(p.repo, spec, world.max_number(p.repo) + 1, now)
        return self.pipeline_write(rid, raw_number, act)

    def h_w_approve(self, rid, raw_number):
        def act(p, now):
            status = p.frame_at(now)["status"]
            if status != "blocked":
                text = "cannot approve a pipeline with status %s" % status
                return 400, text.encode(), TEXT_TYPE
            self.server.world.approve(p.repo.full_name, p.number, self.login(), now)
            return p
        return self.pipeline_write(rid, raw_number, act)

    def h_w_decline(self, rid, raw_number):
        def act(p, now):
            if p.frame_at(now)["status"] != "blocked":
                return (500,)              # a plain fmt.Errorf: handlePipelineErr → 500
            self.server.world.decline(p.repo.full_name, p.number, self.login(), now)
            return p
        return self.pipeline_write(rid, raw_number, act)

    def h_w_cancel(self, rid, raw_number):
        def act(p, now):
            if p.frame_at(now)["status"] not in ACTIVE:
                return 400, CANCEL_TEXT.encode(), TEXT_TYPE
            cancel_frames(p, now, self.login())
            return None
        return self.pipeline_write(rid, raw_number, act)

    def manual_body(self):
        """PipelineOptions decoded as encoding/json would; None means 400."""
        try:
            body = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(body, dict):
            return None
        branch = body.get("branch", "")
        variables = body.get("variables") or {}
        message = body.get("message", "")
        if not isinstance(branch, str) or not isinstance(message, str):
            return None
        if not isinstance(variables, dict) or not all(
                isinstance(v, str) for v in variables.values()):
            return None
        return branch, variables, message

    def h_w_create(self, rid):
        world = self.server.world
        with world.cond:
            now = world.clock.now()
            world.tick(now)
            repo = self.write_repo(rid)
            if repo is None:
                return
            opts = self.manual_body()
            if opts is None:
                return self.empty(400)
            branch, variables, message = opts
            commit = branch_head(world, repo, branch)
            if commit is None:
                return self.empty(500)     # the forge's BranchHead failed
            config = manual_config(world, repo, branch)
            if config == "filtered":
                return self.respond(204, headers=(("Pipeline-Filtered", "true"),))
            newer = version_tuple(world.version) > (3, 17, 0)
            spec = {"workflows": []} if config == "fetch_error" else world.expand(dict(config))
            spec = dict(spec)
            spec.pop("template", None)
            spec.update(event="manual", branch=branch, commit=commit,
                        ref=("refs/heads/%s" % branch) if newer else branch,
                        message=("MANUAL: %s @ %s" % (message, branch)) if newer and message
                        else "MANUAL PIPELINE @ %s" % branch,
                        author=self.login(), sender="", title="",
                        variables=variables or None,
                        timestamp=world.clock.unix_int(now))
            if config == "fetch_error":
                spec.update(errors=[{"type": "generic", "message": "could not fetch config",
                                     "is_warning": False}],
                            timeline=[{"at": 0, "status": "error"}])
            p = world.add_pipeline(repo, spec, world.max_number(repo) + 1, now)
            if config != "fetch_error":
                created = dict(p.frame_at(now), status="created")
                self.server.hub.publish(repo, go_json(
                    {"repo": repo.json(), "pipeline": p.json(created, now, True)}))
            publish_due(world, self.server.hub, now)
            world.cond.notify_all()
            body = go_json(p.json(p.frame_at(now), now, True))
        if config == "fetch_error":
            return self.respond(204)       # v3.14+: 204 without Pipeline-Filtered
        self.respond(200, body, JSON_TYPE)

    # --- control API: branch heads -----------------------------------------

    def control(self):
        path = self.raw_path[len(FAKE_PREFIX):].rstrip("/")
        if (self.command, path) != ("POST", "branches"):
            return super().control()
        world = self.server.world
        try:
            body = json.loads(self.body.decode() or "{}")
            with world.lock:
                repo = (world.repo_by_name(body["repo"]) if body.get("repo")
                        else world._only_repo())
                if repo is None:
                    return self.ctl_reply({"error": "unknown repo %r" % body.get("repo")}, 404)
                branch_head(world, repo, "")            # materialise the table
                if body.get("delete"):
                    repo.heads.pop(body["branch"], None)
                else:
                    repo.heads[str(body["branch"])] = body.get("commit")
                return self.ctl_reply({"ok": True, "branch": body["branch"],
                                       "commit": branch_head(world, repo, body["branch"])})
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return self.ctl_reply({"error": "%s: %s" % (type(e).__name__, e)}, 400)


# ---------------------------------------------------------------------------
# (end of the write block)
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Start-up
# ---------------------------------------------------------------------------

def parse_args(argv):
    p = add_common_args(argparse.ArgumentParser(description="A fake Woodpecker CI server for tests."))
    p.add_argument("--ping-interval", type=float,
                   help="seconds between SSE keep-alive pings (overrides the scenario)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        scenario = load_json(args.scenario)
        clock = Clock()
        world = World(scenario, clock, args.token)
        faults = FaultEngine(clock)
        fs = scenario.get("faults", [])
        if isinstance(fs, dict):
            faults.install(fs.get("rules", []), fs.get("seed", scenario.get("seed", 0)))
        else:
            faults.install(fs, scenario.get("seed", 0))
        triggers = Triggers()
        triggers.add(scenario.get("triggers", []))
    except (OSError, ValueError, KeyError, TypeError, ScenarioError, re.error) as e:
        sys.stderr.write("woodpecker: bad scenario %s: %s: %s\n"
                         % (args.scenario, type(e).__name__, e))
        return 2

    server = listen_tls(FakeServer(("127.0.0.1", args.port), WriteHandler),
                        args.cert, args.key, remember_sni=True)
    server.name = "woodpecker"
    server.clock = clock
    server.world = world
    server.faults = faults
    server.hub = EventHub()
    server.triggers = triggers
    triggers.server = server
    server.reqlog = RequestLog(args.request_log, lambda rec: triggers.saw(rec["path"]))
    server.verbose = args.verbose
    server.ping_interval = float(args.ping_interval if args.ping_interval is not None
                                 else scenario.get("ping_interval", DEFAULT_PING_INTERVAL))
    threading.Thread(target=run_scheduler, args=(world, server.hub), daemon=True,
                     name="scheduler").start()

    stop_on_signals(server)
    if args.control_port_file:
        listen_control(server, args.control_port_file)
    write_port_file(args.port_file, server.server_address[1])
    if args.verbose:
        sys.stderr.write("woodpecker: listening on 127.0.0.1:%d\n" % server.server_address[1])
    serve(server)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
