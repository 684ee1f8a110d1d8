#!/bin/sh
# deploy wait on Deployments (deploy_wait.inc: the set-up, and the other
# parts): every fail-fast state with its reason (and how fast), the
# unschedulable grace.
. "$(dirname "$0")/deploy_wait.inc"

# ---- fail fast, with the reason

wait_fail_fast crashloop CrashLoopBackOff
expect_err_contains "container web: CrashLoopBackOff" "crashloop: names the container"
expect_err_contains "restarts " "crashloop: restart count"
expect_err_contains "last termination Error (exit 1)" "crashloop: last termination reason"
expect_err_contains "log line" "crashloop: the tail of the log"
expect_err_contains "level=" "crashloop: log lines"
wait_fail_fast imagepull ImagePullBackOff
wait_fail_fast invalidimage InvalidImageName
wait_fail_fast configerror CreateContainerConfigError
expect_err_contains 'secret "web-env" not found' "configerror: the message"
wait_fail_fast deadline ProgressDeadlineExceeded deadline_exceeded
wait_fail_fast replicafailure "ReplicaFailure (FailedCreate)"
expect_err_contains "exceeded quota" "replicafailure: the message"

# unschedulable: fails after --unschedulable-grace, not before
start_kube unschedulable
hl deploy wait apps/web --sha "$NEW" --timeout 300s --unschedulable-grace 3s
end=$(now)
expect_rc 1 "unschedulable: fails"
expect_err_contains "Insufficient memory" "unschedulable: the scheduler's message"
first=$(mark first_unschedulable)
check "unschedulable: not before the grace" \
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 2.5 else 1)' "$first" "$end"
check "unschedulable: well before the timeout (grace + 10x the 2.5 s allowed past it)" \
    within 28 "$first" "$end"
stop_kube

finish
