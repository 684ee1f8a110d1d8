#!/bin/sh
# ci watch with the GitHub provider while a run moves step by step, under
# the fake's default reading that every finished step changes the run (its
# updated_at, so the commit's runs list and its ETag): once the first step
# showed that (one unit), following it costs no rate limit until a run's
# status changes. The lists of the commit's runs by status (completed,
# waiting, queued) are polled conditionally; the full list and the jobs are
# read only when one of them says a run appeared or changed its status. A second workflow appearing is seen, and its
# deployment waiting for a reviewer ends the watch (4) while the first run
# still runs. Everything is counted in the fake's request log; the runs move
# only when the test advances them, after the fake saw homelab's polls.
. "$(dirname "$0")/../lib.sh"

start_github
export HTTPS_PROXY="$GH_PROXY" HOMELAB_CI_PROVIDER=github
SHA=$(printf 'a11ce%035x' 7)
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
lines() { wc -l < "$T/gh.requests"; }
# poll_count STATUS SINCE [COUNT PID]: homelab's polls of the commit's runs
# with status=STATUS ("" = the full list) logged after line SINCE of the
# request log; with COUNT, first waits (in one python3, reading only what
# the log gained) until there are that many, PID has ended, or WAIT_LIMIT
# seconds (300) passed, the last only so a broken client cannot hang the
# suite.
poll_count() {
    python3 - "$T/gh.requests" "$SHA" "$1" "$2" "${3:-0}" "${4:-0}" "${WAIT_LIMIT:-300}" <<'PY'
import json, os, sys, time
path, sha, status = sys.argv[1:4]
skip, want, pid, limit = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
n, rest = 0, ""
def alive():
    try:
        os.kill(pid, 0)
        return pid > 0
    except OSError:
        return False
with open(path) as log:
    end = time.monotonic() + limit
    while True:
        rest += log.read()
        *lines, rest = rest.split("\n")
        for line in lines:
            if skip:
                skip -= 1
                continue
            r = json.loads(line)
            n += (r["user_agent"].startswith("homelab") and r["path"].endswith("/actions/runs")
                  and r["query"].get("head_sha") == sha and r["query"].get("status", "") == status)
        if n >= want or not alive() or time.monotonic() > end:
            break
        time.sleep(0.1)
print(n)
PY
}
polls() { poll_count "$1" "$2"; }
# wait_polls STATUS SINCE COUNT: until homelab polled that list COUNT times after SINCE
wait_polls() { poll_count "$1" "$2" "$3" "$bg" >/dev/null; }

A=$(gh_ctl POST /__fake/runs "{\"workflow\": \"CI\", \"head_sha\": \"$SHA\", \"advance\": {\"on\": \"manual\"},
    \"ticks\": 1, \"jobs\": [{\"name\": \"build\", \"steps\": [\"Set up job\", \"s1\", \"s2\", \"s3\", \"s4\",
    \"s5\", \"s6\", \"Complete job\"]}]}" | json 'd["id"]')
spawn "$HOMELAB" ci watch "$SHA" --timeout 5m
wait_polls "" 0 1                 # the commit's runs, read in full
gh_ctl POST /__fake/advance "{\"run\": $A}" >/dev/null
wait_polls completed 0 2          # a step changed the list, no status did: by status
s0=$(lines)
i=0
while [ $i -lt 5 ]; do
    gh_ctl POST /__fake/advance "{\"run\": $A}" >/dev/null
    l=$(lines)
    wait_polls completed "$l" 2   # homelab polled again after this step
    i=$((i + 1))
done
s1=$(lines)
check "five steps of a moving run cost no rate limit (every request a 304)" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):int(sys.argv[3])]]
hl = [r for r in recs if r["user_agent"].startswith("homelab")]
assert len(hl) >= 10, len(hl)
assert all(r["rate_cost"] == 0 and r["status"] == 304 for r in hl), \
    [(r["path"], r["query"].get("status"), r["status"]) for r in hl if r["rate_cost"]]
assert not [r for r in hl if "/jobs" in r["path"]], "jobs read while only steps moved"' \
    "$T/gh.requests" "$s0" "$s1"
check "the commit's runs were polled by status: completed, waiting and queued" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):int(sys.argv[3])]]
st = {r["query"].get("status") for r in recs if r["user_agent"].startswith("homelab")
      and r["path"].endswith("/actions/runs")}
assert {"completed", "waiting", "queued"} <= st, st' "$T/gh.requests" "$s0" "$s1"

B=$(gh_ctl POST /__fake/runs "{\"workflow\": \"Deploy\", \"head_sha\": \"$SHA\", \"advance\": {\"on\": \"manual\"},
    \"jobs\": [{\"name\": \"deploy\", \"environment\": {\"name\": \"production\", \"reviewers\": [\"octocat\"]}}]}" |
    json 'd["id"]')
wait_stderr "Deploy #"
check "a second workflow's new run is seen while the first runs" grep -q "Deploy #[0-9]* queued" "$T/bg.err"
gh_ctl POST /__fake/advance "{\"run\": $B}" >/dev/null     # its deployment now waits for a reviewer
l=$(lines)
reap
expect_rc 4 "a deployment waiting for a reviewer ends the watch while CI still runs"
expect_err_contains "review of the deployment to production" "and says which"
expect_out_contains "in_progress" "the first run is listed, still running"
check "seen at the first poll of the waiting runs after it waited" [ "$(polls waiting "$l")" -le 2 ]
expect_err_contains "CI #" "the first run's progress is reported"
check "each step that finished is reported once" python3 -c '
import sys
err = sys.argv[1]
for s in ("s1", "s2", "s3", "s4"):
    assert err.count("build/%s success" % s) == 1, (s, err)' "$err"

# A re-run while another run moves: CI passed, Lint runs; CI's attempt 2
# starts (it leaves the completed runs) and Lint then passes: no verdict
# until attempt 2 ends (it fails: 1).
SHA=$(printf 'a11ce%035x' 8)
C=$(gh_ctl POST /__fake/runs "{\"workflow\": \"CI\", \"head_sha\": \"$SHA\", \"advance\": {\"on\": \"manual\"},
    \"completed\": true, \"attempts\": [{\"jobs\": [{\"name\": \"build\"}]},
    {\"jobs\": [{\"name\": \"build\", \"steps\": [{\"name\": \"Run tests\", \"conclusion\": \"failure\"}]}]}]}" |
    json 'd["id"]')
L=$(gh_ctl POST /__fake/runs "{\"workflow\": \"Lint\", \"head_sha\": \"$SHA\", \"advance\": {\"on\": \"manual\"},
    \"ticks\": 1, \"jobs\": [{\"name\": \"lint\", \"steps\": [\"Set up job\", \"a\", \"b\", \"c\", \"Complete job\"]}]}" |
    json 'd["id"]')
spawn "$HOMELAB" ci watch "$SHA" --timeout 5m
wait_polls "" 0 1
gh_ctl POST /__fake/advance "{\"run\": $L}" >/dev/null
l=$(lines)
wait_polls completed "$l" 2
gh_ctl POST /__fake/advance "{\"run\": $C}" >/dev/null          # the re-run: attempt 2 queued
l=$(lines)
wait_polls completed "$l" 2
gh_ctl POST /__fake/advance "{\"run\": $L, \"until\": \"completed\"}" >/dev/null
l=$(lines)
wait_polls "" "$l" 2              # no run in progress now: the full list again
check "Lint passing does not end the watch while CI's attempt 2 runs" kill -0 "$bg"
gh_ctl POST /__fake/advance "{\"run\": $C, \"until\": \"completed\"}" >/dev/null
reap
expect_rc 1 "attempt 2 failed: 1"
expect_out_contains "attempt 2" "the result names the attempt"
expect_err_contains "(attempt 2) queued" "the re-run was seen when it started"
# The same by the run's id ('#ID', what `gh run watch ID` is given): the
# run is read once (its commit and event), then followed through its
# commit's runs by status as above: five steps cost no rate limit, and
# neither the run nor its jobs are read again until it completes.
SHA=$(printf 'a11ce%035x' 9)
D=$(gh_ctl POST /__fake/runs "{\"workflow\": \"CI\", \"head_sha\": \"$SHA\", \"advance\": {\"on\": \"manual\"},
    \"ticks\": 1, \"jobs\": [{\"name\": \"build\", \"steps\": [\"Set up job\", \"s1\", \"s2\", \"s3\", \"s4\",
    \"s5\", \"s6\", \"Complete job\"]}]}" | json 'd["id"]')
spawn "$HOMELAB" ci watch "#$D" --timeout 5m
wait_polls "" 0 1
gh_ctl POST /__fake/advance "{\"run\": $D}" >/dev/null
wait_polls completed 0 2
s0=$(lines)
i=0
while [ $i -lt 5 ]; do
    gh_ctl POST /__fake/advance "{\"run\": $D}" >/dev/null
    l=$(lines)
    wait_polls completed "$l" 2
    i=$((i + 1))
done
s1=$(lines)
check "'#ID': five steps of the run cost no rate limit, the run and its jobs are not read" \
    python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):int(sys.argv[3])]]
hl = [r for r in recs if r["user_agent"].startswith("homelab")]
assert len(hl) >= 10, len(hl)
assert all(r["rate_cost"] == 0 and r["status"] == 304 for r in hl), \
    [(r["path"], r["query"].get("status"), r["status"]) for r in hl if r["rate_cost"]]
assert not [r for r in hl if not r["path"].endswith("/actions/runs")], \
    [r["path"] for r in hl if not r["path"].endswith("/actions/runs")]' \
    "$T/gh.requests" "$s0" "$s1"
gh_ctl POST /__fake/advance "{\"run\": $D, \"until\": \"completed\"}" >/dev/null
reap
expect_rc 0 "'#ID': the run passed: 0"
expect_out_contains "(run $D)" "the result is that run"
check "'#ID': the run was read by its id once" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = sum(1 for r in recs if r["user_agent"].startswith("homelab")
        and r["path"].endswith("/actions/runs/" + sys.argv[2]))
assert n == 1, n' "$T/gh.requests" "$D"
finish
