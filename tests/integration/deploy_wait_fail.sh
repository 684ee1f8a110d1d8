#!/bin/sh
# deploy wait on Deployments (deploy_wait.inc: the set-up, and the other
# parts): every fail-fast state with its reason (and how fast), the
# unschedulable grace, a rollout that never gets Ready (timeout).
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

# notready: no failure state, so the timeout ends it (exit 3). The note
# comes 10 s after the client first saw the pod not Ready (NOT_READY_NOTE);
# the timeout leaves 30 s more for a slow start on a loaded machine.
start_kube notready
hl deploy wait apps/web --sha "$NEW" --timeout 40s
expect_rc 3 "notready: times out"
expect_out_contains "apps/web timeout (65d15d6)" "notready: timeout summary"
expect_err_contains "is running but not Ready" "notready: says why"
stop_kube

finish
