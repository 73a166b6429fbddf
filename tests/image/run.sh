#!/usr/bin/env bash
# Builds the container image from the root Dockerfile for real and runs it:
#   1. the base images debian:bookworm and debian:bookworm-slim are made from the Debian
#      mirror (base_images.sh: mmdebstrap + podman import), since Docker Hub is out of reach;
#   2. `buildah bud --isolation chroot` builds the Dockerfile (the host's ccache directory is
#      mounted into the build stage, so a build after the host's is mostly cache hits);
#   3. the image's config is checked (entrypoint, user 65532, default config), its size is
#      reported (layers gzip-compressed, as a registry stores them);
#   4. `buildah run --isolation chroot --user 65532:65532` starts the image's outrigger
#      on its default config plus an override of the ports (free ports on 127.0.0.1, so
#      the test can run beside others), which must answer on health_check and accept
#      OTLP/HTTP traces, counted in its own metrics.
# Exit 77 (ctest: skipped) only where buildah cannot run containers at all.
#   tests/image/run.sh [SOURCE_DIR]
set -euo pipefail
SRC=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
IMAGE=localhost/outrigger:test
t_start=$SECONDS

for tool in buildah podman mmdebstrap curl python3; do
  if ! command -v $tool >/dev/null; then
    if [ $tool = buildah ]; then
      echo "SKIP: buildah is not installed (scripts/setup.sh installs it)"
      exit 77
    fi
    echo "FAIL: $tool is missing (scripts/setup.sh installs it)"
    exit 1
  fi
done
if ! buildah info >/dev/null 2>&1; then
  echo "SKIP: buildah cannot run here: $(buildah info 2>&1 | tail -1)"
  exit 77
fi

# 1. Base images.
"$(dirname "$0")/base_images.sh"
probe=$(buildah from --pull=never docker.io/library/debian:bookworm-slim)
if ! out=$(buildah run --isolation chroot "$probe" -- true 2>&1); then
  buildah rm "$probe" >/dev/null
  echo "SKIP: buildah cannot run a container with --isolation chroot here: $out"
  exit 77
fi
buildah rm "$probe" >/dev/null
t_base=$SECONDS

# 2. Build. The host's ccache directory (if any) feeds the build stage.
cache_args=()
if command -v ccache >/dev/null; then
  cdir=$(ccache -k cache_dir)
  mkdir -p "$cdir"
  cache_args=(--volume "$cdir:/host-ccache" --build-arg CCACHE_DIR=/host-ccache
    --build-arg "CCACHE_MAXSIZE=$(ccache -k max_size)")
  # ccache hashes LANG into its keys: the build stage uses the host's.
  [ -n "${LANG:-}" ] && cache_args+=(--build-arg "LANG=$LANG")
fi
buildah bud --isolation chroot --pull=never --layers "${cache_args[@]}" \
  --build-arg "JOBS=${JOBS:-2}" -t "$IMAGE" -f "$SRC/Dockerfile" "$SRC"
t_build=$SECONDS

# 3. The image's configuration and size.
fail() {
  echo "FAIL: $*"
  exit 1
}
config=$(buildah inspect --type image "$IMAGE" | python3 -c '
import json, sys
c = json.load(sys.stdin)["OCIv1"]["config"]
print(json.dumps([c.get("Entrypoint"), c.get("Cmd"), c.get("User")]))')
[ "$config" = '[["/usr/bin/outrigger"], ["--config", "/etc/outrigger/config.yaml"], "65532:65532"]' ] ||
  fail "image config (entrypoint, cmd, user) is $config"
echo "ok: entrypoint /usr/bin/outrigger, cmd --config /etc/outrigger/config.yaml, user 65532:65532"
sizes=$(mktemp -d /var/tmp/outrigger-image-size.XXXXXX)
ctr=""
pid=""
cleanup() {
  # buildah run's child does not die with it: end its whole process group.
  [ -n "$pid" ] && kill -- "-$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$sizes"
}
trap cleanup EXIT
# Compressed size: the layers gzip-compressed, as pushed to a registry (an OCI layout).
buildah push --quiet "$IMAGE" "oci:$sizes/oci:test" >/dev/null
python3 - "$sizes/oci" <<'PY'
import json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
def blob(desc):
    algo, h = desc["digest"].split(":")
    return os.path.join(d, "blobs", algo, h)
m = json.load(open(blob(idx["manifests"][0])))
assert all(l["mediaType"].endswith("+gzip") for l in m["layers"]), m["layers"]
comp = sum(l["size"] for l in m["layers"])
print(f"image size: {comp / 1e6:.1f} MB compressed ({len(m['layers'])} layers, gzip; goal <= 60 MB): "
      + ", ".join(f"{l['size'] / 1e6:.1f}" for l in m["layers"]))
PY
echo "image size: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}') uncompressed"

# 4. Run the image's outrigger as UID 65532.
read -r grpc http health metrics < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
cat > "$sizes/ports.yaml" <<EOF2
extensions:
  health_check:
    endpoint: 127.0.0.1:$health
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc
      http:
        endpoint: 127.0.0.1:$http
  statsd:
    endpoint: 127.0.0.1:0
service:
  telemetry:
    metrics:
      address: 127.0.0.1:$metrics
EOF2
chmod 755 "$sizes"
chmod 644 "$sizes/ports.yaml"
ctr=$(buildah from --pull=never "$IMAGE")
setsid buildah run --isolation chroot --user 65532:65532 --volume "$sizes/ports.yaml:/test/ports.yaml:ro" \
  "$ctr" -- /usr/bin/outrigger --config /etc/outrigger/config.yaml --config /test/ports.yaml \
  > "$sizes/outrigger.log" 2>&1 &
pid=$!

ready=0
for _ in $(seq 1 300); do # up to 30 s
  if curl -fsS "http://127.0.0.1:$health/" >/dev/null 2>&1; then
    ready=1
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ $ready = 0 ]; then
  cat "$sizes/outrigger.log"
  fail "the image's outrigger did not answer on health_check (127.0.0.1:$health)"
fi
echo "ok: health_check answers 200"

trace='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"image-test"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"in-the-image","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}]}]}]}'
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  --data "$trace" "http://127.0.0.1:$http/v1/traces")
[ "$code" = 200 ] || fail "OTLP/HTTP export answered $code"
echo "ok: OTLP/HTTP accepted a span"

accepted=""
for _ in $(seq 1 100); do
  accepted=$(curl -fsS "http://127.0.0.1:$metrics/metrics" |
    awk '/^outrigger_receiver_accepted_spans_total\{.*transport="http"/ {s += $NF} END {print s + 0}')
  [ "${accepted:-0}" -ge 1 ] 2>/dev/null && break
  sleep 0.1
done
[ "${accepted:-0}" -ge 1 ] || fail "outrigger_receiver_accepted_spans_total{transport=\"http\"} is ${accepted:-absent}"
echo "ok: the span is counted as accepted ($accepted)"

# The process serving is the image's binary (the one process named outrigger in buildah
# run's session), running as UID and GID 65532.
opid=$(pgrep -s "$pid" -x outrigger | head -1)
[ -n "$opid" ] || fail "no outrigger process under buildah run"
ids=$(awk '/^Uid:|^Gid:/ {printf "%s %s %s %s ", $2, $3, $4, $5}' "/proc/$opid/status")
[ "$ids" = "65532 65532 65532 65532 65532 65532 65532 65532 " ] || fail "outrigger runs with Uid/Gid $ids"
echo "ok: the image's outrigger (pid $opid, root $(readlink "/proc/$opid/root" 2>/dev/null || echo '?')) runs as UID/GID 65532"

kill -TERM "$opid"
wait "$pid" || true
pid=""
grep -q "in-the-image" "$sizes/outrigger.log" || grep -qi "spans" "$sizes/outrigger.log" ||
  fail "the debug exporter logged nothing about the span"
echo "times: base images $((t_base - t_start)) s, build $((t_build - t_base)) s, total $((SECONDS - t_start)) s"
echo "1 passed, 0 failed"
