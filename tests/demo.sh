#!/bin/sh
# make demo: homelab end to end against the bundled fakes, in under a minute.
# Everything runs in a temporary directory on loopback; nothing is left behind.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
. "$ROOT/tests/lib.sh"
HL="$ROOT/build/homelab"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
show() { say "$*"; "$@"; echo "(exit $?)"; }

start_woodpecker "$ROOT/tests/data/woodpecker/basic.json"
git init -q "$T/web" && cd "$T/web"
git commit -q --allow-empty -m "Add health endpoint"
git remote add origin git@forge.homelab.test:acme/web.git
wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$(git rev-parse HEAD)\",\"branch\":\"main\",\"template\":\"success\",\"message\":\"Add health endpoint\"}" >/dev/null

echo "A clone of acme/web; its HEAD was just pushed. Woodpecker (fake) is at"
echo "$WOODPECKER_SERVER, reached through ci.dial $HOMELAB_WP_IP with a test CA."
show "$HL" ci list --limit 5
show "$HL" ci status
show "$HL" ci watch
show "$HL" ci status '#60'
show "$HL" ci watch '#60' --log-lines 8
say "$HL" ci status --json '#64'
"$HL" ci status --json '#64' | python3 -m json.tool | head -20
