# ci status / ci list against the fake Woodpecker, over real TLS through ci.dial.
. "$(dirname "$0")/../lib.sh"

start_woodpecker "$ROOT/tests/data/woodpecker/basic.json"

# A real git repository whose remote names acme/web and whose HEAD has a pipeline.
mkrepo() { # DIR REMOTE_URL
    git init -q "$1" && git -C "$1" commit -q --allow-empty -m "$2 commit" &&
        git -C "$1" remote add origin "$2"
}
mkrepo "$T/repo" "git@forge.homelab.test:acme/web.git"
HEAD_SHA=$(git -C "$T/repo" rev-parse HEAD)
wp_ctl POST /__fake/pipelines "{\"repo\":\"acme/web\",\"commit\":\"$HEAD_SHA\",\"branch\":\"main\",\"template\":\"hist-failure\",\"message\":\"from the test\"}" >/dev/null

cd "$T/repo"
hl ci status
expect_rc 0 "ci status finds the pipeline of HEAD through the git remote"
SHORT=$(printf '%.7s' "$HEAD_SHA")
check "summary line has number, status, event, branch, short sha, message" \
    python3 -c 'import re,sys; assert re.fullmatch(r"#\d+ (pending|running|failure) push main %s \S.* from the test" % sys.argv[2], sys.argv[1])' "$out" "$SHORT"
check "summary is a single line on stdout" [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
expect_err_lacks "build" "no step tree on stderr when it is not a terminal"

hl ci status --json
expect_rc 0 "ci status --json"
check "json names the repo and the pipeline's steps" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); p=d["pipeline"]
assert d["repo"]["full_name"]=="acme/web" and p["commit"]==sys.argv[2]
assert p["workflows"][0]["steps"][0]["name"]
assert p["url"].startswith("https://ci.homelab.test/repos/7/pipeline/")' "$out" "$HEAD_SHA"

hl ci status '#60'
expect_rc 0 "ci status #N"
expect_out_contains "#60 failure" "pipeline 60 by number"

hl ci status 07febff6
expect_rc 0 "a hex prefix not in the local clone is matched as a prefix"
expect_out_contains "#60 " "prefix 07febff6 is pipeline 60"

hl ci status 4d32b78
expect_rc 0 "two pipelines for one commit"
expect_out_contains "#63 success" "the newest pipeline of a commit wins"

hl ci status deadbeefdeadbeef
expect_rc 5 "no pipeline for a commit"
expect_err_contains "no pipeline for commit deadbee" "names the commit"
expect_err_contains "newest is #" "names the newest pipeline that exists"

hl ci status '#9999'
expect_rc 5 "unknown pipeline number"

hl ci status no-such-branch
expect_rc 5 "unknown revision"
expect_err_contains "unknown revision 'no-such-branch'" "says which revision"

hl ci status '#x'
expect_rc 2 "malformed #N"

hl ci status --json '#60' extra
expect_rc 2 "two positional arguments"

# ---- repo resolution ----
mkrepo "$T/forgejo" "https://elsewhere.example/wrong/repo.git"
git -C "$T/forgejo" remote add forgejo "ssh://git@forge.homelab.test:2222/acme/web.git"
cd "$T/forgejo"
hl ci status '#60'
expect_rc 0 "the forgejo remote is preferred over origin"
hl ci status '#60' --remote origin
expect_rc 5 "--remote picks another remote"
expect_err_contains "wrong/repo" "and the repo named by it is not found"
cd "$T"
hl ci status '#60'
expect_rc 2 "outside a git repository without --repo: a usage problem"
expect_err_contains "not in a git repository" "says so"
hl ci status '#60' --repo acme/web
expect_rc 0 "--repo works outside a repository"
HOMELAB_REPO=ACME/Web hl ci status '#60'
expect_rc 0 "HOMELAB_REPO, matched case-insensitively by the server"
hl ci status '#1' --repo acme/inactive
expect_rc 5 "inactive repo"
expect_err_contains "not active" "says the repo is not active"
hl ci status '#1' --repo acme/nope
expect_rc 5 "repo not in Woodpecker"
expect_err_contains "acme/nope" "names the repo"
cd "$T/repo"

# ---- authentication and TLS ----
WOODPECKER_TOKEN=not-a-real-token hl ci status
expect_rc 7 "a rejected token"
expect_err_contains "WOODPECKER_TOKEN" "names the token source"
unset WOODPECKER_TOKEN
WP_TOKEN=$TOKEN hl ci status
expect_rc 0 "WP_TOKEN is the second source"
hl ci status
expect_rc 7 "no token anywhere"
expect_err_contains "WOODPECKER_TOKEN" "names the environment variable"
expect_err_contains "secret/ci/global" "names the Vault path it tried"
printf '[ci]\n\ttoken = %s\n' "$TOKEN" > "$T/config"; chmod 600 "$T/config"
HOMELAB_CONFIG="$T/config" hl ci status
expect_rc 0 "ci.token from the config file"
expect_err_lacks "readable by others" "no warning for a private config file"
chmod 644 "$T/config"
HOMELAB_CONFIG="$T/config" hl ci status
expect_err_contains "readable by others" "a shared config file holding a token draws a warning"
export WOODPECKER_TOKEN=$TOKEN

HOMELAB_CACERT="$CERTS/other-ca.pem" hl ci status
expect_rc 7 "a CA that did not sign the server certificate"
expect_err_contains "TLS verification failed" "says TLS verification failed"

hl ci status --dial "127.0.0.1:$WP_PORT" --cacert "$CERTS/ca.pem"
expect_rc 0 "--dial and --cacert as flags"
HOMELAB_WP_IP= hl ci status --server "https://127.0.0.1:$WP_PORT"
expect_rc 7 "without dial, the certificate does not match 127.0.0.1"

HOMELAB_RETRY_BUDGET=2 HOMELAB_WP_IP=127.0.0.1:1 hl ci status
expect_rc 6 "server unreachable after retries"
expect_err_contains "cannot reach" "says it cannot reach the server, and why"

hl ci status --server "https://ci.homelab.test/not-woodpecker"
expect_rc 6 "an HTML page where JSON is due"
expect_err_contains "does not look like a Woodpecker API" "explains the server is not the API"

HOMELAB_MAX_RESPONSE=2000 hl ci list --limit 50
expect_rc 6 "a response over the size cap"
expect_err_contains "limit; refused" "is refused with a clear error"

hl ci status --verbose
expect_rc 0 "--verbose"
expect_err_contains "Bearer <redacted>" "traces show the token redacted"
check "the token appears in no output" lacks "$out$err" "$TOKEN"

# ---- Vault ----
unset WOODPECKER_TOKEN
start_vault 2 "$TOKEN"
hl ci status
expect_rc 0 "token from Vault KV v2"
cp "$T/vault.port" "$T/vault2.port"
start_vault 1 "$TOKEN"
hl ci status
expect_rc 0 "token from Vault KV v1"
start_vault 2 "$TOKEN" --no-mounts-endpoint
hl ci status
expect_rc 0 "Vault KV v2 without the mounts endpoint"
VAULT_TOKEN=wrong hl ci status
expect_rc 7 "Vault refuses the Vault token"
unset VAULT_ADDR VAULT_TOKEN VAULT_CACERT
export WOODPECKER_TOKEN=$TOKEN

# ---- faults ----
wp_ctl POST /__fake/faults '{"seed":7,"rules":[{"path":"^/api/","kind":"empty200","probability":0.1},{"path":"^/api/","kind":"502","probability":0.1},{"path":"^/api/","kind":"reset","probability":0.1},{"path":"^/api/","kind":"truncated","probability":0.1}]}' >/dev/null
i=0; good=0
while [ $i -lt 5 ]; do
    hl ci status '#60'
    [ "$rc" -eq 0 ] && contains "$out" "#60 failure push main 07febff" && good=$((good + 1))
    i=$((i + 1))
done
check "40% random faults: 5 of 5 runs still give the right answer" [ "$good" -eq 5 ]
wp_ctl POST /__fake/faults '{"rules":[]}' >/dev/null

# ---- ci list ----
hl ci list
expect_rc 0 "ci list"
check "header plus 10 rows by default" [ "$(printf '%s\n' "$out" | wc -l)" -eq 11 ]
hl ci list --limit 60 --json
check "--limit 60 pages past 50" python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert len(a)==60 and len({p["number"] for p in a})==60' "$out"
hl ci list --status failure --json
check "--status filters" python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a and all(p["status"]=="failure" for p in a)' "$out"
hl ci list --branch no-such-branch
expect_rc 0 "an empty list is not an error"
hl ci list --status broken
expect_rc 2 "an unknown status is a usage error"
hl ci list --event push,bogus
expect_rc 2 "an unknown event is a usage error"

# ---- the command line ----
hl ci stauts
expect_rc 2 "unknown verb"
expect_err_contains "did you mean 'ci status'" "names the closest verb"
hl ci status --jsno
expect_rc 2 "unknown flag"
expect_err_contains "did you mean '--json'" "names the closest flag"
hl manifest --json
check "manifest --json lists the verbs" python3 -c 'import json,sys; v={c["verb"] for c in json.loads(sys.argv[1])}; assert {"ci status","ci list","manifest"} <= v' "$out"
hl ci list --help
expect_rc 0 "VERB --help"
expect_out_contains "--limit N" "help lists the verb's flags"
printf '[ci]\nserver = https://x\nbroken line\n' > "$T/bad-config"
HOMELAB_CONFIG="$T/bad-config" hl ci status
expect_rc 2 "a malformed config file"
expect_err_contains "bad-config:3:" "is reported with its path and line"

finish
