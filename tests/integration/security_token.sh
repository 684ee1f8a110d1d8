#!/bin/sh
# Security, section 1 (security.inc lists them all): the token never
# appears in stdout, stderr or --verbose traces of any verb, on success.
# The error paths are in security_token_conn.sh and
# security_token_errors.sh.
. "$(dirname "$0")/security.inc"

check "manifest --json lists the verbs" [ -n "$verbs" ]

token_everywhere ok
hl ci status '#60' --verbose
check "--verbose traces show the token redacted" contains "$err" "Bearer <redacted>"

finish
