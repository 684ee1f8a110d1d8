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
. "$(dirname "$0")/ci_github_poll.inc"

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

finish
