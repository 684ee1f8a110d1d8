#!/bin/sh
# work land (work_land.inc: the set-up, and the other parts): merging the
# moved default branch, and a conflicting merge that leaves the checkout
# exactly as it was (plain and --json).
. "$(dirname "$0")/work_land.inc"

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

finish
