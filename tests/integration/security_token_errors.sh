#!/bin/sh
# Security, section 1 (security.inc lists them all): the token never
# appears in stdout, stderr or --verbose traces when the server answers
# HTML or 401, nor when it comes from the config file or Vault. Success is
# in security_token.sh, a wrong CA and no server in security_token_conn.sh.
. "$(dirname "$0")/security.inc"

# (security_token.sh checks that the manifest lists the verbs; without
# them the checks below would silently check nothing.)
[ -n "$verbs" ] || not_ok "manifest --json lists no verbs"

wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/","kind":"html"}]}' >/dev/null
HOMELAB_RETRY_BUDGET=0.3 token_everywhere html --verbose
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/","kind":"401"}]}' >/dev/null
token_everywhere 401 --verbose
wp_ctl DELETE /__fake/faults >/dev/null

# The token from the other sources: the config file and Vault.
printf '[ci]\n\ttoken = %s\n' "$TOKEN" >"$T/config"
chmod 600 "$T/config"
run sh -c 'unset WOODPECKER_TOKEN; HOMELAB_CONFIG="$1" "$2" ci status "#60" --verbose' - \
    "$T/config" "$HOMELAB"
expect_rc 0 "token from the config file"
check "config token: not in the trace" lacks "$out$err" "$TOKEN"
wp_ctl POST /__fake/faults '{"rules":[{"path":"^/api/","kind":"401"}]}' >/dev/null
run sh -c 'unset WOODPECKER_TOKEN; HOMELAB_CONFIG="$1" "$2" ci status "#60" --verbose' - \
    "$T/config" "$HOMELAB"
expect_rc 7 "a rejected config-file token"
check "rejected config token: not in the message" lacks "$out$err" "$TOKEN"
wp_ctl DELETE /__fake/faults >/dev/null
start_vault 2 "$TOKEN" || exit 1
run sh -c 'unset WOODPECKER_TOKEN; "$1" ci status "#60" --verbose' - "$HOMELAB"
expect_rc 0 "token from Vault"
check "Vault token: neither it nor the Vault token is in the trace" \
    lacks "$out$err" "$TOKEN"
check "the Vault token is not shown either" lacks "$out$err" "vault-root-$$"
unset VAULT_ADDR VAULT_TOKEN VAULT_CACERT

finish
