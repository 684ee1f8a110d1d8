#!/bin/sh
# The GitHub fake keeps the reference's promises that homelab's tests rely on:
# ETag/304 with rate-limit accounting, primary and secondary limits, 404 for
# a private repo, the log redirect to a host that refuses tokens, event-driven
# timelines, re-run attempts and the write endpoints. Driven with curl, so a
# broken fake fails here rather than in a homelab test.
. "$(dirname "$0")/../lib.sh"

start_github
B=https://api.github.test/api/v3/repos/acme/web
SHA_RUNNING=7d5da8a3f2f929b0bf3974988249ee7370dc7a1e
PY='import json,sys; d=json.load(sys.stdin)'

# api [curl args] URL: one API request with the test token; sets $out (body),
# $hdr (headers) and $code (also as $rc for the failure report).
api() {
    : > "$T/b"
    code=$(curl -sS --noproxy '*' --cacert "$CERTS/ca.pem" \
        --connect-to "api.github.test:443:127.0.0.1:$GH_PORT" \
        --connect-to "logs.github.test:$GH_LOG_PORT:127.0.0.1:$GH_LOG_PORT" \
        -H "User-Agent: fake-test" -H "Accept: application/vnd.github+json" \
        -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" 2>>"$T/curl.err")
    out=$(cat "$T/b"); hdr=$(tr -d '\r' < "$T/h"); rc=$code; err=""
}
auth() { api -H "Authorization: Bearer $GH_TEST_TOKEN" "$@"; }
header() { printf '%s\n' "$hdr" | sed -n "s/^$1: //Ip" | tail -1; }
json() { printf '%s' "$out" | python3 -c "$PY; print($1)"; }
# checks DESC 'CONDITION': one check over a whole shell condition (with &&).
checks() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
st() { gh_ctl GET /__fake/state | python3 -c "$PY; r=[r for r in d['runs'] if r['id']==$1][0]; print($2)"; }

# --- timelines move on requests, not on time (first: every runs list counts) ---------
check "running starts queued" [ "$(st 30000000301 'r["status"]')" = queued ]
auth "$B/actions/runs?head_sha=$SHA_RUNNING"
check "the first look sees queued" [ "$(json 'd["workflow_runs"][0]["status"]')" = queued ]
e1=$(header etag)
auth -H "If-None-Match: $e1" "$B/actions/runs?head_sha=$SHA_RUNNING"
checks "the second look sees in_progress (200, the ETag changed)" \
    '[ "$code" = 200 ] && [ "$(json "d[\"workflow_runs\"][0][\"status\"]")" = in_progress ]'
gh_ctl POST /__fake/advance '{"run": 30000000301, "until": "completed"}' >/dev/null
auth "$B/actions/runs/30000000301/jobs"
checks "advance until completed: success, steps with whole-second times" \
    '[ "$(json "d[\"jobs\"][0][\"conclusion\"]")" = success ] &&
     [ "$(json "len(d[\"jobs\"][0][\"steps\"][0][\"completed_at\"])")" = 20 ]'
e2=$(auth "$B/actions/runs/30000000301"; header etag)
auth -H "If-None-Match: $e2" "$B/actions/runs/30000000301"
check "a finished run keeps answering 304" [ "$code" = 304 ]

auth "$B/actions/runs?head_sha=2a2960b32652ae0e3c51f33a35809fabf520bc88"
c1=$(json 'd["total_count"]')
auth "$B/actions/runs?head_sha=2a2960b32652ae0e3c51f33a35809fabf520bc88"
auth "$B/actions/runs?head_sha=2a2960b32652ae0e3c51f33a35809fabf520bc88"
auth "$B/actions/runs?head_sha=2a2960b32652ae0e3c51f33a35809fabf520bc88"
checks "a late run appears after 3 lists" \
    '[ "$c1" = 0 ] && [ "$(json "d[\"total_count\"]")" = 1 ]'

# --- ETag and rate limits ------------------------------------------------------------
auth "$B/actions/runs?head_sha=3cc04daf78c270fa033ab72a386e1166eec897ad&per_page=100"
checks "runs of a commit: 200 with both workflows" '[ "$code" = 200 ] && [ "$(json "d[\"total_count\"]")" = 2 ]'
etag=$(header etag); rem1=$(header x-ratelimit-remaining)
checks "weak ETag and rate-limit headers" \
    'contains "$etag" "W/\"" && [ -n "$rem1" ] && [ "$(header x-ratelimit-resource)" = core ]'
auth -H "If-None-Match: $etag" "$B/actions/runs?head_sha=3cc04daf78c270fa033ab72a386e1166eec897ad&per_page=100"
checks "If-None-Match with the ETag: 304, empty body (got $code)" '[ "$code" = 304 ] && [ -z "$out" ]'
check "a 304 costs nothing" [ "$(header x-ratelimit-remaining)" = "$rem1" ]
auth "$B/actions/runs?head_sha=3cc04daf78c270fa033ab72a386e1166eec897ad&per_page=100"
check "a 200 costs one unit" [ "$(header x-ratelimit-remaining)" = $((rem1 - 1)) ]
auth -H "If-None-Match: $etag" "$B/actions/runs?head_sha=3cc04daf78c270fa033ab72a386e1166eec897ad&per_page=50"
check "another page size is another resource: 200" [ "$code" = 200 ]
api -H "If-None-Match: $etag" "$B/actions/runs?head_sha=3cc04daf78c270fa033ab72a386e1166eec897ad&per_page=100"
check "without a token the private repo is 404, not 403 (got $code)" [ "$code" = 404 ]
check "the control API shows the remaining count" \
    [ "$(gh_ctl GET /__fake/ratelimit | python3 -c "$PY; print(d['user:octocat']['remaining'])")" = $((rem1 - 2)) ]

auth "$B/actions/runs?head_sha=0000000000000000000000000000000000000000"
checks "a commit without runs: 200, total_count 0" '[ "$code" = 200 ] && [ "$(json "d[\"total_count\"]")" = 0 ]'
auth "$B/actions/runs?head_sha=3cc04da"
check "an abbreviated SHA finds nothing" [ "$(json 'd["total_count"]')" = 0 ]
auth "$B/actions/runs?per_page=2&page=2"
checks "pagination: a Link header with next and prev" \
    'contains "$(header link)" "rel=\"next\"" && contains "$(header link)" "rel=\"prev\""'
auth "$B/actions/runs/"
check "a trailing slash is 404" [ "$code" = 404 ]
auth "https://api.github.test/api/v3/repos/acme/secret/actions/runs"
checks "a private repo without access: 404 Not Found" '[ "$code" = 404 ] && contains "$out" "\"Not Found\""'
api -H "Authorization: token nope" "$B/actions/runs"
checks "a bad token: 401 Bad credentials" '[ "$code" = 401 ] && contains "$out" "Bad credentials"'

gh_ctl POST /__fake/faults '{"kind":"secondary","status":429,"retry_after":7,"path_regex":"/actions/runs$","times":1}' >/dev/null
auth "$B/actions/runs"
checks "secondary limit: 429 with retry-after" '[ "$code" = 429 ] && [ "$(header retry-after)" = 7 ]'
gh_ctl POST /__fake/faults '{"kind":"secondary","retry_after":3,"path_regex":"/actions/runs$","times":1}' >/dev/null
auth "$B/actions/runs"
checks "secondary limit: 403 with retry-after and the message" \
    '[ "$code" = 403 ] && [ "$(header retry-after)" = 3 ] && contains "$out" "secondary rate limit"'
auth "$B/actions/runs"
check "the fault is spent" [ "$code" = 200 ]
gh_ctl POST /__fake/ratelimit '{"remaining": 1, "reset_in": 600}' >/dev/null
auth "$B/actions/runs"
checks "the last unit: 200, remaining 0" '[ "$code" = 200 ] && [ "$(header x-ratelimit-remaining)" = 0 ]'
auth "$B/actions/runs"
checks "primary limit: 403, remaining 0, a reset time" \
    '[ "$code" = 403 ] && [ "$(header x-ratelimit-remaining)" = 0 ] && [ -n "$(header x-ratelimit-reset)" ] &&
     contains "$out" "rate limit exceeded"'
gh_ctl POST /__fake/ratelimit '{"remaining": 5000}' >/dev/null

# --- logs: 302 to the log host, which refuses tokens --------------------------------------
fail_job=$(auth "$B/actions/runs/30000000201/jobs"; json '[j["id"] for j in d["jobs"] if j["name"]=="test"][0]')
auth "$B/actions/jobs/$fail_job/logs"
loc=$(header location)
checks "job log: 302 to the log host" '[ "$code" = 302 ] && contains "$loc" "https://logs.github.test:$GH_LOG_PORT/"'
api "$loc"
checks "the log host serves it without a token" '[ "$code" = 200 ] && contains "$out" "##[group]Run make check"'
check "the job log starts with a BOM and a 7-digit timestamp" \
    python3 -c 'import sys,re; b=open(sys.argv[1],"rb").read(); sys.exit(0 if re.match(rb"\xef\xbb\xbf\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ", b) else 1)' "$T/b"
gh_expect_no_leak
api -H "Authorization: token $GH_TEST_TOKEN" "$loc"
check "a token sent to the log host: 400" [ "$code" = 400 ]
check "and a recorded violation" [ "$(gh_ctl GET /__fake/state | python3 -c "$PY; print(d['violations'])")" = 1 ]
auth "$B/actions/runs/30000000701/logs"
check "the run archive of an unfinished run: 404" [ "$code" = 404 ]
auth -L "$B/actions/runs/30000000201/logs"
check "the run archive of a finished run: a zip with job and step files" \
    python3 -c 'import sys,zipfile; n=zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(0 if "test/4_Run tests.txt" in n and "1_test.txt" in n else 1)' "$T/b"
# (curl -L keeps the header only for the first host: no new violation)
check "curl -L did not leak the token" [ "$(gh_ctl GET /__fake/state | python3 -c "$PY; print(d['violations'])")" = 1 ]

# --- re-runs ------------------------------------------------------------------------------
auth "$B/actions/runs/30000000501"
checks "a re-run: run_attempt 2 with previous_attempt_url" \
    '[ "$(json "d[\"run_attempt\"]")" = 2 ] && contains "$(json "d[\"previous_attempt_url\"]")" "/attempts/1"'
auth "$B/actions/runs/30000000501/attempts/1"
check "attempt 1 stays readable: failure" [ "$(json 'd["conclusion"]')" = failure ]
auth "$B/actions/runs/30000000501/attempts/3"
check "attempt 3 does not exist: 404" [ "$code" = 404 ]
auth "$B/actions/runs/30000000501/jobs?filter=all"
check "filter=all lists both attempts' jobs" [ "$(json 'd["total_count"]')" = 2 ]

# --- people: deployments, fork approval ------------------------------------------------
auth "$B/actions/runs/30000000601/pending_deployments"
check "pending_deployments lists production with its reviewers" \
    [ "$(json 'd[0]["environment"]["name"] + str(len(d[0]["reviewers"]))')" = production2 ]
auth -X POST -d '{"environment_ids":[161171001],"state":"approved"}' "$B/actions/runs/30000000601/pending_deployments"
check "review without comment: 422" [ "$code" = 422 ]
api -H "Authorization: token stranger-token" -X POST -d '{"environment_ids":[161171001],"state":"approved","comment":"ok"}' \
    "$B/actions/runs/30000000601/pending_deployments"
check "a read-only user cannot approve: 403" [ "$code" = 403 ]
auth -X POST -d '{"environment_ids":[161171001],"state":"approved","comment":"ok"}' "$B/actions/runs/30000000601/pending_deployments"
check "approve: 200" [ "$code" = 200 ]
gh_ctl POST /__fake/advance '{"run": 30000000601, "until": "completed"}' >/dev/null
check "the approved deployment runs to success" [ "$(st 30000000601 'r["conclusion"]')" = success ]

gh_ctl POST /__fake/advance '{"run": 30000000701}' >/dev/null
check "a wait timer still waits after one event" [ "$(st 30000000701 'r["status"]')" = waiting ]
gh_ctl POST /__fake/advance '{"run": 30000000701}' >/dev/null
check "and runs after the second" [ "$(st 30000000701 'r["status"]')" = in_progress ]

auth "$B/actions/runs/30000000801/jobs"
check "a fork run waiting for approval has no jobs" [ "$(json 'd["total_count"]')" = 0 ]
auth -X POST "$B/actions/runs/30000000801/approve"
check "approve a fork run: 201" [ "$code" = 201 ]
check "it is queued" [ "$(st 30000000801 'r["status"]')" = queued ]

# --- rerun, cancel, dispatch ----------------------------------------------------------------
auth -X POST "$B/actions/runs/30000000201/rerun-failed-jobs"
checks "rerun-failed-jobs: 201 {}" '[ "$code" = 201 ] && [ "$out" = "{}" ]'
check "attempt 2 keeps the passed job and re-runs the failed one" \
    [ "$(st 30000000201 'str(r["run_attempt"]) + r["status"] + r["jobs"][0]["status"]')" = 2queuedcompleted ]
auth -X POST "$B/actions/runs/30000000201/cancel"
check "cancel: 202" [ "$code" = 202 ]
gh_ctl POST /__fake/advance '{"run": 30000000201}' >/dev/null
check "cancelled at the next event" [ "$(st 30000000201 'r["conclusion"]')" = cancelled ]
auth -X POST "$B/actions/runs/30000000201/cancel"
check "cancel a completed run: 409" [ "$code" = 409 ]
auth -X POST "$B/actions/runs/30000000901/rerun"
check "rerun a startup_failure: 403" [ "$code" = 403 ]
auth -X POST -d '{"ref":"main","inputs":{"IMAGE_TAG":"abc"},"return_run_details":true}' \
    "$B/actions/workflows/deploy.yml/dispatches"
checks "dispatch with return_run_details: 200 with the run id" \
    '[ "$code" = 200 ] && [ -n "$(json "d[\"workflow_run_id\"]")" ]'
gh_ctl POST /__fake/faults '{"kind":"drop_after","method":"POST","path_regex":"/dispatches$","times":1}' >/dev/null
n0=$(gh_ctl GET /__fake/state | python3 -c "$PY; print(len(d['runs']))")
auth -X POST -d '{"ref":"main"}' "$B/actions/workflows/161337/dispatches"
checks "drop_after: no answer (curl code $code)" '[ "$code" = 000 ]'
check "but the dispatch took effect" \
    [ "$(gh_ctl GET /__fake/state | python3 -c "$PY; print(len(d['runs']))")" = $((n0 + 1)) ]
gh_ctl POST /__fake/faults '{"kind":"drop_before","path_regex":"^/user$","times":1}' >/dev/null
auth "https://api.github.test/api/v3/user"
checks "drop_before: no answer" '[ "$code" = 000 ]'
auth "https://api.github.test/api/v3/user"
checks "then /user answers the token's login" '[ "$code" = 200 ] && contains "$out" "octocat"'
auth -X POST -d '{"ref":"main"}' "$B/actions/workflows/161337/dispatches"
check "dispatch without: 204" [ "$code" = 204 ]
auth -X POST -d '{"inputs":{}}' "$B/actions/workflows/161337/dispatches"
check "dispatch without ref: 422" [ "$code" = 422 ]
auth -X POST -d '{"ref":"main"}' "$B/actions/workflows/lint.yml/dispatches"
checks "dispatch to a workflow without a workflow_dispatch trigger: 422 saying so" \
    '[ "$code" = 422 ] && contains "$out" "does not have '"'"'workflow_dispatch'"'"' trigger"'
gh_ctl POST /__fake/advance '{"run": 30000000801, "until": "completed"}' >/dev/null
check "an approved fork run ends with its jobs' conclusion" [ "$(st 30000000801 'r["conclusion"]')" = success ]

# --- the request log ------------------------------------------------------------------------
check "the request log records rate cost and no token" python3 - "$T/gh.requests" "$GH_TEST_TOKEN" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
recs = [json.loads(l) for l in text.splitlines()]
ok = sys.argv[2] not in text and any(r.get("etag_hit") and r["rate_cost"] == 0 for r in recs) \
     and any(r["host"] == "logs" for r in recs)
sys.exit(0 if ok else 1)
EOF

# --- a job log followed while the job runs (scenario follow) ---------------------------
start_github follow
B=https://api.github.test/api/v3/repos/acme/web
jid=$(gh_ctl GET /__fake/state | python3 -c "$PY; print(d['runs'][0]['jobs'][0]['id'])")
auth -L "$B/actions/jobs/$jid/logs"
checks "a running job's log: the finished steps, nothing of the running one yet" \
    'contains "$out" "cc -c a.c" && lacks "$out" "##[group]Run make check"'
auth -L "$B/actions/jobs/$jid/logs"
checks "the next fetch shows two more lines of the running step" \
    'contains "$out" "##[group]Run make check" && contains "$out" "shell: " && lacks "$out" "test 1 ok"'
auth -L "$B/actions/jobs/$jid/logs"
checks "and the next fetch two more" 'contains "$out" "test 1 ok" && lacks "$out" "test 2 ok"'
auth "$B/actions/runs"
e3=$(header etag)
gh_ctl POST /__fake/advance '{"ticks": 1}' >/dev/null
auth -H "If-None-Match: $e3" "$B/actions/runs"
checks "run_updated_at status: a finished step leaves the runs list unchanged (304)" '[ "$code" = 304 ]'
gh_ctl POST /__fake/advance '{"until": "completed"}' >/dev/null
auth -H "If-None-Match: $e3" "$B/actions/runs"
checks "and the run completing changes it (200)" '[ "$code" = 200 ]'
auth -L "$B/actions/jobs/$jid/logs"
checks "once the job completed: all of it" \
    'contains "$out" "not ok 9" && contains "$out" "Cleaning up orphan processes"'

finish
