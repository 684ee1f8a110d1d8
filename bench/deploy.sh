#!/bin/sh
# deploy wait vs kubectl rollout status, side by side on the same fake cluster.
#
# For each run, one fake Kubernetes API (tests/fakes/kube.py) is started with
# a scenario whose image update lands 1 s in; `homelab deploy wait` and
# `kubectl rollout status` are started together before it and watched to
# their exits (kubectl once the update is applied; a second kubectl started
# together with homelab shows what happens when the wait begins before the
# update lands). The fake records when the rollout finished (by kubectl's own
# rule: `rollout_complete`; with no old pod left: `pods_settled`) and when
# the first CrashLoopBackOff became visible (`first_crashloop`); the script
# subtracts those marks from each client's exit time (same machine, same
# wall clock).
#
#   bench/deploy.sh [RUNS]     (default 5; needs build/homelab, kubectl, python3)
#
# Prints one line per run and a summary (median and worst) per measure.
# kubectl rollout status has no notion of a crash loop: it waits for its
# progress deadline (600 s by default); it is capped here at $CAP seconds.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOMELAB=${HOMELAB:-$ROOT/build/homelab}
KUBECTL=${KUBECTL:-kubectl}
RUNS=${1:-5}
CAP=${CAP:-30}
SHA=3f9c2e1a7b4d5e6f708192a3b4c5d6e7f8091a2b

W=$(mktemp -d "${TMPDIR:-/tmp}/homelab-bench.XXXXXX")
FAKE=""
cleanup() {
    [ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
"$ROOT/tests/fakes/mkcerts.sh" "$W/certs"
export HOME="$W/home"
mkdir -p "$HOME"

now() { python3 -c 'import time; print("%.3f" % time.time())'; }

scenario() { # NAME BEHAVIOUR
    cat > "$W/$1.json" <<EOF
{"old_sha": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "new_sha": "$SHA",
 "workloads": [{"kind": "Deployment", "namespace": "apps", "name": "web", "replicas": 3,
                "containers": [{"name": "web", "image": "registry.lan:5000/web:sha-0a1b2c3"}]}],
 "timeline": [{"at": 1, "action": "set_image", "target": "apps/web", "sha": "$SHA",
               "behaviour": "$2"}]}
EOF
}

start_fake() { # SCENARIO
    rm -f "$W/port"
    python3 "$ROOT/tests/fakes/kube.py" --cert "$W/certs/local.pem" --key "$W/certs/local.key" \
        --ca "$W/certs/ca.pem" --scenario "$1" --port-file "$W/port" \
        --kubeconfig "$W/kubeconfig" 2>"$W/fake.log" &
    FAKE=$!
    i=0
    while [ ! -s "$W/port" ]; do
        i=$((i + 1)); [ $i -gt 200 ] && { cat "$W/fake.log" >&2; exit 1; }
        sleep 0.05
    done
    PORT=$(cat "$W/port")
    export KUBECONFIG="$W/kubeconfig"
}

stop_fake() { kill "$FAKE" 2>/dev/null; wait "$FAKE" 2>/dev/null; FAKE=""; }

mark() { # NAME: a rollout mark from the fake's state, or "-"
    curl -s --cacert "$W/certs/ca.pem" "https://127.0.0.1:$PORT/__fake/state" |
        python3 -c 'import json,sys; m=json.load(sys.stdin)["workloads"][0]["marks"]; print("%.3f" % m[sys.argv[1]] if sys.argv[1] in m else "-")' "$1"
}

# Runs the clients against the running fake; sets HL_END, HL_RC, KC_END,
# KC_RC (kubectl started once the update is applied, as a CI job that runs
# `kubectl apply` then `kubectl rollout status` would), EARLY_RC, EARLY_END
# (kubectl started with homelab, before the update lands).
race() {
    ( "$HOMELAB" deploy wait apps/web --sha "$SHA" --timeout 2m >"$W/hl.out" 2>"$W/hl.err"
      echo "$? $(now)" > "$W/hl.end" ) &
    hl=$!
    ( timeout "$CAP" "$KUBECTL" rollout status deployment/web -n apps >"$W/early.out" 2>&1
      echo "$? $(now)" > "$W/early.end" ) &
    early=$!
    while [ "$(mark requested)" = "-" ]; do sleep 0.05; done
    ( timeout "$CAP" "$KUBECTL" rollout status deployment/web -n apps >"$W/kc.out" 2>"$W/kc.err"
      echo "$? $(now)" > "$W/kc.end" ) &
    kc=$!
    wait $hl $kc $early
    read -r HL_RC HL_END < "$W/hl.end"
    read -r KC_RC KC_END < "$W/kc.end"
    read -r EARLY_RC EARLY_END < "$W/early.end"
}

diff_s() { python3 -c 'import sys; a,b=sys.argv[1:]; print("-" if "-" in (a,b) else "%.2f" % (float(a)-float(b)))' "$1" "$2"; }

summary() { # LABEL FILE
    python3 - "$1" "$2" <<'EOF'
import sys, statistics
label, path = sys.argv[1:]
words = open(path).read().split()
capped = any(x.startswith(">") for x in words)
v = [float(x.lstrip(">")) for x in words if x != "-"]
if v:
    print("  %-58s median %s%6.2f s  worst %s%6.2f s  (%d runs)" % (label, ">" if capped else " ",
          statistics.median(v), ">" if capped else " ", max(v), len(v)))
EOF
}

scenario rollout ok
scenario crash crashloop
: > "$W/early_complete"; : > "$W/hl_settled"; : > "$W/hl_complete"; : > "$W/kc_complete"; : > "$W/hl_crash"; : > "$W/kc_crash"

echo "# rollout: 3 replicas, image update at t=1 s, every new pod healthy"
for r in $(seq 1 "$RUNS"); do
    start_fake "$W/rollout.json"
    race
    complete=$(mark rollout_complete); settled=$(mark pods_settled)
    stop_fake
    a=$(diff_s "$HL_END" "$settled"); b=$(diff_s "$HL_END" "$complete"); c=$(diff_s "$KC_END" "$complete")
    d=$(diff_s "$EARLY_END" "$complete")
    echo "$a" >> "$W/hl_settled"; echo "$b" >> "$W/hl_complete"; echo "$c" >> "$W/kc_complete"
    echo "$d" >> "$W/early_complete"
    echo "run $r: homelab rc=$HL_RC exit-settled=${a}s exit-complete=${b}s | kubectl rc=$KC_RC exit-complete=${c}s | kubectl started early: rc=$EARLY_RC exit-complete=${d}s"
done

echo "# crash loop: the new pods crash; kubectl capped at ${CAP} s (exit 124 = cap reached)"
for r in $(seq 1 "$RUNS"); do
    start_fake "$W/crash.json"
    race
    crash=$(mark first_crashloop)
    stop_fake
    a=$(diff_s "$HL_END" "$crash"); c=$(diff_s "$KC_END" "$crash")
    [ "$KC_RC" = 124 ] && c=">$c"
    echo "$a" >> "$W/hl_crash"; echo "$c" >> "$W/kc_crash"
    echo "run $r: homelab rc=$HL_RC exit-first-crashloop=${a}s | kubectl rc=$KC_RC exit-first-crashloop=${c}s"
done

echo "# summary"
summary "homelab: rollout settled (no old pod left) -> exit" "$W/hl_settled"
summary "homelab: kubectl's completion mark -> exit" "$W/hl_complete"
summary "kubectl rollout status: completion mark -> exit" "$W/kc_complete"
summary "kubectl rollout status started before the update -> exit (rc 0)" "$W/early_complete"
summary "homelab: first CrashLoopBackOff -> exit (code 1)" "$W/hl_crash"
summary "kubectl rollout status: first CrashLoopBackOff -> exit (capped)" "$W/kc_crash"
