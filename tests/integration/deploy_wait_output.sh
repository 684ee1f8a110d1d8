#!/bin/sh
# deploy wait on Deployments (deploy_wait.inc: the set-up, and the other
# parts): the template moves on (superseded), the workload goes away
# (deleted), and the three output modes (JSON Lines, plain, a terminal).
. "$(dirname "$0")/deploy_wait.inc"

split_timeline "$ROOT/tests/data/kube/rollout-ok.json" "$T/rollout-later.json" "$T/set-image.json"

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
split_timeline "$ROOT/tests/data/kube/crashloop.json" "$T/crashloop-later.json" "$T/crashloop-set.json"
start_kube "$T/crashloop-later.json"
start_wait apps/web --sha "$NEW" --timeout 300s --json
wait_out waiting-for-image
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
