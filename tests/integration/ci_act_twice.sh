#!/bin/sh
# ci restart / cancel / run on Woodpecker never act twice: an answer lost
# after the server applied the write, a reset before it saw it, and a
# seeded soak of both (ci_act.inc: the set-up).
. "$(dirname "$0")/ci_act.inc"

# ---- never act twice ----
# resets after the server applied the write: one new pipeline per command
for i in 1 2 3; do
    before=$(children 2)
    faults '{"rules":[{"kind":"reset_after","method":"POST","path":"/pipelines/2$","count":1}]}'
    hl ci restart '#2' --no-watch
    expect_rc 0 "restart $i: the answer is lost, the restart was applied"
    check "restart $i: exactly one new pipeline" [ "$(children 2)" -eq $((before + 1)) ]
    expect_err_contains "answer was lost" "restart $i: says it read the state back"
    m=$(manuals)
    faults '{"rules":[{"kind":"reset_after","method":"POST","path":"/pipelines$","count":1}]}'
    hl ci run --var RUN=$i --no-watch
    expect_rc 0 "run $i: the answer is lost, the run was applied"
    check "run $i: exactly one new manual pipeline" [ "$(manuals)" -eq $((m + 1)) ]
done
# a reset before the server saw it: no effect, so it is sent once more
before=$(children 2)
faults '{"rules":[{"kind":"reset","method":"POST","path":"/pipelines/2$","count":1}]}'
hl ci restart '#2' --no-watch
expect_rc 0 "restart after a reset that had no effect"
check "exactly one new pipeline" [ "$(children 2)" -eq $((before + 1)) ]
# the answer of a cancel is lost: the pipeline is killed, reported once
wp_ctl POST /__fake/pipelines '{"commit":"9999999aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","template":"running"}' >/dev/null
n=$(posts "/cancel$")
faults '{"rules":[{"kind":"reset_after","method":"POST","path":"/cancel$","count":1}]}'
hl ci cancel 9999999
expect_rc 0 "cancel whose answer was lost"
expect_out_contains "killed" "reports the final status"
check "one cancel sent" [ "$(posts "/cancel$")" -eq $((n + 1)) ]
# no answer twice and no effect: gives up after exactly two sends
before=$(children 2)
n=$(posts "/pipelines/2$")
faults '{"rules":[{"kind":"reset","method":"POST","path":"/pipelines/2$","count":2}]}'
hl ci restart '#2' --no-watch
expect_rc 6 "two resets without effect"
check "no pipeline made" [ "$(children 2)" -eq "$before" ]
check "exactly two sends" [ "$(posts "/pipelines/2$")" -eq $((n + 2)) ]
# soak: resets before and after the server applied the write, at random
# (seeded): every command that succeeds made exactly one pipeline, one that
# gave up (exit 6) made none, and no command ever sends more than twice
faults '{"seed":14,"rules":[{"kind":"reset_after","method":"POST","path":"/pipelines(/2)?$","probability":0.4},{"kind":"reset","method":"POST","path":"/pipelines(/2)?$","probability":0.4}]}'
bad=""
# snap WHAT...: look's numbers, of one moment, in s1 s2 s3 (a failed look
# fails the soak)
snap() {
    _s=$(look "$@") || bad="$bad look($*)-failed"
    set -- $_s
    s1=${1:-0} s2=${2:-0} s3=${3:-0}
}
for i in 1 2 3 4 5 6 7 8 9 10; do
    snap children 2 manuals posts "/pipelines(/2)?$"; before=$s1 m=$s2 n=$s3
    hl ci restart '#2' --no-watch
    snap children 2 posts "/pipelines(/2)?$"; made=$((s1 - before)); sent=$((s2 - n)); n=$s2
    { [ "$rc" -eq 0 ] && [ "$made" -eq 1 ]; } || { [ "$rc" -eq 6 ] && [ "$made" -eq 0 ]; } ||
        bad="$bad restart$i:rc=$rc,made=$made"
    [ "$sent" -le 2 ] || bad="$bad restart$i:sent=$sent"
    hl ci run --var SOAK=$i --no-watch
    snap manuals posts "/pipelines(/2)?$"; made=$((s1 - m)); sent=$((s2 - n))
    { [ "$rc" -eq 0 ] && [ "$made" -eq 1 ]; } || { [ "$rc" -eq 6 ] && [ "$made" -eq 0 ]; } ||
        bad="$bad run$i:rc=$rc,made=$made"
    [ "$sent" -le 2 ] || bad="$bad run$i:sent=$sent"
done
check "soak: one pipeline per successful command, none per failed one, at most two sends${bad:+ ($bad)}" [ -z "$bad" ]
faults '{"rules":[]}'

finish
