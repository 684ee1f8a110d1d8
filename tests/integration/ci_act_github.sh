#!/bin/sh
# ci cancel / run with the GitHub Actions provider (ci_act_github.inc: the
# set-up, and the other parts), the default provider choice, and the token
# in no output of this part.
. "$(dirname "$0")/ci_act_github.inc"

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
