#!/bin/sh
# deploy wait on Deployments (deploy_wait.inc: the set-up, and the other
# parts): rollouts that complete, stale status, dropped and expired
# watches, a rollout that never gets Ready (the timeout ends it).
. "$(dirname "$0")/deploy_wait.inc"

# ---- a rollout that completes

# The image is set only once the wait has reported the old one, so the test
# does not depend on how fast a loaded machine starts kubectl; each new pod
# takes 3 s to become ready (ten times the fake's usual step), so a client
# slowed down by a loaded machine still sees the rollout part-way.
split_timeline "$ROOT/tests/data/kube/rollout-ok.json" "$T/rollout-later.json" "$T/set-image.json"
start_kube "$T/rollout-later.json"
start_wait apps/web --sha "$NEW" --timeout 300s
wait_err waiting-for-image
kube_ctl POST /__fake/actions "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); a.setdefault("options", {})["ready_after"] = 3; print(json.dumps(a))' "$T/set-image.json")" >/dev/null
end_wait
expect_rc 0 "rollout-ok: complete"
expect_out_contains "deployment apps/web complete (65d15d6): 3 of 3 replicas updated and available" \
    "rollout-ok: one summary line on stdout"
expect_err_contains "waiting-for-image: the pod template has registry.lan:5000/web:sha-6ff2bed (another commit)" \
    "rollout-ok: waits for the image first"
expect_err_contains "new replicas updated" "rollout-ok: reports progress"
expect_err_lacks "$ESC" "rollout-ok: plain output has no escape codes"
expect_out_lacks "$ESC" "rollout-ok: stdout has no escape codes"
check "rollout-ok: exit soon after the last old pod goes (30x the 1 s target of bench/deploy.sh, for loaded machines)" \
    within 30 "$(mark pods_settled)" "$end"
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

# ---- a rollout that never gets Ready

# notready: no failure state, so the timeout ends it (exit 3). The note
# comes 10 s after the client first saw the pod not Ready (NOT_READY_NOTE);
# the timeout leaves 30 s more for a slow start on a loaded machine.
start_kube notready
hl deploy wait apps/web --sha "$NEW" --timeout 40s
expect_rc 3 "notready: times out"
expect_out_contains "apps/web timeout (65d15d6)" "notready: timeout summary"
expect_err_contains "is running but not Ready" "notready: says why"
stop_kube

finish
