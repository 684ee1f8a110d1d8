#!/bin/sh
# Security properties of every verb, checked on the real binary:
#   1. the token never appears in stdout, stderr or --verbose traces, on
#      success and on every error path (wrong CA, 401, unreachable, HTML);
#   2. hostile values (revisions, branches, topics, remotes, namespaces,
#      contexts, steps, shas holding ; $(…) backquotes newlines or a
#      leading -) reach git and kubectl as single literal arguments that
#      cannot be options, or are refused with exit 2 — observed through
#      git and kubectl wrappers that log their argv and exec the real ones;
#   3. owner, name and query values are percent-encoded (the fake's
#      request log), and no dot segment can climb out of the repo path;
#   4. TLS verification cannot be turned off, and TLS 1.2 is the minimum;
#   5. a config file holding a token and readable by others draws a warning;
#   6. every response size cap holds: JSON bodies, step logs, one log
#      entry, one event-stream event, one kubectl watch line, a kubectl
#      reply, the config file.
. "$(dirname "$0")/../lib.sh"

NEW=65d15d6cfe589cd4b76dd80c228dd3d5fce1677b
PW="$T/pwned"             # nothing may ever be created in here
mkdir -p "$PW" "$T/bin"

# ---- argv-logging wrappers for git and kubectl ----
# Each run appends one record to $T/NAME.argv: the argument count, then
# every argument, each ended by a NUL (arguments cannot hold NUL, so the
# record is unambiguous whatever they contain).
wrap() { # NAME REAL
    cat >"$T/bin/$1" <<EOF
#!/bin/sh
{ printf '%s\\0' "\$#"; for a in "\$@"; do printf '%s\\0' "\$a"; done; } >>"$T/$1.argv"
exec "$2" "\$@"
EOF
    chmod +x "$T/bin/$1"
}
wrap git "$(command -v git)"
wrap kubectl "$(command -v kubectl)"
export PATH="$T/bin:$PATH"
KUBECTL="$T/bin/kubectl"
: >"$T/git.argv"
: >"$T/kubectl.argv"

# argv_literal LOG VALUE FRAGMENT [SINCE]: in the runs logged after byte
# SINCE, every argument that holds FRAGMENT (a distinctive part of VALUE)
# holds VALUE whole, and cannot be taken for an option: it does not start
# with '-', or it is --context=…, or '--' / '--end-of-options' came before
# it. Prints "absent" when no argument holds the fragment (the value never
# reached the program), "literal" otherwise; fails naming the argument.
argv_literal() {
    python3 - "$@" <<'EOF'
import sys
log, value, frag = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
since = int(sys.argv[4]) if len(sys.argv) > 4 else 0
data = open(log, "rb").read()[since:].split(b"\0")
i, found = 0, 0
while i < len(data) - 1:
    n = int(data[i]); args = data[i + 1:i + 1 + n]; i += 1 + n
    for k, a in enumerate(args):
        if frag not in a:
            continue
        if value not in a:
            sys.exit("split: %r in %r" % (a, args))
        if a.startswith(b"-") and not a.startswith(b"--context=") and \
                b"--" not in args[:k] and b"--end-of-options" not in args[:k]:
            sys.exit("could be an option: %r in %r" % (a, args))
        found += 1
print("literal" if found else "absent")
EOF
}
size_of() { wc -c <"$1" | tr -d ' '; }
run_in() { # DIR CMD...: run, in another directory
    d=$1
    shift
    run sh -c 'cd "$1" && shift && exec "$@"' - "$d" "$@"
}
rc_in() { for c; do [ "$rc" -eq "$c" ] && return 0; done; return 1; }
not_grep() { ! grep -rq "$1" "$2"; }

# ---- fakes and repositories ----
start_woodpecker "$ROOT/tests/data/woodpecker/basic.json" || exit 1
start_kube rollout-ok || exit 1
export HOMELAB_RETRY_BUDGET=2

# A clone whose origin names acme/web, for the ci verbs and work verbs.
git init -q --bare -b main "$T/origin.git"
git init -q -b main "$T/seed"
printf 'hello\n' >"$T/seed/README"
git -C "$T/seed" add README && git -C "$T/seed" commit -q -m seed
git -C "$T/seed" push -q "$T/origin.git" HEAD:refs/heads/main
git clone -q "$T/origin.git" "$T/repo"
git -C "$T/repo" remote set-url --push origin "$T/origin.git"
git -C "$T/repo" remote set-url origin "$T/origin.git"
export HOMELAB_REPO=acme/web USER=me
cd "$T/repo" || exit 1

# ==== 1. the token appears nowhere ====

# The arguments each verb runs with; a verb missing here fails the test, so
# a new verb gets its security check when it is added to the table.
verb_args() {
    case "$1" in
        "ci status") echo "#60" ;;
        "ci list") echo "--limit 3" ;;
        "ci watch") echo "#60 --timeout 5s" ;;
        "ci logs") echo "#60 --tail 5" ;;
        "ci restart") echo "#60 --no-watch" ;;        # a real write: the POST trace too
        "ci approve" | "ci decline") echo "#61 --dry-run" ;;
        "ci cancel") echo "#60" ;;                    # finished: refused before sending
        "ci run") echo "--var K=V --dry-run" ;;
        "deploy wait") echo "apps/web --sha $NEW --timeout 15s --kubectl $KUBECTL --context fake" ;;
        "deploy status") echo "apps/web --kubectl $KUBECTL --context fake" ;;
        "ship watch") echo "--timeout 5s" ;;          # no stages here: the usage error
        "ship status") echo "" ;;
        "work start") echo "tok-$2" ;;
        "work land") echo "--no-verify --timeout 2s" ;;
        "work clean") echo "tok-$2 --force" ;;
        doctor) echo "--kubectl $KUBECTL --context fake" ;;
        manifest | version) echo "" ;;
        help) echo "ci status" ;;
        *) return 1 ;;
    esac
}

# run_verb VERB MODE [FLAGS]: runs it (work land from the topic's worktree).
# (No `local` in POSIX sh: the rv_ names keep the callers' variables safe.)
run_verb() {
    rv_verb=$1 rv_mode=$2
    shift 2
    if ! rv_args=$(verb_args "$rv_verb" "$rv_mode"); then
        rc=0 out="" err=""
        not_ok "no security case for verb '$rv_verb': add one to verb_args in security.sh"
        return 1
    fi
    if [ "$rv_verb" = "work land" ]; then
        rv_wt="$T/repo/.worktrees/tok-$rv_mode"
        [ -d "$rv_wt" ] || { not_ok "work land $rv_mode: work start made no worktree"; return 1; }
        printf '%s\n' "$rv_mode" >"$rv_wt/$rv_mode.txt"
        git -C "$rv_wt" add "$rv_mode.txt" && git -C "$rv_wt" commit -q -m "land $rv_mode"
    else
        rv_wt=.
    fi
    # shellcheck disable=SC2086
    run_in "$rv_wt" "$HOMELAB" $rv_verb $rv_args "$@"
}

verbs=$("$HOMELAB" manifest --json | python3 -c '
import json, sys
for v in json.load(sys.stdin): print(v["verb"])')
check "manifest --json lists the verbs" [ -n "$verbs" ]

# token_everywhere MODE [--verbose]: every verb in this setting, with
# --verbose only when given, else plain and --verbose. (A --verbose run
# prints what a plain one does, and the traces besides.)
token_everywhere() {
    mode=$1 saved_ifs=$IFS variants=${2:-"plain --verbose"}
    IFS='
'
    for verb in $verbs; do
        IFS=$saved_ifs
        for v in $variants; do
            [ "$v" = plain ] && v=""
            run_verb "$verb" "$mode$v" $v || continue
            check "$mode: '$verb'${v:+ $v}: the token is in no output (exit $rc)" \
                lacks "$out$err" "$TOKEN"
        done
    done
    IFS=$saved_ifs
}

token_everywhere ok
hl ci status '#60' --verbose
check "--verbose traces show the token redacted" contains "$err" "Bearer <redacted>"

HOMELAB_CACERT="$CERTS/other-ca.pem" token_everywhere wrongca --verbose
hl ci status '#60' --cacert "$CERTS/other-ca.pem" --verbose
expect_rc 7 "a server certificate from another CA is refused"
check "wrong CA: no token in the trace" lacks "$out$err" "$TOKEN"

HOMELAB_RETRY_BUDGET=0.3 HOMELAB_WP_IP=127.0.0.1:1 token_everywhere unreachable --verbose

wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/","kind":"html"}]}' >/dev/null
HOMELAB_RETRY_BUDGET=0.3 token_everywhere html --verbose
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/","kind":"401"}]}' >/dev/null
token_everywhere 401 --verbose
wp_ctl DELETE /__fake/faults >/dev/null

# The token from the other sources: the config file and Vault.
printf '[ci]\n\ttoken = %s\n' "$TOKEN" >"$T/config"
chmod 600 "$T/config"
run sh -c 'unset WOODPECKER_TOKEN; HOMELAB_CONFIG="$1" "$2" ci status "#60" --verbose' - \
    "$T/config" "$HOMELAB"
expect_rc 0 "token from the config file"
check "config token: not in the trace" lacks "$out$err" "$TOKEN"
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/","kind":"401"}]}' >/dev/null
run sh -c 'unset WOODPECKER_TOKEN; HOMELAB_CONFIG="$1" "$2" ci status "#60" --verbose' - \
    "$T/config" "$HOMELAB"
expect_rc 7 "a rejected config-file token"
check "rejected config token: not in the message" lacks "$out$err" "$TOKEN"
wp_ctl DELETE /__fake/faults >/dev/null
start_vault 2 "$TOKEN" || exit 1
run sh -c 'unset WOODPECKER_TOKEN; "$1" ci status "#60" --verbose' - "$HOMELAB"
expect_rc 0 "token from Vault"
check "Vault token: neither it nor the Vault token is in the trace" \
    lacks "$out$err" "$TOKEN"
check "the Vault token is not shown either" lacks "$out$err" "vault-root-$$"
unset VAULT_ADDR VAULT_TOKEN VAULT_CACERT

# ==== 2. hostile values reach git and kubectl literally, or exit 2 ====

NL=$(printf 'line1\nline2')
# The values: ones that would write into $PW if a shell or an option ever
# saw them, and short ones (marked HX) that pass more validators — shapes a
# branch, remote or context name could really have.
set -- \
    "x;touch $PW/semi" \
    "\$(touch $PW/subst)" \
    "\`touch $PW/tick\`" \
    "$NL;touch $PW/nl" \
    "--upload-pack=touch $PW/dash" \
    "-oProxyCommand=touch $PW/dash2" \
    "--output=$PW/out" \
    'HX;id' '$(HX)' '`HX`' "HX${NL}" '-HX' '--HX=1'

# literal_or_usage DESC LOG VALUE SINCE: exit 2, or the value reached the
# program as one safe argument, or not at all (checked and refused by
# homelab itself). Never a file in $PW.
literal_or_usage() {
    case "$3" in *"$PW"*) frag=$PW ;; *) frag=HX ;; esac
    if [ "$rc" -eq 2 ]; then
        ok "$1: refused as usage (exit 2)"
    elif how=$(argv_literal "$2" "$3" "$frag" "$4" 2>&1); then
        case "$how" in
            literal) ok "$1: one literal argument (exit $rc)" ;;
            *) ok "$1: refused before reaching the program (exit $rc)" ;;
        esac
    else
        not_ok "$1: $how"
    fi
}
show() { printf '%s' "$1" | tr '\n' '|' | cut -c1-40; }

for v; do
    s=$(size_of "$T/git.argv")
    hl ci status "$v"
    literal_or_usage "ci status REV '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl ci watch "$v" --timeout 3s
    literal_or_usage "ci watch REV '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl ci status '#60' --repo "" --remote "$v"
    literal_or_usage "--remote '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl work start "$v"
    literal_or_usage "work start '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl work clean "$v" --force
    literal_or_usage "work clean '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/kubectl.argv")
    hl deploy status apps/web --kubectl "$KUBECTL" --context "$v"
    literal_or_usage "--context '$(show "$v")'" "$T/kubectl.argv" "$v" "$s"
    hl deploy status "$v/web" --kubectl "$KUBECTL" --context fake
    expect_rc 2 "deploy status: namespace '$(show "$v")' refused"
    hl deploy wait "apps/$v" --kubectl "$KUBECTL" --context fake --sha "$NEW" --timeout 3s
    expect_rc 2 "deploy wait: name '$(show "$v")' refused"
    hl deploy wait apps/web --kubectl "$KUBECTL" --context fake --sha "$v" --timeout 3s
    expect_rc 2 "deploy wait: sha '$(show "$v")' refused"
    hl ci logs '#60' --step "$v"
    check "ci logs --step '$(show "$v")': not found or usage (exit $rc)" rc_in 5 2
    hl deploy status apps/web --kubectl "$KUBECTL" --context fake --container "$v"
    check "deploy status --container '$(show "$v")': runs or refuses (exit $rc)" \
        [ "$rc" -ne 130 ]
done
check "no hostile value was executed or redirected" [ -z "$(ls -A "$PW")" ]

# A legal branch name full of shell syntax, landed for review: work start
# makes it, work land pushes it (main is protected, so the branch goes up).
topic='t;$(id)`id`'
hl work start "$topic"
expect_rc 0 "a topic with ; \$( ) and backquotes is legal in git"
wt=$out
cp "$ROOT/tests/data/git/pre-receive-protect" "$T/origin.git/hooks/pre-receive"
chmod +x "$T/origin.git/hooks/pre-receive"
if [ -d "$wt" ]; then
    printf 'x\n' >"$wt/x.txt"
    git -C "$wt" add x.txt && git -C "$wt" commit -q -m "hostile branch"
    s=$(size_of "$T/git.argv")
    run_in "$wt" "$HOMELAB" work land --no-verify --no-ci-watch
    check "work land pushed the branch for review (exit 4)" [ "$rc" -eq 4 ]
    how=$(argv_literal "$T/git.argv" "me/$topic" "me/$topic" "$s" 2>&1)
    check "work land: the branch name reached git as one literal argument ($how)" \
        [ "$how" = literal ]
    check "the remote has the branch, named literally" \
        git -C "$T/origin.git" show-ref --verify --quiet "refs/heads/me/$topic"
fi
rm -f "$T/origin.git/hooks/pre-receive"
check "still nothing executed" [ -z "$(ls -A "$PW")" ]

# ==== 3. percent-encoding of path components and query values ====

: >"$T/wp.requests"
# request_path SUBSTRING: the path of the last logged request containing it
request_paths() {
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["path"])' "$T/wp.requests"
}
hl ci status '#60' --repo 'acme/we b?x=1#frag%2F'
paths=$(request_paths)
check "repo name: space, ?, # and % are encoded in the lookup path" python3 -c '
import sys, urllib.parse
ps = [p for p in sys.argv[1].splitlines() if p.startswith("/api/repos/lookup/")]
assert ps, sys.argv[1]
p = ps[0]
assert " " not in p and "#" not in p and "?" not in p, p
assert urllib.parse.unquote(p[len("/api/repos/lookup/"):]) == "acme/we b?x=1#frag%2F", p' "$paths"

: >"$T/wp.requests"
hl ci status '#60' --repo '../../user'
paths=$(request_paths)
check "a repo of dot segments cannot climb out of /api/repos/lookup/ (exit $rc)" python3 -c '
import sys
ps = sys.argv[1].splitlines()
assert "/api/user" not in ps or int(sys.argv[2]) != 0, ps
assert all(p.startswith("/api/repos/lookup/") or p == "/api/user" for p in ps), ps
assert int(sys.argv[2]) != 0' "$paths" "$rc"

: >"$T/wp.requests"
hl ci list --branch 'main&status=success#x y' --limit 2
paths=$(request_paths)
check "branch filter: one query value, nothing injected" python3 -c '
import sys, urllib.parse
ps = [p for p in sys.argv[1].splitlines() if "/pipelines?" in p]
assert ps, sys.argv[1]
q = urllib.parse.parse_qs(urllib.parse.urlsplit(ps[0]).query)
assert q["branch"] == ["main&status=success#x y"], q
assert "status" not in q, q' "$paths"

: >"$T/wp.requests"
hl ci logs '#60' --step build/test --tail 2
paths=$(request_paths)
check "step logs are fetched by numeric ids, never by name" python3 -c '
import re, sys
ps = [p for p in sys.argv[1].splitlines() if "/logs/" in p]
assert ps and all(re.fullmatch(r"/api/repos/7/logs/60/\d+", p) for p in ps), ps' "$paths"

# ==== 4. TLS: verification cannot be disabled; TLS 1.2 at least ====

for flag in --insecure -k --no-verify --tls-no-verify --ssl-no-revoke; do
    hl ci status '#60' "$flag"
    expect_rc 2 "no flag turns verification off: $flag is unknown"
done

# An untrusted server stays untrusted whatever the environment says.
run env HOMELAB_CACERT="$CERTS/other-ca.pem" CURL_CA_BUNDLE="$CERTS/ca.pem" \
    SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent CURL_INSECURE=1 HOMELAB_INSECURE=1 \
    HOMELAB_TLS_VERIFY=0 GIT_SSL_NO_VERIFY=1 NODE_TLS_REJECT_UNAUTHORIZED=0 PYTHONHTTPSVERIFY=0 \
    "$HOMELAB" ci status '#60'
expect_rc 7 "environment tricks do not make an untrusted certificate acceptable"
expect_err_contains "certificate" "and the message says it is the certificate"
printf '[ci]\ninsecure = true\nverify = false\n' >"$T/insecure.cfg"
HOMELAB_CONFIG="$T/insecure.cfg" HOMELAB_CACERT="$CERTS/other-ca.pem" hl ci status '#60'
expect_rc 7 "nor do made-up config keys"
# The name is checked: the test CA trusts the certificate, but it is for
# ci.homelab.test, not the server the user configured.
WOODPECKER_SERVER=https://wrong-name.homelab.test hl ci status '#60'
expect_rc 7 "a certificate for another name is refused"
check "the source sets no verification off" \
    not_grep 'SSL_VERIFY\(PEER\|HOST\)[, ]*0[L]*)' "$ROOT/src"
check "the source sets TLS 1.2 as the minimum" grep -rq 'CURL_SSLVERSION_TLSv1_2' "$ROOT/src/core/http.c"

# TLS 1.1: a server that speaks at most TLS 1.1. OpenSSL's own policy
# already refuses it at its default security level, which would prove
# nothing about homelab; so the client's OpenSSL is told (OPENSSL_CONF) to
# allow TLS 1.0 and 1.1 — curl then connects (the control) — and homelab
# must still refuse, on its own CURLOPT_SSLVERSION.
cat >"$T/tls11.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = DEFAULT@SECLEVEL=0
EOF
cat >"$T/tls11.py" <<'EOF'
import http.server, ssl, sys, warnings
warnings.simplefilter("ignore")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b'{"id":7,"full_name":"acme/web","default_branch":"main","active":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
ctx.minimum_version = ssl.TLSVersion.TLSv1
ctx.maximum_version = ssl.TLSVersion.TLSv1_1
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = http.server.HTTPServer(("127.0.0.1", 0), H)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[3] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[3] + ".tmp", sys.argv[3])
s.serve_forever()
EOF
OPENSSL_CONF="$T/tls11.cnf" python3 "$T/tls11.py" "$CERTS/woodpecker.pem" \
    "$CERTS/woodpecker.key" "$T/tls11.port" 2>"$T/tls11.log" &
FAKE_PIDS="$FAKE_PIDS $!"
if wait_for_file "$T/tls11.port" 5; then
    P11=$(cat "$T/tls11.port")
    if OPENSSL_CONF="$T/tls11.cnf" curl -sS --tls-max 1.1 --cacert "$CERTS/ca.pem" \
        --connect-to "ci.homelab.test:443:127.0.0.1:$P11" -o /dev/null \
        https://ci.homelab.test/api/repos/lookup/acme/web 2>/dev/null; then
        ok "control: with that OpenSSL configuration, curl connects over TLS 1.1"
        OPENSSL_CONF="$T/tls11.cnf" HOMELAB_WP_IP="127.0.0.1:$P11" HOMELAB_RETRY_BUDGET=0.5 \
            hl ci status '#60'
        check "homelab refuses the TLS 1.1 server (exit $rc)" rc_in 6 7
        expect_err_contains "protocol version" "because of the protocol version"
    else
        # The local OpenSSL cannot speak TLS 1.1 at all: nothing to observe;
        # the source check above (CURL_SSLVERSION_TLSv1_2) stands alone.
        ok "# SKIP TLS 1.1 cannot be negotiated by this OpenSSL even when allowed"
    fi
else
    ok "# SKIP python's ssl cannot serve TLS 1.1 here ($(tail -1 "$T/tls11.log"))"
fi

# ==== 5. a config file that holds a token and others can read ====

for mode in 644 640 604; do
    printf '[ci]\n\ttoken = %s\n' "$TOKEN" >"$T/shared.cfg"
    chmod "$mode" "$T/shared.cfg"
    HOMELAB_CONFIG="$T/shared.cfg" hl version
    expect_err_contains "readable by others" "mode $mode with a token: warned"
    check "mode $mode: the warning does not show the token" lacks "$err" "$TOKEN"
done
chmod 600 "$T/shared.cfg"
HOMELAB_CONFIG="$T/shared.cfg" hl version
expect_err_lacks "readable by others" "mode 600: no warning"
printf '[ci]\n\tserver = https://ci.homelab.test\n' >"$T/notoken.cfg"
chmod 644 "$T/notoken.cfg"
HOMELAB_CONFIG="$T/notoken.cfg" hl version
expect_err_lacks "readable by others" "a shared file without a token: no warning"

# ==== 6. response size caps ====

HOMELAB_MAX_RESPONSE=1000 hl ci status '#60'
expect_rc 6 "a JSON response over the cap is refused"
expect_err_contains "limit" "saying it is over the limit"
HOMELAB_MAX_LOG=2000 hl ci logs '#59' --step build/build
expect_rc 6 "a step log over the log cap is refused"
expect_err_contains "refused" "saying so"
# One log entry over its own cap (4 MiB of JSON): a 5 MiB line.
python3 -c 'import json; print(json.dumps({"repo": "acme/web", "workflows": [{"name": "build",
    "steps": [{"name": "huge", "start": 0, "end": 0.1, "result": "failure",
               "log": {"lines": ["x" * 5242880]}}]}]}))' >"$T/huge.json"
N=$(wp_ctl POST /__fake/pipelines "@$T/huge.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
wp_ctl POST /__fake/advance '{"seconds":1}' >/dev/null   # the step is over, on the fake's clock
hl ci logs "#$N" --step build/huge
expect_rc 6 "a log entry over the per-entry cap is refused"
expect_err_contains "larger than 4194304 bytes" "saying the entry is too large"
tries=$(wp_ctl GET /__fake/requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if "/logs/%s/" % sys.argv[1] in r["path"]))' "$N")
check "an entry over the cap is not fetched again (asked $tries times)" [ "$tries" -eq 1 ]
# kubectl replies: a kubectl that answers 70 MiB.
cat >"$T/bin/kubectl-huge" <<'EOF'
#!/bin/sh
head -c 73400320 /dev/zero | tr '\0' ' '
EOF
chmod +x "$T/bin/kubectl-huge"
hl deploy status apps/web --kubectl "$T/bin/kubectl-huge"
expect_rc 6 "a kubectl reply over 64 MiB is refused"
expect_err_contains "larger than" "saying it is too large"
# An event on the stream over its cap (4 MiB): a pipeline whose message is
# 5 MB. The stream is dropped at that event; the watch goes on polling. The
# pipeline is held (its steps 1000 s on) until the client opens the stream,
# which moves the fake's clock on: its changes are events the client sees,
# however late it starts.
BIG=abababababababababababababababababababab
python3 -c 'import json, sys
w = json.load(open(sys.argv[2]))["templates"]["success"]["workflows"]
for st in w[0]["steps"]:
    st["start"] += 1000; st["end"] += 1000
print(json.dumps({"repo": "acme/web", "commit": sys.argv[1], "branch": "main",
    "workflows": w, "message": "big\n" + "x" * 5242880}))' "$BIG" \
    "$ROOT/tests/data/woodpecker/basic.json" >"$T/bigmsg.json"
wp_ctl POST /__fake/pipelines "@$T/bigmsg.json" >/dev/null
wp_ctl POST /__fake/triggers \
    '{"triggers": [{"on": {"request": "^/api/stream/events"}, "do": {"advance": 1000}}]}' >/dev/null
hl ci watch "$BIG" --timeout 60s --verbose
expect_rc 0 "an event over the stream's cap: the verdict still comes (by polling)"
expect_err_contains "event stream ended; polling" "the oversized event ended the stream"
# A watch line over its cap (8 MiB): a kubectl whose watches print 9 MiB
# of garbage first. The line is dropped; the wait completes.
cat >"$T/bin/kubectl-noisy" <<EOF
#!/bin/sh
case "\$*" in *watch=1*) head -c 9437184 /dev/zero | tr '\\000' x; echo ;; esac
exec "$T/bin/kubectl" "\$@"
EOF
chmod +x "$T/bin/kubectl-noisy"
hl deploy wait apps/web --sha "$NEW" --timeout 60s --kubectl "$T/bin/kubectl-noisy" --context fake
expect_rc 0 "a watch line over its cap is dropped and the wait completes"
head -c 2100000 /dev/zero | tr '\0' '#' >"$T/big.cfg"
HOMELAB_CONFIG="$T/big.cfg" hl version
expect_rc 2 "a config file over 1 MiB is refused"

finish
