#!/bin/sh
# ci restart / approve / decline / cancel / run on Woodpecker: outcomes,
# state pre-checks, permissions, dry runs (ci_act.inc: the set-up; never
# acting twice is in ci_act_twice.sh).
. "$(dirname "$0")/ci_act.inc"

# ---- manifest: the write tier ----
hl manifest --json
check "manifest lists the five write verbs in the write tier" python3 -c '
import json,sys; m={v["verb"]:v["tier"] for v in json.loads(sys.argv[1])}
assert all(m["ci "+v]=="write" for v in ("restart","approve","decline","cancel","run")), m' "$out"

# ---- restart ----
hl ci restart '#2' --dry-run
expect_rc 0 "restart --dry-run"
expect_out_contains "POST /api/repos/7/pipelines/2" "--dry-run prints method and path with the numeric repo id"
check "--dry-run sends no write" [ "$(posts .)" -eq 0 ]
check "--dry-run never shows the token" lacks "$out$err" "$TOKEN"

hl ci restart '#2'
expect_rc 0 "restart of a failed pipeline, followed to its verdict"
expect_err_contains "restarted #2 as #6" "says which pipeline it made"
expect_out_contains "#6 success" "the result line is the new pipeline's verdict"
check "exactly one new pipeline with parent 2" [ "$(children 2)" -eq 1 ]

hl ci restart 2222222 --no-watch --json
expect_rc 0 "restart REV --no-watch"
check "--json: action and pipeline on the result line" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1])
assert r["event"]=="result" and r["action"]=="restart" and r["pipeline"]==7 and r["status"]=="pending", r' "$out"
hl ci restart '#7' --no-watch
expect_out_contains "#8 pending" "--no-watch prints '#N pending'"

n=$(posts .)
hl ci restart '#3'
expect_rc 1 "restart of a blocked pipeline is refused"
expect_err_contains "approve it instead" "and says to approve it"
check "nothing sent for a blocked pipeline" [ "$(posts .)" -eq "$n" ]
hl ci restart --failed '#2'
expect_rc 2 "--failed is a usage error on Woodpecker"
hl ci restart '#99'
expect_rc 5 "restart of a missing pipeline"

WOODPECKER_TOKEN=reader-token hl ci restart '#2'
expect_rc 7 "a token without push permission"
expect_err_contains "no push permission" "names the missing permission"
check "and sends nothing" [ "$(posts .)" -eq "$n" ]
# the permission endpoint fails once: the write's 404 is told apart by it afterwards
faults '{"rules":[{"kind":"html","path":"/permissions$","count":2}]}'
WOODPECKER_TOKEN=reader-token hl ci restart '#2'
expect_rc 7 "a 404 on the write with push missing is exit 7, not 5"
expect_err_contains "Woodpecker answers 404" "naming the permission"
faults '{"rules":[]}'

WOODPECKER_TOKEN=not-a-token hl ci restart '#2'
expect_rc 7 "a token the server does not accept"
faults '{"rules":[{"kind":"401","method":"POST","count":1}]}'
hl ci restart '#2' --no-watch
expect_rc 7 "a write answered 401 is refused, not retried"
expect_err_contains "HTTP 401" "naming the answer"
faults '{"rules":[]}'

# ---- approve ----
hl ci approve '#4'
expect_rc 1 "approve of a running pipeline"
expect_err_contains "not waiting for approval (status: running)" "says it is not waiting"
hl ci approve 3333333 --json
expect_rc 0 "approve the commit's blocked pipeline, then watch it"
check "--json: the watch's lines, the result with action approve" python3 -c '
import json,sys; ls=[json.loads(l) for l in sys.argv[1].splitlines()]
assert ls[0]["event"]=="action" and ls[0]["action"]=="approve"
r=ls[-1]; assert r["event"]=="result" and r["action"]=="approve" and r["pipeline"]==3 and r["status"]=="success" and r["exit_code"]==0, r' "$out"
B=$(blocked_pipeline 3333333dddddddddddddddddddddddddddddddd)
hl ci approve "#$B" --no-watch
expect_rc 0 "approve --no-watch"
expect_out_contains "#$B pending" "prints the released pipeline"

# ---- decline ----
B=$(blocked_pipeline 6666666aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)
hl ci decline 6666666 --dry-run
expect_out_contains "POST /api/repos/7/pipelines/$B/decline" "decline --dry-run"
hl ci decline 6666666
expect_rc 0 "decline the commit's blocked pipeline"
expect_out_contains "#$B declined" "prints '#N declined'"
n=$(posts .)
hl ci decline "#$B"
expect_rc 1 "decline again"
expect_err_contains "not waiting for approval (status: declined)" "not a server error"
check "checked before sending (Woodpecker would answer 500)" [ "$(posts .)" -eq "$n" ]
# a 500 instead of the answer: read back, still blocked, sent exactly once more
B=$(blocked_pipeline 7777777aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)
faults '{"rules":[{"kind":"500","method":"POST","path":"/decline$","count":1}]}'
hl ci decline "#$B"
expect_rc 0 "decline after a 500 that had no effect"
check "sent twice: once, then once more after reading back" [ "$(posts "/$B/decline")" -eq 2 ]
faults '{"rules":[]}'

# ---- cancel ----
hl ci cancel '#4' --dry-run
expect_out_contains "POST /api/repos/7/pipelines/4/cancel" "cancel --dry-run"
hl ci cancel 4444444
expect_rc 0 "cancel the commit's running pipeline"
expect_out_contains "#4 killed" "waits for and prints the final status"
hl ci cancel '#4'
expect_rc 1 "cancel of a finished pipeline"
expect_err_contains "already finished: killed" "names its status"
hl ci cancel '#5' --json
expect_rc 1 "cancel of a killed pipeline, --json"
check "--json: the result carries action, status and the error" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1])
assert r["action"]=="cancel" and r["status"]=="killed" and r["exit_code"]==1 and "already finished" in r["error"], r' "$out"
wp_ctl POST /__fake/pipelines '{"commit":"8888888aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","template":"running"}' >/dev/null
hl ci cancel 8888888 --timeout 20s
expect_rc 0 "cancel with --timeout"

# ---- run ----
hl ci run --var IMAGE_TAG=abc1234 --var EMPTY= --dry-run
expect_rc 0 "run --dry-run"
expect_out_contains "POST /api/repos/7/pipelines" "prints the path"
expect_out_contains '{"branch":"main","variables":{"EMPTY":"","IMAGE_TAG":"abc1234"}}' "and the body, on the default branch"
m=$(manuals)
hl ci run --var IMAGE_TAG=abc1234 --json
expect_rc 0 "a manual pipeline, followed to success"
check "--json: action run, the new pipeline" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1])
assert r["action"]=="run" and r["pipeline"]==r["number"] and r["status"]=="success", r' "$out"
check "one manual pipeline more" [ "$(manuals)" -eq $((m + 1)) ]
N=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].splitlines()[-1])["pipeline"])' "$out")
check "with the variables" sh -c "curl -sS --cacert '$CERTS/ca.pem' --connect-to ci.homelab.test:443:127.0.0.1:$WP_PORT -H 'Authorization: Bearer $TOKEN' https://ci.homelab.test/api/repos/7/pipelines/$N | grep -q '\"variables\":{\"IMAGE_TAG\":\"abc1234\"}'"
hl ci run --branch release --no-watch
expect_rc 0 "run --branch --no-watch"
expect_out_contains "pending" "prints the new pipeline"
hl ci run --branch docs-only
expect_rc 5 "no workflow accepts a manual run"
expect_err_contains "Pipeline-Filtered" "says why"
hl ci run --branch broken
expect_rc 1 "a config that cannot be fetched: the error pipeline's verdict"
hl ci run --var NOEQUALS
expect_rc 2 "--var without '='"
hl ci run '#3'
expect_rc 2 "run takes no target"
WOODPECKER_TOKEN=reader-token hl ci run
expect_rc 7 "run without push permission"
finish
