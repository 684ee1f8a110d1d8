#!/bin/sh
# work land with the real git against bare remotes in a temporary
# directory: verification (flag, config, detected suites, none), refusals,
# merges and conflicts (checkout unchanged), a second clone racing the push
# (with and without re-verification, and the retry limit), branch protection
# (review fallback), git-crypt flags seen through GIT_TRACE, --json, and
# then CI (the fake Woodpecker, told by a post-receive hook) and --deploy
# (the fake Kubernetes API, rolled by the same hook).
. "$(dirname "$0")/../lib.sh"

export USER=me HOMELAB_REPO=acme/web
export HOOK_LOG="$T/hook.log"
HOOKS="$ROOT/tests/data/git"

# new_remote NAME BRANCH: a bare remote $T/NAME.git (with the post-receive
# hook) whose BRANCH has README and shared.txt, and a clone at $T/NAME.
new_remote() {
    git init -q --bare -b "$2" "$T/$1.git" &&
        cp "$HOOKS/post-receive" "$T/$1.git/hooks/post-receive" &&
        git init -q -b "$2" "$T/$1.seed" &&
        printf 'hello\n' >"$T/$1.seed/README" &&
        printf 'line one\nline two\n' >"$T/$1.seed/shared.txt" &&
        git -C "$T/$1.seed" add . && git -C "$T/$1.seed" commit -q -m seed &&
        git -C "$T/$1.seed" push -q "$T/$1.git" "HEAD:refs/heads/$2" &&
        git clone -q "$T/$1.git" "$T/$1" 2>/dev/null
}
# topic NAME FILE: `work start NAME` in $R, commit FILE there, cd into it; sets W.
topic() {
    cd "$R" && W=$("$HOMELAB" work start "$1" 2>"$T/start.err") &&
        printf '%s\n' "$1" >"$W/$2" && git -C "$W" add "$2" &&
        git -C "$W" commit -q -m "$1: add $2" && cd "$W" ||
        { echo "# cannot set up topic $1: $(cat "$T/start.err")"; return 1; }
}
# push_other FILE TEXT [MSG]: the second clone commits FILE=TEXT to main and pushes.
push_other() {
    git -C "$T/other" fetch -q origin && git -C "$T/other" reset -q --hard origin/main &&
        printf '%s\n' "$2" >"$T/other/$1" && git -C "$T/other" add "$1" &&
        git -C "$T/other" commit -q -m "${3:-other: $1}" && git -C "$T/other" push -q origin HEAD:main
}
rsha() { git -C "$T/app.git" rev-parse --verify -q "$1"; }
sha_of() { git -C "$1" rev-parse --verify -q "$2"; }
not() { ! "$@"; }
first_line() { printf '%s\n' "$1" | head -1; }
has_file() { git -C "$T/app.git" cat-file -e "$1:$2" 2>/dev/null; }
ancestor() { git -C "$T/app.git" merge-base --is-ancestor "$1" "$2"; }

new_remote app main || exit 1
git clone -q "$T/app.git" "$T/other"
R=$T/app

# ---- a plain landing ----
topic feat feat.txt || exit 1
hl work land --verify-cmd "echo VERIFY-OUT; echo VERIFY-ERR >&2; pwd >$T/verify.pwd" --no-ci-watch
expect_rc 0 "work land"
check "stdout is the landed sha alone" [ "$out" = "$(sha_of "$W" HEAD)" ]
check "the remote's main is that commit" [ "$(rsha main)" = "$out" ]
check "with the topic's file" has_file main feat.txt
check "the topic branch itself was not pushed" not rsha refs/heads/me/feat
expect_err_contains "VERIFY-OUT" "the verify command's stdout streams to stderr"
expect_err_contains "VERIFY-ERR" "and its stderr too"
expect_out_lacks "VERIFY" "stdout carries only the result"
check "the verify command ran in the worktree" [ "$(cat "$T/verify.pwd")" = "$W" ]
check "the post-receive hook saw the push" grep -qx "$out main" "$HOOK_LOG"
landed=$out
hl work land --verify-cmd 'echo VERIFY-RAN-AGAIN >&2' --no-ci-watch
expect_rc 0 "landing again what has landed"
check "prints the same sha" [ "$out" = "$landed" ]
expect_err_contains "nothing new to land" "says there is nothing new"
expect_err_lacks "VERIFY-RAN-AGAIN" "without verifying again"
check "main did not move" [ "$(rsha main)" = "$landed" ]

# ---- refusals ----
cd "$R"
main_before=$(rsha main)
hl work land --no-verify --no-ci-watch
expect_rc 2 "work land on the default branch"
expect_err_contains "on the default branch 'main'" "says so"

topic dirty dirty.txt || exit 1
echo change >>"$W/README"
echo new >"$W/untracked.txt"
head_before=$(sha_of "$W" HEAD)
hl work land --no-verify --no-ci-watch
expect_rc 1 "uncommitted changes"
expect_err_contains " M README" "lists the modified file"
expect_err_contains "?? untracked.txt" "lists the untracked file"
expect_err_contains "uncommitted changes in the work tree: README, untracked.txt" "in the message"
check "nothing was pushed" [ "$(rsha main)" = "$main_before" ]
check "HEAD did not move" [ "$(sha_of "$W" HEAD)" = "$head_before" ]

topic nosuite nosuite.txt || exit 1
push_other other0.txt zero
head_before=$(sha_of "$W" HEAD)
main_before=$(rsha main)
hl work land --no-ci-watch
expect_rc 2 "no detectable check suite"
expect_err_contains "no check suite found" "says so"
expect_err_contains "--verify-cmd" "and hints at --verify-cmd or --no-verify"
check "nothing was merged" [ "$(sha_of "$W" HEAD)" = "$head_before" ]
check "nothing was pushed" [ "$(rsha main)" = "$main_before" ]
hl work land --no-verify --verify-cmd true --no-ci-watch
expect_rc 2 "--no-verify with --verify-cmd"
hl work land --no-verify --no-ci-watch
expect_rc 0 "--no-verify lands without a suite"
check "landed" [ "$(rsha main)" = "$out" ]
check "with the other clone's commit merged in" has_file main other0.txt

hl work land extra --no-verify
expect_rc 2 "work land takes no arguments"
topic typo typo.txt || exit 1
push_other typo-other.txt moved
main_before=$(rsha main)
head_before=$(sha_of "$W" HEAD)
hl work land --no-verify --no-ci-watch --deploy apps/web --deploy 'apps/web;x'
expect_rc 2 "a malformed --deploy target"
expect_err_contains "--deploy" "names the flag"
check "is refused before anything is pushed" [ "$(rsha main)" = "$main_before" ]
check "or merged" [ "$(sha_of "$W" HEAD)" = "$head_before" ]
git -C "$W" checkout -q --detach
hl work land --no-verify --no-ci-watch
expect_rc 2 "a detached HEAD"
expect_err_contains "detached" "says so"
cd "$T"
hl work land --no-verify
expect_rc 2 "outside a repository: a usage problem"

# ---- verification ----
topic broken broken.txt || exit 1
main_before=$(rsha main)
hl work land --verify-cmd 'echo BROKEN-SUITE >&2; exit 3' --no-ci-watch
expect_rc 1 "a failing verification"
expect_err_contains "verification failed" "says so"
expect_err_contains "exited with 3" "with the status"
expect_err_contains "BROKEN-SUITE" "after streaming its output"
check "nothing was pushed to main" [ "$(rsha main)" = "$main_before" ]
check "nor the branch" not rsha refs/heads/me/broken

printf '[work]\nverify = "echo FROM-CONFIG >&2"\n' >"$T/config"
HOMELAB_CONFIG="$T/config" hl work land --no-ci-watch
expect_rc 0 "work.verify from the config file"
expect_err_contains "FROM-CONFIG" "ran the configured command"
topic flagwins flagwins.txt || exit 1
HOMELAB_CONFIG="$T/config" hl work land --verify-cmd 'echo FROM-FLAG >&2' --no-ci-watch
expect_rc 0 "--verify-cmd over work.verify"
expect_err_contains "FROM-FLAG" "ran the flag's command"
expect_err_lacks "FROM-CONFIG" "not the config's"

export SUITE_LOG="$T/suite.log"
topic mk mk.txt || exit 1
printf 'all:\n\t@true\ntest:\n\t@echo test >>"$$SUITE_LOG"\ncheck:\n\t@echo check >>"$$SUITE_LOG"\n' >"$W/Makefile"
git -C "$W" add Makefile && git -C "$W" commit -q -m "a suite"
hl work land --no-ci-watch
expect_rc 0 "a Makefile with a check target"
expect_err_contains "verifying with: make check" "says what it runs"
check "make check ran, once" [ "$(cat "$SUITE_LOG")" = check ]
topic mk2 mk2.txt || exit 1
printf 'test:\n\t@echo test >>"$$SUITE_LOG"\n\t@echo MAKE-TEST-OUTPUT\n' >"$W/Makefile"
git -C "$W" commit -q -am "only a test target"
rm -f "$SUITE_LOG"
hl work land --no-ci-watch
expect_rc 0 "a Makefile with only a test target"
check "make test ran" [ "$(cat "$SUITE_LOG")" = test ]
expect_err_contains "MAKE-TEST-OUTPUT" "its output streams to stderr"
expect_out_lacks "MAKE-TEST-OUTPUT" "not to stdout"
git -C "$R" pull -q --ff-only 2>/dev/null

# ---- merging the moved default branch ----
topic m1 m1.txt || exit 1
push_other o1.txt one
other_sha=$(sha_of "$T/other" HEAD)
git -C "$R" config merge.ff only # a user setting that must not break the merge
hl work land --verify-cmd 'test -f o1.txt' --no-ci-watch
git -C "$R" config --unset merge.ff
expect_rc 0 "main moved on before landing: merged, verified with the merge"
check "main has both changes" has_file main o1.txt
check "main has the topic's file" has_file main m1.txt
check "the other clone's commit is in the landed history" ancestor "$other_sha" "$out"
check "the landed commit is the worktree's HEAD" [ "$out" = "$(sha_of "$W" HEAD)" ]

# ---- a conflicting merge leaves the checkout exactly as it was ----
topic c1 c1.txt || exit 1
printf 'line one\nline two by the topic\n' >"$W/shared.txt"
git -C "$W" commit -q -am "topic edits shared"
push_other shared.txt "$(printf 'line one\nline two by the other')"
main_before=$(rsha main)
head_before=$(sha_of "$W" HEAD)
status_before=$(git -C "$W" status --porcelain=v1 --branch)
hl work land --verify-cmd true --no-ci-watch
expect_rc 1 "a merge conflict"
expect_err_contains "conflict: shared.txt" "lists the conflicting file"
expect_err_contains "merge aborted" "says the merge was aborted"
check "HEAD unchanged" [ "$(sha_of "$W" HEAD)" = "$head_before" ]
check "git status unchanged" [ "$(git -C "$W" status --porcelain=v1 --branch)" = "$status_before" ]
check "no merge in progress" not git -C "$W" rev-parse -q --verify MERGE_HEAD
check "the topic's version of the file is there" grep -q "by the topic" "$W/shared.txt"
check "nothing pushed" [ "$(rsha main)" = "$main_before" ]

hl work land --verify-cmd true --no-ci-watch --json
expect_rc 1 "a merge conflict, --json"
check "--json: merge stage names the files, result carries exit 1" python3 -c '
import json,sys; lines=[json.loads(l) for l in sys.argv[1].splitlines()]
m=[l for l in lines if l.get("stage")=="merge"][0]
assert m["status"]=="conflict" and m["files"]==["shared.txt"], m
r=lines[-1]; assert r["stage"]=="result" and r["status"]=="conflict" and r["exit_code"]==1, r' "$out"
check "and the checkout is still unchanged" [ "$(sha_of "$W" HEAD)" = "$head_before" ]

# ---- another clone pushes between our fetch and our push ----
cat >"$T/race.sh" <<'EOF'
# A verify command that counts its runs and, during the first $RACE_TIMES
# of them, pushes to main from another clone: a change to a file, or an
# empty commit when RACE_EMPTY is set.
n=$(( $(cat "$T/race.count" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$T/race.count"
echo "RACER-SAYS run $n"
[ "$n" -le "${RACE_TIMES:-1}" ] || exit 0
cd "$T/other" && git fetch -q origin && git reset -q --hard origin/main || exit 1
if [ -n "${RACE_EMPTY:-}" ]; then
    git commit -q --allow-empty -m "race $n"
else
    echo "race $n $$" >"race-$n.txt" && git add "race-$n.txt" && git commit -q -m "race $n"
fi
git push -q origin HEAD:main
EOF
export T
race() { rm -f "$T/race.count"; RACE_TIMES=$1 RACE_EMPTY=${2:-} hl work land --verify-cmd "sh $T/race.sh" --no-ci-watch ${3:-}; }
runs() { cat "$T/race.count"; }

topic r1 r1.txt || exit 1
race 1
expect_rc 0 "non-fast-forward once, with a changed tree"
expect_err_contains "moved on" "says main moved on"
check "verified again after merging the racer's change (2 runs)" [ "$(runs)" = 2 ]
check "landed: main is our commit" [ "$(rsha main)" = "$out" ]
check "with the racer's file" has_file main race-1.txt

topic r2 r2.txt || exit 1
race 1 empty
expect_rc 0 "non-fast-forward once, tree unchanged by the merge"
check "not verified again (1 run)" [ "$(runs)" = 1 ]
expect_err_contains "unchanged since it was verified" "says why"
check "landed on top of the racer's commit" [ "$(rsha main)" = "$out" ]
check "the racer's commit is in main" [ "$(git -C "$T/app.git" log -1 --format=%s "$out^2" 2>/dev/null)" = "race 1" ]

topic r3 r3.txt || exit 1
main_before=$(rsha main)
race 99
expect_rc 1 "main keeps moving: gives up after 3 retries"
check "4 attempts, each verified" [ "$(runs)" = 4 ]
expect_err_contains "kept moving (4 pushes rejected" "says so"
check "main is the racer's, not ours" [ "$(rsha main)" = "$(sha_of "$T/other" HEAD)" ]
check "our commit is not in main" not ancestor "$(sha_of "$W" HEAD)" main

topic r4 r4.txt || exit 1
race 1 "" --json
expect_rc 0 "a race with --json"
check "--json: stages merge, verify, push (non-fast-forward), merge, verify, push (landed), result" python3 -c '
import json,sys; lines=[json.loads(l) for l in sys.argv[1].splitlines()]
st=[(l["stage"], l.get("status")) for l in lines]
assert st==[("merge","up-to-date"),("verify","success"),("push","non-fast-forward"),("merge","merged"),
            ("verify","success"),("push","landed"),("result","landed")], st
push=lines[5]; assert push["sha"]==lines[-1]["sha"] and len(push["sha"])==40 and push["attempt"]==2
assert lines[-1]["exit_code"]==0' "$out"
expect_out_lacks "RACER-SAYS" "what the verify command printed is not on stdout"

# ---- a protected default branch: pushed for review ----
cp "$HOOKS/pre-receive-protect" "$T/app.git/hooks/pre-receive"
topic rv rv.txt || exit 1
main_before=$(rsha main)
hl work land --verify-cmd true --no-ci-watch
expect_rc 4 "main declined by a hook: needs a person"
check "stdout says so" [ "$out" = "not landed: pushed me/rv to origin for review" ]
check "the branch is on the remote at our HEAD" [ "$(rsha refs/heads/me/rv)" = "$(sha_of "$W" HEAD)" ]
check "main is unchanged" [ "$(rsha main)" = "$main_before" ]
expect_err_contains "pre-receive hook declined" "gives git's reason"
expect_err_contains "remote: branch main is protected" "and what the remote said"

topic rvj rvj.txt || exit 1
hl work land --verify-cmd true --no-ci-watch --json
expect_rc 4 "review, --json"
check "--json: push stage review, result review with exit 4" python3 -c '
import json,sys; lines=[json.loads(l) for l in sys.argv[1].splitlines()]
p=[l for l in lines if l.get("stage")=="push"]
assert p[0]["status"]=="rejected" and p[1]["status"]=="review" and p[1]["branch"]=="me/rvj"
assert lines[-1]=={"stage":"result","status":"review","exit_code":4,"sha":p[1]["sha"]}, lines[-1]' "$out"

topic rv2 rv2.txt || exit 1
HOOK_PROTECTED='*' hl work land --verify-cmd true --no-ci-watch
expect_rc 1 "main and the branch both declined"
expect_err_contains "refused" "says both were refused"
check "nothing on the remote" not rsha refs/heads/me/rv2
rm "$T/app.git/hooks/pre-receive"

# ---- git-crypt: flags on every command line, nothing in any config ----
git init -q --bare -b main "$T/sec.git"
git init -q -b main "$T/sec.seed"
printf 'secret.txt filter=git-crypt diff=git-crypt\n' >"$T/sec.seed/.gitattributes"
printf 'GITCRYPT-CIPHERTEXT\n' >"$T/sec.seed/secret.txt"
git -C "$T/sec.seed" add . && git -C "$T/sec.seed" commit -q -m "encrypted" &&
    git -C "$T/sec.seed" push -q "$T/sec.git" HEAD:main
git clone -q "$T/sec.git" "$T/sec"
# git-crypt configured in the clone but unusable (locked, or not installed)
git -C "$T/sec" config filter.git-crypt.smudge false
git -C "$T/sec" config filter.git-crypt.clean false
git -C "$T/sec" config filter.git-crypt.required true
config_before=$(git -C "$T/sec" config --list --show-origin)
check "without the flags, plain git cannot check this repository out" \
    not git -C "$T/sec" worktree add -q --detach "$T/control" origin/main 2>/dev/null
git -C "$T/sec" worktree prune
cd "$T/sec"
GIT_TRACE=1 hl work start s1
expect_rc 0 "work start in a git-crypt repository"
W=$out
check "stdout is still only the path" [ "$out" = "$T/sec/.worktrees/s1" ]
check "the encrypted file is checked out as it is stored" grep -qx GITCRYPT-CIPHERTEXT "$W/secret.txt"
expect_err_contains "-c filter.git-crypt.smudge=cat -c filter.git-crypt.clean=cat -c filter.git-crypt.required=false worktree add" \
    "GIT_TRACE shows the flags on worktree add"
expect_err_contains "run_command: cat" "and git ran cat as the filter"
check "the config is unchanged" [ "$(git -C "$T/sec" config --list --show-origin)" = "$config_before" ]
check "no cat filter in any config file" not grep -rqs "cat" "$T/sec/.git/config" "$T/sec/.git/worktrees/s1/config.worktree"

flags_on() { # SUBCOMMAND...: every traced homelab git command with one of these carries the flags
    python3 -c '
import shlex,sys
want=["filter.git-crypt.smudge=cat","filter.git-crypt.clean=cat","filter.git-crypt.required=false"]
cmds=[]
for l in sys.argv[1].splitlines():
    if not l.startswith("trace: homelab: git "):
        continue
    toks=shlex.split(l[len("trace: homelab: "):])[1:]
    flags=[]; i=0
    while i+1<len(toks) and toks[i] in ("-C","-c"):
        if toks[i]=="-c":
            flags.append(toks[i+1])
        i+=2
    cmds.append((toks[i:i+2], flags))
for sub in sys.argv[2:]:
    hits=[f for c,f in cmds if sub in c]
    assert hits, "no traced git "+sub
    for f in hits:
        assert f==want, (sub,f)' "$err" "$@"
}
printf 'plain\n' >"$W/plain.txt"
# the test's own commit needs the same flags: this clone's filter is broken
gcrypt() { git -c filter.git-crypt.smudge=cat -c filter.git-crypt.clean=cat -c filter.git-crypt.required=false "$@"; }
gcrypt -C "$W" add plain.txt && gcrypt -C "$W" commit -q -m "plain file"
touch "$W/secret.txt" # stat-dirty: status must run the clean filter
cd "$W"
GIT_TRACE=1 hl work land --verify-cmd true --no-ci-watch
expect_rc 0 "work land in a git-crypt repository"
check "GIT_TRACE: fetch, status, merge and push all carry the flags" flags_on fetch status merge push
check "landed" [ "$(git -C "$T/sec.git" rev-parse main)" = "$(first_line "$out")" ]
check "the config is still unchanged" [ "$(git -C "$T/sec" config --list --show-origin)" = "$config_before" ]
cd "$T/sec"
GIT_TRACE=1 hl work clean s1
expect_rc 0 "work clean in a git-crypt repository"
check "GIT_TRACE: worktree remove and branch -D carry the flags" flags_on remove -D

cd "$R"
GIT_TRACE=1 hl work start plain1
expect_rc 0 "work start in a repository without git-crypt"
expect_err_contains "trace: homelab: git" "is traced too"
expect_err_lacks "filter.git-crypt" "without the flags"

# ---- then CI: the hook tells the fake Woodpecker about each push ----
start_woodpecker "$ROOT/tests/data/woodpecker/basic.json" || exit 1
export WP_PORT CERTS HOOK_CI_TEMPLATE_FILE="$T/ci-template"
echo success >"$HOOK_CI_TEMPLATE_FILE"
topic ci1 ci1.txt || exit 1
hl work land --verify-cmd true
expect_rc 0 "landed and CI green"
landed=$(first_line "$out")
check "the first stdout line is the landed sha" [ "$landed" = "$(rsha main)" ]
expect_out_contains "success push main $(printf '%.7s' "$landed")" "then the watch's verdict for that commit"

echo failure >"$HOOK_CI_TEMPLATE_FILE"
topic ci2 ci2.txt || exit 1
hl work land --verify-cmd true
expect_rc 1 "landed but CI failed: the watch's exit code"
check "it did land" [ "$(first_line "$out")" = "$(rsha main)" ]
expect_out_contains "failure push main" "the verdict line says failure"
expect_err_contains "failed:" "the failing steps are shown"

echo success >"$HOOK_CI_TEMPLATE_FILE"
topic ci3 ci3.txt || exit 1
hl work land --verify-cmd true --json
expect_rc 0 "land and watch, --json"
check "--json: one JSON Lines stream, stages then the watch, result last" python3 -c '
import json,sys; lines=[json.loads(l) for l in sys.argv[1].splitlines()]
stages=[l["stage"] for l in lines if "stage" in l]
assert stages==["merge","verify","push","result"], stages
push=[l for l in lines if l.get("stage")=="push"][0]
events=[l for l in lines if "event" in l]
assert events and events[-1]["event"]=="result" and events[-1]["status"]=="success"
assert lines.index(push) < lines.index(events[0])
assert lines[-1]=={"stage":"result","status":"success","exit_code":0,"sha":push["sha"]}, lines[-1]' "$out"

# ---- and the deploy: the same hook rolls the fake cluster onto the commit ----
start_kube "$ROOT/tests/data/git/kube-web.json" || exit 1
export KUBE_PORT
topic dp1 dp1.txt || exit 1
hl work land --verify-cmd true --deploy apps/web --timeout 60s
expect_rc 0 "landed, CI green, deployed"
landed=$(first_line "$out")
expect_out_contains "apps/web" "the deploy's verdict line"
check "the cluster runs the landed commit" python3 -c '
import json,sys,urllib.request,ssl
ctx=ssl.create_default_context(cafile=sys.argv[2])
s=json.load(urllib.request.urlopen("https://127.0.0.1:%s/__fake/state" % sys.argv[1], context=ctx))
assert sys.argv[3][:7] in json.dumps(s["workloads"][0])' "$KUBE_PORT" "$CERTS/ca.pem" "$landed"

echo failure >"$HOOK_CI_TEMPLATE_FILE"
topic dp2 dp2.txt || exit 1
hl work land --verify-cmd true --deploy apps/web --timeout 60s
expect_rc 1 "CI failed: no deploy wait"
expect_out_lacks "apps/web" "the deploy was not waited for"

topic dp3 dp3.txt || exit 1
hl work land --verify-cmd true --no-ci-watch --deploy apps/web --timeout 60s
expect_rc 0 "--no-ci-watch --deploy: only the deploy is waited for"
expect_out_lacks "push main" "no CI verdict"
expect_out_contains "apps/web" "the deploy's verdict line"

finish
