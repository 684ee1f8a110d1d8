"""Reactions: a fake calls another service's API when one of its runs ends.

In the fleet the build's workflow has a deploy job that POSTs Woodpecker's
API for a manual pipeline with IMAGE_TAG=<sha8>, and that pipeline runs
`kubectl set image`. The fakes have no jobs that run code, so a test
installs reactions instead: "when a pipeline of acme/web with event push
ends in success, POST this body to that URL". The request is a real HTTPS
request (the test CA, SNI and Host of the named host, connected to a
loopback port), so the receiving fake sees exactly what a client sends.

A rule (JSON):

    {"when": {"repo": "acme/web", "event": "push", "status": "success",
              "variable": "IMAGE_TAG"},
     "post": {"connect": "127.0.0.1:PORT", "host": "ci.homelab.test",
              "path": "/api/repos/7/pipelines",
              "headers": {"Authorization": "Bearer TOKEN"},
              "body": {"branch": "main", "variables": {"IMAGE_TAG": "{sha8}"}}},
     "cacert": "/path/to/ca.pem"}

Every key of "when" is optional (`variable` = the run has that variable);
"{commit}", "{sha8}", "{sha7}", "{number}", "{repo}" and "{var:NAME}" are
replaced in the path, header values and body strings. Each run fires each
matching rule once, when it is first seen finished; the POST is sent once
(never retried: a write is not repeated by accident) from its own thread.
`log` lists what was sent and the answer's status.
"""
import http.client
import json
import socket
import ssl
import threading


def _subst(value, run):
    if isinstance(value, str):
        out = value
        for key, rep in (("{commit}", run["commit"]), ("{sha8}", run["commit"][:8]),
                         ("{sha7}", run["commit"][:7]), ("{number}", str(run["number"])),
                         ("{repo}", run["repo"])):
            out = out.replace(key, rep)
        for name, val in (run.get("variables") or {}).items():
            out = out.replace("{var:%s}" % name, str(val))
        return out
    if isinstance(value, dict):
        return {k: _subst(v, run) for k, v in value.items()}
    if isinstance(value, list):
        return [_subst(v, run) for v in value]
    return value


def _matches(when, run):
    for key in ("repo", "event", "status"):
        if key in when and when[key] != run[key]:
            return False
    if "variable" in when and when["variable"] not in (run.get("variables") or {}):
        return False
    return True


class Reactions:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.seen = set()
        self.log = []

    def control(self, method, body):
        """POST {"rules": [...], "append": bool} installs; GET lists rules and the log."""
        with self.lock:
            if method == "POST":
                rules = body.get("rules", [])
                if not isinstance(rules, list) or not all(
                        isinstance(r, dict) and isinstance(r.get("post"), dict) for r in rules):
                    raise ValueError("rules must be a list of {when, post} objects")
                self.rules = (self.rules if body.get("append") else []) + rules
            elif method == "DELETE":
                self.rules = []
            return {"rules": self.rules, "log": self.log}

    def finished(self, key, run):
        """Called for every finished run (key unique per run); fires new ones."""
        with self.lock:
            if key in self.seen:
                return
            self.seen.add(key)
            todo = [r for r in self.rules if _matches(r.get("when", {}), run)]
        for rule in todo:
            threading.Thread(target=self._post, args=(rule, run), daemon=True).start()

    def _post(self, rule, run):
        post = rule["post"]
        host, _, port = post["connect"].rpartition(":")
        ctx = ssl.create_default_context(cafile=rule.get("cacert"))
        name = post.get("host", host)
        path = _subst(post["path"], run)
        body = json.dumps(_subst(post.get("body", {}), run)).encode()
        headers = {k: _subst(v, run) for k, v in post.get("headers", {}).items()}
        headers.setdefault("Content-Type", "application/json")
        headers["Host"] = name
        entry = {"run": run, "path": path, "status": None}
        try:
            conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
            # connect to the loopback port, but verify and name the host
            conn.sock = ctx.wrap_socket(socket.create_connection((host, int(port)), 10),
                                        server_hostname=name)
            conn.request("POST", path, body=body, headers=headers)
            entry["status"] = conn.getresponse().status
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            entry["error"] = str(e)
        with self.lock:
            self.log.append(entry)
