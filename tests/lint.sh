#!/bin/sh
# Static analysis of src/ with the checked-in configuration, as TAP lines
# for tests/run (and `make lint`):
#   clang-tidy: .clang-tidy (the check set and why) without the
#       clang-analyzer checks, or with them when LINT_DEEP=1 (make
#       check-long: they take 93% of clang-tidy's time); one stamp per
#       source file in build/lint/ (build/lint-deep/), so a second run only
#       re-checks what changed;
#   cppcheck: warning, style, performance and portability checks, with the
#       jansson macros from scripts/lint/jansson.cfg and the suppressions,
#       each with its reason, in scripts/lint/cppcheck.supp.
# Zero findings is the bar: any finding is a "not ok" naming it.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0

nfiles=$(find src -name '*.c' | wc -l)
if ! command -v "${TIDY:-clang-tidy}" >/dev/null; then
    echo "not ok - clang-tidy is not installed (scripts/bootstrap installs it)"
    failed=1
elif make --no-print-directory -k -j"${LINT_JOBS:-2}" "lint-tidy${LINT_DEEP:+-deep}" >"$log" 2>&1; then
    echo "ok - clang-tidy${LINT_DEEP:+ with clang-analyzer}: no findings in $nfiles files"
else
    n=$(grep -cE '(error|warning): ' "$log")
    echo "not ok - clang-tidy: $n findings"
    grep -E '(error|warning): ' "$log" | sed "s|^$ROOT/||; s/^/#   /" | head -40
    failed=1
fi

if ! command -v "${CPPCHECK:-cppcheck}" >/dev/null; then
    echo "not ok - cppcheck is not installed (scripts/bootstrap installs it)"
    failed=1
elif "${CPPCHECK:-cppcheck}" --quiet --std=c11 --error-exitcode=1 \
    --enable=warning,style,performance,portability --inline-suppr \
    --library=scripts/lint/jansson.cfg --suppressions-list=scripts/lint/cppcheck.supp \
    -D_GNU_SOURCE -DHOMELAB_VERSION='"lint"' -Isrc -j"${LINT_JOBS:-2}" \
    --template='{file}:{line}: {severity}: {message} [{id}]' src >"$log" 2>&1; then
    echo "ok - cppcheck: no findings in $nfiles files"
else
    echo "not ok - cppcheck: $(grep -c ': .*\[' "$log") findings"
    sed 's/^/#   /' "$log" | head -40
    failed=1
fi
exit "$failed"
