#!/bin/sh
# ship watch end to end on the fakes: how long after the rollout completes
# does `ship watch` exit, and how many requests a minute each stage costs.
#
# Each run lands a commit the way the fleet does, on loopback: a build
# pipeline for the commit on the fake Woodpecker (control API; it succeeds
# ~1 s after it starts), whose "deploy job" POSTs a manual pipeline with
# IMAGE_TAG=<sha8> through Woodpecker's API, whose "kubectl set image" rolls
# the fake cluster (tests/fakes/reactions.py, tests/lib.sh
# wp_fleet_reactions). `ship watch SHA --json` is started before the build
# pipeline exists. Measured:
#   - rollout complete -> exit: the fake cluster's `pods_settled` mark (no old
#     pod left: what `deploy wait` waits for) to the moment ship watch exited;
#   - requests per minute per stage, on one slow run (a 20 s build, a deploy
#     pipeline appearing 15 s after it): the fake Woodpecker's request log (build
#     and deploy stages) and the fake Kubernetes API's (live stage: kubectl's
#     list and watch requests) between the stage's start and end as the
#     result line reports them.
#
#   bench/ship.sh [RUNS]     (default 5; needs build/homelab, kubectl, python3)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
RUNS=${1:-5}
. "$ROOT/tests/lib.sh"
HOMELAB=${HOMELAB:-$ROOT/build/homelab}

now() { python3 -c 'import time; print("%.3f" % time.time())'; }

start_woodpecker "$ROOT/tests/data/woodpecker/ship.json" >/dev/null || exit 1
git init -q "$T/repo" && cd "$T/repo" && git commit -q --allow-empty -m first
fleet_stages woodpecker >.homelab

: >"$T/results"
# one_run SLOW: SLOW=0 the fleet chain at template speed (the latency runs);
# SLOW=1 a build that runs 20 s and a deploy pipeline that appears 15 s after
# it, so the rates are those of a stage's steady state, not of its start.
one_run() {
    SHA=$(python3 -c 'import os; print(os.urandom(20).hex())')
    start_kube "$ROOT/tests/data/git/kube-web.json" >/dev/null || exit 1
    kpid=${FAKE_PIDS##* }
    if [ "$1" = 1 ]; then  # no deploy job: the test starts the deploy pipeline late
        wp_ctl POST /__fake/reactions "{\"rules\":[$(fleet_kubectl "$KUBE_PORT")]}" >/dev/null
    else
        wp_fleet_reactions "$KUBE_PORT"
    fi
    : >"$T/kube.requests"
    ( "$HOMELAB" ship watch "$SHA" --json --timeout 2m >"$T/out" 2>"$T/err"
      echo "$? $(now)" >"$T/end" ) &
    watcher=$!
    sleep 0.5
    if [ "$1" = 1 ]; then
        wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$SHA\",\"event\":\"push\",\"workflows\":[{\"name\":\"build\",\"steps\":[{\"name\":\"test\",\"start\":0.1,\"end\":20,\"result\":\"success\"}]}]}" >/dev/null
        wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"9999999fffffffffffffffffffffffffffffffff\",\"event\":\"manual\",\"template\":\"deploy\",\"delay\":35,\"variables\":{\"IMAGE_TAG\":\"$(printf '%.8s' "$SHA")\"}}" >/dev/null
    else
        wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$SHA\",\"event\":\"push\",\"template\":\"success\"}" >/dev/null
    fi
    wait "$watcher"
    settled=$(curl -s --cacert "$CERTS/ca.pem" "https://127.0.0.1:$KUBE_PORT/__fake/state" |
        python3 -c 'import json,sys; w=[w for w in json.load(sys.stdin)["workloads"] if w["name"]=="web"][0]; print(w["marks"].get("pods_settled","-"))')
    python3 - "$T/out" "$T/end" "$settled" "$T/wp.requests" "$T/kube.requests" "$1" >>"$T/results" <<'PY'
import json, sys, datetime
out, endf, settled, wplog, kubelog = sys.argv[1:6]
rc, end = open(endf).read().split()
res = json.loads(open(out).read().splitlines()[-1])
def ts(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
def reqs(path):
    try: return [json.loads(l) for l in open(path)]
    except OSError: return []
wp, kube = reqs(wplog), reqs(kubelog)
row = {"slow": sys.argv[6] == "1", "rc": int(rc), "exit_after_settled": float(end) - float(settled) if settled != "-" else None}
for st in res["stages"]:
    a, b = ts(st["start"]), ts(st["end"])
    log = kube if st["stage"] == "live" else wp
    n = len([r for r in log if a <= r.get("time", 0) <= b])
    row[st["stage"]] = {"seconds": b - a, "requests": n, "per_min": n * 60 / max(b - a, 1e-3)}
print(json.dumps(row))
PY
    tail -1 "$T/results" >&2
    kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null
}

run=0
while [ $run -lt "$RUNS" ]; do
    run=$((run + 1))
    one_run 0
done
one_run 1

python3 - "$T/results" <<'PY'
import json, sys, statistics
allrows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in allrows if not r["slow"]]
slow = [r for r in allrows if r["slow"]]
def line(label, xs, unit):
    xs = [x for x in xs if x is not None]
    if xs:
        print("%-44s median %7.2f %s  worst %7.2f %s  (%d runs)" % (label, statistics.median(xs), unit, max(xs), unit, len(xs)))
print("exit codes:", [r["rc"] for r in rows])
line("rollout settled (no old pod left) -> exit", [r["exit_after_settled"] for r in rows], "s")
line("rollout settled -> exit (slow run)", [r["exit_after_settled"] for r in slow], "s")
for st in ("build", "deploy", "live"):
    for r in slow:
        print("%-44s %7.1f /min  (%d requests in %.1f s; slow run)" % (
            "stage %s: requests per minute" % st, r[st]["per_min"], r[st]["requests"], r[st]["seconds"]))
PY
