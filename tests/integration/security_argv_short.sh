#!/bin/sh
# Security, section 2 (security.inc lists them all): short hostile values
# (marked HX) that pass more validators — shapes a branch, remote or
# context name could really have — reach git and kubectl as single literal
# arguments that cannot be options, or are refused with exit 2; and a
# legal branch name full of shell syntax is landed for review literally.
# (The values that would write into $PW: security_argv.sh.)
. "$(dirname "$0")/security.inc"

try_hostile 'HX;id' '$(HX)' '`HX`' "HX${NL}" '-HX' '--HX=1'

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

finish
