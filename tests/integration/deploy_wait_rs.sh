#!/bin/sh
# deploy wait on Deployments (deploy_wait.inc: the set-up, and the other
# parts) when the ReplicaSets change during the wait: a rollback to an
# older ReplicaSet, a second rollout of the same commit (a new ReplicaSet
# whose image still names the sha), a scale, a pause and a resume. The
# ReplicaSets are read only when the Deployment's observedGeneration or
# revision moved (or a pod of an unknown ReplicaSet appeared): each case
# shows the verdict is still decided from the right ReplicaSet, and that
# the reads stay few. One fake for all cases, one after another: each
# starts from the previous one's complete rollout.
. "$(dirname "$0")/deploy_wait.inc"

ROLLBACK=9dfc285            # the image of the scenario's older ReplicaSet
THIRD=abcdef1234567890abcdef1234567890abcdef12
FOURTH=fedcba9876543210fedcba9876543210fedcba98

# rs_reads: ReplicaSet reads in the fake's request log so far.
rs_reads() {
    python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)]
          if r["path"].endswith("/replicasets") and not r["watch"]))' "$T/kube.requests"
}
# at_most N A B: B - A <= N
at_most() { [ $(($3 - $2)) -le "$1" ]; }
# after MARK: the wait ended no earlier than the fake's MARK of the last rollout
after() {
    python3 -c 'import sys; sys.exit(0 if sys.argv[1] != "none" and float(sys.argv[2]) >= float(sys.argv[1]) else 1)' \
        "$(mark "$1")" "$end"
}
act() { kube_ctl POST /__fake/actions "$1" >/dev/null; }

split_timeline "$ROOT/tests/data/kube/rollout-ok.json" "$T/held.json" "$T/unused.json"
start_kube "$T/held.json"

# ---- rollback: the template goes back to the older ReplicaSet's image,
# which takes the next revision (5) instead of a new ReplicaSet.
r0=$(rs_reads)
start_wait apps/web --sha "$ROLLBACK" --timeout 300s --json
wait_out waiting-for-image
act '{"action":"set_image","target":"deployment/apps/web","image":"registry.lan:5000/web:sha-9dfc285","options":{"ready_after":2}}'
end_wait
expect_rc 0 "rollback: complete"
check "rollback: the result is revision 5, 3 of 3 available" python3 -c '
import json, sys
r = json.loads(sys.stdin.read().splitlines()[-1])
assert r["status"] == "complete" and r["revision"] == "5" and r["available"] == 3, r
' <"$T/dw.out"
check "rollback: not before the last old pod went" after pods_settled
check "rollback: ReplicaSets read at most 3 times" at_most 3 "$r0" "$(rs_reads)"

# ---- the same commit rolled out again under another tag: a new ReplicaSet
# the first read did not have. The first rollout never gets Ready, so only
# the second one's pods can complete the wait.
r0=$(rs_reads)
start_wait apps/web --sha "$NEW" --timeout 300s
wait_err waiting-for-image
act "{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"sha\":\"$NEW\",\"behaviour\":\"notready\"}"
wait_err "rolling:"
act '{"action":"set_image","target":"deployment/apps/web","image":"registry.lan:5000/web:65d15d6-fix","options":{"ready_after":2}}'
end_wait
expect_rc 0 "same sha, new ReplicaSet: complete"
expect_out_contains "deployment apps/web complete (65d15d6): 3 of 3 replicas updated and available" \
    "same sha, new ReplicaSet: summary"
check "same sha, new ReplicaSet: not before the second rollout's old pods went" after pods_settled
check "same sha, new ReplicaSet: ReplicaSets read at most 5 times" at_most 5 "$r0" "$(rs_reads)"

# ---- a scale during the rollout: the count the wait completes on follows
r0=$(rs_reads)
start_wait apps/web --sha "$THIRD" --timeout 300s
wait_err waiting-for-image
act "{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"sha\":\"$THIRD\",\"options\":{\"ready_after\":2}}"
wait_err "rolling:"
act '{"action":"scale","target":"deployment/apps/web","replicas":4}'
end_wait
expect_rc 0 "scaled during the rollout: complete"
expect_out_contains "complete (abcdef1): 4 of 4 replicas updated and available" \
    "scaled during the rollout: on the new count"
check "scaled during the rollout: not before the last old pod went" after pods_settled
check "scaled during the rollout: ReplicaSets read at most 4 times" at_most 4 "$r0" "$(rs_reads)"

# ---- paused during the rollout (needs a person), then resumed: the
# paused controller made no ReplicaSet for the template; the next wait
# finds the one it makes on resume.
start_wait apps/web --sha "$FOURTH" --timeout 300s
wait_err waiting-for-image
act '{"action":"pause","target":"deployment/apps/web"}'
act "{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"sha\":\"$FOURTH\",\"options\":{\"ready_after\":2}}"
end_wait
expect_rc 4 "paused: needs a person"
expect_out_contains "needs-person (fedcba9): the deployment is paused" "paused: says so"
act '{"action":"resume","target":"deployment/apps/web"}'
r0=$(rs_reads)
hl deploy wait apps/web --sha "$FOURTH" --timeout 300s
end=$(now)
expect_rc 0 "resumed: complete"
expect_out_contains "complete (fedcba9): 4 of 4 replicas updated and available" "resumed: summary"
check "resumed: not before the last old pod went" after pods_settled
check "resumed: ReplicaSets read at most 3 times" at_most 3 "$r0" "$(rs_reads)"
stop_kube

finish
