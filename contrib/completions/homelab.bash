# bash completion for homelab.
# Verbs and flags come from the binary itself (`homelab manifest`, `VERB --help`),
# so they never drift from the command table. Before the verb only the global
# flags are offered (the parser takes only those there). `ci run --branch` completes local
# branches, `ci run --workflow` the files in .github/workflows/. `work clean` completes topics from
# .worktrees/; `deploy wait|status NS/` completes workloads of namespace NS when
# kubectl answers within two seconds; `ship watch|status` completes branches and tags.

_homelab() {
    local cur words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD

    if [[ ${words[cword-1]} == --provider ]]; then
        COMPREPLY=($(compgen -W "woodpecker github" -- "$cur"))
        return
    fi
    if [[ ${words[cword-1]} == --color ]]; then
        COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
        return
    fi

    # Global flags that take a value (from `homelab help`: "-R, --repo OWNER/NAME"),
    # so a value before the verb (homelab --repo acme/web ci ...) is not taken
    # for a verb word, and nothing is offered where a value goes.
    local valflags
    valflags=" $(homelab help 2>/dev/null | sed -nE 's/^ +(-([A-Za-z]), )?(--[a-z][a-z-]*) [A-Z].*/\3 -\2/p' | tr '\n' ' ') "
    if [[ $valflags == *" ${words[cword-1]} "* && ${words[cword-1]} != - ]]; then
        return
    fi

    # The verb path typed so far: the words before the current one that are
    # neither flags nor the values of global flags.
    local path="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -*=*) ;;
            -*) [[ $valflags == *" ${words[i]} "* ]] && ((i++)) ;;
            *) path="${path:+$path }${words[i]}" ;;
        esac
    done

    local verbs
    verbs=$(homelab manifest 2>/dev/null | sed -E 's/ +(read|write) .*//')

    local verb=""
    while IFS= read -r v; do
        [[ $path == "$v" || $path == "$v "* ]] && verb=$v
    done <<< "$verbs"

    if [[ $cur == -* ]]; then
        # after a verb: its flags and the global ones; before it: global ones
        # only; none inside a verb path ("ci --json status" is refused)
        local flags
        if [[ -z $verb && -n $path ]]; then
            return
        elif [[ -n $verb ]]; then
            flags=$(homelab $verb --help 2>/dev/null | grep -oE -- '^ +(-[A-Za-z], )?--[a-z][a-z-]*')
        else
            flags=$(homelab help 2>/dev/null | sed -n '/^global flags:/,/^$/p' |
                grep -oE -- '^ +(-[A-Za-z], )?--[a-z][a-z-]*')
        fi
        flags=$(printf '%s\n' "$flags" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return
    fi

    if [[ -z $verb ]]; then
        # complete the next word of a verb path
        local next
        next=$(while IFS= read -r v; do
            if [[ -z $path ]]; then echo "${v%% *}"
            elif [[ $v == "$path "* ]]; then rest=${v#"$path "}; echo "${rest%% *}"; fi
        done <<< "$verbs" | sort -u)
        COMPREPLY=($(compgen -W "$next" -- "$cur"))
        return
    fi

    case $verb in
        "ci run")
            if [[ ${words[cword-1]} == --branch ]]; then
                COMPREPLY=($(compgen -W "$(git for-each-ref --format='%(refname:short)' refs/heads 2>/dev/null)" -- "$cur"))
            elif [[ ${words[cword-1]} == --workflow ]]; then
                local top
                top=$(git rev-parse --show-toplevel 2>/dev/null) || return
                COMPREPLY=($(compgen -W "$(cd "$top/.github/workflows" 2>/dev/null && ls *.yml *.yaml 2>/dev/null)" -- "$cur"))
            fi
            ;;
        "work clean")
            local top
            top=$(git rev-parse --show-toplevel 2>/dev/null) || return
            COMPREPLY=($(compgen -W "$(ls "$top/.worktrees" 2>/dev/null)" -- "$cur"))
            ;;
        "ship watch"|"ship status")
            # REV: branches and tags of the current repository
            COMPREPLY=($(compgen -W "$(git for-each-ref --format='%(refname:short)' refs/heads refs/tags 2>/dev/null)" -- "$cur"))
            ;;
        "deploy wait"|"deploy status")
            if [[ $cur == */* ]]; then
                local ns=${cur%%/*} kinds
                kinds=$(timeout 2 kubectl get deployments,statefulsets,daemonsets -n "$ns" \
                    -o name 2>/dev/null | sed -E "s|^deployment.apps/|$ns/|; s|^statefulset.apps/|statefulset/$ns/|; s|^daemonset.apps/|daemonset/$ns/|")
                COMPREPLY=($(compgen -W "$kinds" -- "$cur"))
            else
                local nss
                nss=$(timeout 2 kubectl get namespaces -o name 2>/dev/null | sed 's|^namespace/||; s|$|/|')
                COMPREPLY=($(compgen -W "$nss" -- "$cur"))
                compopt -o nospace 2>/dev/null
            fi
            ;;
    esac
}

complete -F _homelab homelab
