# homelab doctor: one line per check, a fix for each failure, the right exit code.
. "$(dirname "$0")/../lib.sh"
start_woodpecker "$ROOT/tests/data/woodpecker/basic.json"
export HOMELAB_REPO=acme/web

hl doctor --kubectl /nonexistent/kubectl
expect_rc 0 "everything ci needs works: exit 0 even without kubectl"
expect_out_contains "ok   token      from WOODPECKER_TOKEN" "names the token source"
expect_out_contains "Woodpecker 3.17.0" "reaches the server through ci.dial"
expect_out_contains "token accepted for user octocat" "the token is accepted"
expect_out_contains "acme/web is active" "the repo resolves"
expect_out_contains "event stream reachable" "the stream is reachable"
expect_out_contains "warn kubectl" "a missing kubectl is only a warning"
check "the token is never shown" lacks "$out$err" "$TOKEN"

hl doctor --kubectl /nonexistent/kubectl --deploy
expect_rc 1 "--deploy: kubectl problems fail"

WOODPECKER_TOKEN=wrong hl doctor --kubectl /nonexistent/kubectl
expect_rc 1 "a rejected token fails"
expect_out_contains "FAIL auth" "on the auth line"
expect_out_contains "fix: create a new personal token" "with a fix"

HOMELAB_CACERT="$CERTS/other-ca.pem" hl doctor --kubectl /nonexistent/kubectl
expect_rc 1 "a TLS problem fails"
expect_out_contains "FAIL server" "on the server line"

wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/stream","kind":"refuse_stream"}]}' >/dev/null
hl doctor --kubectl /nonexistent/kubectl --json
expect_rc 0 "a refused stream is a warning"
check "--json: one object with every check" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); r={c["check"]:c["result"] for c in d["checks"]}
assert d["ok"] and r["stream"]=="warn" and r["auth"]=="ok" and r["git"]=="ok"
assert "poll" in [c for c in d["checks"] if c["check"]=="stream"][0]["detail"]' "$out"


# A server that does not answer /api/user has not judged the token: the
# auth line says so, not that the token was rejected.
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/user$","kind":"503"}]}' >/dev/null
hl doctor --kubectl /nonexistent/kubectl
expect_rc 1 "no answer on /api/user fails"
expect_out_contains "could not be checked" "says the token was not judged"
check "and not that it was rejected" lacks "$out" "rejected"
wp_ctl POST /__fake/faults '{"rules":[]}' >/dev/null

# What the server says (its version, the user's login) is shown with its
# control bytes escaped: a hostile server cannot write to the terminal.
kill ${FAKE_PIDS##* } 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["version"]="3.17.0\x1b]0;owned\x07"; d.setdefault("users",[{"id":1,"login":"octocat"}])[0]["login"]="octo\x1b[2Jcat"; json.dump(d,open(sys.argv[2],"w"))' \
    "$ROOT/tests/data/woodpecker/basic.json" "$T/hostile.json"
start_woodpecker "$T/hostile.json"
hl doctor --kubectl /nonexistent/kubectl
expect_out_contains "ok   auth" "a hostile version and login: the checks still pass"
check "no escape byte reaches the output" lacks "$out" "$(printf '\033')"
expect_out_contains 'Woodpecker 3.17.0\x1b]0;owned\x07' "the version, escaped"
expect_out_contains 'user octo\x1b[2Jcat' "the login, escaped"

finish
