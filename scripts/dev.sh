#!/usr/bin/env bash
# The two entry points of the README, for a fresh Debian 12 machine:
#   scripts/dev.sh run    install what is missing, build, run on the embedded default config
#   scripts/dev.sh test   install what is missing, build, run every test (ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
JOBS=${JOBS:-2}

scripts/setup.sh
# Compiles go through ccache, with paths relative to the source tree: a rebuild, another
# checkout, and the container image's build stage (tests/image) reuse the results.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"
fi
cmake --build "$BUILD" -j"$JOBS"

case "${1:-run}" in
  run)
    shift || true
    exec "$BUILD/outrigger" "$@"
    ;;
  test)
    # JavaScript test peers (OpenTelemetry JS SDK, manifest validators), pinned by lock files.
    for lock in tests/*/package-lock.json k8s/validate/package-lock.json; do
      if [ -f "$lock" ]; then npm ci --prefix "$(dirname "$lock")" --no-audit --no-fund --loglevel=error; fi
    done
    cd "$BUILD"
    ctest --output-on-failure -j"$JOBS" --timeout 600
    ;;
  *)
    echo "usage: scripts/dev.sh run|test" >&2
    exit 2
    ;;
esac
