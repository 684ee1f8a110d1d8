#!/bin/sh
# The GitHub provider against the server's ways: conditional requests
# (304s cost nothing), rate-limit waits, doctor, the provider choice,
# x-poll-interval and ci list's pages (ci_github.inc: the set-up and the
# other parts).
. "$(dirname "$0")/ci_github.inc"

# ---- conditional requests ----
# A run that moves only when the test says so: the client polls its
# commit's runs three times with nothing changed (so at least two answers
# are 304s, whatever the client's speed), then the run completes.
STILL=$(printf 'c0d%037x' 1)
still=$(gh_ctl POST /__fake/runs "{\"workflow\": \"CI\", \"head_sha\": \"$STILL\",
    \"advance\": {\"on\": \"manual\"}, \"ticks\": 1,
    \"jobs\": [{\"name\": \"build\", \"steps\": [\"Set up job\", \"Complete job\"]}]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
since=$(wc -l < "$T/gh.requests")
polled=$(requests_seen gh '/actions/runs$')
spawn "$HOMELAB" ci watch "$STILL" --timeout 5m
wait_request gh '/actions/runs$' $((polled + 3))
gh_ctl POST /__fake/advance "{\"run\": $still, \"until\": \"completed\"}" >/dev/null
reap; keep
expect_rc 0 "a run that completes after three unchanged polls: 0"
check "repeated GETs carry If-None-Match and unchanged answers cost nothing" python3 -c '
import json,sys
reqs=[json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):]]
hits=[r for r in reqs if r.get("etag_hit")]
assert len(hits) >= 2 and all(r["rate_cost"]==0 for r in hits), hits' "$T/gh.requests" "$since"

# ---- rate limits ----
gh_ctl POST /__fake/faults '{"kind":"secondary","status":429,"retry_after":1,"path_regex":"/actions/runs$","times":1}' >/dev/null
hl ci watch $PASS --timeout 60s; keep
expect_rc 0 "a secondary rate limit (429 + retry-after) is waited out"
expect_err_contains "rate-limited until" "with a progress line"
gh_ctl POST /__fake/faults '{"kind":"primary","reset_in":120,"times":1}' >/dev/null
hl ci watch $PASS --timeout 5s; keep
expect_rc 6 "a primary limit that resets after --timeout: 6"
expect_err_contains "rate-limited by" "says so"
gh_ctl POST /__fake/ratelimit '{"remaining": 5000}' >/dev/null

# ---- doctor ----
hl doctor; keep
expect_out_contains "accepts the token (user octocat)" "doctor: the API accepts the token"
expect_out_contains "requests left this hour" "doctor: the rate limit left"
expect_out_contains "acme/web is visible" "doctor: the repo is visible"
hl doctor --repo acme/secret; keep
check "doctor: a repo the token cannot see fails" [ "$rc" -ne 0 ]

# ---- choosing the provider ----
unset HOMELAB_CI_PROVIDER HOMELAB_GITHUB_REPO
git init -q "$T/ghrepo" && git -C "$T/ghrepo" commit -q --allow-empty -m x &&
    git -C "$T/ghrepo" remote add origin "https://github.com/acme/web.git"
git init -q "$T/fjrepo" && git -C "$T/fjrepo" commit -q --allow-empty -m x &&
    git -C "$T/fjrepo" remote add origin "git@forge.homelab.test:acme/web.git"
cd "$T/ghrepo"
hl ci status $PASS; keep
expect_rc 0 "a github.com remote chooses GitHub (and names the repo)"
HOMELAB_CI_PROVIDER=woodpecker hl ci status $PASS; keep
check "HOMELAB_CI_PROVIDER=woodpecker overrides the remote" lacks "$err" "workflow run"
cd "$T/fjrepo"
hl ci status $PASS --repo acme/web; keep
check "another host chooses Woodpecker" lacks "$out" "CI #101"
hl ci status $PASS --repo acme/web --provider github; keep
expect_rc 0 "--provider github wins over the remote"
hl ci status --provider gitlab; keep
expect_rc 2 "an unknown provider is a usage error"

# ---- x-poll-interval ----
sha=$(printf 'feed%036x' 1)
gh_ctl POST /__fake/runs "{\"workflow\": \"Slow\", \"head_sha\": \"$sha\", \"advance\": {\"on\": \"any\", \"every\": 1}, \"jobs\": [{\"name\": \"b\", \"steps\": [\"Set up job\", \"Complete job\"]}]}" >/dev/null
gh_ctl POST /__fake/poll_interval '{"seconds": 3}' >/dev/null
hl ci watch --provider github --repo acme/web --timeout 2m "$sha"; keep
gh_ctl POST /__fake/poll_interval '{"seconds": 0}' >/dev/null
expect_rc 0 "a watch under x-poll-interval still ends with the verdict"
check "x-poll-interval: each list of the commit's runs is polled no more often than GitHub asks" python3 -c '
import json, sys
by = {}
for r in map(json.loads, open(sys.argv[1])):
    q = r.get("query", {})
    if r["path"].endswith("/actions/runs") and q.get("head_sha") == sys.argv[2] \
            and r["user_agent"].startswith("homelab"):
        by.setdefault(json.dumps(q, sort_keys=True), []).append(r["time"])
gaps = [b - a for t in by.values() for a, b in zip(t, t[1:])]
assert gaps and min(gaps) >= 2.9, by' "$T/gh.requests" "$sha"

# ---- ci list: pages ----
cd "$ROOT"
export HOMELAB_CI_PROVIDER=github HOMELAB_GITHUB_REPO=acme/web
# 105 runs, posted by one python3 over one connection (not a curl each)
python3 - "$GH_PORT" "$CERTS/ca.pem" <<'PY'
import http.client, json, socket, ssl, sys
class Fake(http.client.HTTPSConnection):
    def connect(self):  # 127.0.0.1, verified as api.github.test
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        self.sock = self._context.wrap_socket(s, server_hostname="api.github.test")
c = Fake("api.github.test", context=ssl.create_default_context(cafile=sys.argv[2]))
for i in range(105):
    c.request("POST", "/__fake/runs", json.dumps({"workflow": "Bulk", "head_sha": "%040x" % (i + 1)}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("# POST /__fake/runs: %d" % r.status)
PY
hl ci list --limit 120 --json; keep
expect_rc 0 "ci list --limit 120"
check "more than a page: the Link rel=next pages are followed up to the limit" python3 -c '
import json, sys
runs = json.loads(sys.argv[2])
assert len(runs) == 120 and len({r["id"] for r in runs}) == 120, len(runs)
reqs = [json.loads(l) for l in open(sys.argv[1])]
pages = [r for r in reqs if r["path"].endswith("/actions/runs") and r.get("query", {}).get("per_page") == "100"]
assert any(r["query"].get("page") == "2" for r in pages), pages[-2:]' "$T/gh.requests" "$out"
check "the token appears in no output at all" lacks "$all_out" "$GH_TEST_TOKEN"
gh_expect_no_leak
finish
