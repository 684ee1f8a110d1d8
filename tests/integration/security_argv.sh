#!/bin/sh
# Security, section 2 (security.inc lists them all): hostile values reach
# git and kubectl as single literal arguments that cannot be options, or
# are refused with exit 2; never a file in $PW.
. "$(dirname "$0")/security.inc"

# The values that would write into $PW if a shell or an option ever saw
# them (security_argv_short.sh: short ones that pass more validators).
try_hostile \
    "x;touch $PW/semi" \
    "\$(touch $PW/subst)" \
    "\`touch $PW/tick\`" \
    "$NL;touch $PW/nl" \
    "--upload-pack=touch $PW/dash" \
    "-oProxyCommand=touch $PW/dash2" \
    "--output=$PW/out"
check "no hostile value was executed or redirected" [ -z "$(ls -A "$PW")" ]

finish
