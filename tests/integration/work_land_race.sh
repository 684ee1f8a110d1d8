#!/bin/sh
# work land (work_land.inc: the set-up): a second clone racing the push
# (with and without re-verification, and the retry limit), branch
# protection (review fallback).
. "$(dirname "$0")/work_land.inc"

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

finish
