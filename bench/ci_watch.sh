#!/bin/sh
# `homelab ci watch` against the fake Woodpecker: how soon it reports a
# verdict, and how many API requests it makes while it follows a pipeline.
#
#   bench/ci_watch.sh [RUNS]   (default 10; WINDOW=seconds for the request count,
#                               default 120; HOMELAB=binary, default build/homelab)
#
# Two fakes run side by side: one serves the event stream, the other refuses
# it (fault `refuse_stream`, 404), so the watch there polls. Both parts run
# on both at once, which keeps the whole benchmark near WINDOW + 1 minute.
#
# 1. Detection latency, RUNS times per mode: a pipeline for a fresh commit is
#    created through /__fake/pipelines with its last step ending at a random
#    moment 2 to 5 s later (so the watch's timers are met at every phase),
#    `ci watch SHA` is started at once, and the moment the process is reaped
#    (bench/runs.c -e, CLOCK_REALTIME) minus the fake's `terminal_at` (the
#    exact unix time the pipeline became `success`) is the latency.
# 2. Requests per minute: a pipeline that never ends (template `running`) is
#    watched; after a 5 s start the fake's request log is read for WINDOW
#    seconds and every API request that is not the event stream itself is
#    counted (refused stream attempts are counted: they are requests).
#
# A benchmark, not a test: it prints numbers and exits 0.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
RUNS=${1:-10}
WINDOW=${WINDOW:-120}
: "${HOMELAB:=$ROOT/build/homelab}"
[ -x "$HOMELAB" ] || { echo "no $HOMELAB: run make first" >&2; exit 2; }
HOMELAB=$(cd "$(dirname "$HOMELAB")" && pwd)/$(basename "$HOMELAB") # runs happen elsewhere
export HOMELAB
. "$ROOT/tests/lib.sh"
trap 'exit 130' INT TERM HUP PIPE # so that lib.sh's EXIT trap stops the fakes
cc -O2 -o "$T/runs" "$ROOT/bench/runs.c" || exit 1
load() { cut -d' ' -f1-3 /proc/loadavg; }

SCENARIO=$ROOT/tests/data/woodpecker/running-success.json
start_woodpecker "$SCENARIO" || exit 1
STREAM_PORT=$WP_PORT
start_woodpecker "$SCENARIO" || exit 1
POLL_PORT=$WP_PORT
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/stream/","kind":"refuse_stream"}]}' >/dev/null
export HOMELAB_REPO=acme/web

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fresh_sha() { od -An -N20 -tx1 /dev/urandom | tr -d ' \n'; }

# latency_runs PORT OUT: RUNS lines "exit_at terminal_at exit_code" in OUT.
latency_runs() {
    WP_PORT=$1
    out=$2
    export HOMELAB_WP_IP="127.0.0.1:$1"
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        sha=$(fresh_sha)
        end=$(od -An -N2 -tu2 /dev/urandom | awk '{printf "%.2f", 2 + 3 * $1 / 65535}')
        num=$(wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$sha\",
            \"branch\":\"main\",\"event\":\"push\",\"message\":\"bench\",\"workflows\":[{
            \"name\":\"build\",\"steps\":[{\"name\":\"clone\",\"start\":0.1,\"end\":0.3,
            \"result\":\"success\"},{\"name\":\"test\",\"start\":0.3,\"end\":$end,
            \"result\":\"success\"}]}]}" | json 'd["number"]')
        ended=$("$T/runs" -e "$HOMELAB" ci watch "$sha" --timeout 60s 2>>"$out.err")
        term=$(wp_ctl GET /__fake/state |
               json "[p['terminal_at'] for p in d['pipelines'] if p['number'] == $num][0]")
        echo "$ended $term" | awk '{print $1, $3, $2}' >> "$out"
        i=$((i + 1))
    done
}

# requests PORT OUT: the request log of WINDOW seconds of following in OUT.
requests() {
    WP_PORT=$1
    export HOMELAB_WP_IP="127.0.0.1:$1"
    sha=$(fresh_sha)
    wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$sha\",\"branch\":\"main\",
        \"event\":\"push\",\"message\":\"bench\",\"template\":\"running\"}" >/dev/null
    "$HOMELAB" ci watch "$sha" --timeout "$((WINDOW + 60))s" >/dev/null 2>"$2.err" &
    pid=$!
    sleep 5
    seq=$(wp_ctl GET /__fake/requests | json 'd[-1]["seq"] if d else 0')
    sleep "$WINDOW"
    wp_ctl GET "/__fake/requests?since=$seq" > "$2"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

echo "homelab ci watch, $RUNS runs per mode, $(nproc) cores; load average before: $(load)"
latency_runs "$STREAM_PORT" "$T/lat-stream" &
a=$!
latency_runs "$POLL_PORT" "$T/lat-poll" &
b=$!
wait "$a" "$b"
echo "  load average after the latency runs: $(load)"
requests "$STREAM_PORT" "$T/req-stream" &
a=$!
requests "$POLL_PORT" "$T/req-poll" &
b=$!
wait "$a" "$b"
echo "  load average after the request count: $(load)"

python3 - "$T" "$WINDOW" <<'EOF'
import json, statistics, sys
T, window = sys.argv[1], float(sys.argv[2])
for mode, label in (("stream", "event stream"), ("poll", "polling only (stream refused)")):
    rows = [l.split() for l in open("%s/lat-%s" % (T, mode)) if l.strip()]
    lat = sorted(float(r[0]) - float(r[1]) for r in rows if r[1] != "None")
    bad = [r for r in rows if r[2] != "0" or r[1] == "None"]
    print("detection latency, %s: median %.3f s, min %.3f, max %.3f (%d runs%s)" % (
        label, statistics.median(lat), lat[0], lat[-1], len(lat),
        ", %d did not end in success" % len(bad) if bad else ""))
    print("    each: " + " ".join("%.3f" % x for x in lat))
for mode, label in (("stream", "event stream"), ("poll", "polling only (stream refused)")):
    recs = json.load(open("%s/req-%s" % (T, mode)))
    kinds = {}
    for r in recs:
        if r["stream"]:
            continue
        path = r["path"].split("?")[0]
        kind = ("stream attempt" if path.startswith("/api/stream/") else
                "list" if path.endswith("/pipelines") else
                "detail" if "/pipelines/" in path else path)
        kinds[kind] = kinds.get(kind, 0) + 1
    n = sum(kinds.values())
    print("requests per minute while following, %s: %.1f (%d in %.0f s: %s)" % (
        label, n * 60 / window, n, window,
        ", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"))
EOF
echo "load average at the end: $(load)"
exit 0
