#!/bin/sh
# ci watch/status with the GitHub Actions provider, against the GitHub fake
# (tests/data/github/actions.json): the verdicts of runs that end, a private
# repo, a bad token (ci_github.inc: the set-up and the other parts).
. "$(dirname "$0")/ci_github.inc"

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
hl ci status $PASS --repo acme/secret; keep
expect_rc 5 "a private repo the token cannot see: 5"
expect_err_contains "private repository" "with the hint that it may be private"
GH_TOKEN=not-a-valid-token hl ci status $PASS; keep
expect_rc 7 "an invalid token: 7"

check "the token appears in no output at all" lacks "$all_out" "$GH_TEST_TOKEN"
finish
