#!/bin/sh
# Following one GitHub Actions run: rate-limit units per minute and detection
# latency, Debian's `gh run watch` side by side with homelab, both against
# the fake GitHub API (tests/fakes/github.py) in the same run.
#
#   bench/github_watch.sh [RUNS]   (default 5; WINDOW=seconds per rate window,
#                                   default 60; HOMELAB=binary, default build/homelab;
#                                   HL_WATCH="command words" overrides how homelab
#                                   watches, given the commit SHA as last argument;
#                                   HL_TARGET=commit|id, default commit: homelab
#                                   is given the commit, or '#ID', the run's id
#                                   as gh is;
#                                   RUN_UPDATED_AT=step|status, default step: the
#                                   fake's reading of when a run's updated_at, so
#                                   the runs list's ETag, changes -- with every
#                                   step, or only with the run's status; the
#                                   reference does not say which GitHub does)
#
# 1. Units per minute while nothing changes: a run that stays in_progress
#    (advance: manual) is watched by both clients for WINDOW seconds; the
#    fake's request log gives each request's `rate_cost` (1, or 0 for a 304
#    with a valid token); they are summed per client (User-Agent) and scaled
#    to a minute.
# 2. Units per minute while the run moves: the same, but the script advances
#    the run one step every 5 s (a run that never ends).
# 3. Detection latency, RUNS times: a fresh run is created, both clients start
#    watching it, 2 to 5 s later it is advanced to completion; latency = the
#    moment each client exits (bench/runs.c -e) minus the fake's
#    `completed_wall` for the run.
#
# gh needs the run id, homelab the commit (or, HL_TARGET=id, '#ID' too); gh
# polls every 3 s (its default).
# Without a homelab that has the GitHub provider, only gh is measured and the
# script says so. A benchmark, not a test: it prints numbers and exits 0.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
RUNS=${1:-5}
WINDOW=${WINDOW:-60}
: "${HOMELAB:=$ROOT/build/homelab}"
. "$ROOT/tests/lib.sh"
trap 'exit 130' INT TERM HUP PIPE # so that lib.sh's EXIT trap stops the fakes
command -v gh >/dev/null 2>&1 || { echo "gh is not installed (scripts/bootstrap)" >&2; exit 2; }
cc -O2 -o "$T/runs" "$ROOT/bench/runs.c" || exit 1
load() { cut -d' ' -f1-3 /proc/loadavg; }

RUN_UPDATED_AT=${RUN_UPDATED_AT:-step}
HL_TARGET=${HL_TARGET:-commit}
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["run_updated_at"] = sys.argv[2]
json.dump(d, open(sys.argv[3], "w"))' "$ROOT/tests/data/github/actions.json" "$RUN_UPDATED_AT" \
    "$T/scenario.json" || exit 1
start_github "$T/scenario.json" || exit 1
echo "# run_updated_at: $RUN_UPDATED_AT; homelab watches by: $HL_TARGET"
gh_cli_env
R=api.github.test/acme/web

HL=""
if [ -n "${HL_WATCH:-}" ]; then
    HL=$HL_WATCH
elif [ -x "$HOMELAB" ] && "$HOMELAB" ci watch --help 2>&1 | grep -q -- "--provider"; then
    HL="$HOMELAB ci watch --provider github"
fi
[ -z "$HL" ] && echo "# homelab: not measured (no GitHub provider in $HOMELAB; set HL_WATCH)"
# homelab reaches the log host (and, with HTTPS_PROXY set, everything) through
# the fake's proxy; the API also through HOMELAB_GITHUB_DIAL from start_github.

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
fresh_sha() { od -An -N20 -tx1 /dev/urandom | tr -d ' \n'; }
new_run() { # SHA [STEPS] -> run id; a run that moves only when told to, STEPS steps (default 4)
    gh_ctl POST /__fake/runs "$(python3 -c 'import json,sys; n=int(sys.argv[2]); print(json.dumps({
        "workflow": "CI", "head_sha": sys.argv[1], "advance": {"on": "manual"}, "ticks": 2,
        "jobs": [{"name": "build", "steps": ["Set up job"] + ["step %d" % i for i in range(1, n - 1)]
                  + ["Complete job"]}]}))' "$1" "${2:-4}")" | json 'd["id"]'
}
target() { # SHA ID -> what homelab is given
    if [ "$HL_TARGET" = id ]; then echo "#$2"; else echo "$1"; fi
}
seq_now() { gh_ctl GET /__fake/requests | json 'd[-1]["seq"] if d else 0'; }
# units SINCE_SEQ SECONDS: "gh_units homelab_units" per minute since SINCE_SEQ
units() {
    gh_ctl GET "/__fake/requests?since=$1" | python3 -c '
import json, sys
recs, secs = json.load(sys.stdin), float(sys.argv[1])
def per_min(pred):
    return sum(r["rate_cost"] for r in recs if r["host"] == "api" and pred(r["user_agent"])) * 60 / secs
def reqs(pred):
    return sum(1 for r in recs if r["host"] == "api" and pred(r["user_agent"])) * 60 / secs
gh = lambda ua: ua.startswith("GitHub CLI")
hl = lambda ua: ua.startswith("homelab")
print("%.1f %.1f %.1f %.1f" % (per_min(gh), reqs(gh), per_min(hl), reqs(hl)))' "$2"
}

# window LABEL MOVE: both clients watch a fresh run for WINDOW seconds
window() {
    sha=$(fresh_sha); id=$(new_run "$sha" 1000)      # never ends within the window
    gh run watch "$id" -R "$R" >/dev/null 2>&1 &
    ghp=$!
    hlp=""
    if [ -n "$HL" ]; then $HL "$(target "$sha" "$id")" >/dev/null 2>&1 & hlp=$!; fi
    sleep 5                                  # both started and past their first fetches
    s0=$(seq_now)
    t=0
    while [ "$t" -lt "$WINDOW" ]; do
        sleep 5; t=$((t + 5))
        [ "$2" = move ] && gh_ctl POST /__fake/advance "{\"run\":$id}" >/dev/null
    done
    set -- "$1" $(units "$s0" "$WINDOW")
    hlres="not measured"
    [ -n "$HL" ] && hlres="$4 units/min ($5 requests/min)"
    echo "$1: gh run watch $2 units/min ($3 requests/min); homelab $hlres"
    kill $ghp $hlp 2>/dev/null; wait $ghp $hlp 2>/dev/null
    gh_ctl POST /__fake/runs/"$id" '{"status":"completed","conclusion":"cancelled"}' >/dev/null
}

echo "# load before: $(load)"
window "unchanged run" still
window "run moving every 5 s" move

# latency: RUNS fresh runs; each client's exit time minus the run's completion
: > "$T/lat"
i=0
while [ "$i" -lt "$RUNS" ]; do
    sha=$(fresh_sha); id=$(new_run "$sha")
    "$T/runs" -e gh run watch "$id" -R "$R" > "$T/gh.exit" 2>/dev/null &
    ghp=$!
    hlp=""
    if [ -n "$HL" ]; then "$T/runs" -e $HL "$(target "$sha" "$id")" > "$T/hl.exit" 2>/dev/null & hlp=$!; fi
    sleep "$(od -An -N2 -tu2 /dev/urandom | awk '{printf "%.2f", 2 + 3 * $1 / 65535}')"
    done_at=$(gh_ctl POST /__fake/advance "{\"run\":$id,\"until\":\"completed\"}" | json 'd["runs"][0]["completed_wall"]')
    wait $ghp $hlp
    g=$(awk -v d="$done_at" '{printf "%.3f", $1 - d}' "$T/gh.exit")
    h=-; [ -n "$HL" ] && h=$(awk -v d="$done_at" '{printf "%.3f", $1 - d}' "$T/hl.exit")
    echo "$g $h" >> "$T/lat"
    i=$((i + 1))
done
python3 - "$T/lat" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for i, name in ((0, "gh run watch"), (1, "homelab")):
    v = sorted(float(r[i]) for r in rows if r[i] != "-")
    if v:
        print("detection latency %s: median %.2f s, min %.2f, max %.2f (n=%d)"
              % (name, statistics.median(v), v[0], v[-1], len(v)))
PY
echo "# load after: $(load)"
