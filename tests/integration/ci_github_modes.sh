#!/bin/sh
# The GitHub provider's output: the three output modes, logs of a failing
# step, the token never in any output (ci_github.inc: the set-up and the
# other parts).
. "$(dirname "$0")/ci_github.inc"

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

check "the token appears in no output at all" lacks "$all_out" "$GH_TEST_TOKEN"
finish
