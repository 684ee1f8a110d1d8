# bash completion for homelab.
# Verbs and flags come from the binary itself (`homelab manifest`, `VERB --help`),
# so they never drift from the command table. `ci run --branch` completes local
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

    # The verb path typed so far: the words before the current one that are not flags.
    local path="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in -*) ;; *) path="${path:+$path }${words[i]}" ;; esac
    done

    local verbs
    verbs=$(homelab manifest 2>/dev/null | sed -E 's/ +(read|write) .*//')

    if [[ $cur == -* ]]; then
        local flags
        flags=$(homelab $path --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return
    fi

    local verb=""
    while IFS= read -r v; do
        [[ $path == "$v" || $path == "$v "* ]] && verb=$v
    done <<< "$verbs"

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
