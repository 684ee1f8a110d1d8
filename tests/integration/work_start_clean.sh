#!/bin/sh
# work start / work clean with the real git against bare remotes in a
# temporary directory: the worktree and branch, the default branch (main,
# master, advertised only, guessed), hostile topic names, refusals and
# --force.
. "$(dirname "$0")/../lib.sh"

export USER=me
HOOKS="$ROOT/tests/data/git"

# new_remote NAME BRANCH: a bare remote $T/NAME.git whose BRANCH has one
# commit, and a clone of it at $T/NAME.
new_remote() {
    git init -q --bare -b "$2" "$T/$1.git" &&
        git init -q -b "$2" "$T/$1.seed" &&
        printf 'hello\n' >"$T/$1.seed/README" &&
        git -C "$T/$1.seed" add README && git -C "$T/$1.seed" commit -q -m seed &&
        git -C "$T/$1.seed" push -q "$T/$1.git" "HEAD:refs/heads/$2" &&
        git clone -q "$T/$1.git" "$T/$1" 2>/dev/null
}
sha_of() { git -C "$1" rev-parse "$2" 2>/dev/null; }
is_branch() { git -C "$1" show-ref --verify --quiet "refs/heads/$2"; }
no_branch() { ! is_branch "$@"; }
no_path() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
not() { ! "$@"; }
one_line() { [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]; }

# ---- work start ----
new_remote app main || exit 1
R=$T/app
cd "$R"
before_status=$(git status --porcelain)
hl work start feat
expect_rc 0 "work start feat"
check "stdout is only the worktree path" [ "$out" = "$R/.worktrees/feat" ]
check "the worktree exists" [ -f "$R/.worktrees/feat/README" ]
check "on branch me/feat (prefix from \$USER)" \
    [ "$(git -C "$R/.worktrees/feat" symbolic-ref HEAD)" = refs/heads/me/feat ]
check "the branch starts at origin/main" [ "$(sha_of "$R" me/feat)" = "$(sha_of "$R" origin/main)" ]
check "the branch does not track origin/main (no config written)" \
    [ -z "$(git -C "$R" config --get branch.me/feat.remote)" ]
check ".worktrees/ is in info/exclude" grep -qx '.worktrees/' "$R/.git/info/exclude"
check "the main checkout's status is unchanged" [ "$(git status --porcelain)" = "$before_status" ]
check "no tracked file was touched (.gitignore not created)" no_path "$R/.gitignore"
expect_err_contains "off origin/main" "progress on stderr names the base"
cd "$(printf '%s' "$out")" 2>/dev/null
check 'cd "$(homelab work start x)" works' [ "$(pwd)" = "$R/.worktrees/feat" ]

hl work start feat2
expect_rc 0 "work start from inside a worktree"
check "the new worktree goes under the main worktree, not the linked one" \
    [ "$out" = "$R/.worktrees/feat2" ]
cd "$R"
check "info/exclude got the line once" [ "$(grep -cx '.worktrees/' "$R/.git/info/exclude")" -eq 1 ]

hl work start feat
expect_rc 2 "an existing topic"
expect_err_contains "topic 'feat' exists" "says the topic exists"
git -C "$R" branch me/taken origin/main
hl work start taken
expect_rc 2 "an existing branch"
expect_err_contains "branch 'me/taken' exists" "says which branch exists"
check "and makes no worktree for it" no_path "$R/.worktrees/taken"

hl work start verbose1 --verbose
expect_rc 0 "work start --verbose"
expect_err_contains "trace: homelab: git -C $R worktree add" "--verbose traces each git command"
hl work start
expect_rc 2 "work start without a topic"
hl work start a b
expect_rc 2 "work start with two topics"

printf '[work]\nbranch-prefix = team/\n' >"$T/config"
HOMELAB_CONFIG="$T/config" hl work start pref
expect_rc 0 "work.branch-prefix"
check "the branch is team/pref" is_branch "$R" team/pref

hl work start fix/login
expect_rc 0 "a topic with an inner slash"
check "nested worktree path" [ "$out" = "$R/.worktrees/fix/login" ]
check "branch me/fix/login" is_branch "$R" me/fix/login

# ---- hostile topic names ----
cd "$R"
branches_before=$(git -C "$R" for-each-ref --format='%(refname)' refs/heads)
for topic in ';rm -rf' ';rm -rf ~' 'a b' '..' 'a..b' '/abs' 'a//b' 'trail/' '.hidden' 'x.lock' \
    '@' 'a@{1}' 'a~1' 'a^' 'a:b' 'what?' 'st*r' 'a[b' 'back\slash' "$(printf 'new\nline')" \
    "$(printf 'tab\there')" "$(printf 'esc\033[2J')" ''; do
    hl work start -- "$topic"
    expect_rc 2 "work start rejects topic $(printf '%s' "$topic" | od -An -c | tr -s ' ' | head -c 60)"
done
check "none of them made a branch" \
    [ "$(git -C "$R" for-each-ref --format='%(refname)' refs/heads)" = "$branches_before" ]
check "nor a directory" [ "$(ls -A "$R/.worktrees" | tr '\n' ' ')" = "feat feat2 fix pref verbose1 " ]
hl work start -x
expect_rc 2 "a topic that looks like a flag is an unknown flag"
hl work start -- -x
expect_rc 2 "and after -- it is refused as a topic"
expect_err_contains "starts with '-'" "saying why"
check "no branch me/-x" no_branch "$R" me/-x

# Legal in git, so they must stay literal: nothing runs, nothing expands.
hl work start '$(touch${IFS}pwned)'
expect_rc 0 "a topic with \$(…) is legal in git and taken literally"
check "the path is literal" [ "$out" = "$R/.worktrees/\$(touch\${IFS}pwned)" ]
check "the branch is literal" is_branch "$R" 'me/$(touch${IFS}pwned)'
check "nothing was executed" no_path "$R/pwned"
check "nothing was executed (worktree)" no_path "$R/.worktrees/pwned"
hl work start "\`touch\${IFS}pwned2\`"
expect_rc 0 "a topic with backquotes is legal too"
check "backquotes neither" no_path "$R/pwned2"

# ---- outside a repository ----
cd "$T"
hl work start x
expect_rc 2 "work start outside a repository: a usage problem"
expect_err_contains "not in a git repository" "says so"
hl work clean x
expect_rc 2 "work clean outside a repository: a usage problem"

# ---- the default branch ----
new_remote old master || exit 1
cd "$T/old"
hl work start t1
expect_rc 0 "a master remote"
check "based on origin/master" [ "$(sha_of . me/t1)" = "$(sha_of . origin/master)" ]
expect_err_contains "off origin/master" "names origin/master"

# Only the remote knows: no origin/HEAD, default "trunk" (neither main nor master).
new_remote tr trunk || exit 1
git -C "$T/tr" remote set-head origin -d
git -C "$T/tr.seed" commit -q --allow-empty -m "only on main"
git -C "$T/tr.seed" push -q "$T/tr.git" HEAD:refs/heads/main
git -C "$T/tr" fetch -q
cd "$T/tr"
hl work start t1
expect_rc 0 "no origin/HEAD: the remote's advertised HEAD"
check "based on origin/trunk, not origin/main" [ "$(sha_of . me/t1)" = "$(sha_of . origin/trunk)" ]
check "origin/HEAD was not written" not git symbolic-ref -q refs/remotes/origin/HEAD

# The clone's origin/HEAD comes first, even when the remote changed its mind.
git -C "$T/tr" remote set-head origin trunk
git -C "$T/tr.git" symbolic-ref HEAD refs/heads/main
hl work start t2
check "refs/remotes/origin/HEAD wins" [ "$(sha_of . me/t2)" = "$(sha_of . origin/trunk)" ]

# Nothing advertised (HEAD dangling): whichever of main and master exists.
new_remote guess master || exit 1
git -C "$T/guess" remote set-head origin -d
git -C "$T/guess.git" symbolic-ref HEAD refs/heads/nowhere
cd "$T/guess"
hl work start t1
expect_rc 0 "no HEAD anywhere: master exists"
expect_err_contains "off origin/master" "guessed master"
git -C "$T/guess.seed" commit -q --allow-empty -m other
git -C "$T/guess.seed" push -q "$T/guess.git" HEAD:refs/heads/main
hl work start t2
expect_rc 0 "both exist: main first"
check "based on origin/main" [ "$(sha_of . me/t2)" = "$(sha_of . origin/main)" ]

new_remote lost dev || exit 1
git -C "$T/lost" remote set-head origin -d
git -C "$T/lost.git" symbolic-ref HEAD refs/heads/nowhere
cd "$T/lost"
hl work start t1
expect_rc 5 "no default branch to be found"
expect_err_contains "cannot tell the default branch of remote 'origin'" "says so"
check "and creates nothing" no_branch . me/t1

# The forgejo remote is preferred, as for every verb.
new_remote fj main || exit 1
git -C "$T/fj" remote rename origin upstream
git -C "$T/fj" remote add forgejo "$T/fj.git"
git -C "$T/fj.seed" commit -q --allow-empty -m newer
git -C "$T/fj.seed" push -q "$T/fj.git" HEAD:refs/heads/main
cd "$T/fj"
hl work start t1
expect_rc 0 "a forgejo remote"
check "based on forgejo/main (fetched just now)" \
    [ "$(sha_of . me/t1)" = "$(sha_of "$T/fj.seed" HEAD)" ]
hl work start t2 --remote upstream
expect_rc 0 "--remote upstream"
check "--remote picks another (and fetches it)" \
    [ "$(sha_of . upstream/main)" = "$(sha_of "$T/fj.seed" HEAD)" ]

# ---- work clean ----
cd "$R"
git -C "$R/.worktrees/feat" commit -q --allow-empty -m "unlanded work"
hl work clean feat
expect_rc 1 "clean refuses a branch not merged into origin/main"
expect_err_contains "branch 'me/feat' is not merged into origin/main (1 commit only there)" \
    "says which branch and how much"
check "the worktree is still there" [ -d "$R/.worktrees/feat" ]
check "and the branch" is_branch "$R" me/feat

hl work clean feat2
expect_rc 0 "clean a worktree with nothing unmerged"
expect_out_contains "cleaned feat2: removed $R/.worktrees/feat2 and deleted branch me/feat2" \
    "says what it removed"
check "the worktree is gone" no_path "$R/.worktrees/feat2"
check "the branch is gone" no_branch "$R" me/feat2
check "git forgot the worktree" lacks "$(git -C "$R" worktree list)" feat2

echo scratch >"$R/.worktrees/fix/login/untracked.txt"
hl work clean fix/login
expect_rc 1 "clean refuses a dirty worktree"
expect_err_contains "has uncommitted changes: untracked.txt" "names the file"
check "nothing removed" [ -f "$R/.worktrees/fix/login/untracked.txt" ]
hl work clean fix/login --force
expect_rc 0 "--force removes a dirty worktree"
check "gone" no_path "$R/.worktrees/fix/login"
check "the empty parent directory went too" no_path "$R/.worktrees/fix"
check "the branch is gone" no_branch "$R" me/fix/login

hl work clean feat --force
expect_rc 0 "--force removes an unmerged branch"
check "worktree gone" no_path "$R/.worktrees/feat"
check "branch gone" no_branch "$R" me/feat

hl work clean taken
expect_rc 0 "clean a branch that has no worktree"
expect_out_contains "deleted branch me/taken" "says it deleted the branch"
check "branch gone" no_branch "$R" me/taken

hl work clean nothing
expect_rc 5 "clean an unknown topic"
expect_err_contains "no topic 'nothing'" "says so"

mkdir -p "$R/.worktrees/stray" && echo keep >"$R/.worktrees/stray/file"
hl work clean stray --force
expect_rc 1 "a directory under .worktrees that is not a worktree"
check "is never deleted, even with --force" [ -f "$R/.worktrees/stray/file" ]

rm -rf "$R/.worktrees/pref"
HOMELAB_CONFIG="$T/config" hl work clean pref
expect_rc 0 "clean a worktree whose directory is already gone"
check "git forgot it" lacks "$(git -C "$R" worktree list)" "/pref"
check "branch team/pref gone" no_branch "$R" team/pref

for topic in ';rm -rf' '-x' '..' "$(printf 'a\nb')" '/etc'; do
    hl work clean -- "$topic"
    expect_rc 2 "work clean rejects a hostile topic"
done

hl work clean '$(touch${IFS}pwned)'
expect_rc 0 "clean the literal \$(…) topic"
check "still nothing executed" no_path "$R/pwned"
check "its branch is gone" no_branch "$R" 'me/$(touch${IFS}pwned)'

hl work clean feat2 --json
expect_rc 5 "clean --json of something already cleaned"
hl work start j1
hl work clean j1 --json
expect_rc 0 "clean --json"
check "one JSON object naming what was removed" python3 -c '
import json,sys; d=json.loads(sys.argv[1])
assert d["topic"]=="j1" and d["branch"]=="me/j1" and d["removed_worktree"] and d["deleted_branch"]' "$out"

hl work start j2 --json
expect_rc 0 "start --json"
check "one JSON object with path, branch, base and sha" python3 -c '
import json,sys; d=json.loads(sys.argv[1])
assert d["path"]==sys.argv[2] and d["branch"]=="me/j2" and d["base"]=="origin/main" and len(d["sha"])==40' \
    "$out" "$R/.worktrees/j2"

finish
