#!/usr/bin/env bash
# The kernel matrix's suite, run on one kernel (as a test VM's job, or on this host): verifier, kernel tests, replay.
#
# Usage: bash scripts/vm/kernel-suite.sh RESULTS_DIR CAPTURE
#   RESULTS_DIR  receives verifier.json, kernel-tests.tap (+ kernel-tests.summary: "N passed, N failed, ..."),
#                replay.json + replay.pcap, and timings (seconds per step)
#   CAPTURE      the tunnel capture to replay (crafted once on the host, so every kernel replays the same bytes)
# Needs a build (npm run build) and root. Every step runs even when one before it failed; the exit status is 1
# when any failed. scripts/kernel-matrix.sh runs it and test/matrix/kernel-matrix.test.ts judges its results.
set -uo pipefail
cd "$(dirname "$0")/../.."

RESULTS=${1:?usage: kernel-suite.sh RESULTS_DIR CAPTURE}
CAPTURE=${2:?usage: kernel-suite.sh RESULTS_DIR CAPTURE}
NODE=node_modules/.bin/node
# The kernel tests of the matrix: the rule table and the property test against the oracle, the build choice,
# the flow cache, and a live attach (veth, tcpdump, status). Every one also runs in the host's own test run.
TESTS=(test/kernel/build-choice.test.ts test/kernel/decap-rules.test.ts test/kernel/property.test.ts
  test/kernel/flow-cache.test.ts test/kernel/live-attach.test.ts)
mkdir -p "$RESULTS"
failed=0
: > "$RESULTS/timings"

step() {
  local name=$1 start status
  shift
  start=$(date +%s)
  "$@"
  status=$?
  echo "$name $(( $(date +%s) - start ))" >> "$RESULTS/timings"
  echo "kernel-suite: $name: exit $status, $(( $(date +%s) - start )) s on $(uname -r)" >&2
  [ "$status" -eq 0 ] || failed=1
}

verifier() { "$NODE" test/matrix/verifier-report.ts > "$RESULTS/verifier.json"; }
kernel_tests() {
  # NODE_TEST_CONTEXT is set when a test runs this (the matrix on the host): unset, this runner reports as its own.
  env -u NODE_TEST_CONTEXT CI=true "$NODE" --test --test-concurrency=1 --test-reporter=tap "${TESTS[@]}" > "$RESULTS/kernel-tests.tap" 2>&1
  local status=$?
  # The runner's own totals, as one line the host test reads.
  sed -n 's/^# \(pass\|fail\|skipped\|todo\|cancelled\) \([0-9]*\)$/\1 \2/p' "$RESULTS/kernel-tests.tap" | paste -sd, > "$RESULTS/kernel-tests.summary"
  return $status
}
replay() {
  "$NODE" dist/src/cli.js replay "$CAPTURE" --out "$RESULTS/replay.pcap" --json > "$RESULTS/replay.json"
}

step verifier verifier
step kernel-tests kernel_tests
step replay replay
exit $failed
