#!/usr/bin/env bash
# End-to-end OTLP benchmark of the outrigger collector:
#   otlp_loadgen send --(gRPC | HTTP)--> outrigger [otlp receiver -> batch -> otlp exporter] --gRPC--> otlp_loadgen sink
# The collector runs pinned to CPU $COLLECTOR_CPU, load generator and sink to $CLIENT_CPU.
# For every scenario a fresh sink and collector are started, so each peak RSS is its own.
# Collector CPU = utime+stime from /proc/PID/stat, from just before the load starts until
# the sink has received everything (or stopped receiving), so the spans per CPU-second
# cover decode, batching and encode/export of every accepted span.
# Then the idle collector (embedded default config) is measured.
# Results: bench/out/otlp_results.md (printed at the end); raw logs in bench/out/run.*/
#
# Environment (defaults):
#   OUTRIGGER=build/outrigger  LOADGEN=build-bench/bench/otlp_loadgen
#   DURATION=15 (s per scenario)  IDLE_SECONDS=30  RATE=10000 (the paced scenarios)
#   SCENARIOS="grpc:1:max grpc:32:max http:1:max http:32:max grpc:1:R grpc:32:R http:1:R http:32:R
#              grpc:1:max:gzip grpc:1:R:gzip"   (protocol:connections:rate[:export compression])
#   SPANS_PER_REQUEST=100  EXPORT_COMPRESSION=none (default for scenarios without a 4th field)
#   NUM_CONSUMERS=2  QUEUE_SIZE= QUEUE_SIZER= (exporter sending_queue; empty: the exporter's defaults)
#   COLLECTOR_CPU=0  CLIENT_CPU=1  PERF=0 (1: also profile a gRPC max-rate run with perf)
#   RESULTS=bench/out/otlp_results.md
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROOT=$(dirname "$HERE")
OUTRIGGER=${OUTRIGGER:-$ROOT/build/outrigger}
LOADGEN=${LOADGEN:-$ROOT/build-bench/bench/otlp_loadgen}
DURATION=${DURATION:-15}
IDLE_SECONDS=${IDLE_SECONDS:-30}
RATE=${RATE:-10000}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-100}
EXPORT_COMPRESSION=${EXPORT_COMPRESSION:-none}
NUM_CONSUMERS=${NUM_CONSUMERS:-2}
QUEUE_SIZE=${QUEUE_SIZE:-}
QUEUE_SIZER=${QUEUE_SIZER:-}
QUEUE_DESC="num_consumers $NUM_CONSUMERS"
[[ -n $QUEUE_SIZE ]] && QUEUE_DESC="$QUEUE_DESC, queue_size $QUEUE_SIZE"
[[ -n $QUEUE_SIZER ]] && QUEUE_DESC="$QUEUE_DESC, sizer $QUEUE_SIZER"
[[ -z $QUEUE_SIZE && -z $QUEUE_SIZER ]] && QUEUE_DESC="$QUEUE_DESC, queue size and sizer: the exporter's defaults"
COLLECTOR_CPU=${COLLECTOR_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PERF=${PERF:-0}
SCENARIOS=${SCENARIOS:-"grpc:1:max grpc:32:max http:1:max http:32:max grpc:1:$RATE grpc:32:$RATE http:1:$RATE http:32:$RATE grpc:1:max:gzip grpc:1:$RATE:gzip"}

for f in "$OUTRIGGER" "$LOADGEN"; do
  [[ -x $f ]] || { echo "missing $f (build it first, see bench/README.md)" >&2; exit 1; }
done

OUT=$HERE/out
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/run.XXXXXX")
# A private copy, so a rebuild of the collector during the run changes nothing.
cp "$OUTRIGGER" "$WORK/outrigger"
COL=$WORK/outrigger
TCK=$(getconf CLK_TCK)
RESULTS=${RESULTS:-$OUT/otlp_results.md}

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$COL"
}
trap cleanup EXIT

wait_listening() {  # pid port...
  local pid=$1; shift
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    local all=1
    for p in "$@"; do tcp_listening "$p" || all=0; done
    ((all)) && return 0
    sleep 0.1
  done
  return 1
}

write_config() {  # file grpc_port http_port sink_port metrics_port compression
  cat >"$1" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$2
      http:
        endpoint: 127.0.0.1:$3
processors:
  batch:
    send_batch_size: 8192
    timeout: 200ms
exporters:
  otlp:
    endpoint: 127.0.0.1:$4
    tls:
      insecure: true
    compression: $6
    sending_queue:
      num_consumers: $NUM_CONSUMERS
$([[ -n $QUEUE_SIZE ]] && echo "      queue_size: $QUEUE_SIZE")
$([[ -n $QUEUE_SIZER ]] && echo "      sizer: $QUEUE_SIZER")
service:
  telemetry:
    logs:
      level: warn
    metrics:
      address: 127.0.0.1:$5
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
EOF
}

ROWS=()
LOSS_NOTES=()
PERF_NOTE=""

# Polls the collector's own metrics every 0.5 s (bounded) and keeps the largest exporter
# queue length seen in $2, until $3 exists.
sample_queue() {  # metrics_port out_file stop_file
  local max=0 q
  for _ in $(seq 1 $(((DURATION + 30) * 2))); do
    [[ -e $3 ]] && break
    q=$(curl -s --max-time 1 "http://127.0.0.1:$1/metrics" 2>/dev/null \
      | awk '/^outrigger_exporter_queue_size/ {print int($2)}' | head -1)
    [[ -n $q ]] && ((q > max)) && max=$q
    echo "$max" >"$2"
    sleep 0.5
  done
}

run_scenario() {  # protocol concurrency rate(max|N) compression [perf]
  local proto=$1 conc=$2 rate=$3 comp=$4 do_perf=${5:-0}
  local label="${proto}-c${conc}-${rate}-${comp}"
  ((do_perf)) && label="$label-perf"
  local ports sink_port grpc_port http_port metrics_port
  ports=$(free_ports 4)
  read -r sink_port grpc_port http_port metrics_port <<<"$ports"
  local cfg=$WORK/$label.yaml stats=$WORK/$label.sink.stats
  write_config "$cfg" "$grpc_port" "$http_port" "$sink_port" "$metrics_port" "$comp"

  taskset -c "$CLIENT_CPU" "$LOADGEN" sink --endpoint "127.0.0.1:$sink_port" --stats-file "$stats" \
    --lifetime $((DURATION + 120)) >"$WORK/$label.sink.out" 2>"$WORK/$label.sink.err" &
  local sink_pid=$!
  PIDS+=("$sink_pid")
  wait_listening "$sink_pid" "$sink_port" || { log "$label: sink did not start"; cat "$WORK/$label.sink.err" >&2; return 1; }

  taskset -c "$COLLECTOR_CPU" "$COL" --config "$cfg" >"$WORK/$label.collector.log" 2>&1 &
  local col_pid=$!
  PIDS+=("$col_pid")
  wait_listening "$col_pid" "$grpc_port" "$http_port" || {
    log "$label: collector did not start"; cat "$WORK/$label.collector.log" >&2; stop_pid "$sink_pid"; return 1; }
  sleep 0.5

  local endpoint rate_arg=0
  [[ $proto == grpc ]] && endpoint=127.0.0.1:$grpc_port || endpoint=127.0.0.1:$http_port
  [[ $rate != max ]] && rate_arg=$rate
  log "$label: loadgen ${DURATION}s (collector pid $col_pid, sink pid $sink_pid)"
  local perf_pid=""
  if ((do_perf)); then
    # DWARF call graphs (the libraries have no frame pointers), for inclusive costs.
    perf record -F 499 --call-graph dwarf,16384 -p "$col_pid" -o "$WORK/perf.data" -- sleep "$DURATION" \
      >"$WORK/perf.log" 2>&1 &
    perf_pid=$!
  fi
  rm -f "$WORK/$label.qstop"
  sample_queue "$metrics_port" "$WORK/$label.qmax" "$WORK/$label.qstop" &
  local sampler_pid=$!
  local c0 t0 c1 t1
  c0=$(cpu_ticks "$col_pid"); t0=$(date +%s.%N)
  taskset -c "$CLIENT_CPU" "$LOADGEN" send --protocol "$proto" --endpoint "$endpoint" --concurrency "$conc" \
    --duration "$DURATION" --rate "$rate_arg" --spans-per-request "$SPANS_PER_REQUEST" --label "$label" \
    >"$WORK/$label.loadgen.out" 2>"$WORK/$label.loadgen.err" || true
  local result
  result=$(grep '^RESULT' "$WORK/$label.loadgen.out" || true)
  [[ -n $result ]] || { log "$label: loadgen failed"; cat "$WORK/$label.loadgen.err" >&2; }
  local accepted
  accepted=$(kv "$result" accepted_spans); accepted=${accepted:-0}

  # Drain: until the sink has everything, or has received nothing for 2 s (max 15 s).
  local got=0 last=-1 still=0
  for _ in $(seq 1 150); do
    got=$(kv " $(cat "$stats" 2>/dev/null)" spans); got=${got:-0}
    ((got >= accepted)) && break
    if ((got == last)); then ((++still >= 20)) && break; else still=0; fi
    last=$got
    sleep 0.1
  done
  c1=$(cpu_ticks "$col_pid"); t1=$(date +%s.%N)
  touch "$WORK/$label.qstop"; wait "$sampler_pid" 2>/dev/null || true
  local qmax; qmax=$(cat "$WORK/$label.qmax" 2>/dev/null || echo "?")
  local hwm rss threads sink_cpu
  sink_cpu=$(calc "%.2f" "$(cpu_ticks "$sink_pid") / $TCK")
  hwm=$(status_kb "$col_pid" VmHWM); rss=$(status_kb "$col_pid" VmRSS); threads=$(status_kb "$col_pid" Threads)
  [[ -n $perf_pid ]] && wait "$perf_pid" 2>/dev/null || true

  stop_pid "$col_pid" 15
  stop_pid "$sink_pid" 5
  local sink_line sink_spans
  sink_line=$(grep '^SINK' "$WORK/$label.sink.out" || true)
  sink_spans=$(kv " $sink_line" spans); sink_spans=${sink_spans:-0}

  local cpu_s wall pct per_cpu loss
  cpu_s=$(calc "%.2f" "($c1 - $c0) / $TCK")
  wall=$(calc "%.2f" "$t1 - $t0")
  pct=$(calc "%.1f" "100 * $cpu_s / $wall")
  per_cpu=$(awk -v a="$accepted" -v c="$cpu_s" 'BEGIN { if (c > 0) printf "%.0f", a / c; else print "n/a" }')
  loss=$((accepted - sink_spans))
  local errs
  errs="$(kv "$result" err_exhausted) / $(kv "$result" err_unavailable) / $(kv "$result" err_deadline) / $(kv "$result" err_other)"
  ((loss != 0)) && LOSS_NOTES+=("$label: accepted $accepted, sink received $sink_spans (difference $loss)")
  local fmt_rate fmt_per
  fmt_rate=$(printf "%'d" "$(kv "$result" spans_per_s)" 2>/dev/null || kv "$result" spans_per_s)
  fmt_per=$(printf "%'d" "$per_cpu" 2>/dev/null || echo "$per_cpu")
  local row
  row="| $proto | $conc | $rate | $comp | $fmt_rate | $accepted | $errs | $sink_spans | $loss | $cpu_s / $wall | $pct | $fmt_per | $(calc "%.1f" "$hwm / 1024") | $(calc "%.1f" "$rss / 1024") | $qmax | $threads | $(kv "$result" p50_ms) / $(kv "$result" p99_ms) | $(kv "$result" loadgen_cpu_s) / $sink_cpu |"
  ((do_perf)) || ROWS+=("$row")
  log "$label: $(kv "$result" spans_per_s) spans/s accepted=$accepted sink=$sink_spans cpu=${cpu_s}s (${pct}% core) spans/cpu-s=$per_cpu hwm=${hwm}kB rss=${rss}kB"
  if ((do_perf)); then
    {
      echo "# perf, collector during $label: self time by library"
      perf report -i "$WORK/perf.data" --no-children -g none --stdio --sort dso --percent-limit 0.5 2>/dev/null | grep '%'
      echo
      echo "# self time by symbol (>= 0.7%)"
      perf report -i "$WORK/perf.data" --no-children -g none --stdio --sort dso,symbol --percent-limit 0.7 2>/dev/null \
        | grep '%' | cut -c1-170
      echo
      echo "# inclusive time (children) of the collector's own frames"
      perf report -i "$WORK/perf.data" --children -g none --stdio --sort symbol --percent-limit 1 2>/dev/null \
        | grep -E '\] (outrigger::|opentelemetry::)' | grep -v '(inlined)' \
        | cut -c1-170 | head -30
    } >"$OUT/perf_profile.txt"
    rm -f "$WORK/perf.data"
    PERF_NOTE="perf profile ($label): bench/out/perf_profile.txt"
  fi
}

IDLE_ROW=""
run_idle() {
  local cfgargs=() ports_note="embedded default config (127.0.0.1:4317/4318/8888/13133)" busy=0 wait_port=4317
  for p in 4317 4318 8888 13133; do tcp_listening "$p" && busy=1; done
  if ((busy)); then
    local g h m hc
    read -r g h m hc <<<"$(free_ports 4)"
    "$COL" print-default-config | sed -e "s/127.0.0.1:4317/127.0.0.1:$g/; s/127.0.0.1:4318/127.0.0.1:$h/" \
      -e "s/127.0.0.1:8888/127.0.0.1:$m/; s/127.0.0.1:13133/127.0.0.1:$hc/" >"$WORK/idle.yaml"
    cfgargs=(--config "$WORK/idle.yaml")
    ports_note="the default config moved to free ports $g/$h/$m/$hc (the default ones were in use)"
    wait_port=$g
  fi
  taskset -c "$COLLECTOR_CPU" "$COL" "${cfgargs[@]}" >"$WORK/idle.collector.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_listening "$pid" "$wait_port" || { log "idle: collector did not start"; cat "$WORK/idle.collector.log" >&2; return 1; }
  sleep 2
  log "idle: ${IDLE_SECONDS}s ($ports_note)"
  local c0 t0 c1 t1 rss0
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N); rss0=$(status_kb "$pid" VmRSS)
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  local rss hwm threads anon file pss
  rss=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM); threads=$(status_kb "$pid" Threads)
  anon=$(status_kb "$pid" RssAnon); file=$(status_kb "$pid" RssFile)
  pss=$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
  stop_pid "$pid" 10
  local cpu_s wall
  cpu_s=$(calc "%.2f" "($c1 - $c0) / $TCK")
  wall=$(calc "%.1f" "$t1 - $t0")
  IDLE_ROW="| $ports_note | $wall | $cpu_s | $(calc "%.3f" "100 * $cpu_s / $wall") | $(calc "%.1f" "$rss0 / 1024") | $(calc "%.1f" "$rss / 1024") | $(calc "%.1f" "$hwm / 1024") | $(calc "%.1f" "$anon / 1024") / $(calc "%.1f" "$file / 1024") | $(calc "%.1f" "${pss:-0} / 1024") | $threads |"
  log "idle: cpu ${cpu_s}s in ${wall}s, rss ${rss}kB, hwm ${hwm}kB"
}

START=$(date +%s)
for s in $SCENARIOS; do
  IFS=: read -r proto conc rate comp <<<"$s"
  run_scenario "$proto" "$conc" "$rate" "${comp:-$EXPORT_COMPRESSION}" 0 || log "scenario $s failed"
done
((PERF)) && { run_scenario grpc 1 max "$EXPORT_COMPRESSION" 1 || log "perf run failed"; }
((IDLE_SECONDS > 0)) && { run_idle || log "idle measurement failed"; }

{
  echo "# Outrigger OTLP end-to-end benchmark"
  echo
  echo "- date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty tree)')"
  echo "- machine: $(nproc) vCPU, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(uname -r)"
  echo "- collector pinned to CPU $COLLECTOR_CPU; load generator and sink share CPU $CLIENT_CPU"
  echo "- pipeline: otlp receiver (gRPC + HTTP) -> batch (send_batch_size 8192, timeout 200ms) -> otlp exporter (gRPC, sending_queue: $QUEUE_DESC) -> sink"
  echo "- load: ${DURATION}s per scenario, $SPANS_PER_REQUEST spans per request (~250 B/span, 64 distinct pre-encoded requests), one request in flight per connection, no client retries"
  echo
  echo "| proto | conns | target spans/s | export compr. | achieved spans/s | accepted spans | errors RE-429 / UNAV-503 / deadline / other | sink received | lost | collector CPU s / wall s | % of a core | spans per CPU-s | peak RSS MiB | end RSS MiB | max export queue | threads | latency p50 / p99 ms | loadgen / sink CPU s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for r in "${ROWS[@]}"; do echo "$r"; done
  echo
  if ((${#LOSS_NOTES[@]})); then
    echo "**Loss/duplication (accepted by the collector vs received by the sink):**"
    for n in "${LOSS_NOTES[@]}"; do echo "- $n"; done
  else
    echo "Every span the collector accepted reached the sink (sink received == accepted in every scenario)."
  fi
  echo
  if [[ -n $IDLE_ROW ]]; then
    echo "## Idle"
    echo
    echo "| config | seconds | CPU s | % of a core | RSS at start MiB | RSS at end MiB | peak RSS MiB | end RSS anon / file-backed MiB | PSS MiB | threads |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    echo "$IDLE_ROW"
    echo
  fi
  [[ -n $PERF_NOTE ]] && { echo "$PERF_NOTE"; echo; }
  echo "Goals (issue): >= 1,000,000 spans per CPU-second; <= 2% of a core at 10,000 spans/s; RSS bounded with 32 connections; idle RSS <= 10 MiB with ~0 CPU."
  echo "Raw logs: ${WORK#"$ROOT"/}; total run $(( $(date +%s) - START ))s."
} >"$RESULTS"
cat "$RESULTS"
