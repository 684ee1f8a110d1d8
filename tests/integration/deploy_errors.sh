#!/bin/sh
# deploy wait/status when things go wrong: missing workloads, bad
# credentials and certificates, refused connections, hostile names, an API
# that starts failing mid-wait, timeouts and SIGINT (no kubectl left).
. "$(dirname "$0")/../lib.sh"

NEW=65d15d6cfe589cd4b76dd80c228dd3d5fce1677b

start_kube missing

# ---- kubectl's failures mapped to exit codes, with its own message

hl deploy wait apps/web --sha "$NEW"
expect_rc 5 "missing workload: exit 5"
expect_err_contains 'Error from server (NotFound): deployments.apps "web" not found' \
    "missing: kubectl's message"
hl deploy status statefulset/apps/web --sha "$NEW"
expect_rc 5 "status of a missing statefulset: exit 5"
hl deploy wait apps/web --sha "$NEW" --json
expect_rc 5 "missing --json: exit 5"
check "missing --json: a result object" python3 -c '
import json, sys
r = json.loads(sys.stdin.read().splitlines()[-1])
assert r["status"] == "not-found" and r["exit_code"] == 5 and "NotFound" in r["error"], r
' <"$T/out"

hl deploy wait apps/api --sha "$NEW" --context fake-badtoken
expect_rc 7 "bad token (401): exit 7"
expect_err_contains "Unauthorized" "401: kubectl's message"
hl deploy status apps/api --context fake-wrongca
expect_rc 7 "wrong CA: exit 7"
expect_err_contains "x509" "wrong CA: kubectl's message"
hl deploy wait apps/api --sha "$NEW" --context fake-refused
expect_rc 6 "connection refused: exit 6"
expect_err_contains "refused" "refused: kubectl's message"
hl deploy wait apps/api --sha "$NEW" --context no-such-context
expect_rc 2 "unknown context: exit 2"
HOMELAB_KUBECTL="$T/no-kubectl" hl deploy status apps/api
expect_rc 6 "kubectl missing: exit 6"
expect_err_contains "cannot run" "kubectl missing: says so"
check "every message is one line" [ "$(printf '%s\n' "$err" | grep -c '^homelab:')" -eq 1 ]

# 403 from the server after a good start: the pods watch is refused.
kube_ctl POST /__fake/faults '{"type":"status","code":403,"path_prefix":"/api/v1/namespaces/apps/pods","watch":true}' >/dev/null
hl deploy wait apps/api --sha 0123abc --timeout 20s
expect_rc 7 "403 on a watch mid-wait: exit 7"
expect_err_contains "Forbidden" "403: kubectl's message"
kube_ctl DELETE /__fake/faults >/dev/null

# ---- hostile names never reach kubectl

cat > "$T/kubectl-recorder" <<EOF
#!/bin/sh
for a; do printf '%s\n' "\$a"; done >> "$T/kubectl-argv"
echo 'error: context "x" does not exist' >&2
exit 1
EOF
chmod +x "$T/kubectl-recorder"
for target in 'apps/web;touch pwned' 'apps/$(touch pwned)' 'apps/we b' '-n/web' 'apps/-web' \
              'apps/--all' 'Apps/web' 'pod/apps/web' 'apps/web/x' "apps/web$(printf '\033')[2J"; do
    rm -f "$T/kubectl-argv"
    hl deploy wait "$target" --sha "$NEW" --kubectl "$T/kubectl-recorder"
    expect_rc 2 "hostile target '$target': exit 2"
    check "hostile target '$target': kubectl never ran" [ ! -e "$T/kubectl-argv" ]
    expect_err_lacks "$(printf '\033')" "hostile target: escape codes shown escaped"
done
check "no file was created by a target" sh -c "[ ! -e pwned ] && [ ! -e '$ROOT/pwned' ]"
hl deploy wait apps/web --sha 'HEAD;rm' --kubectl "$T/kubectl-recorder"
expect_rc 2 "malformed --sha: exit 2"
hl deploy wait apps/web --sha "$NEW" --container 'web;x' --kubectl "$T/kubectl-recorder"
expect_rc 2 "malformed --container: exit 2"

rm -f "$T/kubectl-argv"
hl deploy status apps/web --sha "$NEW" --kubectl "$T/kubectl-recorder" --context '-x; touch pwned $(id)'
expect_rc 2 "a hostile context reaches kubectl as one literal argument"
check "hostile context: --context=VALUE is a single argv entry" \
    grep -qxF -- '--context=-x; touch pwned $(id)' "$T/kubectl-argv"
check "hostile context: the path is a single argv entry" \
    grep -qxF -- '/apis/apps/v1/namespaces/apps/deployments/web' "$T/kubectl-argv"

# ---- timeouts and interrupts

hl deploy wait apps/api --sha 0123abc --timeout 3s
expect_rc 3 "never the expected image: exit 3 at the timeout"
expect_out_contains "deployment apps/api timeout (0123abc)" "timeout: summary with the last state"

"$HOMELAB" deploy wait apps/api --sha 0123abc --timeout 60s >"$T/out" 2>"$T/err" &
pid=$!
i=0
children=""
while [ $i -lt 3000 ]; do
    children=$(pgrep -P $pid | tr '\n' ' ')
    [ "$(echo $children | wc -w)" -ge 2 ] && break   # both watch children running
    i=$((i + 1)); sleep 0.1
done
check "SIGINT: the watch children were running" [ -n "$children" ]
kill -INT $pid
wait $pid
rc=$?
out=$(cat "$T/out"); err=$(cat "$T/err")
expect_rc 130 "SIGINT: exit 130"
expect_err_contains "interrupted" "SIGINT: says so"
# the children may take a moment to be reaped (a loaded machine: up to
# 30 s); a leaked watch would live on
i=0
for c in $children; do
    while kill -0 "$c" 2>/dev/null && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
done
for c in $children; do
    check "SIGINT: kubectl child $c is gone" sh -c "! kill -0 $c 2>/dev/null"
done
check "SIGINT: no kubectl child left" [ -z "$(pgrep -P $pid)" ]

finish
