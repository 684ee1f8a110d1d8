# The repository file .homelab: read by every verb that reads configuration,
# the user's file winning key by key, and untrusted: each key that could send
# a token elsewhere or run a program is refused (exit 2, naming the key and
# the file) before any request is made or any program is run. "No request"
# is the fake Woodpecker's request log; "no program" is a git on PATH and a
# kubectl that record each run.
. "$(dirname "$0")/../lib.sh"

start_woodpecker "$ROOT/tests/data/woodpecker/basic.json"

git init -q "$T/repo" && git -C "$T/repo" commit -q --allow-empty -m first &&
    git -C "$T/repo" remote add origin "git@forge.homelab.test:acme/web.git"
mkdir -p "$T/repo/sub/dir"

# A git and a kubectl that log their runs, then do the real thing (or nothing).
mkdir -p "$T/bin"
REAL_GIT=$(command -v git)
printf '#!/bin/sh\necho "git $*" >>"%s"\nexec "%s" "$@"\n' "$T/children" "$REAL_GIT" >"$T/bin/git"
printf '#!/bin/sh\necho "kubectl $*" >>"%s"\nexit 1\n' "$T/children" >"$T/bin/kubectl"
chmod +x "$T/bin/git" "$T/bin/kubectl"
export PATH="$T/bin:$PATH" HOMELAB_KUBECTL="$T/bin/kubectl"

requests() { wp_ctl GET /__fake/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
reset_logs() { wp_ctl DELETE /__fake/requests >/dev/null; : >"$T/children"; }

cd "$T/repo/sub/dir"

# ---- allowed keys are read, from any directory of the work tree ----
cat >"$T/repo/.homelab" <<'INI'
[ci]
    repo = acme/web
[ship]
    stages = live
[stage "live"]
    workload = apps/web
INI
reset_logs
HOMELAB_REPO= hl ci status '#60'
expect_rc 0 "ci status reads ci.repo from .homelab"
check "it looked up the repo named there" grep -q acme/web "$T/wp.requests"

# The user's file wins key by key.
printf '[ci]\nrepo = acme/public-site\n' >"$T/user-config"
reset_logs
HOMELAB_CONFIG="$T/user-config" hl ci list --limit 1
expect_rc 0 "ci list with both files"
check "the user's ci.repo wins" sh -c "wp_log=\$(cat '$T/wp.requests'); case \"\$wp_log\" in *public-site*) exit 0;; esac; exit 1"

# ---- refused keys: exit 2 before any request or child process ----
refused_case() { # SECTION KEYLINE KEY VERB...
    section=$1 keyline=$2 key=$3; shift 3
    printf '[ship]\nstages = live\n[%s]\n    %s\n' "$section" "$keyline" >"$T/repo/.homelab"
    reset_logs
    hl "$@"
    expect_rc 2 "$key in .homelab is refused ($*)"
    expect_err_contains "'$key'" "the message names $key"
    expect_err_contains "$T/repo/.homelab" "and the file"
    check "no request reached the server ($key, $1)" [ "$(requests)" -eq 0 ]
    check "no program ran ($key, $1)" [ ! -s "$T/children" ]
}
refused_case ci "server = https://evil.example" ci.server ci status
refused_case ci "dial = 127.0.0.1:$WP_PORT" ci.dial ci status
refused_case ci "cacert = /tmp/evil.pem" ci.cacert ci watch
refused_case ci "token = stolen" ci.token ci list
refused_case ci "remote = evil" ci.remote ci status
refused_case vault "path = secret/evil" vault.path ci status
refused_case vault "field = other" vault.field ci logs
refused_case deploy "kubectl = /bin/true" deploy.kubectl deploy status apps/web
refused_case deploy "context = prod" deploy.context deploy wait apps/web
refused_case github "dial = 127.0.0.1:1" github.dial ci status
refused_case github "api = https://evil.example" github.api ci status
refused_case github "token = stolen" github.token ci status
refused_case work "branch-prefix = x/" work.branch-prefix work land
refused_case ci "servr = typo" ci.servr ci status
refused_case 'stage "live"' "kubectl = /bin/true" stage.live.kubectl ship status
refused_case ship "timeout = 1h" ship.timeout ship watch
refused_case ci "server = https://evil.example" ci.server doctor

# A symbolic link or a FIFO is not a repository file to trust.
rm -f "$T/repo/.homelab"
ln -s "$T/user-config" "$T/repo/.homelab"
reset_logs
hl ci status
expect_rc 2 "a .homelab that is a symbolic link is refused"
check "no request for a symlinked .homelab" [ "$(requests)" -eq 0 ]
rm -f "$T/repo/.homelab"
mkfifo "$T/repo/.homelab"
reset_logs
hl ci status
expect_rc 2 "a .homelab that is a FIFO is refused, without blocking"
rm -f "$T/repo/.homelab"

finish
