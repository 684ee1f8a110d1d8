#!/bin/sh
# ci logs: selection, safe output, tails, flaky and oversized logs, memory
# (ci_logs.inc: the set-up; --follow is in ci_logs_follow.sh).
. "$(dirname "$0")/ci_logs.inc"

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

hl ci logs '#60' --job lint
expect_rc 0 "--job WORKFLOW"
check "prints that workflow's steps, each under its header" py '
import sys
h = [l.split()[1] for l in sys.argv[1].splitlines() if l.startswith("==> ")]
assert h == ["lint/clone", "lint/lint", "lint/spellcheck"], h' "$out"
hl ci logs '#60' --job lint --step clone
expect_rc 0 "--job with --step names one step"
expect_out_lacks "==>" "printed bare"
hl ci logs '#60' --job nosuch
expect_rc 2 "an unknown --job is a usage error"
expect_err_contains "no workflow 'nosuch' in pipeline #60" "naming it"

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
expect_rc 0 "the log read without faults, to compare with"
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
finish
