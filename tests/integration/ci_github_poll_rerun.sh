#!/bin/sh
# ci watch with the GitHub provider (ci_github_poll.inc: the set-up; the
# rule is ci_github_poll.sh's): a re-run while another run of the commit
# moves is waited for, and a run watched by its id ('#ID') is followed
# through its commit's runs by status at no rate-limit cost.
. "$(dirname "$0")/ci_github_poll.inc"

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
