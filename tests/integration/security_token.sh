#!/bin/sh
# Security, section 1 (security.inc lists them all): the token never
# appears in stdout, stderr or --verbose traces, on success and with a
# server certificate from another CA. The other error paths are in
# security_token_errors.sh.
. "$(dirname "$0")/security.inc"

check "manifest --json lists the verbs" [ -n "$verbs" ]

token_everywhere ok
hl ci status '#60' --verbose
check "--verbose traces show the token redacted" contains "$err" "Bearer <redacted>"

HOMELAB_CACERT="$CERTS/other-ca.pem" token_everywhere wrongca --verbose
hl ci status '#60' --cacert "$CERTS/other-ca.pem" --verbose
expect_rc 7 "a server certificate from another CA is refused"
check "wrong CA: no token in the trace" lacks "$out$err" "$TOKEN"

finish
