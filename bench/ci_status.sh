#!/bin/sh
# `homelab ci status` against the fake Woodpecker on loopback: wall time and
# peak RSS of the whole command, then where the time goes.
#
#   bench/ci_status.sh [RUNS]      (default 20; HOMELAB=binary, default build/homelab)
#
# The command runs inside a real git repository whose remote names acme/web
# and whose HEAD has a pipeline (created through /__fake/pipelines), so each
# run does what a user's does: git for the commit and the remote, TLS to the
# server through ci.dial, the repo lookup, the pipeline list, the detail.
#
# Wall time is measured by bench/runs.c (fork, exec, wait4; /usr/bin/time's
# %e has 10 ms steps, too coarse here); the same runs are then repeated under
# `/usr/bin/time -f '%e %M'` for its view of peak RSS. Everything is a median
# of RUNS. A benchmark, not a test: it prints numbers and exits 0.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
RUNS=${1:-20}
: "${HOMELAB:=$ROOT/build/homelab}"
[ -x "$HOMELAB" ] || { echo "no $HOMELAB: run make first" >&2; exit 2; }
HOMELAB=$(cd "$(dirname "$HOMELAB")" && pwd)/$(basename "$HOMELAB") # runs happen elsewhere
[ -x /usr/bin/time ] || "$ROOT/scripts/bootstrap"
export HOMELAB
. "$ROOT/tests/lib.sh"
trap 'exit 130' INT TERM HUP PIPE # so that lib.sh's EXIT trap stops the fakes

load() { cut -d' ' -f1-3 /proc/loadavg; }

# measure RUNS CMD...: "median min max" wall ms, then the median peak RSS (KB).
cc -O2 -o "$T/runs" "$ROOT/bench/runs.c" || exit 1
measure() { "$T/runs" "$@"; }

start_woodpecker "$ROOT/tests/data/woodpecker/basic.json" || exit 1
git init -q "$T/repo" && git -C "$T/repo" commit -q --allow-empty -m "bench commit" &&
    git -C "$T/repo" remote add origin "git@forge.homelab.test:acme/web.git"
HEAD_SHA=$(git -C "$T/repo" rev-parse HEAD)
wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$HEAD_SHA\",\"branch\":\"main\",\"template\":\"success\",\"message\":\"bench\"}" >/dev/null
cd "$T/repo" || exit 1
"$HOMELAB" ci status >/dev/null || { echo "ci status failed" >&2; "$HOMELAB" ci status; exit 1; }
for _ in 1 2 3; do "$HOMELAB" ci status >/dev/null; done # warm caches

echo "homelab ci status, $RUNS runs, $(nproc) cores; load average before: $(load)"
set -- $(measure "$RUNS" "$HOMELAB" ci status)
printf '  wall       median %.1f ms (min %.1f, max %.1f)\n' "$1" "$2" "$3"
echo "$4" | awk '{printf "  peak RSS   median %.1f MB (%d KB)\n", $1 / 1024, $1}'
: > "$T/time"
i=0
while [ "$i" -lt "$RUNS" ]; do
    /usr/bin/time -a -o "$T/time" -f '%e %M' "$HOMELAB" ci status >/dev/null
    i=$((i + 1))
done
python3 - "$T/time" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print("  /usr/bin/time -f '%%e %%M': median %.3f s, %d KB" % (
    statistics.median(float(r[0]) for r in rows), statistics.median(int(r[1]) for r in rows)))
EOF
echo "  load average after: $(load)"

echo "where the time goes (medians of $RUNS):"
# Process start: a bare C program, one linked to libcurl (nothing called),
# and homelab itself doing nothing (`version`).
echo 'int main(void) { return 0; }' > "$T/bare.c"
cc -O2 -o "$T/bare" "$T/bare.c" &&
    cc -O2 -o "$T/curl-linked" "$T/bare.c" -Wl,--no-as-needed -lcurl
set -- $(measure "$RUNS" "$T/bare"); bare="$1 ms, $4 KB"
set -- $(measure "$RUNS" "$T/curl-linked"); linked="$1 ms, $4 KB"
echo "  process start: bare C $bare; linked to libcurl ($(ldd "$T/curl-linked" | grep -c '=>') libraries) $linked"
set -- $(measure "$RUNS" "$HOMELAB" version)
echo "  homelab version (start + exit, no work): $1 ms, $4 KB"
set -- $(measure "$RUNS" git rev-parse --verify --quiet --end-of-options 'HEAD^{commit}'); a=$1
set -- $(measure "$RUNS" git remote -v); b=$1
set -- $(measure "$RUNS" git remote); c=$1
set -- $(measure "$RUNS" git remote get-url -- origin); d=$1
echo "  git: rev-parse $a ms, remote -v $b ms (before: remote $c ms + remote get-url $d ms)"

# The fake's side, seen by curl: a new TLS connection, then the three
# requests `ci status` makes, over one kept-alive connection.
PORT=${HOMELAB_WP_IP#*:}
base=https://ci.homelab.test/api/repos
num=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["pipelines"][-1]["number"])' \
      <<EOF
$(wp_ctl GET /__fake/state)
EOF
)
i=0
: > "$T/curl"
while [ "$i" -lt "$RUNS" ]; do
    curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null --cacert "$CERTS/ca.pem" \
        --connect-to "ci.homelab.test:443:127.0.0.1:$PORT" -H "Authorization: Bearer $TOKEN" \
        -w '%{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total} %{size_download}\n' \
        "$base/lookup/acme/web" "$base/7/pipelines?page=1&perPage=10" "$base/7/pipelines/$num" \
        "$base/7/pipelines?page=1&perPage=50" >> "$T/curl"
    i=$((i + 1))
done
python3 - "$T/curl" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
first = rows[0::4]
med = lambda xs: statistics.median(xs) * 1000
print("  fake (curl): TCP connect %.2f ms, TLS handshake %.2f ms" % (
    med([r[0] for r in first]), med([r[1] - r[0] for r in first])))
names = ["lookup", "list of 10", "detail", "list of 50"]
parts = []
for k, name in enumerate(names):
    rs = rows[k::4]
    t = [r[3] - (r[1] if k == 0 else 0) for r in rs]
    parts.append("%s %.2f ms (%d B)" % (name, med(t), statistics.median(r[4] for r in rs)))
print("  fake (curl), one request each on the open connection: " + ", ".join(parts))
EOF
# homelab's own view of each request (the first one includes its TLS set-up).
"$HOMELAB" ci status --verbose 2>&1 >/dev/null | sed -n 's/^homelab: < /  homelab --verbose: /p'
echo "load average at the end: $(load)"
if command -v valgrind >/dev/null; then
    for cmd in version "ci status"; do
        # shellcheck disable=SC2086
        n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$HOMELAB" $cmd 2>&1 >/dev/null |
            sed -n 's/.*refs: *//p')
        echo "instructions (callgrind, this process only): homelab $cmd: $n"
    done
fi
exit 0
