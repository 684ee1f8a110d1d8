#!/bin/sh
# The fleet flow end to end, with `work land` on a repository whose
# committed .homelab declares the stages:
#   push to a bare remote -> its post-receive hook starts the build for the
#   sha (tests/data/git/post-receive) -> when the build succeeds, the deploy
#   job POSTs a manual pipeline with IMAGE_TAG=<sha8> through Woodpecker's
#   API (a reaction, tests/fakes/reactions.py) -> when that pipeline succeeds
#   it sets the image on the fake Kubernetes API (another reaction) -> the
#   rollout completes. Then a failed build (exit 1, the failing step and its
#   log, nothing deployed) and a rollout that crash-loops (exit 1 with the
#   pod's reason).
. "$(dirname "$0")/../lib.sh"

export USER=me
start_woodpecker "$ROOT/tests/data/woodpecker/ship.json" || exit 1
start_kube "$ROOT/tests/data/git/kube-web.json" || exit 1
export WP_PORT CERTS HOOK_CI_TEMPLATE_FILE="$T/ci-template"
echo success >"$HOOK_CI_TEMPLATE_FILE"

# the deploy job of the build's workflow, and the deploy pipeline's kubectl
reactions() { wp_fleet_reactions "$KUBE_PORT" "$1"; }
reactions ok

fleet_repo "$ROOT/tests/data/git/post-receive" woodpecker || exit 1

# ---- green: landed, built, deployed, rolled out ----
fleet_topic green || exit 1
hl work land --verify-cmd true --timeout 2m
expect_rc 0 "work land with stages: landed, built, deployed, live"
landed=$(printf '%s\n' "$out" | head -1)
check "the remote's main is the landed commit" [ "$landed" = "$(git -C "$T/app.git" rev-parse main)" ]
expect_out_contains "build: success" "the build stage's verdict"
expect_out_contains "deploy: success" "the deploy stage's verdict"
expect_out_contains "live: deployment apps/web complete ($(printf '%.7s' "$landed"))" "the rollout of that commit"
# what the deploy job sent (the fake's reaction log) and what Woodpecker now lists
deploys_of() { # SHA: the deploy POSTs made after the build of SHA
    wp_ctl GET /__fake/reactions | python3 -c '
import json,sys; log=json.load(sys.stdin)["log"]
print(len([e for e in log if e["path"]=="/api/repos/7/pipelines" and e["run"]["commit"]==sys.argv[1] and e["status"]==200]))' "$1"
}
check "the deploy job created one manual pipeline through the API" [ "$(deploys_of "$landed")" -eq 1 ]
check "Woodpecker lists it as manual with IMAGE_TAG=<sha8>, on another commit" python3 -c '
import json,sys,subprocess
items=json.loads(sys.argv[1]); sha8=sys.argv[2][:8]
m=[p for p in items if p.get("variables",{}).get("IMAGE_TAG")==sha8]
assert len(m)==1 and m[0]["event"]=="manual" and m[0]["commit"]!=sys.argv[2], m' \
    "$(curl -sS --cacert "$CERTS/ca.pem" --connect-to "ci.homelab.test:443:127.0.0.1:$WP_PORT" \
        -H "Authorization: Bearer $TOKEN" https://ci.homelab.test/api/repos/7/pipelines)" "$landed"
check "the image on the cluster names the commit" sh -c \
    "kubectl get deployment web -n apps -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -q ':$(printf '%.8s' "$landed")\$'"

hl ship status "$landed"
expect_rc 0 "ship status after landing"
expect_out_contains "build: success" "ship status: build"
expect_out_contains "deploy: success" "ship status: deploy"
expect_out_contains "live: deployment apps/web complete" "ship status: live"

# ---- a failed build: nothing is deployed ----
echo failure >"$HOOK_CI_TEMPLATE_FILE"
fleet_topic red || exit 1
hl work land --verify-cmd true --timeout 2m
expect_rc 1 "the build fails: exit 1"
expect_err_contains "failed: build/test (failure, exit code 2)" "the failing step"
expect_err_contains "FAIL: TestLogin" "and its log lines"
expect_out_contains "deploy: not-reached" "no deploy followed"
check "no deploy pipeline was created for it" [ "$(deploys_of "$(git rev-parse HEAD)")" -eq 0 ]

# ---- the rollout crash-loops ----
echo success >"$HOOK_CI_TEMPLATE_FILE"
reactions crashloop
fleet_topic crash || exit 1
hl work land --verify-cmd true --timeout 2m
expect_rc 1 "the rollout crash-loops: exit 1"
expect_out_contains "build: success" "the build passed"
expect_out_contains "deploy: success" "the deploy pipeline passed"
expect_err_contains "CrashLoopBackOff" "the pod's reason"
expect_err_contains "next: homelab deploy status apps/web" "and the next command"

finish
