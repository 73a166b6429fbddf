# Outrigger's container image (see README, "Container image").
#
#   docker build -t outrigger .          (BuildKit), or
#   buildah bud --isolation chroot -t outrigger .
#
# Build stage: Debian 12 with the packages of `scripts/setup.sh build`, the `outrigger`
# binary built as `scripts/dev.sh` builds it (RelWithDebInfo, then stripped). Compiles go
# through ccache: a cache mount keeps them between builds, and CCACHE_DIR may point at a
# directory mounted from the host instead (tests/image/run.sh passes the host's cache
# with `buildah bud --volume`, so a build after `scripts/dev.sh test` is mostly hits).
FROM debian:bookworm AS build
ARG CCACHE_DIR=/root/.cache/ccache
ARG CCACHE_MAXSIZE=5G
ARG JOBS=2
# ccache keys include LANG: the host's builds run with C.UTF-8 (tests/image/run.sh passes
# the host's value), so the same compile here finds the host's cache entry. The protobuf
# headers are generated seconds before the compiles that include them: ccache's
# include_file_mtime/ctime sloppiness keeps it in direct mode for them (their content is
# still hashed), else it falls back to preprocessing, whose output holds /src paths.
ARG LANG=C.UTF-8
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh build \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# The runtime packages are those owning the shared libraries the binary links:
# computed here from `ldd`, so the runtime stage installs exactly them.
RUN --mount=type=cache,id=outrigger-ccache,target=/root/.cache/ccache \
    export CCACHE_DIR="$CCACHE_DIR" CCACHE_MAXSIZE="$CCACHE_MAXSIZE" CCACHE_BASEDIR=/src \
      CCACHE_NOHASHDIR=1 CCACHE_STATSLOG=/tmp/ccache-stats.log LANG="$LANG" \
      CCACHE_SLOPPINESS=include_file_mtime,include_file_ctime \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DOUTRIGGER_BUILD_TESTS=OFF -DOUTRIGGER_BUILD_BENCH=OFF \
 && cmake --build build -j"$JOBS" --target outrigger \
 && { echo "ccache, this build:"; ccache --show-log-stats | grep -E '^ *(Hits|Misses):' || true; } \
 && mkdir -p /out/usr/bin /out/etc/outrigger \
 && strip -o /out/usr/bin/outrigger build/outrigger \
 && cp collector/default_config.yaml /out/etc/outrigger/config.yaml \
 && scripts/runtime-packages.sh build/outrigger > /out/runtime-packages \
 && /out/usr/bin/outrigger validate --config /out/etc/outrigger/config.yaml

# Runtime stage: Debian 12 slim with only those libraries and CA certificates.
FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* /tmp/runtime-packages \
 && groupadd --system --gid 65532 outrigger \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin outrigger
COPY --from=build /out/usr/bin/outrigger /usr/bin/outrigger
COPY --from=build /out/etc/outrigger/config.yaml /etc/outrigger/config.yaml
# Nothing is written at run time (a read-only root filesystem works): the default config
# logs to stderr and keeps its state in memory. Its listeners are on 127.0.0.1 (for the
# application in the same Pod); see k8s/ for the configs a cluster uses.
USER 65532:65532
EXPOSE 4317 4318 8125/udp 8888 13133
ENTRYPOINT ["/usr/bin/outrigger"]
CMD ["--config", "/etc/outrigger/config.yaml"]
