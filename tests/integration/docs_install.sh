# The man page and --help cover every verb and flag of the command table;
# make install / uninstall put files in their conventional places; completions.
. "$(dirname "$0")/../lib.sh"
man="$ROOT/docs/homelab.1.scd"

hl manifest --json
verbs=$(python3 -c 'import json,sys; [print(c["verb"]) for c in json.loads(sys.argv[1])]' "$out")
missing=""
for verb in $(printf '%s\n' "$verbs" | tr ' ' '_'); do
    v=$(printf '%s' "$verb" | tr '_' ' ')
    grep -q "^\*$v\*" "$man" || missing="$missing [$v]"
    "$HOMELAB" $v --help > "$T/help" 2>&1
    for flag in $(grep -oE -- '^ +(-[A-Za-z], )?--[a-z][a-z-]*' "$T/help" | tr -d ' ,'); do
        case $flag in -?--*) short=${flag%%--*} flag=--${flag#*--} ;; *) short= ;; esac
        grep -qF -- "*$flag*" "$man" || missing="$missing $v:$flag"
        [ -z "$short" ] || grep -qF -- "*$short*" "$man" || missing="$missing $v:$short"
    done
done
check "every verb and flag of the command table is in the man page${missing:+ (missing:$missing)}" [ -z "$missing" ]

hl help
missing=""
for verb in $(printf '%s\n' "$verbs" | tr ' ' '_'); do
    v=$(printf '%s' "$verb" | tr '_' ' ')
    contains "$out" "  $v " || missing="$missing [$v]"
done
check "homelab help lists every verb${missing:+ (missing:$missing)}" [ -z "$missing" ]

if command -v scdoc >/dev/null; then
    scdoc < "$man" > "$T/homelab.1"
    check "the man page source builds with scdoc" [ -s "$T/homelab.1" ]
fi

# make install into a temporary DESTDIR, from the tree under test
B=$(dirname "$HOMELAB")
make -s -C "$ROOT" install B="$B" DESTDIR="$T/dest" PREFIX=/usr > "$T/install.log" 2>&1
check "make install puts the binary in PREFIX/bin" [ -x "$T/dest/usr/bin/homelab" ]
check "the man page in share/man/man1" [ -s "$T/dest/usr/share/man/man1/homelab.1" ]
check "bash completion in share/bash-completion/completions" [ -s "$T/dest/usr/share/bash-completion/completions/homelab" ]
check "zsh completion in share/zsh/site-functions" [ -s "$T/dest/usr/share/zsh/site-functions/_homelab" ]
run "$T/dest/usr/bin/homelab" version
expect_rc 0 "the installed binary runs"
make -s -C "$ROOT" uninstall B="$B" DESTDIR="$T/dest" PREFIX=/usr > "$T/uninstall.log" 2>&1
check "make uninstall removes every file" [ -z "$(find "$T/dest" -type f)" ]

# bash completion, driven the way bash drives it
mkdir -p "$T/bin" && ln -s "$HOMELAB" "$T/bin/homelab"
complete_words() { # WORDS...: prints COMPREPLY for the last word
    PATH="$T/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _homelab; printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/contrib/completions/homelab.bash" "$@"
}
out=$(complete_words homelab c)
check "bash completes the verb group 'ci'" contains "$out" "ci"
out=$(complete_words homelab ci s)
check "bash completes 'ci s' to status" contains "$out" "status"
out=$(complete_words homelab ci list --li)
check "bash completes a verb's flags" contains "$out" "--limit"
out=$(complete_words homelab ci re)
check "bash completes 'ci re' to restart" contains "$out" "restart"
out=$(complete_words homelab ci run --d)
check "bash completes the write verbs' flags" contains "$out" "--dry-run"
mkdir -p "$T/repo/.worktrees/fix-login" && git init -q "$T/repo"
out=$(cd "$T/repo" && complete_words homelab work clean f)
check "bash completes work clean topics from .worktrees" contains "$out" "fix-login"
mkdir -p "$T/repo/.github/workflows" && : > "$T/repo/.github/workflows/deploy.yml"
out=$(cd "$T/repo" && complete_words homelab ci run --workflow d)
check "bash completes ci run --workflow from .github/workflows" contains "$out" "deploy.yml"
out=$(complete_words homelab --repo acme/web ci w)
check "bash: a global flag's value before the verb is not taken for a verb word" contains "$out" "watch"
out=$(complete_words homelab --)
check "bash: before the verb only global flags are offered, as the parser takes them" \
    sh -c 'case "$1" in *--json*) ;; *) exit 1 ;; esac; case "$1" in *--deploy*|*--limit*) exit 1 ;; esac' _ "$out"
out=$(complete_words homelab ci --)
check "bash: no flags inside a verb path" [ -z "$out" ]
out=$(complete_words homelab --color "")
check "bash completes --color's values" contains "$out" "always"
if command -v zsh >/dev/null; then
    check "the zsh completion parses" zsh -n "$ROOT/contrib/completions/_homelab"
    # compadd stubbed: what the function offers for a command line
    zcomplete() {
        PATH="$T/bin:$PATH" zsh -c 'compadd() { [[ $1 == -- ]] && shift; [[ $1 == -S ]] && shift 2; print -r -- "$*"; }
words=(${(s: :)1}); [[ $1 == *" " ]] && words+=(""); CURRENT=${#words}; source "$2"' _ "$1" "$ROOT/contrib/completions/_homelab" 2>&1
    }
    out=$(zcomplete "homelab --repo acme/web ci w")
    check "zsh completes verbs after global flags (and keeps its PATH)" contains "$out" "watch"
    out=$(zcomplete "homelab --")
    check "zsh: before the verb only global flags" sh -c 'case "$1" in *--json*) ;; *) exit 1 ;; esac; case "$1" in *--deploy*) exit 1 ;; esac' _ "$out"
fi

finish
