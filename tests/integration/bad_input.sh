# Bad input and outages as a new user meets them: tokens that could inject
# header lines, Vault on plain http to loopback, a malformed or dead
# --dial, unusable config files, a bare pipeline number, a pipeline that
# never appears, a server that goes away during a watch, doctor with
# nothing configured.
. "$(dirname "$0")/../lib.sh"
export HOMELAB_REPO=acme/web
D="$ROOT/tests/data/woodpecker"
start_woodpecker "$D/basic.json" || exit 1
requests() { wc -l < "$T/wp.requests"; }
# check_quick_give_up WHAT: the last `hl ... -v` planned at most 3 s of
# retries in all (-v prints "retrying in Ns" before each; 3 s is the first
# contact budget, core/http.h): a setting to fix is reported at once, not
# after the minute of retries of an outage. The client's own plan, not the
# wall clock, so a slow machine cannot fail it.
retries_within() { # SECONDS: the waits $err's "retrying in" lines add up to
    printf '%s\n' "$err" | awk -v max="$1" '/retrying in/ { sub(/.*retrying in /, ""); t += $1 }
        END { exit !(t <= max) }'
}
check_quick_give_up() {
    check "$1: gives up within the first-contact budget, not after a minute of retries" \
        retries_within 3
}

# ---- tokens ----
before=$(requests)
WOODPECKER_TOKEN=$(printf 'tok\r\nX-Evil: 1') hl ci status '#64'
expect_rc 2 "a token with CR/LF is refused"
expect_err_contains "the token from WOODPECKER_TOKEN holds a control character at byte 4" "says where, not what"
expect_err_lacks "X-Evil" "the token is not printed"
check "nothing was sent" [ "$(requests)" -eq "$before" ]
WP_TOKEN="tok en" WOODPECKER_TOKEN= hl ci status '#64'
expect_rc 2 "a token with a space is refused"
WOODPECKER_TOKEN="$(printf '\033[31m')$TOKEN" hl ci status '#64'
expect_rc 2 "a token with ESC is refused"
WOODPECKER_TOKEN="  $TOKEN
" hl ci status '#64'
expect_rc 0 "surrounding whitespace (a copied newline) is trimmed"
check "and the server got the bare token" python3 -c '
import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][-1]
assert r["authorization"]=="Bearer "+sys.argv[2], r' "$T/wp.requests" "$TOKEN"

# ---- Vault on plain http to loopback ----
unset WOODPECKER_TOKEN
start_vault 2 "$TOKEN
" --plain-http || exit 1
VPORT=$(cat "$T/vault.port")
VAULT_ADDR="http://127.0.0.1:$VPORT" hl ci status '#64'
expect_rc 0 "Vault at http://127.0.0.1 gives the token (trailing newline trimmed)"
VAULT_ADDR="http://localhost:$VPORT" hl ci status '#64'
expect_rc 0 "and at http://localhost"
VAULT_ADDR="http://10.255.255.1:8200" hl ci status '#64'
expect_err_contains "is plain http; homelab only talks https" "plain http elsewhere is refused, before any request"
VAULT_TOKEN=$(printf 'root\nX-Evil: 1') VAULT_ADDR="http://127.0.0.1:$VPORT" hl ci status '#64'
expect_rc 2 "a Vault token with a newline inside is refused"
expect_err_lacks "X-Evil" "and not printed"
export WOODPECKER_TOKEN="$TOKEN"

# ---- --dial ----
before=$(requests)
hl ci status '#64' --dial "http://127.0.0.1:$WP_PORT"
expect_rc 2 "--dial with a scheme is a usage error"
expect_err_contains "is not HOST[:PORT]" "naming the form"
check "found before any request" [ "$(requests)" -eq "$before" ]
hl ci status '#64' --dial "127.0.0.1:x"
expect_rc 2 "--dial with a bad port"
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hl ci status '#64' --dial "127.0.0.1:$DEAD" -v
expect_rc 6 "a refused connection on first contact"
expect_err_contains "cannot reach https://ci.homelab.test through ci.dial 127.0.0.1:$DEAD" "says what was tried"
check_quick_give_up "a refused first contact"

# ---- config files ----
mkdir "$T/confdir"
HOMELAB_CONFIG="$T/confdir" hl ci status '#64'
expect_rc 2 "a config path that is a directory"
expect_err_contains "config file $T/confdir is a directory" "names the file and why"
printf '[ci]\nserver = https://x\0\n' >"$T/binconf"
HOMELAB_CONFIG="$T/binconf" hl ci status '#64'
expect_rc 2 "a config file with NUL bytes"
expect_err_contains "is not a text file" "says why"
printf 'x' >"$T/plainfile"
HOMELAB_CONFIG="$T/plainfile/config" hl ci status '#64'
expect_rc 2 "a config path that cannot be opened (not missing)"
expect_err_contains "cannot read config file $T/plainfile/config" "says it cannot read it"
printf '[ci\nserver = https://x\n' >"$T/badconf"
HOMELAB_CONFIG="$T/badconf" hl ci status '#64'
expect_rc 2 "a config parse error"
expect_err_lacks "unknown key" "without a spurious unknown-key warning"

# ---- a bare number ----
git init -q "$T/repo" && git -C "$T/repo" commit -q --allow-empty -m one
cd "$T/repo"
hl ci status 60
expect_rc 2 "a bare number that is no revision"
expect_err_contains "did you mean pipeline #60? (quote it: '#60')" "suggests the quoted #N"
cd "$T"

# ---- no pipeline appears ----
hl ci watch abcdef1 --timeout 3s --json
expect_rc 3 "--timeout before a pipeline appeared"
expect_err_contains "no pipeline for abcdef1 appeared within 3s" "says nothing appeared, not a network error"
check "--json: status not-found" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1]); assert r["status"]=="not-found" and r["exit_code"]==3, r' "$out"
# the same when --timeout runs out while the repo is still being looked up
# (a slow server; a slow client): no pipeline was seen, and that is the news
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/repos/lookup/","kind":"stall","seconds":60}]}' >/dev/null
hl ci watch abcdef1 --timeout 2s --json
expect_rc 3 "--timeout during the repo lookup: 3"
expect_err_contains "no pipeline for abcdef1 appeared within 2s" "says nothing appeared, not that a request timed out"
check "--json: status not-found, with that error" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1])
assert r["status"]=="not-found" and r["exit_code"]==3 and "appeared within" in r["error"], r' "$out"
wp_ctl POST /__fake/faults '{"rules":[]}' >/dev/null

# ---- the server goes away during a watch ----
# (the outage starts after the first read of the repo's pipelines, however
# many requests a slow client needed to find the repo)
wp_ctl POST /__fake/pipelines '{"repo":"acme/web","commit":"cccccccccccccccccccccccccccccccccccccccc","branch":"main","template":"running"}' >/dev/null
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/stream","kind":"refuse_stream"},{"path":"^/api/repos/[0-9]+/pipelines","kind":"500","after":1}]}' >/dev/null
# (--timeout leaves a slow client, valgrind's on a busy machine, more than
# the 2 s an outage lasts before it is shown)
hl ci watch cccccccc --timeout 15s --json
expect_rc 6 "a wait ended by an outage exits 6"
expect_err_contains "server unreachable since" "the outage was shown while it lasted"
expect_err_contains "the server has been unreachable since" "the final message says since when"
check "--json: status unavailable" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1]); assert r["status"]=="unavailable" and r["exit_code"]==6, r' "$out"
wp_ctl POST /__fake/faults '{"rules":[]}' >/dev/null

# ---- small things ----
hl ci status '#64' --repo acme
expect_rc 2 "--repo without a slash is refused"
expect_err_contains "ci.repo 'acme' is not OWNER/NAME" "saying the form"
hl ci status '#64' --cacert "$T/no-such-ca.pem"
expect_rc 2 "a missing --cacert file"
expect_err_contains "cannot read the CA file $T/no-such-ca.pem" "says it cannot be read, not a TLS failure"
hl ci watch '#64' --timeout nan
expect_rc 2 "--timeout nan is refused"
expect_err_contains "from 1ms to 7 days" "stating the bounds"
hl ci watch '#64' --timeout 0
expect_rc 2 "--timeout 0 is refused (it meant 30m by accident)"
hl ci list --limit 99999999999999999999
expect_rc 2 "a 20-digit --limit"
expect_err_contains "from 0 to 1000000000" "states the bounds"
hl ci watch '#64'
check "plain mode: the pipeline's verdict line comes after its steps' lines" python3 -c '
import sys; l=[x for x in sys.argv[1].splitlines() if x.startswith("#64 ")]
assert l and l[-1]=="#64 success" and len(l)>1, l' "$err"
hl version --json
check "version --json prints JSON" python3 -c 'import json,sys; assert json.loads(sys.argv[1])["version"]' "$out"
hl help ci
expect_rc 0 "help ci"
expect_out_contains "ci watch" "lists the group's verbs"

# ---- the failure summary: a full-log hint that works as printed ----
cp "$CERTS/ca.pem" "$T/the ca's.pem"
mkdir "$T/elsewhere"
cd "$T/elsewhere"
HOMELAB_REPO= HOMELAB_WP_IP= HOMELAB_CACERT= hl ci watch '#62' --repo acme/web \
    --dial "127.0.0.1:$WP_PORT" --cacert "$T/the ca's.pem"
expect_rc 1 "a failed pipeline, repo, address and CA given as flags"
expect_err_contains "full log: homelab ci logs '#62' --step 'build/test' --dial 127.0.0.1:$WP_PORT --cacert '$T/the ca'\\''s.pem' --repo acme/web" \
    "the full-log hint keeps the flags, quoted for the shell"
hint=$(printf '%s\n' "$err" | sed -n 's/^full log: homelab //p')
eval "set -- $hint"
HOMELAB_REPO= HOMELAB_WP_IP= HOMELAB_CACERT= hl "$@"
expect_rc 0 "and works as printed, from where it was printed"
expect_out_contains "login_test.go:42" "showing the step's log"
cd "$T"
hl ci watch '#62'
expect_err_contains "view: https://ci.homelab.test/repos/7/pipeline/62" "the failure summary has the pipeline's web URL"

# ---- the live line: the state and a duration once ----
wp_ctl POST /__fake/pipelines '{"repo":"acme/web","commit":"dddddddddddddddddddddddddddddddddddddddd","branch":"main","template":"running"}' >/dev/null
: >"$T/live.out"
run_interrupted_when INT "$T/live.out" '#[0-9]+ running push.* [0-9]+s' \
    python3 "$ROOT/tests/pty_run.py" "$T/live.out" "$HOMELAB" ci watch dddddddd
check "the live pipeline line says running and one duration" python3 -c '
import re,sys; t=open(sys.argv[1],"rb").read().decode("utf-8","replace")
t=re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", t)
l=[x for x in re.split(r"[\r\n]+", t) if re.search(r"#\d+ running push", x)]
assert l, t[-800:]
for x in l:
    assert x.count("running") == 1 and len(re.findall(r"\b\d+s\b", x)) == 1, x' "$T/live.out"
expect_rc 130 "and ^C ends the watch once it was shown"

# ---- ci logs of a pipeline that has no logs ----
hl ci logs '#61'
expect_rc 5 "ci logs of a pipeline where nothing ran"
check "no empty headers on stdout" [ -z "$out" ]
check "says once that there are no logs" [ "$(printf '%s\n' "$err" | grep -c 'has a log yet')" -eq 1 ]

# ---- a huge echoed value is shortened, the cause kept ----
BIG=$(python3 -c 'print("x" * 100000)')
hl ci status '#64' --repo "acme/$BIG"
check "a 100 KB --repo: the message keeps the cause (the server's 414)" contains "$err" "answered HTTP 414"
check "and shortens the value with ..." contains "$err" "xxx...xxx"
check "to a readable length (${#err} bytes)" [ "${#err}" -lt 600 ]
hl ci status '#64' --server "https://$BIG" -v
expect_rc 2 "a 100 KB --server host is a usage error"
expect_err_contains "Too long host name" "naming curl's cause"
check_quick_give_up "a 100 KB --server host"

# ---- setup problems outside a git repository: usage (2) with a hint ----
mkdir -p "$T/norepo" && cd "$T/norepo"
HOMELAB_REPO= hl ci status
expect_rc 2 "ci status outside a git repository"
expect_err_contains "give a commit id (7+ hex digits) or #N, with --repo OWNER/NAME" "with a hint"
HOMELAB_REPO= hl ci status '#64'
expect_rc 2 "ci status '#64' outside a git repository, no repo given"
expect_err_contains "pass --repo OWNER/NAME" "with a hint"
HOMELAB_REPO= hl ci watch --json
expect_rc 2 "ci watch --json outside a git repository"
check "--json: the result line says 2 too" python3 -c '
import json,sys; r=json.loads(sys.argv[1].splitlines()[-1]); assert r["exit_code"]==2, r' "$out"
hl deploy wait apps/web --timeout 5s
expect_rc 2 "deploy wait outside a git repository"
expect_err_contains "pass --sha SHA" "with a hint"
hl work land --json
expect_rc 2 "work land outside a git repository"
expect_err_contains "run it inside the work tree" "with a hint"
printf '[ship]\n  stages = build\n[stage "build"]\n  provider = woodpecker\n  repo = acme/web\n' >"$T/shipconf"
HOMELAB_CONFIG="$T/shipconf" hl ship watch --timeout 5s
expect_rc 2 "ship watch outside a git repository"
expect_err_contains "give a commit id (7+ hex digits), or run it inside the repository" "with ship's own hint (no #N)"
HOMELAB_CONFIG="$T/shipconf" hl ship status
expect_rc 2 "ship status outside a git repository"
cd "$T"

# ---- global flags before the verb, short flags, --color, --quiet ----
hl --json ci status '#64'
expect_rc 0 "a global flag before the verb is taken, as git and gh do"
check "and applies (JSON out)" python3 -c 'import json,sys; assert json.loads(sys.argv[1])["pipeline"]["number"]==64' "$out"
HOMELAB_REPO= hl -R acme/web --timeout=30s ci status '#64'
expect_rc 0 "-R VALUE and --flag=VALUE before the verb"
hl --log-lines 5 ci watch '#64'
expect_rc 2 "a verb's own flag before the verb is refused"
expect_err_contains "'--log-lines' is a flag of 'ci watch', not a global flag" "saying whose flag it is"
expect_err_contains "put it after the verb" "and where it goes"
hl --bogus ci status
expect_rc 2 "an unknown flag before the verb"
expect_err_lacks "unknown verb" "is not taken for a verb"
hl --json
expect_rc 2 "flags but no verb"
hl ci list -L 2
expect_rc 0 "-L is --limit"
check "and limits" [ "$(printf '%s\n' "$out" | grep -c '^6[0-9] ')" -eq 2 ]
hl ci watch '#62' -q
expect_rc 1 "-q: the verdict is the same"
expect_err_lacks "#62 build/clone success" "without progress lines"
expect_err_contains "failed: build/test" "but with the failure report"
expect_out_contains "#62 failure" "and the result on stdout"
hl ci logs '#62' --color always
check "--color always keeps colour on a pipe" contains "$out" "$(printf '\033[')"
hl ci logs '#62' --color never
check "--color never" lacks "$out" "$(printf '\033[')"
hl ci status '#64' --color sometimes
expect_rc 2 "--color with another word"
hl help
expect_out_contains "-R, --repo OWNER/NAME" "help shows the short forms"

# ---- doctor with nothing configured ----
unset WOODPECKER_SERVER WOODPECKER_TOKEN VAULT_ADDR
hl doctor
check "doctor lists the server line when nothing is configured" python3 -c '
import sys; lines=[l.split()[1] for l in sys.argv[1].splitlines() if l and not l.startswith(" ")]
assert lines[:5]==["config","token","server","auth","repo"], lines' "$out"
expect_out_contains "FAIL server     no Woodpecker server configured" "and says it is missing"

# ---- the same on GitHub Actions ----
start_github || exit 1
export HTTPS_PROXY="$GH_PROXY"
HOMELAB_GITHUB_REPO= hl ci watch 3cc04daf78c270fa033ab72a386e1166eec897ad --provider github --repo acme/web
expect_rc 1 "GitHub: a failed run"
check "plain mode: a run's and a job's verdict lines come after their steps'" python3 -c '
import sys; l=[x for x in sys.argv[1].splitlines() if x.startswith("CI #102")]
assert l[-1]=="CI #102 failure" and l.index("CI #102 test failure") > l.index("CI #102 test/Run tests failure"), l' "$err"
expect_err_contains "full log: homelab ci logs '#30000000201' --step 'test/Run tests' --provider github --repo acme/web" \
    "the full-log hint keeps --provider and --repo"
expect_err_contains "view: https://github.test/acme/web/actions/runs/30000000201" "and the run's web URL follows"
HOMELAB_GITHUB_REPO= hl ci status '#30000000201' --provider github
expect_rc 2 "GitHub: no repo to be found outside a git repository is a usage problem"
expect_err_contains "pass --repo OWNER/NAME" "with a hint"
hl ci logs c95853e18184497533eaaff76005eede44c8a091 --provider github
expect_rc 5 "GitHub: ci logs of runs without jobs"
expect_err_contains "the runs of this commit have no jobs, so there are no logs" "says so, not \"no job named '(any)'\""

finish
