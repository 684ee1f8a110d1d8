#!/bin/sh
# deploy wait on Deployments, through the real binary and the real kubectl
# against the fake Kubernetes API: rollouts that complete, stale status,
# dropped watches, every fail-fast state (and how fast), timeouts,
# superseded and deleted workloads, and the three output modes.
. "$(dirname "$0")/../lib.sh"

NEW=65d15d6cfe589cd4b76dd80c228dd3d5fce1677b
OTHER=0123abc456def7890123abc456def7890123abcd
ESC=$(printf '\033')

now() { python3 -c 'import time; print("%.3f" % time.time())'; }

# mark NAME: a mark of the first workload's last rollout, from the fake.
mark() {
    kube_ctl GET /__fake/state | python3 -c '
import json, sys
m = json.load(sys.stdin)["workloads"][0]["marks"]
print("%.3f" % m[sys.argv[1]] if sys.argv[1] in m else "none")' "$1"
}

# within SECONDS T0 T1: T1 - T0 <= SECONDS
within() { python3 -c 'import sys; a,b,c=sys.argv[1:]; sys.exit(0 if b != "none" and float(c)-float(b) <= float(a) else 1)' "$1" "$2" "$3"; }

# start_wait ARGS...: `deploy wait ARGS` in the background; wait_err TEXT
# waits until it has printed TEXT on stderr (or exited); end_wait collects
# it like `run` and takes $end. The test's next step (a control call) then
# happens after the client has shown it saw the state before, however slow.
# (The files are emptied first: the job opens them only once it runs, and a
# wait_err before that must not find the previous wait's lines.)
start_wait() { : >"$T/dw.out"; : >"$T/dw.err"; "$HOMELAB" deploy wait "$@" >"$T/dw.out" 2>"$T/dw.err" & dw=$!; }
wait_err() {
    i=0
    while ! grep -qF -- "$1" "$T/dw.err" && kill -0 $dw 2>/dev/null && [ $i -lt 3000 ]; do
        sleep 0.1; i=$((i + 1))
    done
}
end_wait() { wait $dw; rc=$?; end=$(now); out=$(cat "$T/dw.out"); err=$(cat "$T/dw.err"); }

# Only the last fake keeps running: each scenario gets a fresh one.
stop_kube() { kill "${FAKE_PIDS##* }" 2>/dev/null; }

# wait_fail_fast SCENARIO REASON [MARK]: exit 1, well before the timeout,
# after the fake's MARK (default first_failure: when the failure became
# visible in the API). The bound is 10x the benchmark's target (5 s,
# bench/deploy.sh): it tells "fails fast" from "waits for the timeout" on
# a loaded machine; the latency itself is the benchmark's to measure.
wait_fail_fast() {
    scenario=$1 reason=$2 at=${3:-first_failure}
    start_kube "$scenario"
    hl deploy wait apps/web --sha "$NEW" --timeout 300s
    end=$(now)
    expect_rc 1 "$scenario: fails"
    expect_out_contains "apps/web failed (65d15d6)" "$scenario: summary names the failure"
    expect_err_contains "$reason" "$scenario: reason $reason"
    check "$scenario: exit within 50 s of the failure appearing (10x the 5 s target)" \
        within 50 "$(mark "$at")" "$end"
    stop_kube
}

# ---- a rollout that completes

# The image is set only once the wait has reported the old one, so the test
# does not depend on how fast a loaded machine starts kubectl.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d.pop("timeline"); json.dump(d,open(sys.argv[2],"w")); json.dump(a[0],open(sys.argv[3],"w"))' \
    "$ROOT/tests/data/kube/rollout-ok.json" "$T/rollout-later.json" "$T/set-image.json"
start_kube "$T/rollout-later.json"
start_wait apps/web --sha "$NEW" --timeout 300s
wait_err waiting-for-image
kube_ctl POST /__fake/actions "$(cat "$T/set-image.json")" >/dev/null
end_wait
expect_rc 0 "rollout-ok: complete"
expect_out_contains "deployment apps/web complete (65d15d6): 3 of 3 replicas updated and available" \
    "rollout-ok: one summary line on stdout"
expect_err_contains "waiting-for-image: the pod template has registry.lan:5000/web:sha-6ff2bed (another commit)" \
    "rollout-ok: waits for the image first"
expect_err_contains "new replicas updated" "rollout-ok: reports progress"
expect_err_lacks "$ESC" "rollout-ok: plain output has no escape codes"
expect_out_lacks "$ESC" "rollout-ok: stdout has no escape codes"
check "rollout-ok: exit soon after the last old pod goes (10x the 1 s target of bench/deploy.sh)" \
    within 10 "$(mark pods_settled)" "$end"
check "rollout-ok: never before kubectl's own completion" \
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) >= float(sys.argv[1]) else 1)' \
    "$(mark rollout_complete)" "$end"
check "rollout-ok: one line per change" [ "$(printf '%s\n' "$err" | sort | uniq -d | wc -l)" -eq 0 ]
check "rollout-ok: watches by name and by label, never with a request timeout" python3 -c '
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
w = [r for r in reqs if r["watch"]]
assert any(r["path"].endswith("/deployments") and "metadata.name%3Dweb" in r["raw_query"] for r in w), w
assert any(r["path"].endswith("/pods") and "labelSelector=app%3Dweb" in r["raw_query"] for r in w), w
assert not any("timeout=" in r["raw_query"].replace("timeoutSeconds=", "") for r in w), w
one = [r for r in reqs if not r["watch"] and r["path"] != "/version"]
assert all("timeout=" in r["raw_query"] for r in one), one
' "$T/kube.requests"
stop_kube

# A short sha works as well as the full one.
start_kube rollout-ok
hl deploy wait apps/web --sha 65d15d6 --timeout 300s
expect_rc 0 "short --sha: complete"
stop_kube

# ---- the status still describes the old, complete rollout until observed
# The controller observes the change only when the test says so, after the
# wait reported the stale status (the shared scenario observes it at 3 s,
# which a slow client can miss).

python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["timeline"][0]["observe_after"]=1e9; json.dump(d,open(sys.argv[2],"w"))' \
    "$ROOT/tests/data/kube/stale-status.json" "$T/stale-held.json"
start_kube "$T/stale-held.json"
start_wait deployment/apps/web --sha "$NEW" --timeout 300s
wait_err waiting-for-controller
kube_ctl POST /__fake/actions '{"action":"observe","target":"deployment/apps/web"}' >/dev/null
end_wait
expect_rc 0 "stale-status: complete in the end"
expect_err_contains "waiting-for-controller: waiting for the controller to observe generation" \
    "stale-status: waits for the generation to be observed"
check "stale-status: not before the controller observed the change" \
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) > float(sys.argv[1]) + 1 else 1)' \
    "$(mark observed)" "$end"
stop_kube

# ---- watches that drop (unexpected EOF) and expire (410 Gone)

start_kube watch-drop
hl deploy wait apps/web --sha "$NEW" --timeout 300s
expect_rc 0 "watch-drop: complete despite a dropped and an expired watch"
check "watch-drop: restarted the watch and re-listed after 410" python3 -c '
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
dep = [r for r in reqs if r["path"] == "/apis/apps/v1/namespaces/apps/deployments"]
assert sum(1 for r in dep if not r["watch"]) >= 2, dep
assert sum(1 for r in dep if r["watch"]) >= 3, dep
' "$T/kube.requests"
stop_kube

# ---- fail fast, with the reason

wait_fail_fast crashloop CrashLoopBackOff
expect_err_contains "container web: CrashLoopBackOff" "crashloop: names the container"
expect_err_contains "restarts " "crashloop: restart count"
expect_err_contains "last termination Error (exit 1)" "crashloop: last termination reason"
expect_err_contains "log line" "crashloop: the tail of the log"
expect_err_contains "level=" "crashloop: log lines"
wait_fail_fast imagepull ImagePullBackOff
wait_fail_fast invalidimage InvalidImageName
wait_fail_fast configerror CreateContainerConfigError
expect_err_contains 'secret "web-env" not found' "configerror: the message"
wait_fail_fast deadline ProgressDeadlineExceeded deadline_exceeded
wait_fail_fast replicafailure "ReplicaFailure (FailedCreate)"
expect_err_contains "exceeded quota" "replicafailure: the message"

# unschedulable: fails after --unschedulable-grace, not before
start_kube unschedulable
hl deploy wait apps/web --sha "$NEW" --timeout 300s --unschedulable-grace 3s
end=$(now)
expect_rc 1 "unschedulable: fails"
expect_err_contains "Insufficient memory" "unschedulable: the scheduler's message"
first=$(mark first_unschedulable)
check "unschedulable: not before the grace" \
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 2.5 else 1)' "$first" "$end"
check "unschedulable: well before the timeout (grace + 10x the 2.5 s allowed past it)" \
    within 28 "$first" "$end"
stop_kube

# notready: no failure state, so the timeout ends it (exit 3). The note
# comes 10 s after the client first saw the pod not Ready (NOT_READY_NOTE);
# the timeout leaves 30 s more for a slow start on a loaded machine.
start_kube notready
hl deploy wait apps/web --sha "$NEW" --timeout 40s
expect_rc 3 "notready: times out"
expect_out_contains "apps/web timeout (65d15d6)" "notready: timeout summary"
expect_err_contains "is running but not Ready" "notready: says why"
stop_kube

# ---- the template moves on, the workload goes away

# The expected image rolls out (never becoming ready, so it cannot finish
# first); once the wait reports that rollout, the template moves on.
start_kube "$T/rollout-later.json"
start_wait apps/web --sha "$NEW" --timeout 300s
wait_err waiting-for-image
kube_ctl POST /__fake/actions \
    "{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"sha\":\"$NEW\",\"behaviour\":\"notready\"}" >/dev/null
wait_err "rolling:"
kube_ctl POST /__fake/actions \
    "{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"sha\":\"$OTHER\"}" >/dev/null
end_wait
expect_rc 1 "superseded: exit 1"
expect_out_contains "apps/web superseded (65d15d6)" "superseded: summary"
expect_out_contains "moved on to registry.lan:5000/web:sha-0123abc" "superseded: names the new image"
stop_kube

start_kube notready
start_wait apps/web --sha "$NEW" --timeout 300s
wait_err "deployment apps/web:"
kube_ctl POST /__fake/actions '{"action":"delete_workload","target":"deployment/apps/web"}' >/dev/null
end_wait
expect_rc 5 "deleted while waiting: exit 5"
expect_err_contains "deployment apps/web was deleted while waiting" "deleted: says so"
stop_kube

# ---- JSON Lines

# The update comes once the wait has reported the old image, so there is
# progress to report before the result however slowly the client started.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d.pop("timeline"); json.dump(d,open(sys.argv[2],"w")); json.dump(a[0],open(sys.argv[3],"w"))' \
    "$ROOT/tests/data/kube/crashloop.json" "$T/crashloop-later.json" "$T/crashloop-set.json"
start_kube "$T/crashloop-later.json"
start_wait apps/web --sha "$NEW" --timeout 300s --json
i=0
while ! grep -q waiting-for-image "$T/dw.out" && kill -0 $dw 2>/dev/null && [ $i -lt 3000 ]; do
    sleep 0.1; i=$((i + 1))
done
kube_ctl POST /__fake/actions "$(cat "$T/crashloop-set.json")" >/dev/null
end_wait
expect_rc 1 "json: exit 1"
check "json: every line is an object; progress events, then one result" python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin.read().splitlines()]
assert len(lines) >= 2, lines
assert all(l["event"] == "progress" for l in lines[:-1])
r = lines[-1]
assert r["event"] == "result" and r["status"] == "failed" and r["exit_code"] == 1, r
assert r["target"] == "deployment/apps/web" and r["sha"] == sys.argv[1]
f = r["failures"][0]
assert f["reason"] == "CrashLoopBackOff" and f["container"] == "web" and f["pod"].startswith("web-")
assert f["last_termination_reason"] == "Error" and f["restarts"] >= 1
assert isinstance(f["log"], list) and f["log"]
assert {"phase", "reason", "image", "desired", "updated", "ready", "available"} <= set(r)
' "$NEW" <"$T/dw.out"
expect_out_lacks "$ESC" "json: no raw escape codes"
stop_kube

start_kube rollout-ok
hl deploy wait apps/web --sha "$NEW" --timeout 300s --json
expect_rc 0 "json: complete"
check "json: the result says complete, exit 0" python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin.read().splitlines()][-1]
assert r["status"] == "complete" and r["exit_code"] == 0 and r["phase"] == "complete", r
assert r["failures"] == []' <"$T/out"
stop_kube

# ---- a terminal: the live region

if command -v script >/dev/null 2>&1; then
    start_kube rollout-ok
    run script -q -e -c "'$HOMELAB' deploy wait apps/web --sha $NEW --timeout 300s" "$T/tty"
    expect_rc 0 "tty: complete"
    check "tty: redraws in place (cursor up, clear below)" grep -q "${ESC}\[[0-9]*A${ESC}\[J" "$T/tty"
    check "tty: leaves the final frame and shows the cursor again" grep -q "${ESC}\[?25h" "$T/tty"
    stop_kube
fi

finish
