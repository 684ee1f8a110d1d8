#!/bin/sh
# ci status/list/watch/logs with the GitHub Actions provider, against the
# GitHub fake (tests/data/github/actions.json): every verdict, the three
# output modes, logs of a failing step, the token never in any output and
# never at the log host, conditional requests, rate-limit waits, and the
# provider choice. The fake advances runs on the client's own requests.
. "$(dirname "$0")/../lib.sh"

start_github
# The log redirect names logs.github.test: reached through the fake's proxy.
export HTTPS_PROXY="$GH_PROXY"
export HOMELAB_CI_PROVIDER=github
PASS=0e3c024fa7d463ad28ea32854efabf68593c38af
FAIL=3cc04daf78c270fa033ab72a386e1166eec897ad
RUNNING=7d5da8a3f2f929b0bf3974988249ee7370dc7a1e
RUNNING_FAIL=6d33652a19316ca0330aa81db2c4c29a28fd8d55
RERUN=59926dd1a025df7a8929c6fbbe6e6fe599f951ad
REVIEW=f8ff97f4c05eb4d92772055e1bb7b73ad6994454
TIMER=6f4995b90d47b8e62d6930c538a8c44ddab4a74d
FORK=77781e1bc5f426fdb1923af7744e2e2c8bd29c9d
STARTUP=c95853e18184497533eaaff76005eede44c8a091
STALE=a82ed493634c5d96da0dfe089f2fa71fd30eae34
CANCELLED=67afc790d85c50e976eeb58e684621ee6bdad84b
TIMEDOUT=298402de763066b0e1f1f89e85af0cc8d525b47c
MIXED=b440e009d85f28d6db8cd9c7496717ecd8568553
LATE=2a2960b32652ae0e3c51f33a35809fabf520bc88
EVENTS=5d3c755389a3d41443f4de3c2aa81a411765ac8b
NONE=1111111111111111111111111111111111111111
all_out=""
keep() { all_out="$all_out
$out
$err"; }

# ---- verdicts ----
hl ci watch $PASS; keep
expect_rc 0 "all runs success: 0"
expect_out_contains "CI #101 success push main 0e3c024" "the result names each run"
hl ci watch $FAIL; keep
expect_rc 1 "a failed run: 1"
expect_err_contains "failed: CI / test / Run tests (failure)" "names the failing job and step"
expect_err_contains "not ok - client: expected 200, got 500" "shows the failing step's last lines"
expect_err_contains "##[error]Process completed with exit code 2." "up to the error line"
check "and not the lines of other steps" python3 -c '
import sys; rep=sys.argv[1].split("failed: CI / test")[1]
assert "shell: /usr/bin/bash" in rep and rep.count("##[group]") == 1' "$err"
check "timestamps are stripped" python3 -c 'import re,sys; assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", sys.argv[1])' "$err"
expect_err_contains "full log: homelab ci logs '#30000000201' --step 'test/Run tests'" "then the next command"
hl ci watch $RUNNING --timeout 60s; keep
expect_rc 0 "a queued run followed to success"
expect_err_contains "CI #103 in_progress" "reports the run's progress, one line per change"
hl ci logs $RUNNING_FAIL; keep
expect_rc 5 "ci logs of a run whose jobs have no log yet"
expect_err_contains "no job of CI '#30000000401' (queued) has a log yet; --follow waits for them" "says so once, for the run"
check "once, not per job" [ "$(printf '%s\n' "$err" | grep -c 'log')" -eq 1 ]
expect_out_lacks "==>" "under no empty header"
hl ci watch $RUNNING_FAIL --timeout 60s; keep
expect_rc 1 "a running run that fails"
hl ci watch $RERUN --timeout 60s; keep
expect_rc 0 "a re-run (attempt 2) replaces the failed first attempt"
expect_out_contains "attempt 2" "and says which attempt"
hl ci watch $REVIEW --timeout 60s; keep
expect_rc 4 "a deployment waiting for a reviewer needs a person"
expect_err_contains "review of the deployment to production" "and says which"
hl ci watch $TIMER --timeout 2s; keep
expect_rc 3 "a wait timer is not a person: keep waiting until --timeout"
# the line comes once the client saw the run, however slow it is to get there
run_interrupted_when INT "$T/err" "wait timer until" "$HOMELAB" ci watch $TIMER --timeout 600s
keep
expect_rc 130 "still waiting after it said so (ended by ^C, not a verdict)"
expect_err_contains "wait timer until" "and say until when"
hl ci watch $FORK --event pull_request --timeout 20s; keep
expect_rc 4 "action_required (a fork's run awaiting approval): 4"
hl ci watch $STARTUP; keep
expect_rc 1 "startup_failure: 1"
expect_err_contains "before any job ran" "with no job to blame"
hl ci watch $STALE --timeout 2s; keep
expect_rc 3 "stale is not final: polling until --timeout"
hl ci watch $CANCELLED; keep
expect_rc 1 "cancelled: 1"
hl ci watch $TIMEDOUT; keep
expect_rc 1 "timed_out: 1"
hl ci watch $MIXED; keep
expect_rc 0 "success + skipped + neutral: 0"
hl ci watch $LATE --timeout 60s; keep
expect_rc 0 "a run that appears late is waited for"
hl ci watch $EVENTS; keep
expect_rc 0 "event push by default (the pull_request run failed)"
hl ci watch $EVENTS --event any; keep
expect_rc 1 "--event any counts every event"
hl ci watch $NONE --appear-timeout 1s; keep
expect_rc 5 "no run within --appear-timeout: 5"
expect_err_contains "no workflow run for" "says no run appeared"
hl ci watch $NONE --appear-timeout 1s --json; keep
expect_rc 5 "--json: no run within --appear-timeout: 5"
last_result() { # the last line of $out: a result line with status $1 and exit code $2
    python3 -c 'import json,sys; r=json.loads(sys.argv[1].strip().splitlines()[-1])
assert (r["event"], r["status"], r["exit_code"]) == ("result", sys.argv[2], int(sys.argv[3])), r
assert r.get("error"), r' "$out" "$@"
}
check "and the last line is the result: not-found, with the error" last_result not-found 5
run_interrupted_when INT "$T/out" '"event": ?"run"' "$HOMELAB" ci watch $TIMER --timeout 600s --json
keep
expect_rc 130 "--json: ^C while a run waits on a timer: 130"
check "and the last line is the result: interrupted" last_result interrupted 130
hl ci status $PASS --repo acme/secret; keep
expect_rc 5 "a private repo the token cannot see: 5"
expect_err_contains "private repository" "with the hint that it may be private"
GH_TOKEN=not-a-valid-token hl ci status $PASS; keep
expect_rc 7 "an invalid token: 7"

# ---- output modes ----
hl ci status $FAIL; keep
expect_rc 0 "ci status of a commit"
check "one line per run on stdout" [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ]
hl ci status '#30000000201'; keep
expect_rc 0 "ci status #ID names a workflow run by its id"
expect_out_contains "CI #102 failure" "that run"
hl ci watch $FAIL --json; keep
expect_rc 1 "--json: same verdict"
check "JSON lines, the last the result with status and exit_code" python3 -c '
import json,sys; ls=[json.loads(l) for l in sys.argv[1].splitlines()]
assert ls[-1]["status"]=="failure" and ls[-1]["exit_code"]==1 and ls[-1]["runs"]' "$out"
python3 "$ROOT/tests/pty_run.py" "$T/tty.out" "$HOMELAB" ci watch $PASS >/dev/null 2>&1
rc=$?
expect_rc 0 "on a terminal: the same verdict"
check "the live view is drawn with escapes on a terminal" python3 -c '
import sys; t=open(sys.argv[1],"rb").read(); assert b"\x1b[" in t and b"CI #101" in t' "$T/tty.out"
hl ci list --limit 5; keep
expect_rc 0 "ci list"
check "--limit 5 lists five runs" [ "$(printf '%s\n' "$out" | grep -c ' (run ')" -eq 5 ]
hl ci list --limit 0
expect_rc 2 "--limit 0 is refused on GitHub too (the same ci list as Woodpecker's)"
hl ci list extra
expect_rc 2 "and so is an argument"
hl ci list --branch feature/x --limit 50; keep
expect_rc 0 "ci list --branch"
check "--branch goes to the API and only that branch's runs are listed" python3 -c '
import json, sys
lines = [l for l in sys.argv[2].splitlines() if l.strip()]
assert lines and all(" feature/x " in l for l in lines), lines
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r.get("query", {}).get("branch") == "feature/x" for r in reqs)' "$T/gh.requests" "$out"
hl ci list --status success --limit 50; keep
expect_rc 0 "ci list --status"
check "--status goes to the API and only runs in that state are listed" python3 -c '
import sys
lines = [l for l in sys.argv[1].splitlines() if l.strip()]
assert lines and all(l.split(" ")[2] == "success" for l in lines), lines' "$out"

# ---- logs ----
hl ci logs $FAIL --step 'test/Run tests'; keep
expect_rc 0 "ci logs --step JOB/STEP"
expect_out_contains "not ok - client: expected 200, got 500" "prints that step's lines"
expect_out_lacks "Set up job" "only that step's"
hl ci logs $FAIL --job test --step 'Run tests' --timestamps; keep
expect_rc 0 "--job and --step"
check "--timestamps keeps the line times" python3 -c 'import re,sys; assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ", sys.argv[1], re.M)' "$out"
hl ci logs $FAIL --step 'Run tests'; keep
expect_rc 2 "a step name in two jobs is ambiguous"
expect_err_contains "--job 'build' --step 'Run tests'" "and lists the candidates"
hl ci logs $FAIL; keep
expect_rc 0 "ci logs without --step: the failing step"
expect_out_contains "==> CI / test / Run tests <==" "under a header"
expect_out_lacks "Run linter" "and not the passing jobs"
hl ci logs $FAIL --step nosuch; keep
expect_rc 5 "an unknown step: 5"
hl ci logs $FAIL --job test --tail 2; keep
expect_rc 0 "a whole job's log with --tail"
check "--tail 2 prints two lines" [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ]
hl ci logs $EVENTS --event any; keep
expect_rc 0 "ci logs of several runs, one failed"
check "the failed run's failing step only, under its header" python3 -c '
import sys; h=[l for l in sys.argv[1].splitlines() if l.startswith("==> ")]
assert len(h) == 1, h' "$out"
hl ci logs $FAIL --step ''; keep
expect_rc 2 "an empty --step is a usage error, as on Woodpecker"
hl ci logs $FAIL --json; keep
expect_rc 2 "ci logs has no --json output, as on Woodpecker"
gh_ctl POST /__fake/faults '{"status": 500, "path_regex": "/actions/jobs/[0-9]+/logs$"}' >/dev/null
hl ci logs $FAIL --timeout 10s; keep
gh_ctl DELETE /__fake/faults >/dev/null
expect_rc 6 "a job log that cannot be read: 6"
expect_err_contains "log of CI / test / Run tests" "names the log"
expect_err_lacks "has no log" "and does not call it missing"

# ---- the token ----
hl ci watch $FAIL --verbose; keep
check "the token appears in no output, --verbose included" lacks "$all_out" "$GH_TEST_TOKEN"
gh_expect_no_leak

# ---- conditional requests ----
# A run that moves only when the test says so: the client polls its
# commit's runs three times with nothing changed (so at least two answers
# are 304s, whatever the client's speed), then the run completes.
STILL=$(printf 'c0d%037x' 1)
still=$(gh_ctl POST /__fake/runs "{\"workflow\": \"CI\", \"head_sha\": \"$STILL\",
    \"advance\": {\"on\": \"manual\"}, \"ticks\": 1,
    \"jobs\": [{\"name\": \"build\", \"steps\": [\"Set up job\", \"Complete job\"]}]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
since=$(wc -l < "$T/gh.requests")
polled=$(requests_seen gh '/actions/runs$')
spawn "$HOMELAB" ci watch "$STILL" --timeout 5m
wait_request gh '/actions/runs$' $((polled + 3))
gh_ctl POST /__fake/advance "{\"run\": $still, \"until\": \"completed\"}" >/dev/null
reap; keep
expect_rc 0 "a run that completes after three unchanged polls: 0"
check "repeated GETs carry If-None-Match and unchanged answers cost nothing" python3 -c '
import json,sys
reqs=[json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):]]
hits=[r for r in reqs if r.get("etag_hit")]
assert len(hits) >= 2 and all(r["rate_cost"]==0 for r in hits), hits' "$T/gh.requests" "$since"

# ---- rate limits ----
gh_ctl POST /__fake/faults '{"kind":"secondary","status":429,"retry_after":1,"path_regex":"/actions/runs$","times":1}' >/dev/null
hl ci watch $PASS --timeout 60s; keep
expect_rc 0 "a secondary rate limit (429 + retry-after) is waited out"
expect_err_contains "rate-limited until" "with a progress line"
gh_ctl POST /__fake/faults '{"kind":"primary","reset_in":120,"times":1}' >/dev/null
hl ci watch $PASS --timeout 5s; keep
expect_rc 6 "a primary limit that resets after --timeout: 6"
expect_err_contains "rate-limited by" "says so"
gh_ctl POST /__fake/ratelimit '{"remaining": 5000}' >/dev/null

# ---- doctor ----
hl doctor; keep
expect_out_contains "accepts the token (user octocat)" "doctor: the API accepts the token"
expect_out_contains "requests left this hour" "doctor: the rate limit left"
expect_out_contains "acme/web is visible" "doctor: the repo is visible"
hl doctor --repo acme/secret; keep
check "doctor: a repo the token cannot see fails" [ "$rc" -ne 0 ]

# ---- choosing the provider ----
unset HOMELAB_CI_PROVIDER HOMELAB_GITHUB_REPO
git init -q "$T/ghrepo" && git -C "$T/ghrepo" commit -q --allow-empty -m x &&
    git -C "$T/ghrepo" remote add origin "https://github.com/acme/web.git"
git init -q "$T/fjrepo" && git -C "$T/fjrepo" commit -q --allow-empty -m x &&
    git -C "$T/fjrepo" remote add origin "git@forge.homelab.test:acme/web.git"
cd "$T/ghrepo"
hl ci status $PASS; keep
expect_rc 0 "a github.com remote chooses GitHub (and names the repo)"
HOMELAB_CI_PROVIDER=woodpecker hl ci status $PASS; keep
check "HOMELAB_CI_PROVIDER=woodpecker overrides the remote" lacks "$err" "workflow run"
cd "$T/fjrepo"
hl ci status $PASS --repo acme/web; keep
check "another host chooses Woodpecker" lacks "$out" "CI #101"
hl ci status $PASS --repo acme/web --provider github; keep
expect_rc 0 "--provider github wins over the remote"
hl ci status --provider gitlab; keep
expect_rc 2 "an unknown provider is a usage error"

# ---- x-poll-interval ----
sha=$(printf 'feed%036x' 1)
gh_ctl POST /__fake/runs "{\"workflow\": \"Slow\", \"head_sha\": \"$sha\", \"advance\": {\"on\": \"any\", \"every\": 1}, \"jobs\": [{\"name\": \"b\", \"steps\": [\"Set up job\", \"Complete job\"]}]}" >/dev/null
gh_ctl POST /__fake/poll_interval '{"seconds": 3}' >/dev/null
hl ci watch --provider github --repo acme/web --timeout 2m "$sha"; keep
gh_ctl POST /__fake/poll_interval '{"seconds": 0}' >/dev/null
expect_rc 0 "a watch under x-poll-interval still ends with the verdict"
check "x-poll-interval: each list of the commit's runs is polled no more often than GitHub asks" python3 -c '
import json, sys
by = {}
for r in map(json.loads, open(sys.argv[1])):
    q = r.get("query", {})
    if r["path"].endswith("/actions/runs") and q.get("head_sha") == sys.argv[2] \
            and r["user_agent"].startswith("homelab"):
        by.setdefault(json.dumps(q, sort_keys=True), []).append(r["time"])
gaps = [b - a for t in by.values() for a, b in zip(t, t[1:])]
assert gaps and min(gaps) >= 2.9, by' "$T/gh.requests" "$sha"

# ---- ci list: pages ----
cd "$ROOT"
export HOMELAB_CI_PROVIDER=github HOMELAB_GITHUB_REPO=acme/web
# 105 runs, posted by one python3 over one connection (not a curl each)
python3 - "$GH_PORT" "$CERTS/ca.pem" <<'PY'
import http.client, json, socket, ssl, sys
class Fake(http.client.HTTPSConnection):
    def connect(self):  # 127.0.0.1, verified as api.github.test
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        self.sock = self._context.wrap_socket(s, server_hostname="api.github.test")
c = Fake("api.github.test", context=ssl.create_default_context(cafile=sys.argv[2]))
for i in range(105):
    c.request("POST", "/__fake/runs", json.dumps({"workflow": "Bulk", "head_sha": "%040x" % (i + 1)}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("# POST /__fake/runs: %d" % r.status)
PY
hl ci list --limit 120 --json; keep
expect_rc 0 "ci list --limit 120"
check "more than a page: the Link rel=next pages are followed up to the limit" python3 -c '
import json, sys
runs = json.loads(sys.argv[2])
assert len(runs) == 120 and len({r["id"] for r in runs}) == 120, len(runs)
reqs = [json.loads(l) for l in open(sys.argv[1])]
pages = [r for r in reqs if r["path"].endswith("/actions/runs") and r.get("query", {}).get("per_page") == "100"]
assert any(r["query"].get("page") == "2" for r in pages), pages[-2:]' "$T/gh.requests" "$out"
check "the token appears in no output at all" lacks "$all_out" "$GH_TEST_TOKEN"
finish
