#!/bin/sh
# work land with the real git against bare remotes in a temporary
# directory: a plain landing, refusals, verification (flag, config,
# detected suites, none). The other parts are listed in work_land.inc, their
# shared set-up.
. "$(dirname "$0")/work_land.inc"

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

# ---- -q: the result and errors only ----
topic quiet quiet.txt || exit 1
hl work land -q --verify-cmd 'echo QUIET-VERIFY >&2' --no-ci-watch
expect_rc 0 "work land -q"
check "stdout is still the landed sha" [ "$out" = "$(sha_of "$W" HEAD)" ]
expect_err_lacks "work: verifying with" "-q hides the verifying line"
expect_err_lacks "work: pushing" "and the pushing line"
expect_err_lacks "up to date with" "and the merge line"

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
finish
