#!/usr/bin/env bash
# The idle sidecar: what one Pod pays while its app sends nothing. Two configs:
#   default  the embedded default config (OTLP gRPC+HTTP, StatsD, batch, debug, health, own metrics)
#   tail     filelog (tailing an idle file) + StatsD + OTLP gRPC/HTTP -> batch -> otlp exporter
# Each runs IDLE_SECONDS (default 20) after SETTLE (default 35 s: the collector releases the
# code pages that ran once 30 s after it starts); printed per config: CPU (% of a
# core), RSS split into anonymous and file-backed (what a sidecar multiplies by its Pod
# count is the anonymous part; file-backed pages are shared page cache), PSS, threads,
# and syscalls per second over 10 s (strace -c -f, if strace is installed).
# Usage: bench/run_idle_bench.sh [path/to/outrigger]   (default build/outrigger)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
COL=${1:-$HERE/../build/outrigger}
IDLE_SECONDS=${IDLE_SECONDS:-20}
SETTLE=${SETTLE:-35}
TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do stop_pid "$p" 5; done; rm -rf "$WORK"' EXIT

write_configs() {
  local g h m hc s sink
  read -r g h m hc sink <<<"$(free_ports 5)"
  s=$(free_udp_port)
  "$COL" print-default-config | sed -e "s/127.0.0.1:4317/127.0.0.1:$g/; s/127.0.0.1:4318/127.0.0.1:$h/" \
    -e "s/127.0.0.1:8888/127.0.0.1:$m/; s/127.0.0.1:13133/127.0.0.1:$hc/; s/127.0.0.1:8125/127.0.0.1:$s/" \
    >"$WORK/default.yaml"
  : >"$WORK/app.log"
  cat >"$WORK/tail.yaml" <<YAML
receivers:
  filelog:
    include: [$WORK/app.log]
  statsd:
    endpoint: 127.0.0.1:$s
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$g"}
      http: {endpoint: "127.0.0.1:$h"}
processors:
  batch:
exporters:
  otlp:
    endpoint: 127.0.0.1:$sink
    tls: {insecure: true}
service:
  telemetry:
    metrics: {address: "127.0.0.1:$m"}
  pipelines:
    logs: {receivers: [filelog, otlp], processors: [batch], exporters: [otlp]}
    metrics: {receivers: [statsd, otlp], processors: [batch], exporters: [otlp]}
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}
YAML
  WAIT_PORT=$g
}

measure() {  # name config
  "$COL" --config "$2" >"$WORK/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do tcp_listening "$WAIT_PORT" && break; sleep 0.1; done
  tcp_listening "$WAIT_PORT" || { log "$1: collector did not start"; cat "$WORK/$1.log" >&2; return 1; }
  sleep "$SETTLE"
  local c0 t0 c1 t1 sys="-"
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  if command -v strace >/dev/null; then
    sys=$(timeout -s INT 10 strace -c -f -p "$pid" 2>&1 | awk '$NF == "total" {print $4}' || true)
    sys=$(calc "%.1f" "${sys:-0} / 10")
  fi
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  local rss anon file threads pss wall
  rss=$(status_kb "$pid" VmRSS); anon=$(status_kb "$pid" RssAnon); file=$(status_kb "$pid" RssFile)
  threads=$(status_kb "$pid" Threads)
  pss=$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
  wall=$(calc "%.1f" "$t1 - $t0")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
    "$(calc "%.3f" "100 * ($c1 - $c0) / $TCK / $wall")" "$(calc "%.1f" "$rss / 1024")" \
    "$(calc "%.1f" "$anon / 1024")" "$(calc "%.1f" "$file / 1024")" "$(calc "%.1f" "${pss:-0} / 1024")" \
    "$threads" "$sys"
  stop_pid "$pid" 10
}

write_configs
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); kernel $(uname -r)"
echo
echo "| config | CPU % of a core | RSS MiB | anon MiB | file MiB | PSS MiB | threads | syscalls/s |"
echo "|---|---|---|---|---|---|---|---|"
measure default "$WORK/default.yaml"
measure tail "$WORK/tail.yaml"
