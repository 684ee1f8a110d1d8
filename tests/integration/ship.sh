# ship watch / ship status against the fake Woodpecker (build and deploy
# pipelines) and the fake Kubernetes API (the rollout). The deploy pipeline
# is started as the fleet's workflow starts it: a manual pipeline through
# Woodpecker's API with IMAGE_TAG=<sha8>; its `commit` is the branch head,
# another commit, so it is found by its variable alone.
. "$(dirname "$0")/../lib.sh"

start_woodpecker "$ROOT/tests/data/woodpecker/ship.json"
start_kube rollout-ok
NEW=65d15d6cfe589cd4b76dd80c228dd3d5fce1677b    # what rollout-ok rolls out
SHA8=$(printf '%.8s' "$NEW")

git init -q "$T/repo" && git -C "$T/repo" commit -q --allow-empty -m first
cd "$T/repo"

# build pipeline for NEW from a template (push event)
build() { wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$NEW\",\"branch\":\"main\",\"event\":\"push\",\"template\":\"$1\"${2:+,$2}}" >/dev/null; }
# manual pipeline through the API, as the workflow's deploy job does
deploy() { # BRANCH TAG
    curl -sS --fail --cacert "$CERTS/ca.pem" --connect-to "ci.homelab.test:443:127.0.0.1:$WP_PORT" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data "{\"branch\":\"$1\",\"variables\":{\"IMAGE_TAG\":\"$2\",\"IMAGE_NAME\":\"registry.lan:5000/web\"}}" \
        https://ci.homelab.test/api/repos/7/pipelines >/dev/null
}
stages() { fleet_stages woodpecker "${1:-1m}" >"$T/repo/.homelab"; } # [APPEAR_TIMEOUT]

# ---- no stages ----
hl ship watch "$NEW"
expect_rc 2 "ship without stages"
expect_err_contains "no stages configured" "says so"
expect_err_contains '[stage "deploy"]' "and shows an example .homelab"
check "nothing was asked of the server" [ ! -s "$T/wp.requests" ]

stages
hl ship watch "#12"
expect_rc 2 "ship wants a commit, not #N"

# ---- green: build, deploy (another tag's pipeline first), rollout ----
build success
deploy main 0123abcd            # another commit's deploy: ignored
deploy main "$SHA8"
hl ship watch "$NEW" --timeout 2m
expect_rc 0 "the whole chain is green"
expect_err_contains "build: #1 success" "plain progress lines carry the stage name (build)"
expect_err_contains "deploy: #3 success" "the deploy stage follows the pipeline of its IMAGE_TAG"
expect_err_lacks "deploy: #2" "the other tag's deploy pipeline is ignored"
check "the rollout stage's lines are prefixed too" contains "$err$out" "live: deployment apps/web"
expect_out_contains "build: success" "stdout: build result"
expect_out_contains "deploy: success" "stdout: deploy result"
expect_out_contains "live: deployment apps/web complete (65d15d6)" "stdout: rollout result"

hl ship watch "$NEW" --json --timeout 2m
expect_rc 0 "--json"
check "every JSON line carries its stage, the result line lists every stage" python3 -c '
import json,sys
lines=[json.loads(l) for l in sys.argv[1].splitlines()]
for l in lines[:-1]: assert l["stage"] in ("build","deploy","live"), l
r=lines[-1]
assert r["event"]=="result" and r["exit_code"]==0 and r["status"]=="success", r
assert [s["stage"] for s in r["stages"]]==["build","deploy","live"]
for s in r["stages"]:
    assert s["exit_code"]==0 and s["start"] and s["end"], s
assert r["stages"][1]["followed"]["number"]==3 and r["stages"][1]["followed"]["repo"]=="acme/web"
assert r["stages"][2]["followed"]["workload"]=="apps/web"
assert any(l.get("event")=="stage-result" and l["stage"]=="live" for l in lines)' "$out"

hl ship status "$NEW"
expect_rc 0 "ship status"
expect_out_contains "build: success" "status: build"
expect_out_contains "deploy: success" "status: deploy"
expect_out_contains "live: deployment apps/web complete" "status: live"

# ---- a newer deploy replaces a running older one ----
wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"9999999fffffffffffffffffffffffffffffffff\",\"event\":\"manual\",\"template\":\"running\",\"variables\":{\"IMAGE_TAG\":\"$SHA8\"}}" >/dev/null
wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"9999999fffffffffffffffffffffffffffffffff\",\"event\":\"manual\",\"template\":\"deploy\",\"variables\":{\"IMAGE_TAG\":\"v1.2.0-4-g$(printf '%.7s' "$NEW")\"},\"delay\":2}" >/dev/null
hl ship watch "$NEW" --timeout 1m
expect_rc 0 "a newer match (git-describe tag) replaces the running deploy pipeline"
expect_err_contains "deploy: #5 success" "the newer one decided"

# ---- the deploy pipeline fails ----
deploy bad "$SHA8"
hl ship watch "$NEW" --timeout 1m
expect_rc 1 "the deploy pipeline fails"
expect_err_contains "failed: deploy/apply" "its failing step"
expect_err_contains "Unauthorized" "and its log"
expect_err_contains "next: homelab ci logs '#6' --repo acme/web --step 'deploy/apply'" "and the next command"
expect_out_contains "live: not-reached" "later stages are not reached"

# ---- the deploy pipeline never appears ----
build success
stages 2s
NEW2=0badc0de00000000000000000000000000000001
wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$NEW2\",\"event\":\"push\",\"template\":\"success\"}" >/dev/null
hl ship watch "$NEW2" --json --timeout 1m
expect_rc 5 "no deploy pipeline: 5 after its appear timeout"
check "the result names the deploy stage" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1])
assert r["stage"]=="deploy" and r["status"]=="never-appeared" and r["exit_code"]==5, r
assert r["stages"][0]["status"]=="success" and r["stages"][2]["status"]=="not-reached"
assert r["next"].startswith("homelab ci list")' "$out"
stages

# ---- the build fails ----
build failure
hl ship watch "$NEW" --timeout 1m
expect_rc 1 "the build fails"
expect_err_contains "failed: build/test (failure, exit code 2)" "the failing step"
expect_err_contains "FAIL: TestLogin" "its log lines"
expect_out_contains "deploy: not-reached" "the deploy stage is not reached"

# ---- the build needs approval ----
build success '"blocked":true'
hl ship watch "$NEW" --timeout 1m
expect_rc 4 "a blocked build needs a person"
expect_err_contains "next: approve it at https://ci.homelab.test/repos/7/pipeline/" "says where"

# ---- the rollout crash-loops ----
build success
deploy main "$SHA8"
stop_kube 2>/dev/null || true
start_kube crashloop
hl ship watch "$NEW" --timeout 2m
expect_rc 1 "the rollout crash-loops"
expect_err_contains "CrashLoopBackOff" "the pod's reason"
expect_err_contains "next: homelab deploy status apps/web" "the next command"

finish
