#!/bin/sh
# The GitHub fake must convince a client no one here wrote: Debian's gh
# (2.23) runs against it as a GitHub Enterprise Server host and its answers
# must agree with the scenario (tests/data/github/actions.json).
#
# How gh reaches the fake: gh builds https://GH_HOST/api/v3/ and resolves the
# name itself. A port is fine (GH_HOST=api.github.test:PORT with
# -R api.github.test:PORT/acme/web works), but there is no flag for an
# address and no hosts entry to lean on, and the log redirect names a second
# host. Go's HTTP client honours HTTPS_PROXY, so gh goes through the fake's
# own CONNECT proxy, which maps api.github.test and logs.github.test to the
# fake's two ports on 127.0.0.1 and refuses every other name. Nothing leaves
# loopback, and the names stay the default port (GH_HOST=api.github.test).
. "$(dirname "$0")/../lib.sh"

if ! command -v gh >/dev/null 2>&1; then
    echo "ok - gh not installed (scripts/bootstrap installs it) # SKIP"
    finish
fi

start_github
STATE_PY='import json,sys; d=json.load(sys.stdin)'
R=api.github.test/acme/web
PASS=30000000101 FAIL=30000000201 RUNNING=30000000301 RUNNING_FAIL=30000000401 RERUN=30000000501

# gh's own settings: a private config dir, no prompts, no update checks, no
# cache shared with another test (gh caches run-log zips under TMPDIR).
export GH_CONFIG_DIR="$T/ghconf" GH_HOST=api.github.test GH_NO_UPDATE_NOTIFIER=1 \
       GH_PROMPT_DISABLED=1 NO_COLOR=1 SSL_CERT_FILE="$CERTS/ca.pem" HTTPS_PROXY="$GH_PROXY" \
       TMPDIR="$T/ghtmp" GH_ENTERPRISE_TOKEN="$GH_TEST_TOKEN"
unset GH_TOKEN
mkdir -p "$GH_CONFIG_DIR" "$TMPDIR"

state() { gh_ctl GET /__fake/state; }

# --- gh run list ---------------------------------------------------------------
# The state before the list: the list itself moves the running runs on (after
# answering), as every request that looks at a run does.
state > "$T/state.json"
run gh run list -R "$R" -L 100 --json databaseId,headSha,status,conclusion,workflowName,event,number
expect_rc 0 "gh run list"
printf '%s' "$out" > "$T/list.json"
check "gh run list shows every visible run of acme/web with the fake's status and conclusion" \
    python3 - "$T/list.json" "$T/state.json" <<'EOF'
import json, sys
listed = {r["databaseId"]: r for r in json.load(open(sys.argv[1]))}
state = json.load(open(sys.argv[2]))
want = {r["id"]: r for r in state["runs"] if r["visible"] and r["id"] != 30000001601}
ok = set(listed) == set(want)
for rid, r in want.items():
    g = listed.get(rid, {})
    if (g.get("status"), g.get("conclusion") or None, g.get("headSha"), g.get("workflowName"), g.get("event")) != \
       (r["status"], r["conclusion"], r["head_sha"], r["workflow"], r["event"]):
        print("# mismatch", rid, g, r); ok = False
sys.exit(0 if ok else 1)
EOF

run gh run list -R "$R" -w Lint --json databaseId
check "gh run list -w Lint (workflow name from the workflows list) finds the two Lint runs" \
    [ "$(printf '%s' "$out" | python3 -c "$STATE_PY"'; print(sorted(r["databaseId"] for r in d))')" \
      = "[30000000102, 30000000202]" ]

run gh run list -R api.github.test/acme/secret
check "gh run list on a private repo without access fails with GitHub's 404 (exit $rc)" \
    [ "$rc" -ne 0 ]
expect_err_contains "HTTP 404" "gh names the 404"

# --- gh run view -----------------------------------------------------------------
run gh run view "$FAIL" -R "$R" -v
expect_rc 0 "gh run view of a failed run"
expect_out_contains "X test" "gh shows the failed job"
expect_out_contains "X Run tests" "gh shows the failed step"
expect_out_contains "- Upload report" "gh shows the skipped step after it"
expect_out_contains "https://github.test/acme/web/actions/runs/$FAIL" "gh prints the run's html_url"

run gh run view "$FAIL" -R "$R" --exit-status
expect_rc 1 "gh run view --exit-status on a failure"
run gh run view "$PASS" -R "$R" --exit-status
expect_rc 0 "gh run view --exit-status on a success"
run gh run view 30000000901 -R "$R" --exit-status
check "gh run view --exit-status on startup_failure fails (exit $rc)" [ "$rc" -ne 0 ]

run gh run view "$RERUN" -R "$R" --json status,conclusion,number
check "a re-run shows the new attempt (running again), not the failed first one" \
    contains "$out" '"conclusion":"","number":105,"status":"in_progress"'

# --- gh run view --log-failed: the run-log zip from the log host -----------------------
# With GH_ENTERPRISE_TOKEN gh 2.23 would send the token to every non-github.com
# host, the log host included (see the end); a token stored for the API host
# only is what keeps it away, as on github.com.
mkdir -p "$T/ghconf2"
printf 'api.github.test:\n    oauth_token: %s\n    user: octocat\n    git_protocol: https\n' \
    "$GH_TEST_TOKEN" > "$T/ghconf2/hosts.yml"
run env -u GH_ENTERPRISE_TOKEN GH_CONFIG_DIR="$T/ghconf2" gh run view "$FAIL" -R "$R" --log-failed
expect_rc 0 "gh run view --log-failed"
printf '%s\n' "$out" > "$T/logfailed.txt"
expect_out_contains "$(printf 'test\tRun tests\t')" "lines are job<TAB>step<TAB>line"
expect_out_contains "not ok - client: expected 200, got 500" "the failing step's output is there"
expect_out_contains "##[error]Process completed with exit code 2." "with the runner's error line"
expect_out_lacks "Syncing repository" "no lines of other steps"
gh_expect_no_leak

# The fake's per-step archive files are the job log cut by the step's times;
# check that what gh printed is exactly that cut of the plain-text job log.
jobs_json=$(curl -sS --noproxy '*' --cacert "$CERTS/ca.pem" \
    --connect-to "api.github.test:443:127.0.0.1:$GH_PORT" -H "User-Agent: test" \
    -H "Authorization: token $GH_TEST_TOKEN" "https://api.github.test/api/v3/repos/acme/web/actions/runs/$FAIL/jobs")
job_id=$(printf '%s' "$jobs_json" | python3 -c "$STATE_PY"'; print([j["id"] for j in d["jobs"] if j["name"] == "test"][0])')
curl -sS --noproxy '*' --cacert "$CERTS/ca.pem" -L \
    --connect-to "api.github.test:443:127.0.0.1:$GH_PORT" \
    --connect-to "logs.github.test:$GH_LOG_PORT:127.0.0.1:$GH_LOG_PORT" -H "User-Agent: test" \
    -H "Authorization: token $GH_TEST_TOKEN" \
    "https://api.github.test/api/v3/repos/acme/web/actions/jobs/$job_id/logs" > "$T/job.log"
printf '%s' "$jobs_json" > "$T/jobs.json"
check "gh's failed-step lines = the job log's lines in [step started_at, completed_at)" \
    python3 - "$T/jobs.json" "$T/job.log" "$T/logfailed.txt" <<'EOF'
import json, sys
from datetime import datetime, timezone
def t(s):
    s = s.rstrip("Z")
    if "." in s:
        a, f = s.split(".")
        return datetime.strptime(a, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp() + float("0." + f)
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
job = [j for j in json.load(open(sys.argv[1]))["jobs"] if j["name"] == "test"][0]
step = [s for s in job["steps"] if s["conclusion"] == "failure"][0]
# The fake puts a step's lines strictly inside its whole-second interval; a
# client widening the end by 1 s (the reference's advice) also gets the next
# step's ##[group] line, as on GitHub.
lo, hi = t(step["started_at"]), t(step["completed_at"])
log = open(sys.argv[2], encoding="utf-8").read().lstrip("\ufeff").splitlines()
cut = [l for l in log if lo <= t(l.split(" ", 1)[0]) < hi]
got = [l.split("\t", 2)[2] for l in open(sys.argv[3], encoding="utf-8").read().splitlines() if l.count("\t") >= 2]
got = [g.lstrip("\ufeff") for g in got]
if cut != got or not cut[0].split(" ", 1)[1].startswith("##[group]Run "):
    print("# cut:", cut); print("# gh: ", got); sys.exit(1)
EOF

# --- gh run watch: polls until the run completes ---------------------------------
run gh run watch "$RUNNING" -R "$R" --exit-status -i 1
expect_rc 0 "gh run watch --exit-status on a run that ends in success"
expect_out_contains "build" "gh run watch shows the job"
check "the fake's run ended success" \
    [ "$(state | python3 -c "$STATE_PY"'; print([r["conclusion"] for r in d["runs"] if r["id"] == '"$RUNNING"'][0])')" = success ]

run gh run watch "$RUNNING_FAIL" -R "$R" --exit-status -i 1
expect_rc 1 "gh run watch --exit-status on a run that ends in failure"

run gh run watch "$PASS" -R "$R" --exit-status
expect_rc 0 "gh run watch on a completed success returns at once"
expect_out_contains "has already completed" "and says so"

# gh polls without conditional requests: every request costs a rate-limit unit.
check "gh sent no If-None-Match, so each of its API requests cost one unit" python3 - "$T/gh.requests" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
api = [r for r in recs if r["host"] == "api" and r["user_agent"].startswith("GitHub CLI")]
bad = [r for r in api if r["if_none_match"] or (r["status"] != 304 and r["rate_cost"] != 1)]
sys.exit(1 if bad or not api else 0)
EOF

# --- homelab agrees with gh where the contract and gh agree ---------------------------------
# (They differ by design elsewhere: gh run view --exit-status passes a
# cancelled run and fails an action_required one with 1; homelab fails the
# first (1) and reports the second as waiting for a person (4).)
# (ci status is a report and exits 0 for a failed run; ci watch's exit code
# is the verdict, at once for a finished run.)
if "$HOMELAB" ci watch --help 2>&1 | grep -q -- "--provider"; then
    for c in 0e3c024fa7d463ad28ea32854efabf68593c38af:$PASS 3cc04daf78c270fa033ab72a386e1166eec897ad:$FAIL \
             c95853e18184497533eaaff76005eede44c8a091:30000000901 298402de763066b0e1f1f89e85af0cc8d525b47c:30000001201; do
        sha=${c%%:*} id=${c#*:}
        gh run view "$id" -R "$R" --exit-status >/dev/null 2>&1
        ghrc=$?
        hl ci watch "$sha" --provider github --timeout 60s
        check "homelab ci watch agrees with gh run view --exit-status on run $id (gh $ghrc, homelab $rc)" \
            [ "$rc" -eq "$ghrc" ]
        expect_out_lacks "$GH_TEST_TOKEN" "no token in homelab's output"
        expect_err_lacks "$GH_TEST_TOKEN" "no token in homelab's errors"
    done
    gh_expect_no_leak
else
    echo "# $HOMELAB has no GitHub provider (ci watch --provider): verdict comparison skipped"
fi

# --- the fake catches a client that leaks its token to the log host ---------------------
mkdir -p "$T/ghtmp2"
run env TMPDIR="$T/ghtmp2" GH_CONFIG_DIR="$T/ghconf" gh run view "$FAIL" -R "$R" --log-failed
check "gh with GH_ENTERPRISE_TOKEN sends it to the log host, which refuses (exit $rc)" [ "$rc" -ne 0 ]
expect_err_contains "400" "gh reports the log host's 400"
check "and the fake recorded the violation" \
    [ "$(state | python3 -c "$STATE_PY"'; print(d["violations"])')" -ge 1 ]

finish
