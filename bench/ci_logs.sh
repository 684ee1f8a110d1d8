#!/bin/sh
# ci logs end to end: a generated ~100 MB step log served by the fake
# Woodpecker (tests/data/woodpecker/biglog.json, pipeline #1, step
# build/build: 800,001 lines of 128 bytes), fetched over HTTPS, decoded,
# sanitized and written out.
#
#   bench/ci_logs.sh [RUNS]     (default 3; needs build/homelab, python3, curl,
#                                GNU time as /usr/bin/time)
#
# For each mode it prints wall time and peak RSS (/usr/bin/time -v) per run.
# `curl` fetching the same body to /dev/null comes first: the fake (Python,
# making the JSON on demand) sets a floor no client can beat. `idle` is
# homelab printing a 4-line log, i.e. the resident set of the binary,
# libcurl and OpenSSL before any log is read.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOMELAB=${HOMELAB:-$ROOT/build/homelab}
RUNS=${1:-3}

W=$(mktemp -d "${TMPDIR:-/tmp}/homelab-bench.XXXXXX")
FAKE=""
cleanup() {
    [ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
"$ROOT/tests/fakes/mkcerts.sh" "$W/certs" >/dev/null
export HOME="$W/home" HOMELAB_CONFIG="$W/no-config"
mkdir -p "$HOME"
unset WOODPECKER_TOKEN WP_TOKEN HOMELAB_MAX_LOG NO_COLOR

TOKEN=bench-token
python3 "$ROOT/tests/fakes/woodpecker.py" --cert "$W/certs/woodpecker.pem" \
    --key "$W/certs/woodpecker.key" --scenario "$ROOT/tests/data/woodpecker/biglog.json" \
    --port-file "$W/port" --token "$TOKEN" 2>"$W/fake.log" &
FAKE=$!
i=0
while [ ! -s "$W/port" ]; do
    i=$((i + 1)); [ $i -gt 200 ] && { cat "$W/fake.log" >&2; exit 1; }
    sleep 0.05
done
PORT=$(cat "$W/port")
export WOODPECKER_SERVER=https://ci.homelab.test HOMELAB_WP_IP="127.0.0.1:$PORT" \
       HOMELAB_CACERT="$W/certs/ca.pem" WOODPECKER_TOKEN="$TOKEN" HOMELAB_REPO=acme/web

# the step's id, for curl
STEP=$(curl -sS --cacert "$W/certs/ca.pem" --connect-to "ci.homelab.test:443:127.0.0.1:$PORT" \
    -H "Authorization: Bearer $TOKEN" https://ci.homelab.test/api/repos/7/pipelines/1 |
    python3 -c 'import json,sys; p=json.load(sys.stdin); print([s["id"] for w in p["workflows"] for s in w["children"] if s["name"]=="build"][0])')

measure() { # LABEL CMD...: one run under GNU time
    label=$1; shift
    /usr/bin/time -v "$@" >"$W/out" 2>"$W/time" || { echo "$label: failed"; cat "$W/time"; exit 1; }
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time")
    user=$(sed -n 's/.*User time (seconds): //p' "$W/time")
    sys=$(sed -n 's/.*System time (seconds): //p' "$W/time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time")
    out=$(wc -c < "$W/out")
    printf '%-22s wall %8s  cpu %5.2fs  peak RSS %5.1f MiB  out %6.1f MB\n' "$label" "$wall" \
        "$(echo "$user + $sys" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
        "$(echo "$out / 1000000" | bc -l)"
    echo "$label|$wall|$(echo "$user + $sys" | bc -l)|$rss" >> "$W/all"
}

BODY=$(curl -sS -o /dev/null -w '%{size_download}' --cacert "$W/certs/ca.pem" \
    --connect-to "ci.homelab.test:443:127.0.0.1:$PORT" -H "Authorization: Bearer $TOKEN" \
    "https://ci.homelab.test/api/repos/7/logs/1/$STEP")
echo "response body: $BODY bytes ($(echo "$BODY / 1048576" | bc) MiB of JSON)"
for r in $(seq "$RUNS"); do
    measure "curl (floor)" curl -sS --cacert "$W/certs/ca.pem" \
        --connect-to "ci.homelab.test:443:127.0.0.1:$PORT" -H "Authorization: Bearer $TOKEN" \
        "https://ci.homelab.test/api/repos/7/logs/1/$STEP"
    measure "idle (4-line log)" "$HOMELAB" ci logs '#1' --step build/clone
    measure "ci logs (pipe)" "$HOMELAB" ci logs '#1' --step build/build
    measure "ci logs --timestamps" "$HOMELAB" ci logs '#1' --step build/build --timestamps
    measure "ci logs --raw" "$HOMELAB" ci logs '#1' --step build/build --raw
    measure "ci logs --tail 1000" "$HOMELAB" ci logs '#1' --step build/build --tail 1000
done
echo "best of $RUNS (wall, cpu) and worst peak RSS:"
python3 - "$W/all" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    label, wall, cpu, rss = line.rstrip("\n").split("|")
    m, s = wall.split(":")
    rows.setdefault(label, []).append((int(m) * 60 + float(s), float(cpu), int(rss)))
for label, r in rows.items():
    print("%-22s wall %5.2fs  cpu %5.2fs  peak RSS %5.1f MiB"
          % (label, min(x[0] for x in r), min(x[1] for x in r), max(x[2] for x in r) / 1024))
EOF
