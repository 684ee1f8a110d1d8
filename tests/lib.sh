# Shared helpers for integration tests. Source it from tests/integration/*.sh.
#
# Each test file is a shell script that starts the fakes it needs, runs the
# real binary with `run`, and checks results with the expect_* helpers. Each
# check prints "ok - DESC" or "not ok - DESC" (TAP style); tests/run counts
# them. Nothing is piped: `run` records stdout, stderr and the exit code.
#
# Environment from tests/run: HOMELAB (the binary), CERTS (a directory made by
# tests/fakes/mkcerts.sh), ROOT (the source tree).

set -u
: "${ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${HOMELAB:=$ROOT/build/homelab}"
: "${CERTS:=${TMPDIR:-/tmp}/homelab-test-certs}"
"$ROOT/tests/fakes/mkcerts.sh" "$CERTS"

T=$(mktemp -d "${TMPDIR:-/tmp}/homelab-t.XXXXXX")
FAKE_PIDS=""
failures=0

cleanup() {
    for p in $FAKE_PIDS; do kill "$p" 2>/dev/null; done
    for p in $FAKE_PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# A clean environment: no user config, no ambient tokens or Vault.
unset WOODPECKER_SERVER WOODPECKER_TOKEN WP_TOKEN HOMELAB_WP_IP HOMELAB_CACERT \
      HOMELAB_REPO HOMELAB_VAULT_PATH VAULT_ADDR VAULT_TOKEN VAULT_CACERT \
      HOMELAB_KUBECTL KUBECONFIG NO_COLOR
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
mkdir -p "$HOME"
export HOMELAB_CONFIG="$T/no-config"
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com \
       GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com \
       GIT_CONFIG_NOSYSTEM=1

TOKEN="wp-test-token-$$-s3cr3t"

# The fakes start as modules (`python3 -m kube`, from FAKES on the module
# path), not as scripts (`python3 kube.py`): Python loads a module from its
# compiled bytecode (tests/run compiles tests/fakes once) but compiles a
# script again at every start, 50-60 ms of CPU for each of the large fakes,
# hundreds of times a suite. PYTHONSAFEPATH keeps the working directory
# off the module path, as running the script did.
FAKES="$ROOT/tests/fakes${PYTHONPATH:+:$PYTHONPATH}"

# The client for the fakes' control APIs (tests/fakectl.c; make check and
# tests/run build it, a script run by hand builds it here): each fake
# serves /__fake/ in plain HTTP on a loopback port of its own, which costs
# a test a process start per call where curl over TLS cost some 40 ms of CPU.
: "${FAKECTL:=$ROOT/build/fakectl}"
[ -x "$FAKECTL" ] || make --no-print-directory -s -C "$ROOT" build/fakectl >&2 ||
    { echo "not ok - building $FAKECTL (make build/fakectl)"; exit 1; }

# The tests' waiter (tests/waitfor.c, built like fakectl): every helper
# below that waits for a line in a file or a request in a fake's log runs
# it once, where a shell loop ran a sleep, a grep and a sed every 50 ms
# (`sleep` alone started some 2,300 times a suite).
: "${WAITFOR:=$ROOT/build/waitfor}"
[ -x "$WAITFOR" ] || make --no-print-directory -s -C "$ROOT" build/waitfor >&2 ||
    { echo "not ok - building $WAITFOR (make build/waitfor)"; exit 1; }

wait_for_file() { # FILE [SECONDS]
    "$WAITFOR" -n -t "${2:-10}" "$1" || { echo "# timed out waiting for $1" >&2; return 1; }
}

# start_woodpecker SCENARIO_JSON [extra args...]
# Starts the fake Woodpecker and points the client at it through ci.dial.
# Sets WP_PORT (and WP_CTL_PORT, the control port wp_ctl uses).
start_woodpecker() {
    scenario=$1; shift
    rm -f "$T/wp.port" "$T/wp.ctlport"
    PYTHONSAFEPATH=1 PYTHONPATH="$FAKES" python3 -m woodpecker --cert "$CERTS/woodpecker.pem" \
        --key "$CERTS/woodpecker.key" --scenario "$scenario" --port-file "$T/wp.port" \
        --control-port-file "$T/wp.ctlport" --request-log "$T/wp.requests" "$@" 2>"$T/wp.log" &
    FAKE_PIDS="$FAKE_PIDS $!"
    wait_for_file "$T/wp.port" || { cat "$T/wp.log" >&2; return 1; }
    read -r WP_PORT <"$T/wp.port"; read -r WP_CTL_PORT <"$T/wp.ctlport"
    export WOODPECKER_SERVER="https://ci.homelab.test"
    export HOMELAB_WP_IP="127.0.0.1:$WP_PORT"
    export HOMELAB_CACERT="$CERTS/ca.pem"
    export WOODPECKER_TOKEN="$TOKEN"
}

# wp_ctl METHOD PATH [JSON]: talk to the fake's control API (/__fake/...).
wp_ctl() { "$FAKECTL" "$WP_CTL_PORT" "$1" "$2" ${3:+"$3"}; }

# run CMD...: runs it, recording $out, $err and $rc.
run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
}

hl() { run "$HOMELAB" "$@"; }

ok()     { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    failures=$((failures + 1))
    echo "#   rc=$rc" ; printf '%s\n' "$out" | head -20 | sed 's/^/#   out: /'
    printf '%s\n' "$err" | head -20 | sed 's/^/#   err: /'
}
check() { # DESC COND...: ok when the command succeeds
    d=$1; shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
expect_rc()           { check "$2 (exit $1)" [ "$rc" -eq "$1" ]; }
expect_out_contains() { check "$2" contains "$out" "$1"; }
expect_err_contains() { check "$2" contains "$err" "$1"; }
expect_out_lacks()    { check "$2" lacks "$out" "$1"; }
expect_err_lacks()    { check "$2" lacks "$err" "$1"; }
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
lacks()    { ! contains "$1" "$2"; }

finish() { exit $(( failures > 0 )); }

# start_vault KV_VERSION FIELD_VALUE [extra args]: a fake Vault holding the
# Woodpecker token at secret/ci/global, field woodpecker_api_token.
start_vault() {
    version=$1; value=$2; shift 2
    rm -f "$T/vault.port"
    PYTHONSAFEPATH=1 PYTHONPATH="$FAKES" python3 -m vault --cert "$CERTS/local.pem" --key "$CERTS/local.key" \
        --port-file "$T/vault.port" --token "vault-root-$$" --version "$version" \
        --field "woodpecker_api_token=$value" "$@" 2>"$T/vault.log" &
    FAKE_PIDS="$FAKE_PIDS $!"
    wait_for_file "$T/vault.port" || { cat "$T/vault.log" >&2; return 1; }
    export VAULT_ADDR="https://127.0.0.1:$(cat "$T/vault.port")"
    export VAULT_CACERT="$CERTS/ca.pem" VAULT_TOKEN="vault-root-$$"
}

# start_kube SCENARIO [extra args]: starts the fake Kubernetes API server and
# points kubectl at it (KUBECONFIG; contexts fake, fake-badtoken, fake-wrongca,
# fake-refused, fake-plainhttp). SCENARIO is a name in tests/data/kube
# (rollout-ok) or a path to a scenario file. Sets KUBE_PORT (and
# KUBE_CTL_PORT, the control port kube_ctl uses). The fake it replaces is
# stopped first: nothing can reach it any more (KUBECONFIG names the new
# one), and an idle kube fake still runs its controllers every 0.2 s (about
# 1% of a CPU): the deploy scripts cost 43-48 CPU s with this, 46-53
# without (`TESTS=deploy tests/run build/san`, two runs each).
start_kube() {
    scenario=$1; shift
    case "$scenario" in
        */*|*.json) ;;
        *) scenario="$ROOT/tests/data/kube/$scenario.json" ;;
    esac
    if [ -n "${KUBE_PID:-}" ]; then kill "$KUBE_PID" 2>/dev/null; wait "$KUBE_PID" 2>/dev/null; fi
    rm -f "$T/kube.port" "$T/kube.ctlport"
    PYTHONSAFEPATH=1 PYTHONPATH="$FAKES" python3 -m kube --cert "$CERTS/local.pem" --key "$CERTS/local.key" \
        --ca "$CERTS/ca.pem" --scenario "$scenario" --port-file "$T/kube.port" \
        --control-port-file "$T/kube.ctlport" --kubeconfig "$T/kubeconfig" \
        --request-log "$T/kube.requests" "$@" 2>"$T/kube.log" &
    KUBE_PID=$!
    FAKE_PIDS="$FAKE_PIDS $KUBE_PID"
    wait_for_file "$T/kube.port" || { cat "$T/kube.log" >&2; return 1; }
    read -r KUBE_PORT <"$T/kube.port"; read -r KUBE_CTL_PORT <"$T/kube.ctlport"
    export KUBECONFIG="$T/kubeconfig"
}

# kube_ctl METHOD PATH [JSON]: talk to the fake's control API (/__fake/...),
# e.g. kube_ctl POST /__fake/actions '{"action":"set_image","sha":"..."}'.
kube_ctl() { "$FAKECTL" "$KUBE_CTL_PORT" "$1" "$2" ${3:+"$3"}; }

# requests_seen FAKE [REGEX]: how many requests the fake (wp or kube) has
# answered (for a stream or watch: opened) whose path?query matches the
# extended regular expression REGEX (default: any), from its request log.
# (kube logs the query apart, as raw_query: its requests are matched as
# PATH?QUERY).
requests_seen() { "$WAITFOR" -c -r "$T/$1.requests" "${2:-.}"; }

# wait_request FAKE REGEX [COUNT]: waits until the fake has answered COUNT
# (default 1) requests matching REGEX (see requests_seen). This is how a test
# waits for the client instead of sleeping: the next step (a control call, a
# signal) then happens after the client's action, however slow the machine.
# Gives up after WAIT_LIMIT seconds (300) only so a broken client cannot hang
# the suite.
wait_request() {
    "$WAITFOR" -r -t "${WAIT_LIMIT:-300}" "$T/$1.requests" "$2" "${3:-1}" ||
        { echo "# gave up waiting for request $2 on the $1 fake" >&2; return 1; }
}

# spawn CMD...: runs CMD in the background ($bg is its pid; output in
# $T/bg.out and $T/bg.err); wait_stderr TEXT waits until it has printed TEXT
# on stderr (or has exited); reap waits for it and records $out, $err and
# $rc (and $T/out, $T/err) like `run`. For a control call that must come after the client showed
# it saw the state before.
# The files are emptied before the start: the background job opens them only
# once it runs, and a wait_stderr before that must not read the last run's.
spawn() { : >"$T/bg.out"; : >"$T/bg.err"; "$@" >"$T/bg.out" 2>"$T/bg.err" & bg=$!; }
wait_stderr() { "$WAITFOR" -F -p "$bg" -t "${WAIT_LIMIT:-300}" "$T/bg.err" "$1"; }
reap() {
    wait "$bg"; rc=$?
    cp "$T/bg.out" "$T/out"; cp "$T/bg.err" "$T/err"
    out=$(cat "$T/out"); err=$(cat "$T/err")
}

# run_interrupted SIGNAL CMD...: starts CMD in the background, sends SIGNAL
# once the client has shown it is running, and records $out, $err and $rc
# like `run`. "Running" is: the fake named by INTERRUPT_FAKE (wp or kube;
# default whichever has a request log) has answered one more request matching
# INTERRUPT_AFTER (default any) than before the start. A client that exits
# first is not signalled. The final wait is bounded (a background job of a
# non-interactive shell starts with SIGINT ignored, so a program that never
# installs its own handler would not stop): the watchdog keeps the suite
# from hanging; $watchdog_fired is then 1 (else 0).
run_interrupted() {
    sig=$1; shift
    _fake=${INTERRUPT_FAKE:-}
    if [ -z "$_fake" ]; then
        if [ -f "$T/wp.requests" ]; then _fake=wp; else _fake=kube; fi
    fi
    _before=$(requests_seen "$_fake" "${INTERRUPT_AFTER:-.}")
    "$@" >"$T/out" 2>"$T/err" &
    pid=$!
    "$WAITFOR" -r -p "$pid" -t "${WAIT_LIMIT:-300}" "$T/$_fake.requests" \
        "${INTERRUPT_AFTER:-.}" $((_before + 1))
    kill "-$sig" "$pid" 2>/dev/null
    rm -f "$T/watchdog.fired"
    ( sleep 120; kill -KILL "$pid" 2>/dev/null && : >"$T/watchdog.fired" ) &
    watchdog=$!
    wait "$pid"; rc=$?
    kill "$watchdog" 2>/dev/null
    watchdog_fired=0
    [ -f "$T/watchdog.fired" ] && watchdog_fired=1
    out=$(cat "$T/out")
    err=$(cat "$T/err")
}

# --- GitHub Actions fake -----------------------------------------------------
# No ambient GitHub credentials or settings leak into a test.
unset GH_TOKEN GITHUB_TOKEN GH_ENTERPRISE_TOKEN GITHUB_ENTERPRISE_TOKEN GH_HOST GH_REPO \
      HOMELAB_GITHUB_API HOMELAB_GITHUB_DIAL HOMELAB_GITHUB_REPO HOMELAB_CI_PROVIDER

# start_github [SCENARIO] [extra args]: starts tests/fakes/github.py (API host
# api.github.test, log host logs.github.test, plus a CONNECT proxy for clients
# that cannot be given an address, like gh). SCENARIO is a name in
# tests/data/github (default: actions) or a path. Sets GH_PORT, GH_CTL_PORT
# (the control port gh_ctl uses), GH_LOG_PORT,
# GH_PROXY_PORT, GH_PROXY (its URL, for HTTPS_PROXY) and GH_TEST_TOKEN;
# exports HOMELAB_GITHUB_API (GHES layout), HOMELAB_GITHUB_DIAL,
# HOMELAB_GITHUB_REPO, HOMELAB_CACERT and GH_TOKEN.
start_github() {
    gscen=${1:-actions}; [ $# -gt 0 ] && shift
    case "$gscen" in */*|*.json) ;; *) gscen="$ROOT/tests/data/github/$gscen.json" ;; esac
    rm -f "$T/gh.port" "$T/gh.ctlport" "$T/gh.logport" "$T/gh.proxyport"
    PYTHONSAFEPATH=1 PYTHONPATH="$FAKES" python3 -m github --cert "$CERTS/github.pem" --key "$CERTS/github.key" \
        --log-cert "$CERTS/githublogs.pem" --log-key "$CERTS/githublogs.key" \
        --scenario "$gscen" --port-file "$T/gh.port" --control-port-file "$T/gh.ctlport" \
        --log-port-file "$T/gh.logport" \
        --proxy-port-file "$T/gh.proxyport" --request-log "$T/gh.requests" "$@" 2>"$T/gh.log" &
    FAKE_PIDS="$FAKE_PIDS $!"
    wait_for_file "$T/gh.port" || { cat "$T/gh.log" >&2; return 1; }
    read -r GH_PORT <"$T/gh.port"; read -r GH_CTL_PORT <"$T/gh.ctlport"
    read -r GH_LOG_PORT <"$T/gh.logport"; read -r GH_PROXY_PORT <"$T/gh.proxyport"
    GH_TEST_TOKEN="gh-test-token-$$-s3cr3t"
    GH_PROXY="http://127.0.0.1:$GH_PROXY_PORT"
    export HOMELAB_GITHUB_API="https://api.github.test/api/v3"
    export HOMELAB_GITHUB_DIAL="127.0.0.1:$GH_PORT"
    export HOMELAB_GITHUB_REPO="acme/web"
    export HOMELAB_CACERT="$CERTS/ca.pem"
    export GH_TOKEN="$GH_TEST_TOKEN"
}

# gh_ctl METHOD PATH [JSON]: the GitHub fake's control API, e.g.
# gh_ctl POST /__fake/advance '{"run": 30000000301, "until": "completed"}'.
gh_ctl() { "$FAKECTL" "$GH_CTL_PORT" "$1" "$2" ${3:+"$3"}; }

# gh_cli_env: settings for Debian's gh (2.23) to talk to the fake as the
# Enterprise host api.github.test: through the fake's CONNECT proxy (gh
# cannot be given an address or a port), the test CA, its own config dir with
# the token stored for api.github.test only (GH_ENTERPRISE_TOKEN would make
# gh send it to the log host too), its own TMPDIR (gh caches run-log zips).
gh_cli_env() {
    export GH_CONFIG_DIR="$T/gh-config" GH_HOST=api.github.test GH_NO_UPDATE_NOTIFIER=1 \
           GH_PROMPT_DISABLED=1 NO_COLOR=1 SSL_CERT_FILE="$CERTS/ca.pem" HTTPS_PROXY="$GH_PROXY"
    mkdir -p "$GH_CONFIG_DIR" "$T/gh-tmp"
    printf 'api.github.test:\n    oauth_token: %s\n    user: octocat\n    git_protocol: https\n' \
        "$GH_TEST_TOKEN" > "$GH_CONFIG_DIR/hosts.yml"
    export TMPDIR="$T/gh-tmp"
}

# gh_expect_no_leak: one check that the log host never received a token.
gh_expect_no_leak() {
    v=$(gh_ctl GET /__fake/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["violations"])')
    check "no token reached the log host (violations: $v)" [ "$v" = 0 ]
}

# run_interrupted_when SIGNAL FILE PATTERN CMD...: starts CMD in the
# background and sends SIGNAL once a line added to FILE after the start
# matches PATTERN (grep -E): FILE is a fake's request log (the client's
# request arrived) or "$T/out" or "$T/err" (the client said something).
# FILE may be "cmd:COMMAND" instead: a command that returns once the event
# happened, whose output is then searched (e.g. a control call that waits
# for a request to arrive, `GET /__fake/requests?wait_path=...`: the file
# log shows a request only once it has ended). Records $out, $err, $rc like `run`, and $interrupt_ms, from the
# signal to the exit. Bounded: a pattern that has not shown after
# WAIT_LIMIT seconds (300) fails the script, and a watchdog kills a client
# that has not exited 30 s after the signal.
run_interrupted_when() {
    sig=$1 file=$2 pattern=$3; shift 3
    # A request log grows: only lines added after the start count. $T/out
    # and $T/err are emptied before the start (the job opens them only once
    # it runs), so all of theirs count.
    skip=0
    case "$file" in
        "$T/out"|"$T/err"|cmd:*) ;;
        *) [ -f "$file" ] && skip=$(wc -l < "$file") ;;
    esac
    : >"$T/out"; : >"$T/err"
    "$@" >"$T/out" 2>"$T/err" &
    pid=$!
    case "$file" in
        cmd:*) eval "${file#cmd:}" 2>/dev/null | grep -Eq -- "$pattern" || (exit 2) ;;
        *) "$WAITFOR" -p "$pid" -s "$skip" -t "${WAIT_LIMIT:-300}" "$file" "$pattern" ;;
    esac
    case $? in
        1) echo "# run_interrupted_when: the client exited before '$pattern' showed in $file" >&2 ;;
        # a pattern that never shows must fail the script, not end in a
        # signal that makes the checks after it pass anyway
        2) not_ok "run_interrupted_when: '$pattern' showed in $file" ;;
    esac
    t0=$(date +%s%N)
    kill "-$sig" "$pid" 2>/dev/null
    ( sleep 30; kill -KILL "$pid" 2>/dev/null ) &
    watchdog=$!
    wait "$pid"; rc=$?
    t1=$(date +%s%N)
    kill "$watchdog" 2>/dev/null
    interrupt_ms=$(( (t1 - t0) / 1000000 ))
    out=$(cat "$T/out")
    err=$(cat "$T/err")
}

# The fleet's deploy chain on the fakes (tests/fakes/reactions.py), as
# reaction rules (JSON). fleet_deploy_job: the build's deploy job; when a
# push run or pipeline of acme/web succeeds, it POSTs a manual pipeline
# with IMAGE_TAG=<sha8> through the fake Woodpecker's API.
# fleet_kubectl KUBE_PORT [BEHAVIOUR]: the deploy pipeline's kubectl; when
# that manual pipeline succeeds, it sets registry.lan:5000/web:<IMAGE_TAG>
# on deployment/apps/web of the fake cluster (pods behaving as BEHAVIOUR,
# ok). wp_fleet_reactions KUBE_PORT [BEHAVIOUR] installs both on Woodpecker.
fleet_deploy_job() {
    printf '%s' "{\"when\":{\"repo\":\"acme/web\",\"event\":\"push\",\"status\":\"success\"},
   \"cacert\":\"$CERTS/ca.pem\",
   \"post\":{\"connect\":\"127.0.0.1:$WP_PORT\",\"host\":\"ci.homelab.test\",
             \"path\":\"/api/repos/7/pipelines\",\"headers\":{\"Authorization\":\"Bearer $TOKEN\"},
             \"body\":{\"branch\":\"main\",\"variables\":{\"IMAGE_TAG\":\"{sha8}\",
                       \"IMAGE_NAME\":\"registry.lan:5000/web\"}}}}"
}
fleet_kubectl() {
    printf '%s' "{\"when\":{\"repo\":\"acme/web\",\"event\":\"manual\",\"status\":\"success\",\"variable\":\"IMAGE_TAG\"},
   \"cacert\":\"$CERTS/ca.pem\",
   \"post\":{\"connect\":\"127.0.0.1:$1\",\"host\":\"127.0.0.1\",\"path\":\"/__fake/actions\",
             \"body\":{\"action\":\"set_image\",\"target\":\"deployment/apps/web\",\"container\":\"web\",
                       \"behaviour\":\"${2:-ok}\",\"image\":\"registry.lan:5000/web:{var:IMAGE_TAG}\"}}}"
}
wp_fleet_reactions() {
    wp_ctl POST /__fake/reactions "{\"rules\":[$(fleet_deploy_job),$(fleet_kubectl "$@")]}" >/dev/null
}

# fleet_stages PROVIDER [APPEAR_TIMEOUT]: the .homelab of the fleet's
# repository on stdout: a build on PROVIDER (push events), the deploy
# pipeline that names the commit in IMAGE_TAG on Woodpecker (appearing
# within APPEAR_TIMEOUT, default 1m), the rollout of apps/web.
fleet_stages() {
    cat <<INI
[ship]
    stages = build deploy live
[stage "build"]
    provider = $1
    repo = acme/web
    event = push
[stage "deploy"]
    provider = woodpecker
    repo = acme/web
    match = variable IMAGE_TAG
    appear-timeout = ${2:-1m}
[stage "live"]
    workload = apps/web
    container = web
INI
}

# fleet_repo HOOK PROVIDER: the fleet's repository. A bare $T/app.git whose
# post-receive is HOOK (the push-mirror to a fake CI), seeded with
# fleet_stages PROVIDER 30s, and its clone $T/app.
# fleet_topic NAME: a work tree of $T/app with one commit, and cd there.
fleet_repo() {
    git init -q --bare -b main "$T/app.git" &&
        cp "$1" "$T/app.git/hooks/post-receive" &&
        git init -q -b main "$T/seed" && fleet_stages "$2" 30s >"$T/seed/.homelab" &&
        git -C "$T/seed" add .homelab && git -C "$T/seed" commit -q -m "ship stages" &&
        git -C "$T/seed" push -q "$T/app.git" HEAD:refs/heads/main &&
        git clone -q "$T/app.git" "$T/app" 2>/dev/null ||
        { echo "not ok - setting up the repository"; return 1; }
}
fleet_topic() {
    cd "$T/app" && W=$("$HOMELAB" work start "$1" 2>/dev/null) && printf '%s\n' "$1" >"$W/$1.txt" &&
        git -C "$W" add "$1.txt" && git -C "$W" commit -q -m "$1" && cd "$W"
}
