#!/bin/sh
# make demo: the whole story on the bundled fakes, in under a minute.
#   1. look around: ci list, ci status, doctor;
#   2. start a topic, commit, `work land --deploy`: verification, push, CI
#      watched (the fake Woodpecker is told by the remote's post-receive hook),
#      the deployment waited for (the same hook rolls the fake cluster);
#   3. a failing variant: CI fails, the failing step's log tail, exit 1;
#   4. the repository declares ship stages in .homelab (build, deploy
#      pipeline, rollout): `work land` follows the landed commit to live, a
#      failed build stops it, `ship status` shows where a commit stands.
# Everything runs in a temporary directory on loopback; nothing is left behind.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
. "$ROOT/tests/lib.sh"
export PATH="$ROOT/build:$PATH" USER=demo HOMELAB_REPO=acme/web
# The verify step runs `make check` as the user would type it, not as a
# sub-make of `make demo` (which would print make[1]: Entering directory).
unset MAKELEVEL MAKEFLAGS MFLAGS

say() { printf '\n$ %s\n' "$*" >&2; }
show() { say "$*"; "$@"; printf '(exit %s)\n' "$?" >&2; }

start_woodpecker "$ROOT/tests/data/woodpecker/basic.json" || exit 1
start_kube "$ROOT/tests/data/git/kube-web.json" || exit 1
export CERTS WP_PORT KUBE_PORT HOOK_CI_TEMPLATE_FILE="$T/ci-template"

# A bare remote playing the forge, with a hook playing its webhooks (CI and CD).
git init -q --bare -b main "$T/web.git"
cp "$ROOT/tests/data/git/post-receive" "$T/web.git/hooks/post-receive"
git init -q -b main "$T/seed" && cd "$T/seed"
printf 'check:\n\t@echo "all 12 tests passed"\n' > Makefile
git add Makefile && git commit -q -m "Initial commit" && git push -q "$T/web.git" HEAD:main
git clone -q "$T/web.git" "$T/web" && cd "$T/web"

echo "A clone of acme/web. Woodpecker (fake) is $WOODPECKER_SERVER, reached through" >&2
echo "ci.dial $HOMELAB_WP_IP with a test CA; the cluster (fake) through kubectl." >&2
show homelab ci list --limit 5
show homelab ci status '#60'
show homelab doctor

say 'cd "$(homelab work start health-endpoint)"'
W=$(homelab work start health-endpoint) && cd "$W" && echo "$W" >&2
say "git commit -m 'Add health endpoint'"
echo ok > health && git add health && git commit -q -m "Add health endpoint"
show homelab work land --deploy apps/web --timeout 60s

say "# and when CI fails:"
echo failure > "$HOOK_CI_TEMPLATE_FILE"
cd "$T/web"
W=$(homelab work start login-fix) && cd "$W"
echo fix > login && git add login && git commit -q -m "Fix login redirect"
show homelab work land --deploy apps/web --timeout 60s

say "# a repository that declares its way to live in .homelab:"
echo success > "$HOOK_CI_TEMPLATE_FILE"
# From here the cluster is rolled by the deploy pipeline, not by the push hook:
# the build's deploy job starts a manual Woodpecker pipeline with
# IMAGE_TAG=<sha8> (tests/fakes/reactions.py), which sets the image.
KP=$KUBE_PORT
unset KUBE_PORT
wp_fleet_reactions "$KP"
cd "$T/web" && git checkout -q main && git pull -q
W=$(homelab work start ship-stages) && cd "$W"
fleet_stages woodpecker > .homelab
cat .homelab >&2
git add .homelab && git commit -q -m "Declare the ship stages"
show homelab work land --timeout 90s

say "# and when the build fails:"
echo failure > "$HOOK_CI_TEMPLATE_FILE"
cd "$T/web" && git pull -q
W=$(homelab work start broken-build) && cd "$W"
echo broken > broken && git add broken && git commit -q -m "Break the build"
show homelab work land --timeout 90s
show homelab ship status
