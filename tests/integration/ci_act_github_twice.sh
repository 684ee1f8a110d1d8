#!/bin/sh
# ci restart / run / approve / cancel with the GitHub Actions provider
# never act twice: the connection dropped before or after the fake applied
# the write, a 502, a secondary rate limit, and a seeded soak
# (ci_act_github.inc: the set-up, and the other parts).
. "$(dirname "$0")/ci_act_github.inc"

# ---- never act twice ----
for round in 1 2 3; do
    newsha; ID=$(failed_run $S)
    fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
    hl ci restart "#$ID" --no-watch; keep
    expect_rc 0 "round $round: the answer to a re-run is lost after GitHub applied it: 0"
    expect_err_contains "answer was lost" "round $round: says it read the state back"
    check "round $round: one POST, exactly one new attempt" \
        [ "$(posts "/runs/$ID/rerun")" = 1 -a "$(state_of $ID run_attempt)" = 2 ]
done
newsha; ID=$(failed_run $S)
fault "{\"kind\":\"drop_before\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 0 "a re-run dropped before GitHub saw it is sent once more"
check "two POSTs, one new attempt" [ "$(posts "/runs/$ID/rerun")" = 2 -a "$(state_of $ID run_attempt)" = 2 ]
newsha; ID=$(failed_run $S)
fault "{\"kind\":\"status\",\"status\":502,\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 0 "a 502 to a re-run: read back (not applied), sent once more"
check "two POSTs, one new attempt" [ "$(posts "/runs/$ID/rerun")" = 2 -a "$(state_of $ID run_attempt)" = 2 ]
newsha; ID=$(failed_run $S)
fault "{\"kind\":\"drop_before\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":2}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 6 "two lost sends without effect: 6"
check "exactly two POSTs, no new attempt" [ "$(posts "/runs/$ID/rerun")" = 2 -a "$(state_of $ID run_attempt)" = 1 ]

for round in 1 2 3; do
    d0=$(dispatch_runs)
    p0=$(posts /dispatches)
    fault '{"kind":"drop_after","method":"POST","path_regex":"/dispatches$","times":1}'
    hl ci run --workflow deploy.yml --no-watch; keep
    expect_rc 0 "round $round: a dispatch whose answer is lost after GitHub applied it: 0"
    check "round $round: one POST, exactly one new run" \
        [ "$(posts /dispatches)" = $((p0 + 1)) -a "$(dispatch_runs)" = $((d0 + 1)) ]
    check "round $round: the result is that run" contains "$out" "queued"
done

newsha; ID=$(review_run $S)
fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/pending_deployments\$\",\"times\":1}"
hl ci approve "#$ID" --no-watch; keep
expect_rc 0 "a review whose answer is lost after it was applied: 0"
check "one review POST" [ "$(posts "/runs/$ID/pending_deployments")" = 1 ]
newsha; ID=$(fork_run $S)
fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/approve\$\",\"times\":1}"
hl ci approve "#$ID" --no-watch; keep
expect_rc 0 "an approve whose answer is lost after it was applied: 0"
check "one approve POST" [ "$(posts "/runs/$ID/approve")" = 1 ]
newsha; ID=$(queued_run $S)
fault "{\"kind\":\"drop_after\",\"method\":\"POST\",\"path_regex\":\"/runs/$ID/cancel\$\",\"times\":1}"
hl ci cancel "#$ID"; keep
expect_rc 0 "a cancel whose answer is lost: the run still ends cancelled"
check "at most two cancel POSTs" [ "$(posts "/runs/$ID/cancel")" -le 2 ]
check "cancelled" [ "$(state_of $ID conclusion)" = cancelled ]

newsha; ID=$(failed_run $S)
fault "{\"kind\":\"secondary\",\"status\":403,\"method\":\"POST\",\"path_regex\":\"/runs/$ID/rerun\$\",\"times\":1}"
hl ci restart "#$ID" --no-watch; keep
expect_rc 6 "a write refused by a secondary rate limit: 6"
expect_err_contains "nothing was done" "says nothing was done"
check "one POST, no new attempt" [ "$(posts "/runs/$ID/rerun")" = 1 -a "$(state_of $ID run_attempt)" = 1 ]

# A seeded soak: re-runs and dispatches with the connection dropped before
# or after the fake applied them, at random. A command that succeeds made
# exactly one attempt/run, one that fails made none; never more than two sends.
plan=$(python3 -c 'import random; r=random.Random(14); print(" ".join(r.choice(["none","drop_before","drop_after","twice"]) + ":" + r.choice(["rerun","dispatch"]) for _ in range(10)))')
soak_bad=0
for step in $plan; do
    kind=${step%%:*} verb=${step#*:}
    if [ "$verb" = rerun ]; then
        newsha; ID=$(failed_run $S); rx="/runs/$ID/rerun\$"
    else
        rx="/dispatches\$"; d0=$(dispatch_runs); p0=$(posts /dispatches)
    fi
    case $kind in
        drop_before|drop_after) fault "{\"kind\":\"$kind\",\"method\":\"POST\",\"path_regex\":\"$rx\",\"times\":1}" ;;
        twice) fault "{\"kind\":\"drop_before\",\"method\":\"POST\",\"path_regex\":\"$rx\",\"times\":2}" ;;
    esac
    if [ "$verb" = rerun ]; then
        hl ci restart "#$ID" --no-watch; keep
        made=$(( $(state_of $ID run_attempt) - 1 )); sent=$(posts "/runs/$ID/rerun")
    else
        hl ci run --workflow deploy.yml --no-watch; keep
        made=$(( $(dispatch_runs) - d0 )); sent=$(( $(posts /dispatches) - p0 ))
    fi
    want=1; [ "$kind" = twice ] && want=0
    if [ "$made" != "$want" ] || [ "$sent" -gt 2 ] || { [ $want = 1 ] && [ $rc != 0 ]; } || { [ $want = 0 ] && [ $rc != 6 ]; }; then
        soak_bad=$((soak_bad + 1)); echo "# soak $step: rc=$rc made=$made sent=$sent"
    fi
done
check "soak ($plan): one effect per successful command, none per failed, at most two sends" [ $soak_bad = 0 ]

token_kept_nowhere
finish
