#!/bin/sh
# ci watch with the GitHub Actions provider, the verdicts that wait: wait
# timers, a fork's approval, stale, late and missing runs, --event, and the
# JSON result line when no verdict came (ci_github.inc: the set-up and the
# other parts).
. "$(dirname "$0")/ci_github.inc"

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

check "the token appears in no output at all" lacks "$all_out" "$GH_TEST_TOKEN"
finish
