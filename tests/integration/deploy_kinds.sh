#!/bin/sh
# deploy wait on StatefulSets (rolling, partition, OnDelete) and DaemonSets,
# `deploy status` in every output mode, and the default sha (HEAD).
. "$(dirname "$0")/../lib.sh"

NEW=65d15d6cfe589cd4b76dd80c228dd3d5fce1677b
DB=26d76a712dbe290e3f948dad82c8e2048976f54f
AGENT=8a76bda53c8a7352203defadca1a3baa8b5d4381

stop_kube() { kill "${FAKE_PIDS##* }" 2>/dev/null; }

# wait_for_mark NAME [SECONDS]: until the first workload's rollout has it
# (default limit 300 s, only so a broken fake cannot hang the suite). One
# python3 reads the fake's state every 0.1 s, not a curl and a python3 per
# look.
wait_for_mark() {
    python3 - "$KUBE_PORT" "$CERTS/ca.pem" "$1" "${2:-300}" <<'PY'
import json, ssl, sys, time, urllib.request
port, ca, mark, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
end = time.monotonic() + limit
while True:
    with urllib.request.urlopen("https://127.0.0.1:%s/__fake/state" % port, context=ctx) as r:
        if mark in json.load(r)["workloads"][0]["marks"]:
            break
    if time.monotonic() > end:
        sys.exit("# gave up waiting for the mark %s" % mark)
    time.sleep(0.1)
PY
}

# ---- StatefulSet

start_kube statefulset-ok
hl deploy wait statefulset/apps/db --sha "$DB" --timeout 300s
expect_rc 0 "statefulset: complete"
expect_out_contains "statefulset apps/db complete (26d76a7): 3 of 3 pods updated and ready" \
    "statefulset: summary"
stop_kube

start_kube statefulset-partition
hl deploy wait sts/apps/db --sha "$DB" --timeout 300s
expect_rc 0 "statefulset partition: complete up to the partition"
expect_out_contains "partitioned roll out complete: 1 of 3 pods updated (partition 2)" \
    "statefulset partition: says so"
stop_kube

start_kube statefulset-ondelete
hl deploy wait statefulset/apps/db --sha "$DB" --timeout 300s
expect_rc 4 "statefulset OnDelete: needs a person"
expect_out_contains "updateStrategy OnDelete: 3 pods of this statefulset still run the old revision" \
    "statefulset OnDelete: explains what to do"
# Once someone deletes the pods, OnDelete is judged by the pods themselves.
kube_ctl POST /__fake/actions '{"action":"delete_pod","target":"statefulset/apps/db"}' >/dev/null
hl deploy wait statefulset/apps/db --sha "$DB" --timeout 300s
expect_rc 0 "statefulset OnDelete: complete after the pods were replaced"
stop_kube

# ---- DaemonSet

# The update is applied once the wait has reported the old image, so the
# wait sees the rollout node by node however slowly it started; each new
# pod takes 3 s to become ready (ten times the fake's usual step), so a
# client slowed down by a loaded machine still sees a node's pod pass.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d.pop("timeline"); a[0].setdefault("options", {})["ready_after"] = 3; json.dump(d,open(sys.argv[2],"w")); json.dump(a[0],open(sys.argv[3],"w"))' \
    "$ROOT/tests/data/kube/daemonset-ok.json" "$T/ds-later.json" "$T/ds-set-image.json"
start_kube "$T/ds-later.json"
spawn "$HOMELAB" deploy wait daemonset/apps/agent --sha "$AGENT" --timeout 300s
wait_stderr waiting-for-image
kube_ctl POST /__fake/actions "$(cat "$T/ds-set-image.json")" >/dev/null
reap
expect_rc 0 "daemonset: complete"
expect_out_contains "daemonset apps/agent complete (8a76bda): 3 of 3 nodes updated and available" \
    "daemonset: summary"
expect_err_contains "nodes updated" "daemonset: progress per node"
stop_kube

# ---- deploy status: one evaluation, exit 0 whenever it could report

# The update is applied only after the first status has been read, so the
# "before" state does not depend on how fast a loaded machine starts kubectl.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d.pop("timeline"); json.dump(d,open(sys.argv[2],"w")); json.dump(a,open(sys.argv[3],"w"))' \
    "$ROOT/tests/data/kube/crashloop.json" "$T/crashloop-later.json" "$T/crashloop-actions.json"
start_kube "$T/crashloop-later.json"
hl deploy status apps/web --sha "$NEW"
expect_rc 0 "status before the update: exit 0"
expect_out_contains "deployment apps/web waiting-for-image (65d15d6)" "status: the phase on stdout"
expect_err_contains "image     registry.lan:5000/web:sha-6ff2bed (another commit)" "status: the image"
kube_ctl POST /__fake/actions "$(cat "$T/crashloop-actions.json")" >/dev/null
wait_for_mark first_crashloop
hl deploy status apps/web --sha "$NEW"
expect_rc 0 "status of a failing rollout: still exit 0"
expect_out_contains "deployment apps/web failed (65d15d6)" "status: failed"
# Between two back-offs the container runs again: CrashLoopBackOff or Restarting.
expect_err_contains "container web: " "status: the failing pod"
expect_err_contains "last termination Error (exit 1)" "status: its last termination"
expect_err_contains "log line" "status: its log"
hl deploy status apps/web --sha "$NEW" --json
expect_rc 0 "status --json: exit 0"
check "status --json: one object with status and exit_code" python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["status"] == "failed" and o["exit_code"] == 0 and o["phase"] == "failed", o
assert o["failures"] and o["failures"][0]["reason"] in ("CrashLoopBackOff", "Restarting"), o
' <"$T/out"
mkdir -p "$T/norepo"
cd "$T/norepo"
hl deploy status apps/api
cd "$ROOT"
expect_rc 0 "status without a sha outside a repository: exit 0"
expect_err_contains "not checked" "status without a sha: says the image is not checked"
expect_out_contains "deployment apps/api complete" "status: another workload, complete"
stop_kube

# ---- the sha defaults to HEAD of the current repository

repo="$T/repo"
git init -q "$repo" && git -C "$repo" commit -q --allow-empty -m one
head=$(git -C "$repo" rev-parse HEAD)
start_kube rollout-ok
kube_ctl POST /__fake/actions \
    "{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"sha\":\"$head\",\"in\":1.5}" >/dev/null
cd "$repo"
hl deploy wait apps/web --timeout 300s
cd "$ROOT"
expect_rc 0 "default sha: waits for HEAD and completes"
expect_out_contains "complete ($(echo "$head" | cut -c1-7))" "default sha: HEAD's short sha"
cd "$T/norepo"
hl deploy wait apps/web --timeout 300s
cd "$ROOT"
expect_rc 2 "outside a repository without --sha: a usage problem"
expect_err_contains "--sha" "outside a repository: suggests --sha"
stop_kube

finish
