#!/bin/sh
# Security, section 1 (security.inc lists them all): the token never
# appears in stdout, stderr or --verbose traces of any verb when the
# connection fails: a server certificate from another CA, no server at all.
# Success is in security_token.sh, the other errors in
# security_token_errors.sh.
. "$(dirname "$0")/security.inc"

# (security_token.sh checks that the manifest lists the verbs; without
# them the checks below would silently check nothing.)
[ -n "$verbs" ] || not_ok "manifest --json lists no verbs"

HOMELAB_CACERT="$CERTS/other-ca.pem" token_everywhere wrongca --verbose
hl ci status '#60' --cacert "$CERTS/other-ca.pem" --verbose
expect_rc 7 "a server certificate from another CA is refused"
check "wrong CA: no token in the trace" lacks "$out$err" "$TOKEN"

HOMELAB_RETRY_BUDGET=0.3 HOMELAB_WP_IP=127.0.0.1:1 token_everywhere unreachable --verbose

finish
