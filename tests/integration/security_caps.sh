#!/bin/sh
# Security, section 6 (security.inc lists them all): every response size
# cap holds.
. "$(dirname "$0")/security.inc"

HOMELAB_MAX_RESPONSE=1000 hl ci status '#60'
expect_rc 6 "a JSON response over the cap is refused"
expect_err_contains "limit" "saying it is over the limit"
HOMELAB_MAX_LOG=2000 hl ci logs '#59' --step build/build
expect_rc 6 "a step log over the log cap is refused"
expect_err_contains "refused" "saying so"
# One log entry over its own cap (4 MiB of JSON): a 5 MiB line.
python3 -c 'import json; print(json.dumps({"repo": "acme/web", "workflows": [{"name": "build",
    "steps": [{"name": "huge", "start": 0, "end": 0.1, "result": "failure",
               "log": {"lines": ["x" * 5242880]}}]}]}))' >"$T/huge.json"
N=$(wp_ctl POST /__fake/pipelines "@$T/huge.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
wp_ctl POST /__fake/advance '{"seconds":1}' >/dev/null   # the step is over, on the fake's clock
hl ci logs "#$N" --step build/huge
expect_rc 6 "a log entry over the per-entry cap is refused"
expect_err_contains "larger than 4194304 bytes" "saying the entry is too large"
tries=$(wp_ctl GET /__fake/requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if "/logs/%s/" % sys.argv[1] in r["path"]))' "$N")
check "an entry over the cap is not fetched again (asked $tries times)" [ "$tries" -eq 1 ]
# kubectl replies: a kubectl that answers 70 MiB.
cat >"$T/bin/kubectl-huge" <<'EOF'
#!/bin/sh
head -c 73400320 /dev/zero | tr '\0' ' '
EOF
chmod +x "$T/bin/kubectl-huge"
hl deploy status apps/web --kubectl "$T/bin/kubectl-huge"
expect_rc 6 "a kubectl reply over 64 MiB is refused"
expect_err_contains "larger than" "saying it is too large"
# An event on the stream over its cap (4 MiB): a pipeline whose message is
# 5 MB. The stream is dropped at that event; the watch goes on polling. The
# pipeline is held (its steps 1000 s on) until the client opens the stream,
# which moves the fake's clock on: its changes are events the client sees,
# however late it starts.
BIG=abababababababababababababababababababab
python3 -c 'import json, sys
w = json.load(open(sys.argv[2]))["templates"]["success"]["workflows"]
for st in w[0]["steps"]:
    st["start"] += 1000; st["end"] += 1000
print(json.dumps({"repo": "acme/web", "commit": sys.argv[1], "branch": "main",
    "workflows": w, "message": "big\n" + "x" * 5242880}))' "$BIG" \
    "$ROOT/tests/data/woodpecker/basic.json" >"$T/bigmsg.json"
wp_ctl POST /__fake/pipelines "@$T/bigmsg.json" >/dev/null
wp_ctl POST /__fake/triggers \
    '{"triggers": [{"on": {"request": "^/api/stream/events"}, "do": {"advance": 1000}}]}' >/dev/null
hl ci watch "$BIG" --timeout 60s --verbose
expect_rc 0 "an event over the stream's cap: the verdict still comes (by polling)"
expect_err_contains "event stream ended; polling" "the oversized event ended the stream"
# A watch line over its cap (8 MiB): a kubectl whose watches print 9 MiB
# of garbage first. The line is dropped; the wait completes.
cat >"$T/bin/kubectl-noisy" <<EOF
#!/bin/sh
case "\$*" in *watch=1*) head -c 9437184 /dev/zero | tr '\\000' x; echo ;; esac
exec "$T/bin/kubectl" "\$@"
EOF
chmod +x "$T/bin/kubectl-noisy"
hl deploy wait apps/web --sha "$NEW" --timeout 60s --kubectl "$T/bin/kubectl-noisy" --context fake
expect_rc 0 "a watch line over its cap is dropped and the wait completes"
head -c 2100000 /dev/zero | tr '\0' '#' >"$T/big.cfg"
HOMELAB_CONFIG="$T/big.cfg" hl version
expect_rc 2 "a config file over 1 MiB is refused"

finish
