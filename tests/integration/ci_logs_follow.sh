#!/bin/sh
# ci logs --follow: a step that starts late, dropped streams, a stream that
# cannot be opened, --tail, a finished pipeline, --timeout and SIGINT
# (ci_logs.inc: the set-up).
. "$(dirname "$0")/ci_logs.inc"

# ---- follow ----
# A step that starts only when the test moves the fake's clock on (by 1000
# s, once the client says it waits) and ends only when the test moves it on
# again (2000 s, once the client has opened the log stream).
late=$(new_pipeline '{"repo":"acme/web","commit":"5555555555555555555555555555555555555555","workflows":[
 {"name":"build","steps":[{"name":"clone","start":0.2,"end":0.5,"result":"success","log":["cloned"]},
  {"name":"late","start":1000,"end":3000,"result":"success","log":{"generate":{"lines":3000,"width":60},"lines":["late: done"]}}]}]}')
hl ci logs "#$late" --step late
expect_rc 5 "without --follow a step that has not started has no log"
expect_err_contains "--follow waits for it" "and says --follow would wait"
spawn "$HOMELAB" ci logs "#$late" --step late --follow --timeout 600s
wait_stderr "waiting for build/late to start"
streams=$(requests_seen wp '^/api/stream/logs/')
wp_ctl POST /__fake/advance '{"seconds":1000}' >/dev/null
wait_request wp '^/api/stream/logs/' $((streams + 1))
wp_ctl POST /__fake/advance '{"seconds":2000}' >/dev/null
reap
expect_rc 0 "--follow waits for a pending step to start and follows it to the end"
expect_err_contains "waiting for build/late to start (pending)" "says it waits"
expect_err_contains "build/late finished: success, exit 0" "and when it finished"
check "every line once, in order" py "$filler_check" "$T/out" 3000 60 "late: done"
check "it streamed from the log stream" py '
import json,sys; r = json.load(open(sys.argv[1]))
assert any(x["path"].startswith("/api/stream/logs/7/") for x in r)' "$(wp_ctl GET /__fake/requests >"$T/req.json"; echo "$T/req.json")"

# the stream drops after every 700 messages, three times; the step starts
# (1000 s on) once the client has shown the header and says it waits, writes
# its lines in the next 3 s and ends (2000 s on) only once the client has
# reconnected three times, so every reconnect finds it running
drop=$(new_pipeline '{"repo":"acme/web","commit":"6666666666666666666666666666666666666666","workflows":[
 {"name":"build","steps":[{"name":"noisy","start":1000,"end":3000,"result":"failure","exit_code":2,"log":{"generate":{"lines":3000,"width":60},"lines":["noisy: failed"],"interval":0.001}}]}]}')
faults '{"rules":[{"path":"^/api/stream/logs/","kind":"drop_stream","after_events":700,"count":3}]}'
wp_ctl DELETE /__fake/requests >/dev/null
streams=$(requests_seen wp '^/api/stream/logs/')
spawn "$HOMELAB" ci logs "#$drop" --follow --timeout 600s
wait_stderr "waiting for build/noisy to start"
wp_ctl POST /__fake/advance '{"seconds":1000}' >/dev/null
wait_request wp '^/api/stream/logs/' $((streams + 4))
wp_ctl POST /__fake/advance '{"seconds":2000}' >/dev/null
reap
expect_rc 0 "--follow through three dropped connections (exit 0: logs printed, whatever the state)"
check "the header comes first, with the state when following started" py '
import sys; first = open(sys.argv[1]).readline()
assert first == "==> build/noisy pending <==\n", first' "$T/bg.out"
sed '1d' "$T/bg.out" >"$T/follow.out"
check "no line repeated, none missing" py "$filler_check" "$T/follow.out" 3000 60 "noisy: failed"
wp_ctl GET /__fake/requests >"$T/req.json"
check "each reconnect resumed with Last-Event-ID: the count of messages received so far" py '
import json,sys; r = [x for x in json.load(open(sys.argv[1])) if x["path"].startswith("/api/stream/logs/")]
ids = [x["last_event_id"] for x in r]
# the server resets after sending 700; what was in flight is lost, so each
# id is at most 700 more than the one before (and the lines still all came)
assert len(ids) >= 4 and ids[0] is None, ids
n = [int(i) for i in ids[1:4]]
assert 0 < n[0] <= 700 and all(0 < b - a <= 700 for a, b in zip(n, n[1:])), ids' "$T/req.json"
faults '{"rules":[]}'

# a stream the server cannot open: polling the stored log instead
poll=$(new_pipeline '{"repo":"acme/web","commit":"7777777777777777777777777777777777777777","workflows":[
 {"name":"build","steps":[{"name":"nostream","start":0.3,"end":3,"result":"success","stream_error":"can'"'"'t open stream","log":{"generate":{"lines":500,"width":40},"lines":["end"]}}]}]}')
hl ci logs "#$poll" --step nostream --follow --timeout 600s
expect_rc 0 "a stream that cannot be opened"
check "the log still arrives whole, from the stored log" py "$filler_check" "$T/out" 500 40 "end"

# --tail with --follow: the last lines so far, then live lines. A line every
# 10 s of the fake's time: moving its clock 2000 s on shows about 200 lines;
# once the client has opened the log stream, 2000 s more end the step.
tailf=$(new_pipeline '{"repo":"acme/web","commit":"8888888888888888888888888888888888888888","workflows":[
 {"name":"build","steps":[{"name":"t","start":0,"end":4000,"result":"success","log":{"generate":{"lines":400,"width":40},"lines":["end"]}}]}]}')
wp_ctl POST /__fake/advance '{"seconds":2000}' >/dev/null
streams=$(requests_seen wp '^/api/stream/logs/')
spawn "$HOMELAB" ci logs "#$tailf" --step t --follow --tail 5 --timeout 600s
wait_request wp '^/api/stream/logs/' $((streams + 1))
wp_ctl POST /__fake/advance '{"seconds":2000}' >/dev/null
reap
expect_rc 0 "--follow --tail"
check "starts with the last 5 lines so far and continues without gaps or repeats" py '
import sys; l = sys.argv[1].splitlines()
nums = [int(x[:7]) for x in l[:-1]]
assert l[-1] == "end" and nums == list(range(nums[0], 401)) and 100 < nums[0] < 396, nums[:8]' "$out"

hl ci logs '#60' --follow
expect_rc 0 "--follow on a finished pipeline prints the stored logs"
expect_out_contains "==> build/test failure exit 2 40s <==" "as without --follow"

# interrupt and timeout
forever=$(new_pipeline '{"repo":"acme/web","commit":"9999999999999999999999999999999999999999","template":"running"}')
hl ci logs "#$forever" --follow --timeout 2s
expect_rc 3 "--timeout bounds --follow"
INTERRUPT_AFTER='^/api/(stream/|repos/7/pipelines/[0-9]+$)'
run_interrupted INT "$HOMELAB" ci logs "#$forever" --follow
unset INTERRUPT_AFTER
expect_rc 130 "SIGINT ends --follow"

finish
