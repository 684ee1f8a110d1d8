#!/usr/bin/env python3
"""A fake GitHub Actions REST API for tests (python3 standard library only).

It follows the GitHub Actions API reference the project keeps (endpoints,
field names, status codes, the 302 to a separate log host, ETag/304 and the
rate-limit headers). Runs move forward on events only: the client's Nth
request that touches a run, or POST /__fake/advance. Nothing depends on the
wall clock except the x-ratelimit-reset epoch, which is a clock by nature.

Two HTTPS listeners on 127.0.0.1: the API (certificate for api.github.test)
and the log storage host (logs.github.test) that log downloads redirect to.
The log host answers 400 and records a violation whenever a request carries
an Authorization header (or any known token): the client leaked its token.
An optional plain-HTTP CONNECT proxy maps the two names to the two ports, so
a client that cannot be told a port or an address (gh) reaches both by name.

Where gh 2.23 and the reference disagree, the reference wins; the places are
marked "gh:" in comments. See tests/fakes/README.md for the scenario format
and the control API.
"""

import argparse
import hashlib
import io
import json
import re
import select
import socket
import socketserver
import ssl
import sys
import threading
import time
from datetime import datetime, timezone
from email.utils import formatdate
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from fakehttp import (FakeServer, FaultRules, RequestLog, TlsHandler, add_common_args,
                      listen_control, listen_tls, load_json, serve, stop_on_signals,
                      write_port_file)
from reactions import Reactions

# When a run ends: the workflow's deploy job, as the tests install it
# (reactions.py; POST /__fake/reactions).
REACTIONS = Reactions()

API_HOST = "api.github.test"
LOG_HOST = "logs.github.test"
FAKE_PREFIX = "/__fake/"
DOCS = "https://docs.github.com/rest"
DEFAULT_EPOCH = "2026-12-04T10:00:00Z"
IDLE_TIMEOUT = 120
RUN_STATUSES = ("requested", "queued", "in_progress", "waiting", "pending", "completed")
CONCLUSIONS = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out",
               "action_required", "stale", "startup_failure")
FAILING = ("failure", "timed_out", "startup_failure")


class ScenarioError(Exception):
    pass


def iso(t):
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso7(t):
    """Log line timestamps: 7 fractional digits, as the runner writes them."""
    whole = int(t)
    frac = int(round((t - whole) * 10_000_000))
    if frac >= 10_000_000:
        whole, frac = whole + 1, frac - 10_000_000
    return datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%07dZ" % frac


def parse_iso(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def fake_sha(seed):
    return hashlib.sha1(("fake-%s" % seed).encode()).hexdigest()


def user_json(login, uid):
    return {"login": login, "id": uid, "node_id": "U_%d" % uid, "type": "User", "site_admin": False,
            "avatar_url": "https://avatars.github.test/u/%d" % uid,
            "html_url": "https://github.test/%s" % login}


# ---------------------------------------------------------------------------
# The model: repos, workflows, runs with attempts, jobs and steps
# ---------------------------------------------------------------------------

class Ids:
    def __init__(self):
        self.next_job = 40000000001
        self.next_run = 30000000001
        self.next_env = 161171001

    def job(self):
        self.next_job += 1
        return self.next_job - 1


class Step:
    def __init__(self, spec, number):
        if isinstance(spec, str):
            spec = {"name": spec}
        self.spec = spec
        self.name = spec["name"]
        self.number = number
        self.final = spec.get("conclusion")            # None: defaulted by the job
        # Whole seconds, as GitHub's step times: then every log line of a step
        # falls inside the step's [started_at, completed_at) as the API shows them.
        self.duration = float(max(0, int(round(float(spec.get("duration", 3))))))
        self.status = "queued"
        self.conclusion = None
        self.started_at = None
        self.completed_at = None
        self.revealed = 0               # lines of a running step shown so far (partial logs)

    def json(self):
        return {"name": self.name, "status": self.status, "conclusion": self.conclusion,
                "number": self.number,
                "started_at": iso(self.started_at) if self.started_at is not None else None,
                "completed_at": iso(self.completed_at) if self.completed_at is not None else None}

    def log_lines(self):
        """The step's part of the job log, without timestamps."""
        spec = self.spec
        body = spec.get("log")
        if isinstance(body, str):
            body = body.split("\n")
        if self.name == "Set up job":
            lines = ["Current runner version: '2.328.0'", "##[group]Operating System", "Ubuntu",
                     "24.04.2", "LTS", "##[endgroup]", "##[group]Runner Image",
                     "Image: ubuntu-24.04", "##[endgroup]"] + (body or [])
        elif self.name == "Complete job":
            lines = (body or []) + ["Cleaning up orphan processes"]
        elif self.name.startswith("Post "):
            lines = ["Post job cleanup."] + (body or [])
        else:
            title = spec.get("run", self.name)
            lines = ["##[group]Run " + title, spec.get("shell", "shell: /usr/bin/bash -e {0}"),
                     "##[endgroup]"] if spec.get("group", True) else []
            filler = spec.get("filler")          # many lines, for size limits: {"lines": N, "width": W}
            if filler:
                n, w = int(filler.get("lines", 1000)), max(8, int(filler.get("width", 80)))
                lines += [("line %d " % i).ljust(w, "x")[:w] for i in range(1, n + 1)]
            lines += body if body is not None else ["+ " + title]
        if self.conclusion == "failure" and spec.get("error_line", True):
            lines.append("##[error]Process completed with exit code %d." % int(spec.get("exit_code", 1)))
        return [str(x) for x in lines]

    def timed_lines(self, partial=False):
        """(time, text) for each line, spread inside [started_at, completed_at).
        partial: a running step's first `revealed` lines, timed as they will be."""
        if self.started_at is None:
            return []
        end = self.completed_at
        if end is None:
            if not partial:
                return []
            end = self.started_at + self.duration
        lines = self.log_lines()
        span = max(end - self.started_at, 0.0)
        out = []
        for i, text in enumerate(lines):
            if span > 0:
                t = self.started_at + (i + 0.5) * span / len(lines)
            else:
                t = self.started_at + (i + 1) * 1e-4
            out.append((t, text))
        return out if self.completed_at is not None else out[:self.revealed]


class Job:
    def __init__(self, spec, run, attempt_no, ids):
        self.spec = spec
        self.name = spec["name"]
        self.id = spec.get("id") or ids.job()
        self.run = run
        self.attempt_no = attempt_no
        self.labels = spec.get("labels", ["ubuntu-latest"])
        self.final = spec.get("conclusion")
        self.skip = self.final == "skipped" and not spec.get("steps")
        steps = spec.get("steps")
        if steps is None:
            steps = ["Set up job", {"name": "Run tests", "run": "make test"}, "Complete job"]
        self.steps = [Step(s, i + 1) for i, s in enumerate(steps)] if not self.skip else []
        env = spec.get("environment")                  # deployment protection: waits
        self.environment = dict(env) if env is not None else None
        self.status = "queued"
        self.conclusion = None
        self.created_at = None
        self.started_at = None
        self.completed_at = None
        self.runner = None
        self.cursor = -1                 # index of the step in progress
        self.wait_left = 0
        self.annotations = spec.get("annotations", [])
        self.default_step_conclusions()

    def default_step_conclusions(self):
        """Steps without a conclusion: success until a failing step, then
        skipped, except the post steps and Complete job, which always run."""
        failed = False
        for s in self.steps:
            if s.final is None:
                if failed and not (s.name == "Complete job" or s.name.startswith("Post ")):
                    s.final = "skipped"
                else:
                    s.final = "success"
            if s.final in ("failure", "timed_out", "cancelled"):
                failed = True

    def derived_conclusion(self):
        if self.final:
            return self.final
        concl = [s.conclusion for s in self.steps]
        for c in ("failure", "timed_out", "cancelled"):
            if c in concl:
                return c
        return "success"

    def json(self, base, repo):
        run = self.run
        return {
            "id": self.id, "run_id": run.id, "workflow_name": run.workflow["name"],
            "head_branch": run.head_branch, "run_url": "%s/repos/%s/actions/runs/%d" % (base, repo.full_name, run.id),
            "run_attempt": self.attempt_no, "node_id": "CR_%d" % self.id, "head_sha": run.head_sha,
            "url": "%s/repos/%s/actions/jobs/%d" % (base, repo.full_name, self.id),
            "html_url": "%s/%s/actions/runs/%d/job/%d" % (repo.web, repo.full_name, run.id, self.id),
            "status": self.status, "conclusion": self.conclusion,
            "created_at": iso(self.created_at if self.created_at is not None else run.created_at),
            "started_at": iso(self.started_at if self.started_at is not None
                              else (self.created_at if self.created_at is not None else run.created_at)),
            "completed_at": iso(self.completed_at) if self.completed_at is not None else None,
            "name": self.name, "steps": [s.json() for s in self.steps] if self.started_at is not None else [],
            "check_run_url": "%s/repos/%s/check-runs/%d" % (base, repo.full_name, self.id),
            "labels": self.labels,
            "runner_id": 7 if self.runner else None, "runner_name": self.runner,
            "runner_group_id": 1 if self.runner else None,
            "runner_group_name": "GitHub Actions" if self.runner else None,
        }

    def log_text(self, partial=False):
        """The plain-text job log: BOM, timestamped lines, ##[group] markers
        at each step's start; the steps that finished (and with partial, the
        lines of the running step revealed so far)."""
        out = []
        for s in self.steps:
            for t, text in s.timed_lines(partial):
                out.append("%s %s" % (iso7(t), text))
        if not out:
            return b""
        return ("\ufeff" + "\n".join(out) + "\n").encode("utf-8", "surrogateescape")


class Attempt:
    def __init__(self, spec, run, number, ids):
        self.spec = spec
        self.number = number
        self.jobs = [Job(j, run, number, ids) for j in spec.get("jobs", [])]
        self.status = spec.get("initial_status", "queued")
        self.conclusion = None
        self.started_at = None          # run_started_at
        self.updated_at = None
        self.final = spec.get("conclusion")     # overrides the derived one
        self.fixed = spec.get("status") is not None   # a run that never moves by itself
        if self.fixed:
            self.status = spec["status"]
            self.conclusion = spec.get("conclusion")
        self.cursor = -1                # index of the current job
        self.triggering_actor = spec.get("triggering_actor")
        self.completed_wall = None       # unix time the attempt completed (benchmarks)
        self.changed_wall = None         # unix time of its last change (benchmarks)


class Run:
    """One workflow run; its attempts replace each other (same id)."""

    def __init__(self, spec, world, repo):
        ids = world.ids
        self.spec = spec
        self.repo = repo
        self.id = int(spec.get("id") or ids.next_run)
        ids.next_run = max(ids.next_run, self.id + 1)
        wf = spec.get("workflow", "CI")
        self.workflow = world.workflow(repo, wf)
        self.run_number = int(spec.get("run_number") or world.next_run_number(self.workflow))
        self.event = spec.get("event", "push")
        self.head_sha = spec.get("head_sha") or fake_sha(self.id)
        self.head_branch = spec.get("head_branch", repo.default_branch)
        self.display_title = spec.get("display_title", spec.get("message", "A change"))
        self.message = spec.get("message", self.display_title)
        self.actor = spec.get("actor", "octocat")
        self.created_at = world.epoch + int(round(float(spec.get("created", 0))))
        self.vt = self.created_at                  # the run's virtual clock
        self.queue_delay = float(max(0, int(round(float(spec.get("queue_delay", 2))))))
        adv = spec.get("advance", {})
        self.advance_on = adv.get("on", "any")     # list | run | jobs | any | manual
        self.advance_every = max(1, int(adv.get("every", 1)))
        self.hits = 0
        self.ticks = 0
        self.appear_after = int(spec.get("appear_after", 0))   # runs-list requests before it shows
        self.visible = self.appear_after == 0
        self.cancel_requested = False
        # GitHub answers a re-run 201 before every read shows the new
        # attempt: with rerun_lag N, the next N reads of the run still show
        # the finished one, then the new attempt starts.
        self.rerun_lag = int(spec.get("rerun_lag", 0))
        self.pending_rerun = None
        specs = spec.get("attempts")
        if specs is None:
            specs = [{k: spec[k] for k in ("jobs", "status", "conclusion") if k in spec}]
        self.attempt_specs = specs
        self.attempts = [Attempt(specs[0], self, 1, ids)]
        self.attempts[0].updated_at = self.created_at
        self.settle_fixed(world)
        if spec.get("completed"):
            self.run_to_end(world)
        for _ in range(int(spec.get("ticks", 0))):
            self.tick(world)

    def settle_fixed(self, world):
        """A run fixed as completed (stale, skipped, …) shows its jobs
        finished: play them out, then put the fixed status back."""
        att = self.cur
        if not att.fixed or att.status != "completed" or att.conclusion == "action_required" or not att.jobs:
            return
        status, conclusion = att.status, att.conclusion
        att.fixed, att.status = False, "queued"
        self.run_to_end(world)
        att.fixed, att.status, att.conclusion = True, status, conclusion
        self.ticks = 0

    @property
    def cur(self):
        return self.attempts[-1]

    # --- state changes ---------------------------------------------------------

    def run_to_end(self, world, limit=10000):
        while self.cur.status != "completed" and limit > 0:
            if not self.tick(world):
                break
            limit -= 1

    def start_attempt(self, world, spec, only_failed=False):
        """A re-run: same id, run_attempt + 1, queued again."""
        prev = self.cur
        att = Attempt(spec, self, prev.number + 1, world.ids)
        if only_failed:
            # Jobs that passed keep their result (and id); the rest run again.
            keep = {j.name: j for j in prev.jobs if j.conclusion in ("success", "neutral", "skipped")}
            att.jobs = [keep.get(j.name, j) for j in att.jobs]
        att.updated_at = self.vt
        self.attempts.append(att)
        return att

    def tick(self, world):
        """One event's worth of progress. Returns False when nothing moved."""
        before = (len(self.attempts), self.cur.status, self.cur.conclusion, self.cur.updated_at)
        moved = self.tick_once(world)
        if moved:
            self.cur.changed_wall = time.time()
            if world.scenario.get("run_updated_at", "step") == "status" and \
                    before[:3] == (len(self.attempts), self.cur.status, self.cur.conclusion):
                # The run object changes only with its status: step progress
                # shows in the jobs, not in the runs list.
                self.cur.updated_at = before[3]
        return moved

    def tick_once(self, world):
        att = self.cur
        self.ticks += 1
        if att.status == "completed":
            nxt = len(self.attempts)
            if nxt < len(self.attempt_specs) and self.attempt_specs[nxt].get("auto", True):
                self.vt += 5
                self.start_attempt(world, self.attempt_specs[nxt])
                return True
            return False
        if att.fixed:
            return False
        if self.cancel_requested:
            self.apply_cancel()
            return True
        if att.status in ("queued", "requested", "pending"):
            self.vt += self.queue_delay
            att.status = "in_progress"
            att.started_at = self.vt
            for j in att.jobs:
                if j.created_at is None or j.attempt_no == att.number:
                    j.created_at = self.vt
            self.next_job(att)
            att.updated_at = self.vt
            return True
        job = att.jobs[att.cursor] if 0 <= att.cursor < len(att.jobs) else None
        if job is None:
            self.finish(att)
            return True
        if job.status == "waiting":
            if job.environment.get("reviewers") and not job.environment.get("approved"):
                return False                   # a person must act (POST pending_deployments)
            job.wait_left -= 1                 # the wait timer runs down with events
            if job.wait_left > 0:
                return True
            self.start_job(att, job)
            att.updated_at = self.vt
            return True
        step = job.steps[job.cursor]
        self.vt += step.duration
        step.status, step.conclusion, step.completed_at = "completed", step.final, self.vt
        if job.cursor + 1 < len(job.steps):
            job.cursor += 1
            nxt = job.steps[job.cursor]
            nxt.status, nxt.started_at = "in_progress", self.vt
        else:
            self.vt += 1
            job.status, job.conclusion, job.completed_at = "completed", job.derived_conclusion(), self.vt
            self.next_job(att)
        att.updated_at = self.vt
        return True

    def next_job(self, att):
        """Moves to the next job that is not finished; finishes the run after the last."""
        while True:
            att.cursor += 1
            if att.cursor >= len(att.jobs):
                self.finish(att)
                return
            job = att.jobs[att.cursor]
            if job.status == "completed":       # kept from an earlier attempt
                continue
            if job.skip:
                job.status, job.conclusion = "completed", "skipped"
                job.started_at = job.completed_at = self.vt
                continue
            if job.environment is not None and not job.environment.get("approved"):
                job.status = "waiting"
                att.status = "waiting"
                job.wait_left = int(job.environment.get("wait_ticks", 1))
                job.waiting_since = self.vt
                return
            self.start_job(att, job)
            return

    def start_job(self, att, job):
        self.vt += 1
        att.status = "in_progress"
        job.status, job.started_at, job.runner = "in_progress", self.vt, "GitHub Actions 7"
        if job.environment is not None and job.environment.get("rejected"):
            job.status, job.conclusion, job.completed_at = "completed", "failure", self.vt
            for s in job.steps:
                s.status, s.conclusion = "completed", "skipped"
            job.started_at = self.vt
            return self.next_job(att)
        job.cursor = 0
        if job.steps:
            job.steps[0].status, job.steps[0].started_at = "in_progress", self.vt
        else:
            job.status, job.conclusion, job.completed_at = "completed", job.derived_conclusion(), self.vt
            self.next_job(att)

    def finish(self, att):
        att.status = "completed"
        att.completed_wall = time.time()      # for benchmarks' detection latency only
        if att.final:
            att.conclusion = att.final
        else:
            concl = [j.conclusion for j in att.jobs]
            att.conclusion = "success"
            for c in ("failure", "timed_out", "cancelled"):
                if c in concl:
                    att.conclusion = c
                    break
        att.updated_at = self.vt
        REACTIONS.finished((self.id, att.number), {
            "repo": self.repo.full_name, "number": self.run_number, "commit": self.head_sha,
            "event": self.event, "status": att.conclusion, "variables": {}})

    def apply_cancel(self):
        att = self.cur
        self.cancel_requested = False
        self.vt += 1
        for j in att.jobs:
            if j.status == "completed":
                continue
            for s in j.steps:
                if s.status == "in_progress":
                    s.status, s.conclusion, s.completed_at = "completed", "cancelled", self.vt
                elif s.status == "queued":
                    s.status, s.conclusion = "completed", "skipped"
            j.status, j.conclusion, j.completed_at = "completed", "cancelled", self.vt
            if j.started_at is None:
                j.started_at = self.vt
        att.status, att.conclusion, att.updated_at = "completed", "cancelled", self.vt
        att.completed_wall = time.time()

    # --- views -----------------------------------------------------------------

    def attempt(self, n):
        return self.attempts[n - 1] if 1 <= n <= len(self.attempts) else None

    def jobs_of(self, att, latest=True):
        if att.conclusion == "action_required" and att.fixed:
            return []                  # a fork run awaiting approval has no jobs yet
        if not latest:
            seen, out = set(), []
            for a in reversed(self.attempts[:att.number]):
                for j in a.jobs:
                    if j.id not in seen:
                        seen.add(j.id)
                        out.append(j)
            return out
        return att.jobs

    def json(self, base, att=None):
        att = att or self.cur
        repo = self.repo
        rb = "%s/repos/%s" % (base, repo.full_name)
        ru = "%s/actions/runs/%d" % (rb, self.id)
        au = user_json(self.actor, 583231)
        ta = user_json(att.triggering_actor, 583232) if att.triggering_actor else au
        return {
            "id": self.id, "name": self.workflow["name"], "node_id": "WFR_%d" % self.id,
            "head_branch": self.head_branch, "head_sha": self.head_sha,
            "path": self.workflow["path"], "display_title": self.display_title,
            "run_number": self.run_number, "event": self.event,
            "status": att.status, "conclusion": att.conclusion,
            "workflow_id": self.workflow["id"], "check_suite_id": self.id + 5000000000 + att.number,
            "check_suite_node_id": "CS_%d" % self.id,
            "url": ru, "html_url": "%s/%s/actions/runs/%d" % (repo.web, repo.full_name, self.id),
            "pull_requests": [], "created_at": iso(self.created_at),
            "updated_at": iso(att.updated_at if att.updated_at is not None else self.created_at),
            "actor": au, "run_attempt": att.number, "referenced_workflows": [],
            "run_started_at": iso(att.started_at if att.started_at is not None else self.created_at),
            "triggering_actor": ta,
            "jobs_url": ru + "/jobs", "logs_url": ru + "/logs",
            "check_suite_url": "%s/check-suites/%d" % (rb, self.id + 5000000000 + att.number),
            "artifacts_url": ru + "/artifacts", "cancel_url": ru + "/cancel", "rerun_url": ru + "/rerun",
            "previous_attempt_url": ("%s/attempts/%d" % (ru, att.number - 1)) if att.number > 1 else None,
            "workflow_url": "%s/actions/workflows/%d" % (rb, self.workflow["id"]),
            "head_commit": {"id": self.head_sha, "tree_id": fake_sha("tree" + self.head_sha),
                            "message": self.message, "timestamp": iso(self.created_at - 10),
                            "author": {"name": self.actor, "email": "%s@example.com" % self.actor},
                            "committer": {"name": self.actor, "email": "%s@example.com" % self.actor}},
            "repository": repo.json(base), "head_repository": repo.json(base),
        }

    def pending_deployments(self):
        out = []
        for j in self.cur.jobs:
            env = j.environment
            if j.status != "waiting" or env is None:
                continue
            eid = int(env.get("id", 161171001))
            out.append({
                "environment": {"id": eid, "node_id": "EN_%d" % eid, "name": env.get("name", "production"),
                                "url": "", "html_url": ""},
                "wait_timer": int(env.get("wait_timer", 0)),
                "wait_timer_started_at": iso(j.waiting_since) if env.get("wait_timer") else None,
                "current_user_can_approve": bool(env.get("current_user_can_approve", True)),
                "reviewers": [{"type": "User", "reviewer": user_json(r, 1000 + i)}
                              for i, r in enumerate(env.get("reviewers", []))],
            })
        return out

    def archive(self, att, step_files=True):
        """The run-log zip: <n>_<job>.txt per job and <job>/<n>_<step>.txt per step."""
        import zipfile  # here, not at the top: most fake starts never serve an archive
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for i, j in enumerate(att.jobs):
                if j.started_at is None or j.conclusion == "skipped" and not j.steps:
                    continue
                safe = j.name.replace("/", "").replace(":", "")
                z.writestr("%d_%s.txt" % (i, safe), j.log_text())
                if not step_files:
                    continue
                for s in j.steps:
                    lines = s.timed_lines()
                    if not lines:
                        continue
                    text = "".join("%s %s\n" % (iso7(t), x) for t, x in lines)
                    z.writestr("%s/%d_%s.txt" % (safe, s.number, s.name.replace("/", "")),
                               text.encode("utf-8", "surrogateescape"))
        return buf.getvalue()


class Repo:
    def __init__(self, spec, uid):
        self.full_name = spec["full_name"]
        self.owner, self.name = self.full_name.split("/", 1)
        self.id = int(spec.get("id", uid))
        self.private = bool(spec.get("private", False))
        self.members = spec.get("members")       # logins that may read a private repo
        self.default_branch = spec.get("default_branch", "main")
        self.web = spec.get("web", "https://github.test")
        self.archive_step_files = spec.get("archive_step_files", True)

    def readable_by(self, user):
        if not self.private:
            return True
        if user is None:
            return False
        return self.members is None or user["login"] in self.members

    def json(self, base):
        return {"id": self.id, "node_id": "R_%d" % self.id, "name": self.name, "full_name": self.full_name,
                "private": self.private, "owner": user_json(self.owner, 9919),
                "html_url": "%s/%s" % (self.web, self.full_name), "description": None, "fork": False,
                "url": "%s/repos/%s" % (base, self.full_name), "default_branch": self.default_branch,
                "visibility": "private" if self.private else "public"}


class World:
    def __init__(self, scenario, extra_tokens):
        self.lock = threading.RLock()
        self.scenario = scenario
        self.ids = Ids()
        self.epoch = parse_iso(scenario.get("epoch", DEFAULT_EPOCH))
        self.users = []
        for i, u in enumerate(scenario.get("users", [{"login": "octocat"}])):
            self.users.append({"login": u["login"], "id": int(u.get("id", 583231 + i)),
                               "tokens": list(u.get("tokens", [])),
                               "regex": [re.compile(r) for r in u.get("token_regex", [])]})
        self.users[0]["tokens"] += list(extra_tokens) + list(scenario.get("tokens", []))
        self.repos = {}
        for i, r in enumerate(scenario.get("repos", [{"full_name": "acme/web"}])):
            repo = Repo(r, 1296269 + i)
            self.repos[repo.full_name.lower()] = repo
        self.workflows = []
        for w in scenario.get("workflows", []):
            self.add_workflow(self.repo(w.get("repo")), w)
        self.runs = []
        self.run_numbers = {}
        for r in scenario.get("runs", []):
            self.add_run(r)
        self.blobs = {}
        self.blob_seq = 0
        self.violations = []
        rl = scenario.get("rate_limit", {})
        self.rate_defaults = (int(rl.get("limit", 5000)), int(rl.get("remaining", rl.get("limit", 5000))),
                              float(rl.get("reset_in", 3600)))
        self.buckets = {}

    def repo(self, name):
        if name is None:
            return next(iter(self.repos.values()))
        r = self.repos.get(name.lower())
        if r is None:
            raise ScenarioError("unknown repo %r" % name)
        return r

    def add_workflow(self, repo, w):
        wf = {"id": int(w.get("id", 161335 + len(self.workflows))), "name": w["name"],
              "path": w.get("path", ".github/workflows/%s.yml" % re.sub(r"[^a-z0-9]+", "-", w["name"].lower())),
              "state": w.get("state", "active"), "repo": repo.full_name,
              "workflow_dispatch": bool(w.get("workflow_dispatch", True))}
        self.workflows.append(wf)
        return wf

    def workflow(self, repo, name):
        for w in self.workflows:
            if w["repo"] == repo.full_name and (w["name"] == name or w["path"].endswith("/" + str(name))
                                                or str(w["id"]) == str(name)):
                return w
        return self.add_workflow(repo, {"name": name})

    def next_run_number(self, wf):
        n = self.run_numbers.get(wf["id"], 0) + 1
        self.run_numbers[wf["id"]] = n
        return n

    def add_run(self, spec):
        repo = self.repo(spec.get("repo"))
        if spec.get("template"):
            base = dict(self.scenario.get("templates", {}).get(spec["template"]) or {})
            if not base:
                raise ScenarioError("unknown template %r" % spec["template"])
            base.update({k: v for k, v in spec.items() if k != "template"})
            spec = base
        run = Run(spec, self, repo)
        if any(r.id == run.id for r in self.runs):
            raise ScenarioError("duplicate run id %d" % run.id)
        self.runs.append(run)
        self.run_numbers[run.workflow["id"]] = max(self.run_numbers.get(run.workflow["id"], 0), run.run_number)
        return run

    def find_run(self, repo, rid):
        for r in self.runs:
            if r.repo is repo and r.id == rid and r.visible:
                return r
        return None

    def find_job(self, repo, jid):
        for r in self.runs:
            if r.repo is not repo or not r.visible:
                continue
            for a in r.attempts:
                for j in a.jobs:
                    if j.id == jid:
                        return r, j
        return None, None

    def user_for(self, token):
        for u in self.users:
            if token in u["tokens"] or any(rx.fullmatch(token) for rx in u["regex"]):
                return u
        return None

    def all_tokens_match(self, text):
        """True when text contains a token a user of this scenario holds."""
        for u in self.users:
            for t in u["tokens"]:
                if t and t in text:
                    return True
            for rx in u["regex"]:
                if rx.search(text):
                    return True
        return False

    def bucket(self, key):
        b = self.buckets.get(key)
        now = time.time()
        if b is None or now >= b["reset"]:
            limit, remaining, reset_in = self.rate_defaults
            if key == "anonymous":
                limit = remaining = min(60, remaining)
            if b is not None:
                remaining = limit
            b = {"limit": limit, "remaining": remaining, "used": limit - remaining,
                 "reset": int(now + reset_in)}
            self.buckets[key] = b
        return b

    def new_blob(self, data, ctype):
        self.blob_seq += 1
        key = hashlib.sha256(("%d-%f" % (self.blob_seq, time.time())).encode()).hexdigest()[:32]
        self.blobs[key] = (data, ctype)
        return key


# ---------------------------------------------------------------------------
# Faults and the request log
# ---------------------------------------------------------------------------

class Faults(FaultRules):
    """Rules: {"kind": "secondary"|"primary"|"status", "status": 403|429|500…,
    "retry_after": S, "path_regex": RE, "method": M, "skip": N, "times": N}."""

    def add(self, rules):
        if isinstance(rules, dict):
            rules = [rules]
        with self.lock:
            for spec in rules:
                r = self.new_rule(spec)
                r.setdefault("kind", "status")
                r["_rx"] = re.compile(r.get("path_regex", ""))
                r["id"] = len(self.rules) + 1
                self.rules.append(r)
            return len(self.rules)

    def match(self, method, path):
        return self.pick(lambda r: (not r.get("method") or r["method"] == method)
                         and r["_rx"].search(path))


# ---------------------------------------------------------------------------
# HTTP: the API host
# ---------------------------------------------------------------------------

R = r"/repos/([^/]+)/([^/]+)"
ROUTES = [
    ("GET", "runs", re.compile(R + r"/actions/runs$")),
    ("GET", "run", re.compile(R + r"/actions/runs/([0-9]+)$")),
    ("GET", "attempt", re.compile(R + r"/actions/runs/([0-9]+)/attempts/([0-9]+)$")),
    ("GET", "jobs", re.compile(R + r"/actions/runs/([0-9]+)/jobs$")),
    ("GET", "attempt_jobs", re.compile(R + r"/actions/runs/([0-9]+)/attempts/([0-9]+)/jobs$")),
    ("GET", "run_logs", re.compile(R + r"/actions/runs/([0-9]+)/logs$")),
    ("GET", "attempt_logs", re.compile(R + r"/actions/runs/([0-9]+)/attempts/([0-9]+)/logs$")),
    ("GET", "pending", re.compile(R + r"/actions/runs/([0-9]+)/pending_deployments$")),
    ("POST", "review", re.compile(R + r"/actions/runs/([0-9]+)/pending_deployments$")),
    ("GET", "approvals", re.compile(R + r"/actions/runs/([0-9]+)/approvals$")),
    ("POST", "rerun", re.compile(R + r"/actions/runs/([0-9]+)/rerun$")),
    ("POST", "rerun_failed", re.compile(R + r"/actions/runs/([0-9]+)/rerun-failed-jobs$")),
    ("POST", "cancel", re.compile(R + r"/actions/runs/([0-9]+)/cancel$")),
    ("POST", "force_cancel", re.compile(R + r"/actions/runs/([0-9]+)/force-cancel$")),
    ("POST", "approve", re.compile(R + r"/actions/runs/([0-9]+)/approve$")),
    ("GET", "job", re.compile(R + r"/actions/jobs/([0-9]+)$")),
    ("GET", "job_logs", re.compile(R + r"/actions/jobs/([0-9]+)/logs$")),
    ("POST", "job_rerun", re.compile(R + r"/actions/jobs/([0-9]+)/rerun$")),
    ("GET", "workflows", re.compile(R + r"/actions/workflows$")),
    ("GET", "workflow", re.compile(R + r"/actions/workflows/([^/]+)$")),
    ("GET", "workflow_runs", re.compile(R + r"/actions/workflows/([^/]+)/runs$")),
    ("POST", "dispatch", re.compile(R + r"/actions/workflows/([^/]+)/dispatches$")),
    ("GET", "artifacts", re.compile(R + r"/actions/runs/([0-9]+)/artifacts$")),
    ("POST", "graphql", re.compile(r"^/graphql$")),
    ("GET", "annotations", re.compile(R + r"/check-runs/([0-9]+)/annotations$")),
    ("GET", "commit", re.compile(R + r"/commits/([^/]+)$")),
    ("GET", "repo", re.compile(R + r"$")),
    ("GET", "user", re.compile(r"^/user$")),
    ("GET", "rate_limit", re.compile(r"^/rate_limit$")),
    ("GET", "meta", re.compile(r"^/meta$")),
]


class HttpError(Exception):
    def __init__(self, status, message, headers=None, doc=DOCS):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.doc = doc


class BaseHandler(TlsHandler):
    def send_response(self, code, message=None):
        # Date and Server come from the handlers (GitHub's, not Python's).
        self.send_response_only(code, message)

    def send_raw(self, status, body, headers):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def do_GET(self):
        try:
            self.handle_one()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET


class ApiHandler(BaseHandler):
    def handle_one(self):
        srv = self.server
        self.body = self.read_body()
        split = urlsplit(self.path)
        path = split.path
        self.query = parse_qs(split.query, keep_blank_values=True)
        self.raw_query = split.query
        if path.startswith(FAKE_PREFIX):
            return self.control(path)
        self.prefix = ""
        if path == "/api/graphql":
            path = "/graphql"
        elif path == "/api/v3" or path.startswith("/api/v3/"):
            self.prefix = "/api/v3"             # GitHub Enterprise Server layout
            path = path[len(self.prefix):] or "/"
        self.api_path = path
        host = self.headers.get("Host", API_HOST)
        self.base = "https://%s%s" % (host, self.prefix)
        rec = {"time": time.time(), "host": "api", "method": self.command, "path": self.path.split("?")[0],
               "query": {k: v[0] for k, v in self.query.items()}, "status": None,
               "authorization": "Authorization" in self.headers, "auth": "none",
               "if_none_match": self.headers.get("If-None-Match") is not None,
               "user_agent": self.headers.get("User-Agent", ""), "rate_cost": 0, "remaining": None,
               "fault": None, "run_ids": []}
        self.rec = rec
        self.extra_headers = []
        fault = srv.faults.match(self.command, path)
        kind = fault["kind"] if fault else None
        if kind == "stall":                      # outside the lock: others go on
            time.sleep(float(fault.get("seconds", 10)))
        if kind == "drop_before":
            # The connection closes before the request is handled: a safe retry.
            rec["fault"] = kind
            srv.reqlog.add(rec)
            self.close_connection = True
            return
        with srv.world.lock:
            status, body, headers = self.api(rec, fault if kind not in ("stall", "drop_after") else None)
        if kind in ("stall", "drop_after"):
            rec["fault"] = kind
        rec["status"] = status
        srv.reqlog.add(rec)
        if kind == "drop_after":
            # Handled (a POST took effect) but no answer arrives: a client that
            # retries a POST here sends it twice.
            self.close_connection = True
            return
        self.send_raw(status, body, headers)

    # --- auth, rate limit, errors -------------------------------------------------

    def identify(self, rec):
        auth = self.headers.get("Authorization")
        if auth is None:
            return None, "anonymous"
        parts = auth.split(None, 1)
        if len(parts) != 2 or parts[0].lower() not in ("token", "bearer"):
            rec["auth"] = "invalid"
            raise HttpError(401, "Bad credentials")
        user = self.server.world.user_for(parts[1].strip())
        if user is None:
            rec["auth"] = "invalid"
            raise HttpError(401, "Bad credentials")
        rec["auth"] = "valid"
        return user, "user:%s" % user["login"]

    def rate_headers(self, b):
        return [("x-ratelimit-limit", str(b["limit"])), ("x-ratelimit-remaining", str(b["remaining"])),
                ("x-ratelimit-reset", str(b["reset"])), ("x-ratelimit-used", str(b["used"])),
                ("x-ratelimit-resource", "core")]

    def common_headers(self):
        poll = getattr(self.server.world, "poll_interval", 0)
        return ([("X-Poll-Interval", str(poll))] if poll else []) + [
                ("Date", formatdate(usegmt=True)), ("Server", "GitHub.com"),
                ("Content-Type", "application/json; charset=utf-8"),
                ("Cache-Control", "private, max-age=60, s-maxage=60"),
                ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
                ("x-github-api-version-selected", "2022-11-28"),
                ("X-GitHub-Media-Type", "github.v3; format=json"),
                ("X-GitHub-Request-Id", "FAKE:%06d" % (len(self.server.reqlog.records) + 1))]

    def error(self, e, bucket):
        body = {"message": e.message, "documentation_url": e.doc}
        if e.status in (410,):
            body["status"] = str(e.status)
        headers = self.common_headers() + (self.rate_headers(bucket) if bucket else [])
        headers += list(e.headers.items())
        return e.status, json.dumps(body, separators=(",", ":")).encode(), headers

    def api(self, rec, fault):
        world = self.server.world
        bucket = None
        try:
            if not self.headers.get("User-Agent"):
                raise HttpError(403, "Request forbidden by administrative rules. Please make sure your "
                                "request has a User-Agent header (https://docs.github.com/en/rest/"
                                "overview/resources-in-the-rest-api#user-agent-required). Check "
                                "https://developer.github.com for other possible causes.")
            user, key = self.identify(rec)
            self.user = user
            bucket = world.bucket(key)
            if fault is not None:
                rec["fault"] = fault["kind"]
                raise self.fault_error(fault, bucket)
            if self.api_path != "/rate_limit":
                if bucket["remaining"] <= 0:
                    raise HttpError(403, "API rate limit exceeded for user ID %d. [rate limit]"
                                    % (user["id"] if user else 0),
                                    doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
            status, obj, headers = self.route()
        except HttpError as e:
            self.charge(rec, bucket, e.status)
            return self.error(e, bucket)
        return self.finish_ok(rec, bucket, status, obj, headers)

    def fault_error(self, f, bucket):
        kind = f["kind"]
        hdr = {}
        if f.get("retry_after") is not None:
            hdr["retry-after"] = str(int(f["retry_after"]))
        if kind == "secondary":
            return HttpError(int(f.get("status", 403)), "You have exceeded a secondary rate limit. Please "
                             "wait a few minutes before you try again. If you reach out to GitHub Support "
                             "for help, please include the request ID FAKE.", hdr,
                             doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                 "#about-secondary-rate-limits")
        if kind == "primary":
            bucket["remaining"] = 0
            bucket["used"] = bucket["limit"]
            if f.get("reset_in") is not None:
                bucket["reset"] = int(time.time() + float(f["reset_in"]))
            return HttpError(int(f.get("status", 403)), "API rate limit exceeded for user ID 583231.", hdr,
                             doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
        return HttpError(int(f.get("status", 500)), f.get("message", "Server Error"), hdr)

    def charge(self, rec, bucket, status):
        """Every answer costs one unit except a 304 to an authorized request,
        /rate_limit, and a primary-limit 403 (already at 0)."""
        if bucket is None or self.api_path == "/rate_limit":
            return
        if status == 304 and rec["auth"] == "valid":
            rec["remaining"] = bucket["remaining"]
            return
        if bucket["remaining"] > 0:
            bucket["remaining"] -= 1
            bucket["used"] += 1
            rec["rate_cost"] = 1
        rec["remaining"] = bucket["remaining"]

    def finish_ok(self, rec, bucket, status, obj, headers):
        headers = list(headers)
        if status in (301, 302, 307):
            self.charge(rec, bucket, status)
            return status, b"", [h for h in self.common_headers() if h[0] != "Content-Type"] + \
                self.rate_headers(bucket) + headers
        body = b"" if obj is None else json.dumps(obj, indent=None, separators=(",", ":")).encode()
        hdrs = self.common_headers() + headers
        if self.command == "GET" and status == 200:
            # Per exact URL and auth state: another page size or filter is another resource.
            tag = 'W/"%s"' % hashlib.sha256(body + ("|%s|%s" % (self.path, rec["auth"])).encode()).hexdigest()[:40]
            hdrs.append(("ETag", tag))
            inm = self.headers.get("If-None-Match")
            if inm and self.etag_match(inm, tag):
                self.charge(rec, bucket, 304)
                rec["etag_hit"] = True
                rec["run_ids"] = sorted({i for i, _ in self.touched})
                self.tick_after(rec)        # a 304 is an event too, or an ETag poller would freeze time
                hdrs = [h for h in hdrs if h[0] != "Content-Type"]
                return 304, b"", hdrs + self.rate_headers(bucket)
        self.charge(rec, bucket, status)
        rec["run_ids"] = sorted({i for i, _ in self.touched})
        self.tick_after(rec)
        return status, body, hdrs + self.rate_headers(bucket)

    @staticmethod
    def etag_match(inm, tag):
        if inm.strip() == "*":
            return True
        weak = tag[2:] if tag.startswith("W/") else tag
        for part in inm.split(","):
            p = part.strip()
            if p.startswith("W/"):
                p = p[2:]
            if p == weak:
                return True
        return False

    def tick_after(self, rec):
        """Event-driven timelines: the runs this request looked at move on
        after the answer was computed (the client sees the state it asked in)."""
        world = self.server.world
        for rid, kind in self.touched:
            run = next((r for r in world.runs if r.id == rid), None)
            if run is not None and run.pending_rerun and self.command == "GET":
                run.pending_rerun[0] -= 1
                if run.pending_rerun[0] <= 0:
                    _, spec, only_failed, actor = run.pending_rerun
                    run.pending_rerun = None
                    run.vt += 5
                    run.start_attempt(world, spec, only_failed).triggering_actor = actor
                continue
            if run is None or run.advance_on == "manual":
                continue
            if run.advance_on != "any" and run.advance_on != kind:
                continue
            run.hits += 1
            if run.hits % run.advance_every == 0:
                run.tick(world)

    # --- routing ----------------------------------------------------------------------

    def route(self):
        self.touched = []
        path = self.api_path
        if path != "/" and path.endswith("/"):
            raise HttpError(404, "Not Found")
        for method, name, rx in ROUTES:
            m = rx.match(path)
            if m and method == self.command:
                return getattr(self, "h_" + name)(*m.groups())
        if path in ("/", ""):
            return 200, {"current_user_url": self.base + "/user",
                         "repository_url": self.base + "/repos/{owner}/{repo}"}, []
        raise HttpError(404, "Not Found")

    def get_repo(self, owner, name):
        world = self.server.world
        repo = world.repos.get(("%s/%s" % (owner, name)).lower())
        if repo is None or not repo.readable_by(self.user):
            # GitHub answers 404, not 403, so a private repository's existence stays hidden.
            raise HttpError(404, "Not Found")
        return repo

    def get_run(self, owner, name, rid):
        repo = self.get_repo(owner, name)
        run = self.server.world.find_run(repo, int(rid))
        if run is None:
            raise HttpError(404, "Not Found")
        return repo, run

    def qint(self, name, default, lo=1, hi=None):
        v = self.query.get(name, [None])[0]
        try:
            n = int(v) if v not in (None, "") else default
        except ValueError:
            n = default
        n = max(lo, n)
        return min(hi, n) if hi else n

    def paginate(self, items, key, extra=None):
        per = self.qint("per_page", 30, 1, 100)
        page = self.qint("page", 1)
        total = len(items)
        chunk = items[(page - 1) * per: page * per]
        last = max(1, (total + per - 1) // per)
        links = []

        def url(p):
            q = {k: v[0] for k, v in self.query.items()}
            q["page"] = str(p)
            return "<%s%s?%s>" % (self.base, self.api_path, urlencode(q))
        if page > 1:
            links.append('%s; rel="prev"' % url(min(page - 1, last)))
        if page < last:
            links.append('%s; rel="next"' % url(page + 1))
            links.append('%s; rel="last"' % url(last))
        if page > 1:
            links.append('%s; rel="first"' % url(1))
        obj = {"total_count": total, key: chunk}
        if extra:
            obj.update(extra)
        return obj, ([("Link", ", ".join(links))] if links else [])

    # --- read endpoints ----------------------------------------------------------------

    def list_runs(self, repo, runs):
        q = lambda k: self.query.get(k, [None])[0]
        out = []
        left_out = []       # runs that only the status filter kept off the list
        for r in runs:
            if not r.visible:
                r.list_hits = getattr(r, "list_hits", 0) + 1
                if r.list_hits > r.appear_after:
                    r.visible = True
                continue
            a = r.cur
            if q("head_sha") and r.head_sha != q("head_sha"):
                continue
            if q("event") and r.event != q("event"):
                continue
            if q("branch") and r.head_branch != q("branch"):
                continue
            if q("actor") and r.actor != q("actor"):
                continue
            st = q("status")
            if st and a.status != st and a.conclusion != st:
                left_out.append(r)
                continue
            out.append(r)
        out.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        for r in out:
            self.touched.append((r.id, "list"))
        items = [r.json(self.base) for r in out]
        if q("exclude_pull_requests") == "true":
            for it in items:
                it["pull_requests"] = []
        obj, headers = self.paginate(items, "workflow_runs")
        # Only runs on the page answered count as looked at.
        shown = {it["id"] for it in obj["workflow_runs"]}
        self.touched = [(i, k) for i, k in self.touched if i in shown]
        # A client polling "the completed runs of this commit" is watching the
        # others move: they count as looked at too, or a poller of filtered
        # lists would freeze the very runs it waits for (as a 304 would).
        self.touched += [(r.id, "list") for r in left_out]
        return 200, obj, headers

    def h_runs(self, o, r):
        repo = self.get_repo(o, r)
        return self.list_runs(repo, [x for x in self.server.world.runs if x.repo is repo])

    def h_workflow_runs(self, o, r, wid):
        repo = self.get_repo(o, r)
        wf = self.find_workflow(repo, wid)
        return self.list_runs(repo, [x for x in self.server.world.runs
                                     if x.repo is repo and x.workflow is wf])

    def h_run(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        self.touched.append((run.id, "run"))
        return 200, run.json(self.base), []

    def h_attempt(self, o, r, rid, n):
        repo, run = self.get_run(o, r, rid)
        att = run.attempt(int(n))
        if att is None:
            raise HttpError(404, "Not Found")
        self.touched.append((run.id, "run"))
        return 200, run.json(self.base, att), []

    def jobs_answer(self, repo, run, att, latest):
        self.touched.append((run.id, "jobs"))
        jobs = [j.json(self.base, repo) for j in run.jobs_of(att, latest)]
        return (200,) + self.paginate(jobs, "jobs")

    def h_jobs(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        filt = self.query.get("filter", ["latest"])[0]
        if filt not in ("latest", "all"):
            raise HttpError(422, "Invalid request.\n\n%s is not a member of [\"latest\", \"all\"]." % filt)
        return self.jobs_answer(repo, run, run.cur, filt == "latest")

    def h_attempt_jobs(self, o, r, rid, n):
        repo, run = self.get_run(o, r, rid)
        att = run.attempt(int(n))
        if att is None:
            raise HttpError(404, "Not Found")
        return self.jobs_answer(repo, run, att, True)

    def h_job(self, o, r, jid):
        repo = self.get_repo(o, r)
        run, job = self.server.world.find_job(repo, int(jid))
        if job is None:
            raise HttpError(404, "Not Found")
        self.touched.append((run.id, "jobs"))
        return 200, job.json(self.base, repo), []

    def redirect_to_blob(self, data, ctype):
        world = self.server.world
        key = world.new_blob(data, ctype)
        loc = "%s/blobs/%s?sig=%s&se=%s" % (self.server.log_origin, key,
                                             hashlib.sha1(key.encode()).hexdigest()[:16],
                                             quote(iso(time.time() + 60)))
        return 302, None, [("Location", loc)]

    def h_job_logs(self, o, r, jid):
        repo = self.get_repo(o, r)
        run, job = self.server.world.find_job(repo, int(jid))
        if job is None:
            raise HttpError(404, "Not Found")
        if job.spec.get("logs_expired"):
            raise HttpError(410, "Server Error",
                            doc=DOCS + "/actions/workflow-jobs#download-job-logs-for-a-workflow-run")
        running = job.status != "completed"
        scen = self.server.world.scenario
        # Unverified what GitHub does while a job runs; the default is 404 ("not yet").
        if job.started_at is None or (running and scen.get("job_logs_while_running", "404") == "404"):
            raise HttpError(404, "Not Found")
        text = job.log_text(partial=running)
        if running:
            # Each fetch reveals more of the running step: a follower's timeline.
            for st in job.steps:
                if st.status == "in_progress":
                    st.revealed += int(scen.get("log_lines_per_fetch", 2))
        return self.redirect_to_blob(text, "text/plain")

    def logs_answer(self, repo, run, att):
        if att.status != "completed":
            raise HttpError(404, "Not Found")
        return self.redirect_to_blob(run.archive(att, repo.archive_step_files), "application/zip")

    def h_run_logs(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        return self.logs_answer(repo, run, run.cur)

    def h_attempt_logs(self, o, r, rid, n):
        repo, run = self.get_run(o, r, rid)
        att = run.attempt(int(n))
        if att is None:
            raise HttpError(404, "Not Found")
        return self.logs_answer(repo, run, att)

    def h_pending(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        self.touched.append((run.id, "run"))
        return 200, run.pending_deployments(), []

    def h_approvals(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        return 200, getattr(run, "approvals", []), []

    def find_workflow(self, repo, wid):
        for w in self.server.world.workflows:
            if w["repo"] == repo.full_name and (str(w["id"]) == wid or w["path"].split("/")[-1] == wid):
                return w
        raise HttpError(404, "Not Found")

    def workflow_json(self, repo, w):
        rb = "%s/repos/%s" % (self.base, repo.full_name)
        return {"id": w["id"], "node_id": "W_%d" % w["id"], "name": w["name"], "path": w["path"],
                "state": w["state"], "created_at": iso(self.server.world.epoch - 86400 * 30),
                "updated_at": iso(self.server.world.epoch - 86400),
                "url": "%s/actions/workflows/%d" % (rb, w["id"]),
                "html_url": "%s/%s/blob/%s/%s" % (repo.web, repo.full_name, repo.default_branch, w["path"]),
                "badge_url": "%s/%s/workflows/%s/badge.svg" % (repo.web, repo.full_name, quote(w["name"]))}

    def h_workflows(self, o, r):
        repo = self.get_repo(o, r)
        items = [self.workflow_json(repo, w) for w in self.server.world.workflows if w["repo"] == repo.full_name]
        return (200,) + self.paginate(items, "workflows")

    def h_workflow(self, o, r, wid):
        repo = self.get_repo(o, r)
        return 200, self.workflow_json(repo, self.find_workflow(repo, wid)), []

    def h_artifacts(self, o, r, rid):
        self.get_run(o, r, rid)
        return (200,) + self.paginate([], "artifacts")

    def h_graphql(self):
        """gh asks GraphQL for the pull request of a run's branch (run view);
        that is all the GraphQL this fake knows: no pull requests.
        On GHES the endpoint is /api/graphql, not under /api/v3."""
        try:
            q = json.loads(self.body or b"{}").get("query", "")
        except ValueError:
            raise HttpError(400, "Problems parsing JSON")
        if "pullRequests" in q:
            return 200, {"data": {"repository": {"pullRequests": {"nodes": []}}}}, []
        return 200, {"errors": [{"message": "this fake answers no such GraphQL query"}]}, []

    def h_annotations(self, o, r, jid):
        repo = self.get_repo(o, r)
        run, job = self.server.world.find_job(repo, int(jid))
        if job is None:
            raise HttpError(404, "Not Found")
        return 200, job.annotations, []

    def h_commit(self, o, r, ref):
        repo = self.get_repo(o, r)
        for run in self.server.world.runs:
            if run.repo is repo and (run.head_sha.startswith(ref) or run.head_branch == ref):
                return 200, {"sha": run.head_sha, "url": "%s/repos/%s/commits/%s" % (self.base, repo.full_name,
                                                                                     run.head_sha)}, []
        raise HttpError(422, "No commit found for SHA: %s" % ref)

    def h_repo(self, o, r):
        return 200, self.get_repo(o, r).json(self.base), []

    def h_user(self):
        if self.user is None:
            raise HttpError(401, "Requires authentication")
        return 200, user_json(self.user["login"], self.user["id"]), []

    def h_rate_limit(self):
        b = self.server.world.bucket("user:%s" % self.user["login"] if self.user else "anonymous")
        core = {k: b[k] for k in ("limit", "remaining", "reset", "used")}
        return 200, {"resources": {"core": core}, "rate": core}, []

    def h_meta(self):
        return 200, {"verifiable_password_authentication": False, "installed_version": "3.15.0"}, []

    # --- write endpoints (section 8 of the reference) ---------------------------------

    def json_body(self, required=False):
        if not self.body:
            if required:
                raise HttpError(400, "Problems parsing JSON")
            return {}
        try:
            obj = json.loads(self.body)
        except ValueError:
            raise HttpError(400, "Problems parsing JSON")
        if not isinstance(obj, dict):
            raise HttpError(400, "Problems parsing JSON")
        return obj

    def write_allowed(self):
        if self.user is None:
            raise HttpError(401, "Requires authentication")
        if self.user["login"] in self.server.world.scenario.get("read_only_users", []):
            raise HttpError(403, "Resource not accessible by personal access token",
                            {"X-Accepted-GitHub-Permissions": "actions=write"})

    def rerun_common(self, o, r, rid, only_failed):
        repo, run = self.get_run(o, r, rid)
        self.write_allowed()
        self.json_body()
        att = run.cur
        if att.status != "completed" or att.conclusion == "startup_failure" or run.pending_rerun:
            raise HttpError(403, "This workflow run cannot be rerun.")
        if only_failed and att.conclusion not in ("failure", "timed_out", "cancelled"):
            raise HttpError(403, "This workflow run cannot be rerun.")
        nxt = len(run.attempts)
        spec = run.attempt_specs[nxt] if nxt < len(run.attempt_specs) else run.attempt_specs[-1]
        spec = dict(spec)
        spec.pop("status", None)
        if run.rerun_lag > 0:
            run.pending_rerun = [run.rerun_lag, spec, only_failed, self.user["login"]]
        else:
            run.vt += 5
            new = run.start_attempt(self.server.world, spec, only_failed)
            new.triggering_actor = self.user["login"]
        if nxt >= len(run.attempt_specs):
            run.attempt_specs.append(spec)
        run.attempt_specs[nxt] = dict(spec, auto=False)
        return 201, {}, []

    def h_rerun(self, o, r, rid):
        return self.rerun_common(o, r, rid, False)

    def h_rerun_failed(self, o, r, rid):
        return self.rerun_common(o, r, rid, True)

    def h_job_rerun(self, o, r, jid):
        repo = self.get_repo(o, r)
        run, job = self.server.world.find_job(repo, int(jid))
        if job is None:
            raise HttpError(404, "Not Found")
        return self.rerun_common(o, r, str(run.id), False)

    def h_cancel(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        self.write_allowed()
        if run.cur.status == "completed":
            raise HttpError(409, "Cannot cancel a workflow run that is completed.")
        run.cancel_requested = True          # applied on the run's next event, as GitHub cancels async
        return 202, {}, []

    def h_force_cancel(self, o, r, rid):
        return self.h_cancel(o, r, rid)

    def h_approve(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        self.write_allowed()
        att = run.cur
        if att.conclusion != "action_required":
            raise HttpError(403, "This run is not waiting for approval.")
        att.fixed = False
        att.final = None                     # it runs now: its jobs decide the conclusion
        att.status, att.conclusion = "queued", None
        return 201, {}, []

    def h_review(self, o, r, rid):
        repo, run = self.get_run(o, r, rid)
        self.write_allowed()
        body = self.json_body(True)
        missing = [k for k in ("environment_ids", "state", "comment") if k not in body]
        if missing or body.get("state") not in ("approved", "rejected") \
                or not isinstance(body.get("environment_ids"), list):
            raise HttpError(422, "Invalid request.\n\n%s" % (
                ", ".join("\"%s\" wasn't supplied." % k for k in missing) or "state or environment_ids invalid"))
        pending = run.pending_deployments()
        ids = {p["environment"]["id"] for p in pending}
        if not pending or not set(body["environment_ids"]) <= ids:
            raise HttpError(422, "Unprocessable Entity")
        out = []
        for j in run.cur.jobs:
            env = j.environment
            if j.status == "waiting" and env is not None and int(env.get("id", 161171001)) in body["environment_ids"]:
                env["approved"] = True
                env["rejected"] = body["state"] == "rejected"
                j.wait_left = 0
                out.append({"id": 1000 + len(out), "environment": env.get("name", "production"),
                            "sha": run.head_sha, "ref": run.head_branch, "task": "deploy",
                            "created_at": iso(run.vt), "updated_at": iso(run.vt)})
        run.approvals = getattr(run, "approvals", []) + [{"state": body["state"], "comment": body["comment"],
                                                          "user": user_json(self.user["login"], self.user["id"])}]
        return 200, out, []

    def h_dispatch(self, o, r, wid):
        repo = self.get_repo(o, r)
        self.write_allowed()
        wf = self.find_workflow(repo, wid)
        body = self.json_body(True)
        if not wf.get("workflow_dispatch", True):
            raise HttpError(422, "Workflow does not have 'workflow_dispatch' trigger")
        if not isinstance(body.get("ref"), str):
            raise HttpError(422, "Invalid request.\n\n\"ref\" wasn't supplied.")
        inputs = body.get("inputs", {})
        if not isinstance(inputs, dict) or len(inputs) > 25:
            raise HttpError(422, "Invalid request.\n\nFor 'properties/inputs', too many properties.")
        world = self.server.world
        tmpl = dict(world.scenario.get("dispatch", {}).get(wf["name"], {"jobs": [{"name": "deploy"}]}))
        tmpl.update({"repo": repo.full_name, "workflow": wf["name"], "event": "workflow_dispatch",
                     "head_branch": body["ref"], "created": world.runs and
                     max(x.created_at for x in world.runs) - world.epoch + 1 or 0,
                     "display_title": tmpl.get("display_title", wf["name"])})
        tmpl.setdefault("head_sha", next((x.head_sha for x in world.runs if x.head_branch == body["ref"]),
                                         fake_sha(body["ref"])))
        run = world.add_run(tmpl)
        run.inputs = inputs
        if body.get("return_run_details") is True:
            return 200, {"workflow_run_id": run.id,
                         "run_url": "%s/repos/%s/actions/runs/%d" % (self.base, repo.full_name, run.id),
                         "html_url": "%s/%s/actions/runs/%d" % (repo.web, repo.full_name, run.id)}, []
        return 204, None, []

    # --- control API -----------------------------------------------------------------

    def control(self, path):
        world = self.server.world
        try:
            body = json.loads(self.body) if self.body else {}
        except ValueError:
            return self.ctl(400, {"error": "bad JSON"})
        with world.lock:
            try:
                status, obj = self.control_route(path[len(FAKE_PREFIX):].rstrip("/"), body)
            except (ScenarioError, KeyError, ValueError, TypeError) as e:
                status, obj = 400, {"error": "%s: %s" % (type(e).__name__, e)}
        return self.ctl(status, obj)

    def ctl(self, status, obj):
        self.send_raw(status, json.dumps(obj, indent=1).encode() + b"\n",
                      [("Content-Type", "application/json")])

    def control_route(self, p, body):
        world, srv, m = self.server.world, self.server, self.command
        if p == "state" and m == "GET":
            return 200, self.state()
        if p == "advance" and m == "POST":
            return 200, self.advance(body)
        if p == "runs" and m == "POST":
            run = world.add_run(body)
            return 200, {"ok": True, "id": run.id, "jobs": [j.id for j in run.cur.jobs]}
        mm = re.match(r"^runs/([0-9]+)$", p)
        if mm and m == "POST":
            run = next((r for r in world.runs if r.id == int(mm.group(1))), None)
            if run is None:
                return 404, {"error": "no such run"}
            att = run.cur
            for k in ("status", "conclusion"):
                if k in body:
                    setattr(att, k, body[k])
                    att.fixed = True
            if body.get("unfix"):
                att.fixed = False
            return 200, {"ok": True}
        if p == "requests":
            if m == "DELETE":
                srv.reqlog.clear()
                return 200, {"ok": True}
            since = int(self.query.get("since", ["0"])[0])
            return 200, srv.reqlog.since(since)
        if p == "faults":
            if m == "POST":
                return 200, {"ok": True, "id": srv.faults.add(body)}
            if m == "DELETE":
                srv.faults.clear()
                return 200, {"ok": True}
            return 200, srv.faults.list()
        if p == "ratelimit":
            key = "user:%s" % body.get("user", world.users[0]["login"]) if m == "POST" else None
            if m == "POST":
                b = world.bucket(key)
                if "limit" in body:
                    b["limit"] = int(body["limit"])
                if "remaining" in body:
                    b["remaining"] = int(body["remaining"])
                b["used"] = b["limit"] - b["remaining"]
                if "reset_in" in body:
                    b["reset"] = int(time.time() + float(body["reset_in"]))
            return 200, world.buckets
        if p == "reactions":
            return 200, REACTIONS.control(m, body)
        if p == "violations":
            return 200, world.violations
        if p == "scenario":
            return 200, world.scenario
        if p == "poll_interval" and m == "POST":
            # every API answer then carries X-Poll-Interval: N (0: none)
            world.poll_interval = int(body.get("seconds", 0))
            return 200, {"ok": True}
        return 404, {"error": "no such control endpoint: %s %s" % (m, p)}

    def advance(self, body):
        world = self.server.world
        runs = world.runs
        if "run" in body:
            runs = [r for r in world.runs if r.id == int(body["run"])]
            if not runs:
                raise ScenarioError("no such run %s" % body["run"])
        moved = 0
        for r in runs:
            if body.get("appear"):
                r.visible = True
            if body.get("until") == "completed":
                before = r.ticks
                r.run_to_end(world)
                moved += r.ticks - before
            for _ in range(int(body.get("ticks", 0 if ("appear" in body or "until" in body) else 1))):
                moved += 1 if r.tick(world) else 0
        return {"ok": True, "moved": moved, "runs": [self.run_state(r) for r in runs]}

    @staticmethod
    def run_state(r):
        a = r.cur
        return {"id": r.id, "workflow": r.workflow["name"], "head_sha": r.head_sha, "event": r.event,
                "visible": r.visible, "run_attempt": a.number, "status": a.status, "conclusion": a.conclusion,
                "ticks": r.ticks, "hits": r.hits,
                "completed_wall": a.completed_wall, "changed_wall": a.changed_wall,
                "jobs": [{"id": j.id, "name": j.name, "status": j.status, "conclusion": j.conclusion,
                          "steps": [[s.number, s.name, s.status, s.conclusion] for s in j.steps]}
                         for j in a.jobs]}

    def state(self):
        world = self.server.world
        return {"api_port": self.server.server_address[1], "log_port": self.server.log_port,
                "proxy_port": self.server.proxy_port,
                "runs": [self.run_state(r) for r in world.runs],
                "ratelimit": world.buckets, "violations": len(world.violations),
                "log_requests": self.server.log_requests}


# ---------------------------------------------------------------------------
# HTTP: the log storage host
# ---------------------------------------------------------------------------

class LogHandler(BaseHandler):
    def handle_one(self):
        srv = self.server
        api = srv.api
        world = api.world
        self.read_body()
        split = urlsplit(self.path)
        rec = {"time": time.time(), "host": "logs", "method": self.command, "path": split.path,
               "query": {}, "status": None, "authorization": "Authorization" in self.headers,
               "auth": "none", "user_agent": self.headers.get("User-Agent", ""), "rate_cost": 0}
        with world.lock:
            api.log_requests += 1
            leaked = "Authorization" in self.headers or any(
                world.all_tokens_match(v) for _, v in self.headers.items()) or world.all_tokens_match(self.path)
            if leaked:
                # A storage host rejects it; for the tests it is a leaked token.
                world.violations.append({"time": time.time(), "path": split.path,
                                         "headers": sorted(k for k, _ in self.headers.items())})
                status, body, ctype = 400, (b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>"
                                            b"AuthenticationFailed</Code><Message>Authorization header "
                                            b"must not be sent to the log host</Message></Error>"), "application/xml"
                sys.stderr.write("github: VIOLATION: the log host received an Authorization header or a token\n")
            else:
                m = re.match(r"^/blobs/([0-9a-f]+)$", split.path)
                blob = world.blobs.get(m.group(1)) if m else None
                if blob is None or self.command not in ("GET", "HEAD"):
                    status, body, ctype = 404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml"
                else:
                    status, (body, ctype) = 200, blob
        rec["status"] = status
        rec["violation"] = leaked
        api.reqlog.add(rec)
        self.send_raw(status, body, [("Content-Type", ctype), ("Date", formatdate(usegmt=True))])


# ---------------------------------------------------------------------------
# A CONNECT proxy (plain HTTP) that maps the fake's names to its ports
# ---------------------------------------------------------------------------

class ProxyHandler(socketserver.StreamRequestHandler):
    rbufsize = 0                 # unbuffered: no TLS bytes may hide in a buffer

    def handle(self):
        line = self.rfile.readline(4096).decode("latin-1")
        while True:
            h = self.rfile.readline(4096)
            if h in (b"\r\n", b"\n", b""):
                break
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, want = parts[1].rpartition(":")
        host = host.strip("[]").lower()
        port = self.server.names.get(host)
        if port is None and host in ("127.0.0.1", "localhost") and want.isdigit():
            port = int(want)             # loopback stays allowed (other fakes, --connect-to)
        if port is None:
            # Nothing leaves loopback: unknown names are refused.
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            up = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        self.pump(self.connection, up)

    @staticmethod
    def pump(a, b):
        socks = [a, b]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], IDLE_TIMEOUT)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            b.close()


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_args(argv):
    p = add_common_args(argparse.ArgumentParser(description="A fake GitHub Actions API for tests."))
    p.add_argument("--log-cert", required=True, help="log host certificate (logs.github.test)")
    p.add_argument("--log-key", required=True)
    p.add_argument("--log-port-file", help="the log host's port is written here")
    p.add_argument("--proxy-port-file", help="also run a CONNECT proxy; its port is written here")
    p.add_argument("--log-port", type=int, default=0)
    p.add_argument("--log-origin", help="origin in log redirects (default https://logs.github.test:LOGPORT)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        scenario = load_json(args.scenario)
        world = World(scenario, args.token)
        faults = Faults()
        faults.add(scenario.get("faults", []))
    except (OSError, ValueError, KeyError, TypeError, ScenarioError, re.error) as e:
        sys.stderr.write("github: bad scenario %s: %s: %s\n" % (args.scenario, type(e).__name__, e))
        return 2

    api = listen_tls(FakeServer(("127.0.0.1", args.port), ApiHandler), args.cert, args.key)
    logs = listen_tls(FakeServer(("127.0.0.1", args.log_port), LogHandler),
                      args.log_cert, args.log_key)
    api.name = logs.name = "github"
    api.world, api.faults, api.verbose = world, faults, args.verbose
    api.reqlog = RequestLog(args.request_log)
    api.log_port = logs.server_address[1]
    api.log_origin = args.log_origin or "https://%s:%d" % (LOG_HOST, api.log_port)
    api.log_requests = 0
    api.proxy_port = None
    logs.api, logs.verbose = api, args.verbose
    servers = [api, logs]
    if args.proxy_port_file:
        proxy = ProxyServer(("127.0.0.1", 0), ProxyHandler)
        proxy.names = {API_HOST: api.server_address[1], LOG_HOST: api.log_port}
        api.proxy_port = proxy.server_address[1]
        servers.append(proxy)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    stop_on_signals(api)
    if args.control_port_file:
        listen_control(api, args.control_port_file)
    if args.log_port_file:
        write_port_file(args.log_port_file, api.log_port)
    if args.proxy_port_file:
        write_port_file(args.proxy_port_file, api.proxy_port)
    write_port_file(args.port_file, api.server_address[1])
    serve(api)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
