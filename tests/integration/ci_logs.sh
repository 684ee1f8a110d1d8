# ci logs: selection, safe output, tails, flaky and oversized logs, follow.
. "$(dirname "$0")/../lib.sh"
export HOMELAB_REPO=acme/web
D="$ROOT/tests/data/woodpecker"

faults() { wp_ctl POST /__fake/faults "$1" >/dev/null; }
# py CODE ARGS...: a python check (exit status is the verdict)
py() { code=$1; shift; python3 -c "$code" "$@"; }
# new_pipeline JSON: creates a pipeline through the control API, prints its number
new_pipeline() {
    wp_ctl POST /__fake/pipelines "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])'
}
# the numbered filler lines the fake generates: "0000001 the quick…", cut to WIDTH
filler_check='
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
n, width, last = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
assert lines[-1] == b"", "output ends with a newline"
lines = lines[:-1]
nums = [l[:7] for l in lines[:-1]]
want = [b"%07d" % (i + 1) for i in range(n)]
if nums != want:
    dup = len(nums) - len(set(nums))
    missing = sorted(set(want) - set(nums))[:5]
    sys.exit("got %d numbered lines (%d duplicated), want %d; missing e.g. %s"
             % (len(nums), dup, n, missing))
assert all(len(l) == width for l in lines[:-1]), "every generated line whole"
assert lines[-1] == last, "the last line is %r, want %r" % (lines[-1], last)
'

start_woodpecker "$D/basic.json"

# Pipelines made through the control API start now; these end within 2 s,
# and moving the fake's clock on makes them history at once.
mw=$(new_pipeline '{"repo":"acme/web","commit":"1111111111111111111111111111111111111111","workflows":[
 {"name":"build","steps":[{"name":"clone","start":0,"end":1,"result":"success","log":["clone of build"]},
                          {"name":"unit","start":1,"end":2,"result":"failure","exit_code":3,"log":["unit says no"]}]},
 {"name":"lint","steps":[{"name":"clone","start":0,"end":1,"result":"success","log":["clone of lint"]},
                         {"name":"vet","start":1,"end":2,"result":"failure","exit_code":4,"log":["vet says no"]}]},
 {"name":"deploy","steps":[{"name":"push","result":"skipped"}]}]}')
bad=$(new_pipeline '{"repo":"acme/web","commit":"2222222222222222222222222222222222222222","workflows":[
 {"name":"b\u001b]0;pwned\u0007","steps":[{"name":"s\u001b[2J","start":0,"end":1,"result":"success","log":["x"]}]}]}')
gone=$(new_pipeline '{"repo":"acme/web","commit":"3333333333333333333333333333333333333333","workflows":[
 {"name":"build","steps":[{"name":"quiet","start":0,"end":1,"result":"failure","log":{"lines":["never seen"],"empty_for":100}}]}]}')
huge=$(new_pipeline '{"repo":"acme/web","commit":"4444444444444444444444444444444444444444","workflows":[
 {"name":"build","steps":[{"name":"huge","start":0,"end":1,"result":"success","log":{"generate":{"lines":40000,"width":200}}}]}]}')
wp_ctl POST /__fake/advance '{"seconds":10}' >/dev/null

# ---- selection ----
hl ci logs '#60'
expect_rc 0 "a failed pipeline's logs print"
expect_out_contains "==> build/test failure exit 2 40s <==" "the failing step comes under a header with state, exit code and duration"
expect_out_contains "--- FAIL: TestLogin" "with its log"
expect_out_lacks "build/compile" "steps that passed are not shown for a failed pipeline"
expect_out_lacks "spellcheck" "a failed step with failure: ignore (its workflow passed) is not shown"
expect_out_lacks "docs/publish" "nor a skipped step"

hl ci logs '#64'
expect_rc 0 "a successful pipeline"
check "every step, in pipeline order, each under its header" py '
import sys
h = [l for l in sys.argv[1].splitlines() if l.startswith("==> ")]
assert h == ["==> build/clone success exit 0 4s <==", "==> build/build success exit 0 35s <==",
             "==> build/test success exit 0 37s <=="], h
assert "\n\n==> build/build" in sys.argv[1], "a blank line between steps"' "$out"
expect_out_contains "+ git checkout --force FETCH_HEAD" "the clone step's log is there"

hl ci logs '#60' --step test
expect_rc 0 "--step NAME unique across workflows"
expect_out_lacks "==>" "--step prints the log bare, without a header"
check "the log of that step only, line for line" py '
import sys; l = sys.argv[1].splitlines(); assert len(l) == 13 and l[2] == "--- FAIL: TestLogin (0.02s)", l' "$out"
hl ci logs '#60' --step lint/spellcheck
expect_rc 0 "--step WORKFLOW/STEP"
expect_out_contains "README.md:3: teh ==> the" "prints that step's log"

hl ci logs '#60' --step clone
expect_rc 2 "an ambiguous --step is a usage error"
expect_err_contains "ambiguous" "says it is ambiguous"
expect_err_contains "build/clone, lint/clone" "and lists the candidates"
expect_out_lacks "git init" "prints no log"
hl ci logs '#60' --step nope
expect_rc 2 "an unknown --step is a usage error"
expect_err_contains "build/clone, build/compile, build/test, lint/clone, lint/lint, lint/spellcheck, docs/publish" "listing every step"
hl ci logs '#60' --step TEST
expect_rc 2 "step names match exactly (case matters)"
hl ci logs '#60' --step docs/publish
expect_rc 5 "a step that never ran has no log"
expect_err_contains "skipped" "says why"
hl ci logs '#57'
expect_rc 5 "a pipeline without steps (config error)"
expect_err_contains "Invalid or missing image" "shows the pipeline's error"
hl ci logs '#999'
expect_rc 5 "no such pipeline"
hl ci logs 0123456789abcdef
expect_rc 5 "no pipeline for the commit"
hl ci logs '#60' '#61'
expect_rc 2 "two targets are a usage error"
hl ci logs '#60' --json
expect_rc 2 "--json is refused, not ignored"
hl ci logs '#60' --tail x
expect_rc 2 "--tail wants a number"

# ---- multi-workflow pipelines ----
hl ci logs "#$mw"
expect_rc 0 "two failed workflows"
check "both failing steps, in workflow order, each with its own exit code" py '
import sys
h = [l for l in sys.argv[1].splitlines() if l.startswith("==> ")]
assert [x.split()[1:5] for x in h] == [["build/unit", "failure", "exit", "3"],
                                       ["lint/vet", "failure", "exit", "4"]], h
assert sys.argv[1].index("unit says no") < sys.argv[1].index("vet says no")' "$out"
hl ci logs "#$mw" --step lint/clone
expect_rc 0 "WORKFLOW/STEP picks the right workflow's step"
check "the log of lint/clone, not build/clone" [ "$out" = "clone of lint" ]
hl ci logs "#$mw" --step clone
expect_rc 2 "the same step name in two workflows is ambiguous"

# ---- escape-laden logs: never executed unless --raw ----
hl ci logs '#60' --step build/test
check "not a terminal: no control byte reaches stdout" py '
import sys; o = open(sys.argv[1], "rb").read()
bad = [b for b in o if (b < 0x20 and b not in (9, 10)) or b == 0x7f]
assert not bad, bad' "$T/out"
check "escape sequences are shown escaped (OSC 52, OSC 8, cursor and screen controls)" py '
import sys; o = sys.argv[1]
for s in (r"\x1b]52;c;ZWNobyBwd25lZCB8IHNo\x07clipboard", r"\x1b]8;;https://evil.example/phish\x1b\the docs",
          r"\x1b[2J\x1b[H", r"\x1b[?1049h\x1b[?25l"):
    assert s in o, s' "$out"
check "a lone carriage return cannot hide text" contains "$out" 'progress 10%\x0dprogress 100%'
check "invalid UTF-8 is shown escaped, valid UTF-8 kept" py '
import sys; o = open(sys.argv[1], "rb").read()
assert b"invalid utf-8: \\xff\\xfe \\xc3( end" in o and "été — valid UTF-8 ✓".encode() in o' "$T/out"
check "colour is dropped on a pipe, not shown as escapes" py '
import sys; o = sys.argv[1]; assert "ok  \tacme/web/store" in o and "+ make test\n" in o and r"\x1b[32m" not in o' "$out"

hl ci logs '#60' --step build/test --raw
expect_rc 0 "--raw"
check "--raw passes the bytes through unchanged" py '
import sys; o = open(sys.argv[1], "rb").read()
for s in (b"\x1b]52;c;ZWNobyBwd25lZCB8IHNo\x07", b"progress 10%\rprogress 100%", b"\xff\xfe \xc3(",
          b"raw bytes: \xc0\xaf \x1b[2J\x1b[H cleared? \x07bell", b"\x1b[32mok  \x1b[0m\tacme"):
    assert s in o, s' "$T/out"

python3 "$ROOT/tests/pty_run.py" "$T/tty.out" "$HOMELAB" ci logs '#60' --step build/test --repo acme/web
rc=$?
expect_rc 0 "on a terminal"
check "terminal: colour kept, everything else escaped" py '
import sys; o = open(sys.argv[1], "rb").read()
assert b"\x1b[32mok  \x1b[0m" in o, "SGR kept"
assert b"\x1b]" not in o and b"\x07" not in o and b"\x1b[2J" not in o and b"\x1b[?1049h" not in o
assert b"\\x1b]52;c;" in o and b"\\x1b[2J" in o' "$T/tty.out"
NO_COLOR=1 python3 "$ROOT/tests/pty_run.py" "$T/tty2.out" "$HOMELAB" ci logs '#60' --step build/test --repo acme/web
check "terminal with NO_COLOR: no colour either" py '
import sys; o = open(sys.argv[1], "rb").read(); assert b"\x1b[" not in o and b"ok  \tacme" in o.replace(b"\r\n", b"\n")' "$T/tty2.out"
python3 "$ROOT/tests/pty_run.py" "$T/tty3.out" "$HOMELAB" ci logs '#60' --step build/test --raw --repo acme/web
check "terminal with --raw: the bytes as they are" py '
import sys; o = open(sys.argv[1], "rb").read(); assert b"\x1b]52;c;ZWNobyBwd25lZCB8IHNo\x07" in o' "$T/tty3.out"
hl ci logs "#$bad"
check "hostile workflow and step names cannot reach the terminal from a header" py '
import sys; o = open(sys.argv[1], "rb").read(); assert b"\x1b" not in o and b"\x07" not in o and b"pwned" in o, o' "$T/out"

# ---- --tail, --timestamps ----
hl ci logs '#59' --step build/build --tail 3
expect_rc 0 "--tail 3 of a 20001-line log"
check "exactly the last three lines" py '
import sys; l = sys.argv[1].split("\n")
assert len(l) == 3 and l[0].startswith("0019999 ") and l[1].startswith("0020000 ") and l[2] == "build: ok (20000 lines above)", l' "$out"
hl ci logs '#64' --tail 1
check "--tail applies to each step" py '
import sys; l = sys.argv[1].splitlines()
assert [x for x in l if not x.startswith("==>") and x] == ["+ git checkout --force FETCH_HEAD", "build: ok", "PASS"], l' "$out"
hl ci logs '#60' --step build/test --tail 0
expect_rc 0 "--tail 0"
check "--tail 0 prints no line" [ -z "$out" ]
hl ci logs '#60' --step lint/spellcheck --timestamps
check "--timestamps: each line prefixed with its offset from the step start" py '
import sys; assert sys.argv[1].splitlines() == ["[   0s] + codespell", "[   2s] README.md:3: teh ==> the"], sys.argv[1]' "$out"

# ---- flaky and failing log endpoints ----
hl ci logs '#58'
expect_rc 0 "a log that is null for the first two requests"
expect_out_contains "login_test.go:42" "is retried and shown"
expect_err_lacks "empty or unavailable" "without complaint"
hl ci logs "#$gone"
expect_rc 6 "a log that stays empty"
expect_err_contains "log for build/quiet is empty or unavailable" "says so instead of printing nothing"
expect_out_contains "==> build/quiet failure" "the header is still printed"
faults '{"rules":[{"path":"^/api/repos/7/logs/","kind":"empty200","count":2}]}'
hl ci logs '#60' --step lint/lint
expect_rc 0 "empty 200 bodies are retried"
expect_out_contains "clang-format: 0 files changed" "and the log printed"

hl ci logs '#59' --step build/build
cp "$T/out" "$T/clean.out"
faults '{"rules":[{"path":"^/api/repos/7/logs/","kind":"truncated","count":1},{"path":"^/api/repos/7/logs/","kind":"reset","count":1},{"path":"^/api/repos/7/logs/","kind":"502","count":1}]}'
hl ci logs '#59' --step build/build
expect_rc 0 "a log cut in half, a reset and a 502"
check "the retry resumes where the cut happened: no line missing or repeated" cmp -s "$T/out" "$T/clean.out"
check "three attempts failed first" py '
import json,sys; r = [x for x in json.load(open(sys.argv[1])) if "/logs/" in x["path"]]
assert [x["fault"] is not None for x in r][-4:] == [True, True, True, False], r' "$(wp_ctl GET /__fake/requests >"$T/req.json"; echo "$T/req.json")"
faults '{"rules":[{"path":"^/api/repos/7/logs/","kind":"401"}]}'
hl ci logs '#60'
expect_rc 7 "a 401 on the log endpoint is refused"
faults '{"rules":[{"path":"^/api/repos/7/logs/","kind":"500"}]}'
HOMELAB_RETRY_BUDGET=2 hl ci logs '#60'
expect_rc 6 "a log endpoint that keeps failing"
expect_err_contains "HTTP 500" "names what failed"
faults '{"rules":[]}'

# ---- oversized logs ----
HOMELAB_MAX_LOG=100000 hl ci logs '#59' --step build/build
expect_rc 6 "a log over the size cap is refused"
expect_err_contains "over the 100000 bytes limit for a step log; refused" "with a clear error naming the limit"
check "announced by Content-Length: refused before printing anything" [ -z "$out" ]
HOMELAB_MAX_LOG=1000000 hl ci logs "#$huge"
expect_rc 6 "a chunked log over the cap"
expect_err_contains "larger than the 1000000 bytes limit" "is refused once it passes the limit"
check "having printed less than the limit" [ "$(wc -c < "$T/out")" -lt 1000000 ]
hl ci logs "#$huge" --tail 1
expect_rc 0 "the same log under the default cap (256 MiB)"
check "prints" contains "$out" "0040000 "

# ---- memory: a log is never held whole ----
case "$HOMELAB" in
*san*) ok "# skip peak memory under sanitizers" ;;
*)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$T/rss" "$HOMELAB" ci logs '#59' --step build/build >"$T/out" 2>"$T/err"
        rc=$?
        /usr/bin/time -f '%M' -o "$T/rss0" "$HOMELAB" ci logs '#60' --step lint/lint >"$T/out" 2>"$T/err"
        rc=$((rc + $?))
        big=$(tail -n 1 "$T/rss") small=$(tail -n 1 "$T/rss0")
        check "a 4 MB log costs less than 2 MB more memory than a tiny one ($big KiB vs $small KiB)" \
            [ "$rc" -eq 0 ] && [ $((big - small)) -lt 2048 ]
    fi ;;
esac

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
