#!/bin/sh
# work land and work start/clean in a git-crypt repository (work_land.inc:
# the set-up, and the other parts): the flags on every git command line,
# seen through GIT_TRACE, and nothing in any config.
. "$(dirname "$0")/work_land.inc"

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

finish
