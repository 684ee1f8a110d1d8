#!/bin/sh
# Security, section 2 (security.inc lists them all): hostile values reach
# git and kubectl as single literal arguments that cannot be options, or
# are refused with exit 2; never a file in $PW.
. "$(dirname "$0")/security.inc"

NL=$(printf 'line1\nline2')
# The values: ones that would write into $PW if a shell or an option ever
# saw them, and short ones (marked HX) that pass more validators — shapes a
# branch, remote or context name could really have.
set -- \
    "x;touch $PW/semi" \
    "\$(touch $PW/subst)" \
    "\`touch $PW/tick\`" \
    "$NL;touch $PW/nl" \
    "--upload-pack=touch $PW/dash" \
    "-oProxyCommand=touch $PW/dash2" \
    "--output=$PW/out" \
    'HX;id' '$(HX)' '`HX`' "HX${NL}" '-HX' '--HX=1'

# literal_or_usage DESC LOG VALUE SINCE: exit 2, or the value reached the
# program as one safe argument, or not at all (checked and refused by
# homelab itself). Never a file in $PW.
literal_or_usage() {
    case "$3" in *"$PW"*) frag=$PW ;; *) frag=HX ;; esac
    if [ "$rc" -eq 2 ]; then
        ok "$1: refused as usage (exit 2)"
    elif how=$(argv_literal "$2" "$3" "$frag" "$4" 2>&1); then
        case "$how" in
            literal) ok "$1: one literal argument (exit $rc)" ;;
            *) ok "$1: refused before reaching the program (exit $rc)" ;;
        esac
    else
        not_ok "$1: $how"
    fi
}
show() { printf '%s' "$1" | tr '\n' '|' | cut -c1-40; }

for v; do
    s=$(size_of "$T/git.argv")
    hl ci status "$v"
    literal_or_usage "ci status REV '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl ci watch "$v" --timeout 3s
    literal_or_usage "ci watch REV '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl ci status '#60' --repo "" --remote "$v"
    literal_or_usage "--remote '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl work start "$v"
    literal_or_usage "work start '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/git.argv")
    hl work clean "$v" --force
    literal_or_usage "work clean '$(show "$v")'" "$T/git.argv" "$v" "$s"
    s=$(size_of "$T/kubectl.argv")
    hl deploy status apps/web --kubectl "$KUBECTL" --context "$v"
    literal_or_usage "--context '$(show "$v")'" "$T/kubectl.argv" "$v" "$s"
    hl deploy status "$v/web" --kubectl "$KUBECTL" --context fake
    expect_rc 2 "deploy status: namespace '$(show "$v")' refused"
    hl deploy wait "apps/$v" --kubectl "$KUBECTL" --context fake --sha "$NEW" --timeout 3s
    expect_rc 2 "deploy wait: name '$(show "$v")' refused"
    hl deploy wait apps/web --kubectl "$KUBECTL" --context fake --sha "$v" --timeout 3s
    expect_rc 2 "deploy wait: sha '$(show "$v")' refused"
    hl ci logs '#60' --step "$v"
    check "ci logs --step '$(show "$v")': not found or usage (exit $rc)" rc_in 5 2
    hl deploy status apps/web --kubectl "$KUBECTL" --context fake --container "$v"
    check "deploy status --container '$(show "$v")': runs or refuses (exit $rc)" \
        [ "$rc" -ne 130 ]
done
check "no hostile value was executed or redirected" [ -z "$(ls -A "$PW")" ]

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
