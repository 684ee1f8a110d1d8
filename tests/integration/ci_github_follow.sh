#!/bin/sh
# ci logs --follow with the GitHub provider: the job log is fetched again
# while the job runs and only new lines are printed (tests/data/github/
# follow.json: each fetch reveals two more lines; the run moves only when
# the test advances it, after the fake saw homelab's fetches).
. "$(dirname "$0")/../lib.sh"

start_github follow
export HTTPS_PROXY="$GH_PROXY" HOMELAB_CI_PROVIDER=github
SHA=b3b2e0d41813a72078cdeebddd6ea74bc0b31345
"$HOMELAB" ci logs $SHA --job test --follow --timeout 120s >"$T/out" 2>"$T/err" &
pid=$!
fetches() { "$WAITFOR" -c "$T/gh.requests" '/actions/jobs/[0-9]*/logs'; }
"$WAITFOR" -p $pid -t 60 "$T/gh.requests" '/actions/jobs/[0-9]*/logs' 4
gh_ctl POST /__fake/advance '{"run": 30000000101, "until": "completed"}' >/dev/null
wait $pid; rc=$?
out=$(cat "$T/out") err=$(cat "$T/err")
expect_rc 0 "--follow ends when the job has finished"
check "the job log was fetched again while the job ran" [ "$(fetches)" -ge 4 ]
check "every line once, in order" python3 -c '
import sys; t=sys.argv[1].splitlines()
want=["test %d ok" % i for i in range(1, 9)] + ["not ok 9"]
got=[l for l in t if l.startswith("test ") or l.startswith("not ok")]
assert got == want, got' "$out"
expect_out_contains "cc -c a.c" "the earlier steps' lines too"
expect_err_lacks "$GH_TEST_TOKEN" "no token"
hl ci logs $SHA --follow --timeout 60s
expect_rc 0 "--follow of a finished run without --job/--step"
expect_out_contains "==> CI / test / Run tests <==" "prints the failing step's log under its header"
expect_out_contains "not ok 9" "to its end"
gh_expect_no_leak
finish
