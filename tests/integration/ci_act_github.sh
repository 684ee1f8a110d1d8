#!/bin/sh
# ci restart/approve/decline/cancel/run with the GitHub Actions provider,
# against the GitHub fake: each verb's success, refusal by state (checked
# before any POST), 403 naming the permission, 404, --dry-run (no write
# reaches the fake), --no-watch, --json, the follow-up watch, the default
# provider choice, and never acting twice when the connection drops after
# the fake applied the write. Every case adds its own runs through the
# control API, so cases do not share state. The fake moves runs only on the
# client's requests (or /__fake/advance): nothing here waits on the clock.
. "$(dirname "$0")/../lib.sh"

start_github
export HTTPS_PROXY="$GH_PROXY"
export HOMELAB_CI_PROVIDER=github
all_out=""
keep() { all_out="$all_out
$out
$err"; }

n=0
newsha() { n=$((n + 1)); S=$(printf '%040x' $((0xac7000 + n))); } # sets S
add_run() { gh_ctl POST /__fake/runs "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
FAILJOBS='[{"name":"test","steps":["Set up job",{"name":"Run tests","conclusion":"failure"},"Complete job"]}]'
OKJOBS='[{"name":"test","steps":["Set up job","Run tests","Complete job"]}]'
# A completed CI run of SHA that failed; a re-run (attempt 2) passes.
failed_run() {
    add_run "{\"workflow\":\"CI\",\"head_sha\":\"$1\",\"completed\":true,\"attempts\":[{\"jobs\":$FAILJOBS},{\"jobs\":$OKJOBS,\"auto\":false}]}"
}
passed_run() { add_run "{\"workflow\":\"CI\",\"head_sha\":\"$1\",\"completed\":true,\"jobs\":$OKJOBS}"; }
queued_run() { add_run "{\"workflow\":\"CI\",\"head_sha\":\"$1\",\"jobs\":$OKJOBS${2:-}}"; }
review_run() { # SHA [CAN_APPROVE]: a Deploy run waiting for a review of production
    add_run "{\"workflow\":\"Deploy\",\"head_sha\":\"$1\",\"completed\":true,\"jobs\":[{\"name\":\"deploy\",\"environment\":{\"name\":\"production\",\"id\":161171001,\"reviewers\":[\"octocat\"],\"current_user_can_approve\":${2:-true}},\"steps\":[\"Deploy\"]}]}"
}
fork_run() {
    add_run "{\"workflow\":\"CI\",\"event\":\"pull_request\",\"head_branch\":\"contributor:x\",\"head_sha\":\"$1\",\"status\":\"completed\",\"conclusion\":\"action_required\",\"jobs\":$OKJOBS}"
}
state_of() { # ID FIELD: the run's field in the fake's state
    gh_ctl GET /__fake/state | python3 -c '
import json,sys; r=[r for r in json.load(sys.stdin)["runs"] if r["id"]==int(sys.argv[1])][0]; print(r[sys.argv[2]])' "$1" "$2"
}
posts() { # SUFFIX: POSTs in the request log whose path ends so
    python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)["method"] == "POST"
          and json.loads(l)["path"].endswith(sys.argv[2])))' "$T/gh.requests" "$1"
}
all_posts() { posts ""; }
dispatch_runs() { # how many workflow_dispatch runs exist
    gh_ctl GET /__fake/state | python3 -c '
import json,sys; print(sum(1 for r in json.load(sys.stdin)["runs"] if r["event"]=="workflow_dispatch"))'
}
fault() { gh_ctl POST /__fake/faults "$1" >/dev/null; }
json_last() { # PYTHON-EXPR over `r`, the last JSON line of $out
    python3 -c "import json,sys; r=json.loads(sys.argv[1].splitlines()[-1]); assert $1, r" "$out"
}

# ---- restart ----
newsha; ID=$(failed_run $S)
before=$(all_posts)
hl ci restart $S --dry-run; keep
expect_rc 0 "restart --dry-run: exit 0"
expect_out_contains "POST /api/v3/repos/acme/web/actions/runs/$ID/rerun" "prints the POST with the path as sent"
check "the dry run sent no write" [ "$(all_posts)" = "$before" ]
check "and the run is still at attempt 1" [ "$(state_of $ID run_attempt)" = 1 ]
hl ci restart $S --failed --dry-run --json; keep
expect_rc 0 "restart --failed --dry-run --json"
check "a JSON result with method, path, run_id and dry_run" json_last \
    'r["dry_run"] and r["method"]=="POST" and r["path"].endswith("/rerun-failed-jobs") and r["action"]=="restart"'
hl ci restart $S --timeout 60s; keep
expect_rc 0 "restart REV: re-runs the failed run and follows it to its verdict (passes)"
expect_err_contains "re-ran CI #" "says what it re-ran"
expect_out_contains "attempt 2" "the watch's result names the new attempt"
check "exactly one re-run was sent" [ "$(posts "/runs/$ID/rerun")" = 1 ]

newsha; ID=$(failed_run $S)
hl ci restart "#$ID" --failed --no-watch; keep
expect_rc 0 "restart --failed --no-watch"
check "the result line is the run acted on" [ "$out" = "#$ID queued" ]
check "sent rerun-failed-jobs once" [ "$(posts "/runs/$ID/rerun-failed-jobs")" = 1 ]
check "the run is at attempt 2" [ "$(state_of $ID run_attempt)" = 2 ]

newsha; ID=$(failed_run $S)
hl ci restart $S --json --timeout 60s; keep
expect_rc 0 "restart --json follows the new attempt"
check "an action line first, with run_id and attempt" python3 -c '
import json,sys; l=json.loads(sys.argv[1].splitlines()[0])
assert l["event"]=="action" and l["action"]=="restart" and l["run_id"]==int(sys.argv[2]) and l["attempt"]==2, l' "$out" "$ID"
check "the result line carries action and run_id" json_last \
    "r['event']=='result' and r['action']=='restart' and r['run_id']==$ID and r['exit_code']==0"

newsha; ID=$(passed_run $S)
before=$(all_posts)
hl ci restart $S; keep
expect_rc 1 "restart REV when no run failed: 1"
expect_err_contains "no run of $(printf %.7s $S) failed" "says nothing failed"
hl ci restart "#$ID" --failed; keep
expect_rc 1 "restart --failed of a passed run: 1"
expect_err_contains "has no failed jobs to re-run (conclusion: success)" "says why"
newsha; ID=$(queued_run $S ',"advance":{"on":"manual"}')
hl ci restart "#$ID"; keep
expect_rc 1 "restart of a run not finished: 1"
expect_err_contains "is not finished (status: queued)" "names its status"
hl ci restart c95853e18184497533eaaff76005eede44c8a091; keep
expect_rc 1 "restart of a startup_failure: 1"
expect_err_contains "failed before any job ran (startup_failure)" "GitHub cannot re-run it"
check "no write was sent by any refusal" [ "$(all_posts)" = "$before" ]
newsha; ID=$(passed_run $S)
hl ci restart "#$ID" --no-watch; keep
expect_rc 0 "restart #ID of a passed run re-runs it whole"

hl ci restart '#39999999999'; keep
expect_rc 5 "restart of a run that does not exist: 5"
expect_err_contains "run #39999999999 not found" "says so"
newsha; ID=$(failed_run $S)
GH_TOKEN=stranger-token hl ci restart "#$ID"; keep
expect_rc 7 "a token without Actions write: 7"
expect_err_contains "lacks the permission actions=write" "names the permission"
check "the run was not re-run" [ "$(state_of $ID run_attempt)" = 1 ]

# ---- approve / decline ----
newsha; ID=$(review_run $S)
before=$(all_posts)
hl ci approve $S --dry-run; keep
expect_rc 0 "approve --dry-run"
expect_out_contains "POST /api/v3/repos/acme/web/actions/runs/$ID/pending_deployments" "the review endpoint"
expect_out_contains '"environment_ids":[161171001],"state":"approved"' "with the environment and state"
check "the dry run sent no write" [ "$(all_posts)" = "$before" ]
hl ci approve $S --json --timeout 60s; keep
expect_rc 0 "approve a deployment review, then follow the run to success"
check "the result line carries action approve and run_id" json_last \
    "r['action']=='approve' and r['run_id']==$ID and r['status']=='success'"
check "one review sent" [ "$(posts "/runs/$ID/pending_deployments")" = 1 ]
hl ci approve "#$ID"; keep
expect_rc 1 "approve of a run not waiting: 1"
expect_err_contains "is not waiting for approval (status: success)" "says its status"

newsha; ID=$(review_run $S)
hl ci approve "#$ID" --no-watch; keep
expect_rc 0 "approve --no-watch"
check "the result line is the run" contains "$out" "#$ID "

newsha; ID=$(review_run $S false)
hl ci approve $S; keep
expect_rc 7 "a deployment the token may not review: 7"
expect_err_contains "may not review the deployment to production" "says which"

newsha; ID=$(review_run $S)
hl ci decline $S; keep
expect_rc 0 "decline rejects the pending deployment"
check "prints #ID declined" [ "$out" = "#$ID declined" ]
gh_ctl POST /__fake/advance "{\"run\": $ID, \"until\": \"completed\"}" >/dev/null
check "the rejected job fails the run" [ "$(state_of $ID conclusion)" = failure ]
hl ci decline "#$ID"; keep
expect_rc 1 "decline of a run not waiting: 1"
expect_err_contains "not waiting for approval (status: failure)" "says its status"

newsha; ID=$(fork_run $S)
hl ci approve $S; keep
expect_rc 5 "a fork's run is a pull_request run: not among the push runs"
hl ci decline $S --event pull_request; keep
expect_rc 1 "decline of a fork's run awaiting approval: GitHub has no such thing"
expect_err_contains "GitHub has no way to decline" "says so"
hl ci approve $S --event pull_request --dry-run; keep
expect_out_contains "POST /api/v3/repos/acme/web/actions/runs/$ID/approve" "approve of action_required uses /approve"
hl ci approve $S --event pull_request --timeout 60s; keep
expect_rc 0 "approve a fork's run, then follow it to success"
check "one approve sent" [ "$(posts "/runs/$ID/approve")" = 1 ]

# ---- cancel ----
newsha; ID=$(queued_run $S)
hl ci cancel $S --dry-run; keep
expect_rc 0 "cancel --dry-run"
expect_out_contains "POST /api/v3/repos/acme/web/actions/runs/$ID/cancel" "the cancel endpoint"
check "nothing sent" [ "$(posts "/runs/$ID/cancel")" = 0 ]
hl ci cancel $S; keep
expect_rc 0 "cancel waits for the final status"
check "prints #ID cancelled" [ "$out" = "#$ID cancelled" ]
check "the run is cancelled" [ "$(state_of $ID conclusion)" = cancelled ]
before=$(all_posts)
hl ci cancel "#$ID"; keep
expect_rc 1 "cancel of a finished run: 1"
expect_err_contains "already finished: cancelled" "names its conclusion"
hl ci cancel $S --json; keep
expect_rc 1 "cancel REV whose runs all finished: 1"
check "a JSON result line with the error" json_last "r['exit_code']==1 and 'already finished' in r['error']"
check "no write was sent by the refusals" [ "$(all_posts)" = "$before" ]
newsha; ID=$(queued_run $S ',"advance":{"on":"manual"}')
hl ci cancel $S --timeout 2s; keep
expect_rc 3 "a cancel that does not take effect within --timeout: 3"
expect_err_contains "still queued after" "says its status"
newsha; ID=$(queued_run $S ',"advance":{"on":"manual"}')
run_interrupted_when INT "$T/gh.requests" "\"POST\", \"path\": \"[^\"]*/runs/$ID/cancel\"" \
    "$HOMELAB" ci cancel $S --json; keep
expect_rc 130 "Ctrl-C while a cancel settles: 130"
check "the last JSON line says interrupted" json_last "r['status']=='interrupted' and r['exit_code']==130"
newsha; ID=$(queued_run $S)
GH_TOKEN=stranger-token hl ci cancel $S; keep
expect_rc 7 "cancel with a read-only token: 7"

# ---- run (workflow_dispatch) ----
before=$(all_posts)
hl ci run --workflow deploy.yml --input tag=v2 --branch main --dry-run; keep
expect_rc 0 "run --dry-run"
expect_out_contains "POST /api/v3/repos/acme/web/actions/workflows/deploy.yml/dispatches" "the dispatch endpoint"
expect_out_contains '"ref":"main","inputs":{"tag":"v2"}' "with ref and inputs"
check "nothing sent" [ "$(all_posts)" = "$before" ]
hl ci run --workflow deploy.yml --input tag=v2 --timeout 60s; keep
expect_rc 0 "run dispatches the workflow and follows the run it created"
expect_err_contains "dispatched deploy.yml on main" "says so (the default branch)"
expect_out_contains "workflow_dispatch main" "the watch followed the workflow_dispatch run"
d0=$(dispatch_runs)
hl ci run --workflow .github/workflows/deploy.yml --no-watch --json; keep
expect_rc 0 "run --no-watch --json"
check "result line with action run and the run_id" json_last "r['action']=='run' and r['run_id']>0 and r['status']=='queued'"
check "exactly one run created" [ "$(dispatch_runs)" = $((d0 + 1)) ]
hl ci run --workflow lint.yml; keep
expect_rc 5 "a workflow without a workflow_dispatch trigger: 5"
expect_err_contains "has no workflow_dispatch trigger" "says so"
hl ci run --workflow nope.yml; keep
expect_rc 5 "an unknown workflow: 5"
hl ci run; keep
expect_rc 2 "run on GitHub without --workflow: usage"
hl ci run --workflow deploy.yml --var X=1; keep
expect_rc 2 "--var is Woodpecker's: usage"
hl ci run --workflow deploy.yml --input novalue; keep
expect_rc 2 "--input without =: usage"
GH_TOKEN=stranger-token hl ci run --workflow deploy.yml; keep
expect_rc 7 "dispatch with a read-only token: 7"
hl --provider woodpecker ci run --workflow deploy.yml; keep
expect_rc 2 "--workflow on Woodpecker: usage"

# ---- never act twice ----
for round in 1 2 3; do
    newsha; ID=$(failed_run $S)
    fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
    hl ci restart "#$ID" --no-watch; keep
    expect_rc 0 "round $round: the answer to a re-run is lost after GitHub applied it: 0"
    expect_err_contains "answer was lost" "round $round: says it read the state back"
    check "round $round: one POST, exactly one new attempt" \
        [ "$(posts "/runs/$ID/rerun")" = 1 -a "$(state_of $ID run_attempt)" = 2 ]
done
newsha; ID=$(failed_run $S)
fault "{\"kind\":\"drop_before\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 0 "a re-run dropped before GitHub saw it is sent once more"
check "two POSTs, one new attempt" [ "$(posts "/runs/$ID/rerun")" = 2 -a "$(state_of $ID run_attempt)" = 2 ]
newsha; ID=$(failed_run $S)
fault "{\"kind\":\"status\",\"status\":502,\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 0 "a 502 to a re-run: read back (not applied), sent once more"
check "two POSTs, one new attempt" [ "$(posts "/runs/$ID/rerun")" = 2 -a "$(state_of $ID run_attempt)" = 2 ]
newsha; ID=$(failed_run $S)
fault "{\"kind\":\"drop_before\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":2}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 6 "two lost sends without effect: 6"
check "exactly two POSTs, no new attempt" [ "$(posts "/runs/$ID/rerun")" = 2 -a "$(state_of $ID run_attempt)" = 1 ]

for round in 1 2 3; do
    d0=$(dispatch_runs)
    p0=$(posts /dispatches)
    fault '{"kind":"drop_after","method":"POST","path_regex":"/dispatches$","times":1}'
    hl ci run --workflow deploy.yml --no-watch; keep
    expect_rc 0 "round $round: a dispatch whose answer is lost after GitHub applied it: 0"
    check "round $round: one POST, exactly one new run" \
        [ "$(posts /dispatches)" = $((p0 + 1)) -a "$(dispatch_runs)" = $((d0 + 1)) ]
    check "round $round: the result is that run" contains "$out" "queued"
done

newsha; ID=$(review_run $S)
fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/pending_deployments\$\",\"times\":1}"
hl ci approve "#$ID" --no-watch; keep
expect_rc 0 "a review whose answer is lost after it was applied: 0"
check "one review POST" [ "$(posts "/runs/$ID/pending_deployments")" = 1 ]
newsha; ID=$(fork_run $S)
fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/approve\$\",\"times\":1}"
hl ci approve "#$ID" --no-watch; keep
expect_rc 0 "an approve whose answer is lost after it was applied: 0"
check "one approve POST" [ "$(posts "/runs/$ID/approve")" = 1 ]
newsha; ID=$(queued_run $S)
fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/cancel\$\",\"times\":1}"
hl ci cancel "#$ID"; keep
expect_rc 0 "a cancel whose answer is lost: the run still ends cancelled"
check "at most two cancel POSTs" [ "$(posts "/runs/$ID/cancel")" -le 2 ]
check "cancelled" [ "$(state_of $ID conclusion)" = cancelled ]

newsha; ID=$(failed_run $S)
fault "{\"kind\":\"secondary\",\"status\":403,\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 6 "a write refused by a secondary rate limit: 6"
expect_err_contains "nothing was done" "says nothing was done"
check "one POST, no new attempt" [ "$(posts "/runs/$ID/rerun")" = 1 -a "$(state_of $ID run_attempt)" = 1 ]

# A seeded soak: re-runs and dispatches with the connection dropped before
# or after the fake applied them, at random. A command that succeeds made
# exactly one attempt/run, one that fails made none; never more than two sends.
plan=$(python3 -c 'import random; r=random.Random(14); print(" ".join(r.choice(["none","drop_before","drop_after","twice"]) + ":" + r.choice(["rerun","dispatch"]) for _ in range(10)))')
soak_bad=0
for step in $plan; do
    kind=${step%%:*} verb=${step#*:}
    if [ "$verb" = rerun ]; then
        newsha; ID=$(failed_run $S); rx="/runs/$ID/rerun\$"
    else
        rx="/dispatches\$"; d0=$(dispatch_runs); p0=$(posts /dispatches)
    fi
    case $kind in
        drop_before|drop_after) fault "{\"kind\":\"$kind\",\"method\":\"POST\",\"path_regex\":\"$rx\",\"times\":1}" ;;
        twice) fault "{\"kind\":\"drop_before\",\"method\":\"POST\",\"path_regex\":\"$rx\",\"times\":2}" ;;
    esac
    if [ "$verb" = rerun ]; then
        hl ci restart "#$ID" --no-watch; keep
        made=$(( $(state_of $ID run_attempt) - 1 )); sent=$(posts "/runs/$ID/rerun")
    else
        hl ci run --workflow deploy.yml --no-watch; keep
        made=$(( $(dispatch_runs) - d0 )); sent=$(( $(posts /dispatches) - p0 ))
    fi
    want=1; [ "$kind" = twice ] && want=0
    if [ "$made" != "$want" ] || [ "$sent" -gt 2 ] || { [ $want = 1 ] && [ $rc != 0 ]; } || { [ $want = 0 ] && [ $rc != 6 ]; }; then
        soak_bad=$((soak_bad + 1)); echo "# soak $step: rc=$rc made=$made sent=$sent"
    fi
done
check "soak ($plan): one effect per successful command, none per failed, at most two sends" [ $soak_bad = 0 ]

# ---- the default provider: a GitHub remote ----
mkdir -p "$T/repo" && git -C "$T/repo" init -q && git -C "$T/repo" remote add origin https://github.test/acme/web.git
newsha; ID=$(queued_run $S)
(cd "$T/repo" && unset HOMELAB_CI_PROVIDER HOMELAB_GITHUB_REPO && "$HOMELAB" ci cancel "#$ID" --dry-run >"$T/out" 2>"$T/err"); rc=$?
out=$(cat "$T/out"); err=$(cat "$T/err"); keep
expect_rc 0 "with a GitHub remote and no provider set, the GitHub verbs run"
expect_out_contains "/actions/runs/$ID/cancel" "on GitHub"

# ---- the token ----
newsha; ID=$(failed_run $S)
hl ci restart "#$ID" --no-watch --verbose; keep
expect_rc 0 "restart --verbose"
expect_err_contains "Bearer <redacted>" "the trace redacts the token"
check "the token is in no output" lacks "$all_out" "$GH_TEST_TOKEN"
gh_expect_no_leak
finish
