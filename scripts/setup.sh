#!/usr/bin/env bash
# Installs what Outrigger needs to build, run and test on Debian 12 (bookworm).
# Idempotent: does nothing that is already done. Run as root (or with sudo available).
#   scripts/setup.sh          everything: build, test peers, tools
#   scripts/setup.sh build    only what building the `outrigger` binary needs (the
#                             Dockerfile's build stage)
set -euo pipefail
MODE=${1:-all}

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

BUILD_PKGS=(
  build-essential cmake pkg-config ninja-build ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libspdlog-dev libfmt-dev libcurl4-openssl-dev
  libssl-dev libyaml-cpp-dev libabsl-dev libboost-dev
  zlib1g-dev nlohmann-json3-dev libsnappy-dev libre2-dev ca-certificates
  # c-ares (gRPC uses it too): the loadbalancing exporter's DNS resolver links it directly.
  libc-ares-dev
  # simdjson: the filelog json_parser / container JSON (receivers/filelog/operators/json.cc).
  libsimdjson-dev
  # The file exporter's compression: zstd (libzstd1 is already a runtime dependency of curl).
  libzstd-dev
  # gzip of the exporters' bodies (collector/otlp/wire.h Gzip): whole-buffer deflate,
  # about twice zlib's speed at the same level (zlib still inflates: streamed, bounded).
  libdeflate-dev
)
PKGS=(
  "${BUILD_PKGS[@]}"
  libgtest-dev libgmock-dev libbenchmark-dev
  curl openssl clang-format
  # The libFuzzer targets (tests/fuzz, ctest `fuzz`): clang 14 and its runtime.
  clang libclang-rt-14-dev
  # Real peers of the tests: StatsD clients, Prometheus.
  python3 python3-statsd node-lynx prometheus prometheus-node-exporter
  # The container image test (tests/image): base images made from the Debian mirror
  # (mmdebstrap), imported (podman), built and run without a daemon with buildah's
  # chroot isolation; uidmap and fuse-overlayfs are what buildah/podman storage needs.
  buildah podman mmdebstrap uidmap fuse-overlayfs
)
# The manifests test (k8s/validate) renders the kustomize overlays with `kubectl
# kustomize`: kubectl is not a Debian package; the machine image has it (Google Cloud
# SDK's apt repository), and the test fails naming it where it is missing.
if [ "$MODE" = build ]; then
  PKGS=("${BUILD_PKGS[@]}")
fi
# Node.js + npm for the OpenTelemetry JS SDK used by the integration tests; a machine
# that already has a node with npm (e.g. NodeSource's) keeps it.
if [ "$MODE" != build ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  PKGS+=(nodejs npm)
fi

# The OTLP .proto files come from bookworm-backports' opentelemetry-proto.
add_backports() {
  local f=/etc/apt/sources.list.d/debian.sources
  if grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
    return 0
  fi
  local uri="http://deb.debian.org/debian"
  if [ -f "$f" ]; then
    uri=$(awk '/^URIs:/{print $2; exit}' "$f")
  elif [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list)
  fi
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  NEED_UPDATE=1
}

missing() {
  local out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

NEED_UPDATE=0
add_backports
miss=$(missing "${PKGS[@]}" opentelemetry-proto)
if [ -n "$miss" ]; then
  NEED_UPDATE=1
fi
if [ "$NEED_UPDATE" = 1 ]; then
  $SUDO apt-get update -q
fi
miss=$(missing "${PKGS[@]}")
if [ -n "$miss" ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $miss
fi
# The build packages at the mirror's current versions (point release and security
# updates), as the container image's build stage installs them: the same headers on both
# sides, so the image's build finds the host's ccache entries (an older libssl-dev alone
# makes every file that includes OpenSSL a miss). Nothing is fetched when all are current;
# OUTRIGGER_SETUP_UPGRADE=0 skips it.
if [ "${OUTRIGGER_SETUP_UPGRADE:-1}" != 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --only-upgrade --no-install-recommends \
    "${BUILD_PKGS[@]}" >/dev/null
fi
if [ -n "$(missing opentelemetry-proto)" ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports opentelemetry-proto
fi
