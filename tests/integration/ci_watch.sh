# ci watch: verdicts, the post-push race, restarts, a flapping API and stream.
. "$(dirname "$0")/../lib.sh"
export HOMELAB_REPO=acme/web
D="$ROOT/tests/data/woodpecker"

faults() { wp_ctl POST /__fake/faults "$1" >/dev/null; }
# on_first_look SCENARIO NUMBER [held]: a copy of the scenario ($T/look.json)
# where pipeline NUMBER is created only when the client first lists the
# repo's pipelines (a trigger), so its whole timeline, restarts included,
# runs while the client watches, however late the client starts. "held":
# it also stays pending (its times 1000 s on) until the client opens the
# event stream, which then moves the fake's clock on: every state change
# is then an event on that stream.
on_first_look() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2]); held = sys.argv[4] == "held"
p = [x for x in d["pipelines"] if x["number"] == n][0]
d["pipelines"].remove(p); p["repo"] = d["repos"][0]["full_name"]
if held:
    for w in p.get("workflows", []):
        for st in w["steps"]:
            for k in ("start", "end"):
                if k in st: st[k] += 1000
    for e in p.get("timeline", []): e["at"] += 1000
d.setdefault("triggers", []).append(
    {"on": {"request": "^/api/repos/[0-9]+/pipelines[?]"}, "do": {"pipeline": p}})
if held:
    d["triggers"].append({"on": {"request": "^/api/stream/events"}, "do": {"advance": 1000}})
json.dump(d, open(sys.argv[3], "w"))' "$1" "$2" "$T/look.json" "${3:-}"
}

# ---- every terminal status of the static history, decided at once ----
start_woodpecker "$D/basic.json"
for case in "64 0 success" "60 1 failure" "55 1 killed" "54 1 canceled" "56 1 declined" "57 1 error"; do
    set -- $case
    hl ci watch "#$1"
    expect_rc "$2" "ci watch #$1 ($3)"
    expect_out_contains "#$1 $3" "#$1: the verdict line names $3"
done
hl ci watch '#60'
expect_err_contains "failed: build/test (failure, exit code 2)" "a failure lists the failing step with its exit code"
expect_err_lacks "failed: lint/spellcheck" "a step with failure: ignore is not listed as failing"
expect_err_contains "full log: homelab ci logs '#60' --step 'build/test'" "and the command for the full log"
check "log escapes are shown escaped, never raw" python3 -c '
import sys; e=sys.argv[1]; assert "\x1b" not in e and "\x07" not in e and "\\x1b" in e' "$err"
hl ci watch '#58'
expect_rc 1 "#58 failure whose log is null at first"
check "an empty-then-present log is retried and shown" lacks "$err" "empty or unavailable"
hl ci watch '#60' --json
check "--json: the last line is the result with the failing steps and log tails" python3 -c '
import json,sys; lines=sys.argv[1].splitlines(); r=json.loads(lines[-1])
assert r["event"]=="result" and r["status"]=="failure" and r["number"]==60 and r["exit_code"]==1
s=[f for f in r["failed_steps"] if f["step"]=="test"][0]
assert s["exit_code"]==2 and s["log_tail"] and len(s["log_tail"])<=30' "$out"
hl ci watch '#60' --log-lines 3 --json
check "--log-lines bounds the tail" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1]); assert all(len(f["log_tail"])<=3 for f in r["failed_steps"])' "$out"

# ---- blocked ----
hl ci watch '#61'
expect_rc 4 "a blocked pipeline needs a person"
expect_err_contains "awaiting approval" "says it awaits approval"
expect_err_contains "https://ci.homelab.test/repos/7/pipeline/61" "with the approve URL"

# ---- the post-push race: an older failed pipeline exists, ours comes later ----
# later_pipeline SHA: the pipeline of SHA is created once the client has
# looked at the repo's pipelines once (and found none), however late it
# starts: a trigger, not a delay a slow client could sleep through.
later_pipeline() {
    wp_ctl POST /__fake/triggers "{\"triggers\": [{\"on\": {\"request\": \"^/api/repos/[0-9]+/pipelines[?]\"},
        \"do\": {\"pipeline\": {\"repo\": \"acme/web\", \"commit\": \"$1\", \"branch\": \"main\",
        \"template\": \"success\"}}}]}" >/dev/null
}
git init -q "$T/repo" && git -C "$T/repo" commit -q --allow-empty -m "new work"
SHA=$(git -C "$T/repo" rev-parse HEAD)
cd "$T/repo"
later_pipeline "$SHA"
hl ci watch
expect_rc 0 "the pipeline of HEAD, created after the watch started, is followed to success"
expect_err_contains "waiting for CI to pick up $(printf '%.7s' "$SHA")" "says it waits for CI"
expect_out_contains "success push main $(printf '%.7s' "$SHA")" "reports this commit, not the older failure"

git commit -q --allow-empty -m "quiet work"
SHA=$(git -C "$T/repo" rev-parse HEAD)
later_pipeline "$SHA"
hl ci watch -q
expect_rc 0 "-q: a pipeline that comes later is still followed"
expect_err_lacks "waiting for CI to pick up" "-q hides the waiting line"
expect_out_contains "success push main $(printf '%.7s' "$SHA")" "and the result is printed"

git commit -q --allow-empty -m "never built"
hl ci watch --appear-timeout 2s
expect_rc 5 "a pipeline that never appears"
expect_err_contains "when" "hints at the pipeline's when conditions"
cd "$T"

# ---- timeout and interrupt ----
wp_ctl POST /__fake/pipelines '{"repo":"acme/web","commit":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","branch":"main","template":"running"}' >/dev/null
hl ci watch aaaaaaaa --timeout 2s
expect_rc 3 "--timeout while the pipeline runs"
INTERRUPT_AFTER='^/api/(stream/events|repos/7/pipelines/[0-9]+$)'
run_interrupted INT "$HOMELAB" ci watch aaaaaaaa
expect_rc 130 "SIGINT ends the watch"
check "the process ended by itself after the signal (not the watchdog)" [ "$watchdog_fired" -eq 0 ]
run_interrupted TERM "$HOMELAB" ci watch aaaaaaaa
unset INTERRUPT_AFTER
expect_rc 130 "SIGTERM ends the watch"

# ---- 401 in the middle: the token was revoked ----
wp_ctl POST /__fake/pipelines '{"repo":"acme/web","commit":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","branch":"main","template":"running"}' >/dev/null
faults '{"rules":[{"path":"^/api/stream","kind":"refuse_stream"},{"path":"^/api/(user|repos)","kind":"401","after":2}]}'
hl ci watch bbbbbbbb --timeout 30s
expect_rc 7 "a 401 in the middle of a watch"
expect_err_contains "rejected the token" "says the token was rejected"
faults '{"rules":[]}'

# ---- approval: a blocked pipeline, approved once the client waits for it ----
start_woodpecker "$D/blocked.json"
gate=$(wp_ctl POST /__fake/pipelines '{"repo":"acme/web","commit":"cccccccccccccccccccccccccccccccccccccccc","event":"pull_request","pull_request":9,"template":"success","blocked":true}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
hl ci watch "#$gate"
expect_rc 4 "without --wait-approval a blocked pipeline ends the watch at once"
reads=$(requests_seen wp "^/api/repos/7/pipelines/$gate\$")
spawn "$HOMELAB" ci watch "#$gate" --wait-approval --timeout 600s
wait_request wp "^/api/repos/7/pipelines/$gate\$" $((reads + 1))
wp_ctl POST /__fake/approve "{\"repo\":\"acme/web\",\"number\":$gate,\"by\":\"root\"}" >/dev/null
reap
expect_rc 0 "--wait-approval waits through the approval to the verdict"

# ---- a restart while watching ----
# held: the restart (#5, at 2.0 s) and #4's failure (3.0 s) come as events
# once the client watches, so a slow client cannot first read #4 failed
on_first_look "$D/restart.json" 4 held
start_woodpecker "$T/look.json"
hl ci watch 16f766f2 --timeout 600s
expect_rc 0 "a restart of the same commit is followed to its verdict"
expect_err_contains "restarted as #5" "and said so"

# ---- the stream drops mid-run ----
on_first_look "$D/running-failure.json" 4 held
start_woodpecker "$T/look.json"
faults '{"rules":[{"path":"^/api/stream/events","kind":"drop_stream","after_events":2,"count":3}]}'
hl ci watch 072c91f3 --timeout 600s
expect_rc 1 "stream dropped mid-run: still the failure verdict"
expect_out_contains "#4 failure" "of pipeline #4"
streams=$(wp_ctl GET /__fake/requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["path"].startswith("/api/stream/events")))')
check "the stream was re-established" [ "$streams" -ge 2 ]

# ---- the stream refused: polling only ----
start_woodpecker "$D/running-success.json"
faults '{"rules":[{"path":"^/api/stream/events","kind":"refuse_stream","as":"html"}]}'
hl ci watch bffd8b5e --timeout 600s
expect_rc 0 "stream refused: polling gives the success verdict"

# ---- a bad token only sees public events: the stream is blind, polling takes over ----
start_woodpecker "$D/running-failure.json"
faults '{"rules":[{"path":"^/api/stream/events","kind":"dup_events"}]}'
hl ci watch 072c91f3 --timeout 600s
expect_rc 1 "duplicated events do not confuse the verdict"

# ---- 40% random faults, success and failure ----
for scen in "running-success bffd8b5e 0" "running-failure 072c91f3 1"; do
    set -- $scen
    start_woodpecker "$D/$1.json"
    faults '{"seed":3,"rules":[{"path":"^/api/","kind":"empty200","probability":0.1},{"path":"^/api/","kind":"502","probability":0.1},{"path":"^/api/","kind":"reset","probability":0.1},{"path":"^/api/","kind":"truncated","probability":0.1}]}'
    hl ci watch "$2" --timeout 600s
    expect_rc "$3" "40% random faults: $1 still gives exit $3"
done

# ---- output modes ----
start_woodpecker "$D/running-failure.json"
hl ci watch 072c91f3
check "plain mode has no escape codes" python3 -c 'import sys; assert "\x1b" not in sys.argv[1]+sys.argv[2]' "$out" "$err"
check "plain mode: short lines an agent can read whole" python3 -c '
import sys; assert all(len(l) < 200 for l in sys.argv[1].splitlines())' "$err"
expect_err_contains "#4 build/test failure" "one line per state change"
start_woodpecker "$D/running-failure.json"
python3 "$ROOT/tests/pty_run.py" "$T/tty.out" "$HOMELAB" ci watch 072c91f3 --repo acme/web
rc=$?
expect_rc 1 "on a terminal: the same verdict"
check "the live view redraws in place (cursor up, erase)" python3 -c '
import sys; t=open(sys.argv[1],"rb").read(); assert b"\x1b[J" in t and b"A" in t' "$T/tty.out"
check "raw log escapes never reach the terminal" python3 -c '
import sys; t=open(sys.argv[1],"rb").read(); assert b"\x1b]52" not in t and b"\x1b]8;" not in t' "$T/tty.out"
NO_COLOR=1 python3 "$ROOT/tests/pty_run.py" "$T/tty2.out" "$HOMELAB" ci watch '#4' --repo acme/web
check "NO_COLOR: no colour on the terminal" python3 -c '
import sys,re; t=open(sys.argv[1],"rb").read(); assert not re.search(rb"\x1b\[3[0-9]m", t)' "$T/tty2.out"

finish
