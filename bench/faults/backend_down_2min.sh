#!/bin/sh
# Issue 14's "backend down for 2 minutes, then back" (without a persistent queue), with
# the real binary: tests/faults runs the same scenario with the backend down for 20 s in
# CI; this runs it for the full 120 s. Prints items sent / received / lost / counted as
# dropped, and fails if anything is lost.
#   bench/faults/backend_down_2min.sh [path/to/outrigger]   (default: build/outrigger)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="${1:-$root/build/outrigger}"
export OUTRIGGER_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export FAULTS_DOWN_SECONDS="${FAULTS_DOWN_SECONDS:-120}"
cd "$root/tests/faults"
exec node --test --test-reporter=spec --test-name-pattern="backend down" faults.test.mjs
