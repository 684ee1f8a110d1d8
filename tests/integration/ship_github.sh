# ship with a GitHub Actions build stage, on the fake GitHub: the verdict
# over the commit's workflow runs; then the whole fleet flow: a push to a
# bare repository whose hook (the push-mirror) starts the build on the fake
# GitHub, whose deploy job (a reaction of the fake, tests/fakes/reactions.py)
# POSTs a manual pipeline with IMAGE_TAG=<sha8> through the fake
# Woodpecker's API, whose kubectl (another reaction) sets the image on the
# fake Kubernetes API; `work land` follows it all to the rollout.
. "$(dirname "$0")/../lib.sh"

start_github || exit 1
PASS=0e3c024fa7d463ad28ea32854efabf68593c38af
FAIL=3cc04daf78c270fa033ab72a386e1166eec897ad
REVIEW=f8ff97f4c05eb4d92772055e1bb7b73ad6994454
RUNNING=7d5da8a3f2f929b0bf3974988249ee7370dc7a1e

git init -q "$T/repo" && git -C "$T/repo" commit -q --allow-empty -m first
cd "$T/repo"
cat >.homelab <<'INI'
[ship]
    stages = build
[stage "build"]
    provider = github
    repo = acme/web
    event = push
    appear-timeout = 3s
INI

# job logs come from another host (logs.github.test), reached through the
# fake's CONNECT proxy, and never with the token
export HTTPS_PROXY="$GH_PROXY"
hl ship watch "$PASS"
expect_rc 0 "github build stage: every run passed"
expect_out_contains "build: success" "the stage's result line"
expect_err_contains "build: CI #101 success" "plain lines name the stage and the run"

hl ship watch "$RUNNING" --timeout 1m
expect_rc 0 "a running build is followed to success"

hl ship watch "$FAIL"
expect_rc 1 "a failed run fails the stage"
expect_err_contains "failed: CI / test / Run tests (failure)" "the failing job and step"
expect_err_contains "not ok - client: expected 200, got 500" "the step's log lines"
expect_err_contains "next: homelab ci logs '#30000000201' --provider github --repo acme/web --step 'test/Run tests'" "and the next command"

hl ship watch "$REVIEW"
expect_rc 4 "a deployment waiting for a reviewer needs a person"
expect_err_contains "next: approve it at https://" "says where"

hl ship watch 1111111111111111111111111111111111111111
expect_rc 5 "no run within the appear timeout: 5"
expect_err_contains "no workflow run of 1111111 appeared in acme/web" "says so"

hl ship status "$PASS" --json
expect_rc 0 "ship status on GitHub"
check "the JSON names the run" python3 -c '
import json,sys; o=json.loads(sys.argv[1].splitlines()[0])
assert o["stage"]=="build" and o["exit_code"]==0 and o["followed"]["provider"]=="github", o
assert o["followed"]["url"].startswith("https://")' "$out"

unset GH_TOKEN HTTPS_PROXY
PATH="$T/nogh:/usr/bin:/bin" hl ship watch "$PASS"
expect_rc 7 "no GitHub token: refused"
gh_expect_no_leak

# ---- the fleet flow, end to end ----
export GH_TOKEN="$GH_TEST_TOKEN"
start_woodpecker "$ROOT/tests/data/woodpecker/ship.json" || exit 1
start_kube "$ROOT/tests/data/git/kube-web.json" || exit 1
export GH_PORT CERTS HOOK_GH_FAIL_FILE="$T/gh-fail"
# the workflow's deploy job: POST Woodpecker's API for the manual pipeline
gh_ctl POST /__fake/reactions "{\"rules\":[$(fleet_deploy_job)]}" >/dev/null
# the deploy pipeline's kubectl (and no deploy job on the Woodpecker side)
wp_ctl POST /__fake/reactions "{\"rules\":[$(fleet_kubectl "$KUBE_PORT")]}" >/dev/null

fleet_repo "$ROOT/tests/data/git/post-receive-github" github || exit 1
export USER=me
fleet_topic green || exit 1
hl work land --verify-cmd true --timeout 2m
expect_rc 0 "fleet: pushed, built on GitHub, deployed by Woodpecker, rolled out"
landed=$(printf '%s\n' "$out" | head -1)
expect_out_contains "build: success CI" "the GitHub build"
expect_out_contains "deploy: success" "the Woodpecker deploy pipeline"
expect_out_contains "live: deployment apps/web complete ($(printf '%.7s' "$landed"))" "the rollout of the landed commit"

echo fail >"$HOOK_GH_FAIL_FILE"
fleet_topic red || exit 1
hl work land --verify-cmd true --timeout 2m
expect_rc 1 "fleet: the GitHub build fails"
expect_err_contains "failed: CI / build / Run tests (failure)" "the failing GitHub job and step"
expect_out_contains "deploy: not-reached" "nothing deployed"
check "no deploy pipeline was requested for it" python3 -c '
import json,sys; log=json.loads(sys.argv[1])["log"]
assert not [e for e in log if e["run"]["commit"]==sys.argv[2]], log' \
    "$(gh_ctl GET /__fake/reactions)" "$(git rev-parse HEAD)"
gh_expect_no_leak

finish
