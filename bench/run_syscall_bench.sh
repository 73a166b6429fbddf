#!/usr/bin/env bash
# What one OTLP request costs the collector, in figures that travel between machines:
# syscalls per request (by thread), CPU at a paced rate, spans per CPU-second at full
# speed, RSS split. Pipeline: otlp receiver -> batch -> otlp exporter (gRPC) -> sink.
#   otlp_loadgen send --(HTTP | gRPC, 1 connection)--> outrigger --gRPC--> otlp_loadgen sink
# Per protocol, three phases, each with a fresh collector and sink:
#   paced   RATE spans/s for DURATION s, nothing attached: % of a core (and by thread),
#           RSS anon / file
#   max     as fast as one connection goes, DURATION s: spans per CPU-second
#   strace  STRACE_RATE spans/s for STRACE_SECONDS s under `strace -f`: syscalls per
#           received request, for the whole process and per thread (the event loop, the
#           HTTP workers, gRPC's threads, the exporter), and the exporter's requests
#           (the sink's count) so its sends can be told apart.
# `perf stat -e instructions` is used for instructions per span when the machine has a
# PMU (PERF=1; most VMs do not: then "n/a"). Without one, callgrind counts them: a fourth
# phase (CALLGRIND=1, needs valgrind) runs the collector under callgrind at STRACE_RATE for
# CG_SECONDS and prints instructions per request by thread.
# Results: bench/out/syscall_results.md (printed); raw traces are deleted.
#
# Environment (defaults):
#   OUTRIGGER=build/outrigger  LOADGEN=build/bench/otlp_loadgen (else build-bench/...)
#   PROTOCOLS="http grpc"  RATE=10000  DURATION=10  STRACE_RATE=10000  STRACE_SECONDS=5
#   WARMUP=2 (seconds of load at RATE before the paced phase measures: gRPC starts at its
#   first use, the receiver's server and the exporter's channel with their threads, and
#   that one-time cost is not the steady state's)
#   SPANS_PER_REQUEST=100 (~25 KB per request)  COLLECTOR_CPU=0  CLIENT_CPU=1  PERF=1
#   EXPORT_HTTP=1 (also the otlphttp exporter's sends: syscalls per export request, connects)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROOT=$(dirname "$HERE")
WARMUP=${WARMUP:-2}
OUTRIGGER=${OUTRIGGER:-$ROOT/build/outrigger}
if [[ -z ${LOADGEN:-} ]]; then
  LOADGEN=$ROOT/build/bench/otlp_loadgen
  [[ -x $LOADGEN ]] || LOADGEN=$ROOT/build-bench/bench/otlp_loadgen
fi
PROTOCOLS=${PROTOCOLS:-"http grpc"}
RATE=${RATE:-10000}
DURATION=${DURATION:-10}
STRACE_RATE=${STRACE_RATE:-10000}
STRACE_SECONDS=${STRACE_SECONDS:-5}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-100}
COLLECTOR_CPU=${COLLECTOR_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PERF=${PERF:-1}
EXPORT_HTTP=${EXPORT_HTTP:-1}
CALLGRIND=${CALLGRIND:-1}
CG_SECONDS=${CG_SECONDS:-10}
for f in "$OUTRIGGER" "$LOADGEN"; do
  [[ -x $f ]] || { echo "missing $f (build it first, see bench/README.md)" >&2; exit 1; }
done
command -v strace >/dev/null || { echo "strace is needed" >&2; exit 1; }
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null || CALLGRIND=0
HAVE_PERF=0
if ((PERF)) && command -v perf >/dev/null && perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
  HAVE_PERF=1
fi

OUT=$HERE/out
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/syscalls.XXXXXX")
# The trace goes outside the config's directory (the collector watches it for reloads).
TRACE_DIR=$(mktemp -d /tmp/outrigger-strace.XXXXXX)
RESULTS=${RESULTS:-$OUT/syscall_results.md}
TCK=$(getconf CLK_TCK)
cp "$OUTRIGGER" "$WORK/outrigger"
PIDS=()
cleanup() {
  kill_pids "${PIDS[@]:-}"
  rm -rf "$TRACE_DIR" "$WORK/outrigger"
}
trap cleanup EXIT

# Starts sink and collector; sets SINK COL EP METRICS.
start() {  # proto label
  local sink_port grpc_port http_port
  read -r sink_port grpc_port http_port METRICS <<<"$(free_ports 4)"
  cat >"$WORK/$2.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc_port
      http:
        endpoint: 127.0.0.1:$http_port
processors:
  batch:
    send_batch_size: 8192
    timeout: 200ms
exporters:
  otlp:
    endpoint: 127.0.0.1:$sink_port
    tls:
      insecure: true
    compression: none
service:
  telemetry:
    logs:
      level: warn
    metrics:
      address: 127.0.0.1:$METRICS
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
EOF
  taskset -c "$CLIENT_CPU" "$LOADGEN" sink --endpoint "127.0.0.1:$sink_port" --lifetime 600 \
    >"$WORK/$2.sink.out" 2>&1 &
  SINK=$!; PIDS+=("$SINK")
  taskset -c "$COLLECTOR_CPU" "${WRAP[@]}" "$WORK/outrigger" --config "$WORK/$2.yaml" >"$WORK/$2.collector.log" 2>&1 &
  COL=$!; PIDS+=("$COL")
  [[ $1 == grpc ]] && EP=127.0.0.1:$grpc_port || EP=127.0.0.1:$http_port
  for _ in $(seq 1 600); do
    tcp_listening "$sink_port" && tcp_listening "$grpc_port" && tcp_listening "$http_port" && break
    kill -0 "$COL" 2>/dev/null || { cat "$WORK/$2.collector.log" >&2; return 1; }
    sleep 0.1
  done
  sleep 0.5
}
stop() { stop_pid "$COL" 10; stop_pid "$SINK" 5; }
send() {  # proto rate seconds label
  taskset -c "$CLIENT_CPU" "$LOADGEN" send --protocol "$1" --endpoint "$EP" --concurrency 1 --duration "$3" \
    --rate "$2" --spans-per-request "$SPANS_PER_REQUEST" >"$WORK/$4.loadgen.out" 2>&1 || true
  grep '^RESULT' "$WORK/$4.loadgen.out" || echo "RESULT"
}
sink_requests() { kv " $(grep '^SINK' "$WORK/$1.sink.out" || true)" requests; }

WRAP=()  # what the collector runs under (start)
ROWS=()
THREAD_ROWS=()
CPU_ROWS=()
CG_ROWS=()
for proto in $PROTOCOLS; do
  # paced
  start "$proto" "$proto-paced"
  ((WARMUP > 0)) && send "$proto" "$RATE" "$WARMUP" "$proto-paced-warm" >/dev/null
  thread_snapshot "$COL" >"$WORK/$proto.threads0"
  c0=$(cpu_ticks "$COL"); t0=$(date +%s.%N)
  res=$(send "$proto" "$RATE" "$DURATION" "$proto-paced")
  c1=$(cpu_ticks "$COL"); t1=$(date +%s.%N)
  thread_snapshot "$COL" >"$WORK/$proto.threads1"
  anon=$(status_kb "$COL" RssAnon); file=$(status_kb "$COL" RssFile); threads=$(status_kb "$COL" Threads)
  stop
  paced_pct=$(calc "%.2f" "100 * ($c1 - $c0) / $TCK / ($t1 - $t0)")
  paced_spans=$(kv "$res" accepted_spans)
  while read -r l; do CPU_ROWS+=("$l"); done < <(thread_rows "$proto" "$WORK/$proto.threads0" "$WORK/$proto.threads1" \
    "$(calc "%.3f" "$t1 - $t0")" "$(kv "$res" requests)")

  # max
  start "$proto" "$proto-max"
  ins="n/a"
  if ((HAVE_PERF)); then
    perf stat -x, -e instructions -p "$COL" -o "$WORK/$proto.perf" -- sleep "$DURATION" &
    PERF_PID=$!
  fi
  c0=$(cpu_ticks "$COL")
  res=$(send "$proto" 0 "$DURATION" "$proto-max")
  c1=$(cpu_ticks "$COL")
  max_spans=$(kv "$res" accepted_spans); max_spans=${max_spans:-0}
  if ((HAVE_PERF)); then
    wait "$PERF_PID" || true
    n=$(awk -F, '$3 == "instructions" || $3 ~ /^instructions/ {print $1}' "$WORK/$proto.perf" | head -1)
    [[ -n $n && $max_spans -gt 0 ]] && ins=$(calc "%.0f" "$n / $max_spans")
  fi
  stop
  max_cpu=$(calc "%.2f" "($c1 - $c0) / $TCK")
  per_cpu=$(awk -v a="$max_spans" -v c="$max_cpu" 'BEGIN { if (c > 0) printf "%.0f", a / c; else print "n/a" }')

  # strace
  start "$proto" "$proto-strace"
  for t in /proc/"$COL"/task/*; do echo "$(basename "$t") $(cat "$t/comm")"; done >"$WORK/$proto.comm"
  strace -f -qq -p "$COL" -o "$TRACE_DIR/$proto.trace" &
  ST=$!
  sleep 0.5
  res=$(send "$proto" "$STRACE_RATE" "$STRACE_SECONDS" "$proto-strace")
  sleep 0.5  # the last batch (timeout 200ms) is exported
  kill -INT "$ST" 2>/dev/null || true
  wait "$ST" 2>/dev/null || true
  stop
  reqs=$(kv "$res" requests); reqs=${reqs:-0}
  exports=$(sink_requests "$proto-strace"); exports=${exports:-0}
  summary=$(python3 - "$TRACE_DIR/$proto.trace" "$WORK/$proto.comm" "$reqs" "$exports" <<'PY'
import collections, re, sys
trace, comm_file, reqs, exports = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
comm = dict(l.rstrip("\n").split(" ", 1) for l in open(comm_file) if " " in l)
per = collections.defaultdict(collections.Counter)
for line in open(trace, errors="replace"):
    m = re.match(r"(\d+) +([a-z_0-9]+)\(", line)
    if m:
        per[m.group(1)][m.group(2)] += 1
total = sum(sum(c.values()) for c in per.values())
print("TOTAL", total)
for tid, c in sorted(per.items(), key=lambda kv: -sum(kv[1].values())):
    n = sum(c.values())
    if reqs and n / reqs < 0.05:
        continue
    top = ", ".join(f"{s} {v / max(reqs, 1):.2f}" for s, v in c.most_common(5))
    print(f"THREAD | {tid} {comm.get(tid, 'new thread')} | {n / max(reqs, 1):.2f} | {top} |")
PY
)
  rm -f "$TRACE_DIR/$proto.trace"
  total=$(awk '$1 == "TOTAL" {print $2}' <<<"$summary")
  per_req=$(awk -v t="$total" -v r="$reqs" 'BEGIN { if (r > 0) printf "%.1f", t / r; else print "n/a" }')
  ROWS+=("| $proto | $(fmt "${paced_spans:-0}") in ${DURATION}s | $paced_pct | $(fmt "$max_spans") | $max_cpu | $(fmt "$per_cpu") | $ins | $reqs | $per_req | $exports | $(calc "%.1f" "$anon / 1024") / $(calc "%.1f" "$file / 1024") | $threads |")
  while read -r l; do THREAD_ROWS+=("| $proto ${l#THREAD | }"); done < <(grep '^THREAD' <<<"$summary")
done

# Instructions per request by thread, with callgrind (counts, not time: the same on a
# busy or a quiet machine, with or without a PMU): instrumented from the warm-up on,
# counted over CG_SECONDS at STRACE_RATE.
if ((CALLGRIND)); then
  for proto in $PROTOCOLS; do
    WRAP=(valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no --dump-instr=no
      "--callgrind-out-file=$TRACE_DIR/cg.$proto.%p")
    start "$proto" "$proto-callgrind"
    WRAP=()
    callgrind_control -i on "$COL" >/dev/null
    send "$proto" "$STRACE_RATE" 2 "$proto-cg-warm" >/dev/null
    callgrind_control -z "$COL" >/dev/null
    res=$(send "$proto" "$STRACE_RATE" "$CG_SECONDS" "$proto-callgrind")
    sleep 0.5  # the last batch is exported
    callgrind_control -d "$COL" >/dev/null
    stop
    reqs=$(kv "$res" requests); reqs=${reqs:-0}
    callgrind_threads "$TRACE_DIR"/cg."$proto".*.1-* >"$WORK/$proto.cg"
    total=$(awk '{s += $2} END {print s + 0}' "$WORK/$proto.cg")
    if ((reqs > 0)); then
      while read -r name n; do
        ((n / reqs >= 100)) && CG_ROWS+=("| $proto $name | $(fmt $((n / reqs))) |")
      done <"$WORK/$proto.cg"
      CG_ROWS+=("| $proto all threads | $(fmt $((total / reqs))) ($(fmt $((total / reqs / SPANS_PER_REQUEST))) per span) |")
    fi
    rm -f "$TRACE_DIR"/cg."$proto".*
  done
fi

# The otlphttp exporter's sends (libcurl): gRPC in, otlphttp out to a second collector.
EXPORT_ROW=""
if ((EXPORT_HTTP)); then
  read -r grpc_port b_port a_metrics b_metrics <<<"$(free_ports 4)"
  cat >"$WORK/export-b.yaml" <<EOF
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$b_port
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    logs:
      level: error
    metrics:
      address: 127.0.0.1:$b_metrics
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
EOF
  cat >"$WORK/export-a.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc_port
processors:
  batch:
    send_batch_size: 8192
    timeout: 200ms
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:$b_port
    compression: none
service:
  telemetry:
    logs:
      level: warn
    metrics:
      address: 127.0.0.1:$a_metrics
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlphttp]
EOF
  taskset -c "$CLIENT_CPU" "$WORK/outrigger" --config "$WORK/export-b.yaml" >"$WORK/export-b.log" 2>&1 &
  B=$!; PIDS+=("$B")
  taskset -c "$COLLECTOR_CPU" "$WORK/outrigger" --config "$WORK/export-a.yaml" >"$WORK/export-a.log" 2>&1 &
  COL=$!; PIDS+=("$COL")
  for _ in $(seq 1 100); do
    tcp_listening "$grpc_port" && tcp_listening "$b_port" && break
    sleep 0.1
  done
  sleep 0.5
  strace -f -qq -p "$COL" -o "$TRACE_DIR/export.trace" &
  ST=$!
  sleep 0.5
  EP=127.0.0.1:$grpc_port
  send grpc "$STRACE_RATE" "$STRACE_SECONDS" export >/dev/null
  sleep 0.5
  kill -INT "$ST" 2>/dev/null || true
  wait "$ST" 2>/dev/null || true
  sent=$(self_metric "$a_metrics" outrigger_exporter_sent_spans_total)
  stop_pid "$COL" 10
  stop_pid "$B" 5
  EXPORT_ROW=$(python3 - "$TRACE_DIR/export.trace" "${sent:-0}" <<'PY'
import collections, re, sys
per = collections.defaultdict(collections.Counter)
posts = connects = 0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\d+) +([a-z_0-9]+)\(", line)
    if m:
        per[m.group(1)][m.group(2)] += 1
        connects += m.group(2) == "connect"
    if "POST /v1/traces" in line:
        posts += 1
curl = collections.Counter()
for c in per.values():
    if c["sendto"]:
        curl += c
n = sum(curl.values())
top = ", ".join(f"{s} {v / max(posts, 1):.1f}" for s, v in curl.most_common(5))
print(f"| otlphttp (libcurl) | {posts} | {int(sys.argv[2]) // max(posts, 1)} | {connects} | {n / max(posts, 1):.1f} | {top} |")
PY
)
  rm -f "$TRACE_DIR/export.trace"
fi

{
  echo "# Outrigger: what one OTLP request costs"
  echo
  echo "- date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty tree)')"
  echo "- machine: $(nproc) vCPU, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- collector on CPU $COLLECTOR_CPU, load generator and sink on CPU $CLIENT_CPU; 1 connection, $SPANS_PER_REQUEST spans (~25 KB) per request;"
  echo "  otlp receiver -> batch (8192, 200ms) -> otlp exporter (gRPC, no compression) -> sink"
  echo
  md_table "| proto | paced: spans at $RATE/s | paced: % of a core | max: spans | max: CPU s | max: spans per CPU-s | instructions per span (max) | strace: requests | syscalls per request (all threads) | exporter requests in that time | RSS anon / file MiB | threads |" "${ROWS[@]}"
  echo "CPU by thread in the paced phase (/proc/PID/task/*/schedstat, in ns; voluntary + involuntary context switches; threads that ended before its end are not shown):"
  echo
  md_table "| proto thread | CPU ms per s | context switches per s | CPU µs per request | context switches per request |" "${CPU_ROWS[@]}"
  if ((${#CG_ROWS[@]})); then
    echo "Instructions per received request, by thread (callgrind, $STRACE_RATE spans/s for ${CG_SECONDS}s; threads under 100 left out):"
    echo
    md_table "| proto thread | instructions per request |" "${CG_ROWS[@]}"
  fi
  echo "Syscalls per received request, by thread (strace -f at $STRACE_RATE spans/s for ${STRACE_SECONDS}s; threads under 0.05 left out):"
  echo
  echo "| proto thread | syscalls per request | top syscalls per request |"
  echo "|---|---|---|"
  for r in "${THREAD_ROWS[@]}"; do echo "$r"; done
  echo
  if [[ -n $EXPORT_ROW ]]; then
    echo "The exporter's sends (gRPC in at $STRACE_RATE spans/s for ${STRACE_SECONDS}s, batch 8192/200ms, otlphttp out to a second collector; the threads that called sendto):"
    echo
    echo "| exporter | export requests | spans per request | connect() calls | syscalls per export request | top syscalls per export request |"
    echo "|---|---|---|---|---|---|"
    echo "$EXPORT_ROW"
    echo
  fi
  echo "Goals (issue 12): OTLP/HTTP <= 8 syscalls per 25 KB request; >= 1,000,000 spans per CPU-second with one connection; <= 2% of a core at 10,000 spans/s."
  echo "Raw files: ${WORK#"$ROOT"/}"
} >"$RESULTS"
cat "$RESULTS"
