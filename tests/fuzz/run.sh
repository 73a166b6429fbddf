#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in their own build
# directory and runs each for a bounded time, starting from the seeds in
# tests/fuzz/corpus/<target>/. Fails if any target finds a crash, a leak, UB, a timeout
# (an input taking more than 10 s) or memory above 2 GiB; the input is written to
# <build dir>/artifacts/ and the command to reproduce it is printed.
#
#   tests/fuzz/run.sh                     every target, 20 s each (ctest `fuzz`: with --fresh)
#   tests/fuzz/run.sh --time 600          every target, 10 minutes each
#   tests/fuzz/run.sh --time 60 statsd    one target
#   options: --build-dir DIR (default build-fuzz), --jobs N (default 2), --no-build,
#            --fresh (start from the seeds only, not from what earlier runs found: ctest's
#            bounded run, so its time and its result do not depend on earlier runs)
#
# Exits 77 (ctest: skipped) when clang or libFuzzer (libclang-rt-14-dev) is missing.
# Inputs the fuzzer finds interesting are kept in <build dir>/corpus/<target>/ (reused by
# the next run); copy a crash input into tests/fuzz/corpus/<target>/ once it is fixed.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
time=20
build="$src/build-fuzz"
jobs=${JOBS:-2}
do_build=1
fresh=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --fresh) fresh=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(otlp_proto otlp_json statsd prometheus_text openmetrics config filelog es_bulk prw ottl)
if [ ${#targets[@]} -eq 0 ]; then targets=("${all[@]}"); fi

if ! command -v clang++ >/dev/null 2>&1; then
  echo "SKIP: clang++ is not installed (scripts/setup.sh installs clang and libclang-rt-14-dev)"
  exit 77
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
  clang++ -x c++ -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  echo "SKIP: clang++ cannot link libFuzzer (apt-get install libclang-rt-14-dev)"
  exit 77
fi

if [ "$do_build" = 1 ]; then
  start=$(date +%s)
  if [ ! -f "$build/build.ninja" ]; then
    launcher=()
    if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
    CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DOUTRIGGER_FUZZ=ON -DOUTRIGGER_BUILD_TESTS=OFF -DOUTRIGGER_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  fi
  cmake --build "$build" -j"$jobs" --target $(printf '%s_fuzz ' "${targets[@]}")
  echo "fuzz build: $(($(date +%s) - start)) s"
fi

mkdir -p "$build/artifacts"
failed=()
summary=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/${t}_fuzz"
  seeds="$src/tests/fuzz/corpus/$t"
  work="$build/corpus/$t"
  if [ "$fresh" = 1 ]; then rm -rf "$work"; fi
  mkdir -p "$work"
  log="$build/artifacts/$t.log"
  echo "== $t: ${time} s"
  set +e
  # Leaks are checked (ASan's LeakSanitizer); -timeout: one input; -rss_limit_mb: the process.
  "$bin" "$work" "$seeds" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -aEo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  summary+=("$(printf '%-16s %10s runs  cov %6s  %s' "$t" "${runs:-?}" "${cov:-?}" "$([ $rc = 0 ] && echo ok || echo FAILED)")")
  if [ $rc != 0 ]; then
    failed+=("$t")
    grep -aE 'ERROR|SUMMARY|runtime error|Test unit written|ABORT|==[0-9]+==' "$log" | head -20 || true
    echo "   full log: $log"
    echo "   reproduce: $bin $build/artifacts/$t-<crash file>"
  fi
done
echo
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
