#!/bin/sh
# work land (work_land.inc: the set-up), then CI (the fake Woodpecker, told
# by a post-receive hook about each push) and --deploy (the fake Kubernetes
# API, rolled by the same hook); then CI on GitHub Actions (the fake GitHub,
# told by a push-mirror hook).
. "$(dirname "$0")/work_land.inc"

# ---- then CI: the hook tells the fake Woodpecker about each push ----
start_woodpecker "$ROOT/tests/data/woodpecker/basic.json" || exit 1
export WP_PORT CERTS HOOK_CI_TEMPLATE_FILE="$T/ci-template"
echo success >"$HOOK_CI_TEMPLATE_FILE"
topic ci1 ci1.txt || exit 1
hl work land --verify-cmd true
expect_rc 0 "landed and CI green"
landed=$(first_line "$out")
check "the first stdout line is the landed sha" [ "$landed" = "$(rsha main)" ]
expect_out_contains "success push main $(printf '%.7s' "$landed")" "then the watch's verdict for that commit"

echo failure >"$HOOK_CI_TEMPLATE_FILE"
topic ci2 ci2.txt || exit 1
hl work land --verify-cmd true
expect_rc 1 "landed but CI failed: the watch's exit code"
check "it did land" [ "$(first_line "$out")" = "$(rsha main)" ]
expect_out_contains "failure push main" "the verdict line says failure"
expect_err_contains "failed:" "the failing steps are shown"

echo success >"$HOOK_CI_TEMPLATE_FILE"
topic ci3 ci3.txt || exit 1
hl work land --verify-cmd true --json
expect_rc 0 "land and watch, --json"
check "--json: one JSON Lines stream, stages then the watch, result last" python3 -c '
import json,sys; lines=[json.loads(l) for l in sys.argv[1].splitlines()]
stages=[l["stage"] for l in lines if "stage" in l]
assert stages==["merge","verify","push","result"], stages
push=[l for l in lines if l.get("stage")=="push"][0]
events=[l for l in lines if "event" in l]
assert events and events[-1]["event"]=="result" and events[-1]["status"]=="success"
assert lines.index(push) < lines.index(events[0])
assert lines[-1]=={"stage":"result","status":"success","exit_code":0,"sha":push["sha"]}, lines[-1]' "$out"

# ---- and the deploy: the same hook rolls the fake cluster onto the commit ----
start_kube "$ROOT/tests/data/git/kube-web.json" || exit 1
export KUBE_PORT
topic dp1 dp1.txt || exit 1
hl work land --verify-cmd true --deploy apps/web --timeout 60s
expect_rc 0 "landed, CI green, deployed"
landed=$(first_line "$out")
expect_out_contains "apps/web" "the deploy's verdict line"
check "the cluster runs the landed commit" python3 -c '
import json,sys,urllib.request,ssl
ctx=ssl.create_default_context(cafile=sys.argv[2])
s=json.load(urllib.request.urlopen("https://127.0.0.1:%s/__fake/state" % sys.argv[1], context=ctx))
assert sys.argv[3][:7] in json.dumps(s["workloads"][0])' "$KUBE_PORT" "$CERTS/ca.pem" "$landed"

echo failure >"$HOOK_CI_TEMPLATE_FILE"
topic dp2 dp2.txt || exit 1
hl work land --verify-cmd true --deploy apps/web --timeout 60s
expect_rc 1 "CI failed: no deploy wait"
expect_out_lacks "apps/web" "the deploy was not waited for"

topic dp3 dp3.txt || exit 1
hl work land --verify-cmd true --no-ci-watch --deploy apps/web --timeout 60s
expect_rc 0 "--no-ci-watch --deploy: only the deploy is waited for"
expect_out_lacks "push main" "no CI verdict"
expect_out_contains "apps/web" "the deploy's verdict line"

# ---- on GitHub Actions: the watch follows the provider the command chose ----
# (the hook now plays a push-mirror: the fake GitHub runs CI for each push)
cp "$HOOKS/post-receive-github" "$T/app.git/hooks/post-receive"
unset WP_PORT KUBE_PORT
start_github || exit 1
export GH_PORT HOOK_GH_FAIL_FILE="$T/gh-fail" HTTPS_PROXY="$GH_PROXY" HOMELAB_CI_PROVIDER=github
topic gh1 gh1.txt || exit 1
hl work land --verify-cmd true
expect_rc 0 "landed, and GitHub's run of the landed commit passed"
landed=$(first_line "$out")
expect_out_contains "CI #" "the verdict is the GitHub run's line"
check "for the landed commit" grep -q "$landed" "$T/gh.requests"
echo fail >"$HOOK_GH_FAIL_FILE"
topic gh2 gh2.txt || exit 1
hl work land --verify-cmd true
expect_rc 1 "landed, and its GitHub run failed: 1"
expect_err_contains "failed: CI / build / Run tests" "the failing job and step"
unset HOMELAB_CI_PROVIDER HTTPS_PROXY

finish
