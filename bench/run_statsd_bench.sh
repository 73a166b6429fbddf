#!/usr/bin/env bash
# End-to-end StatsD benchmark of the outrigger collector:
#   statsd_blaster --UDP (sendmmsg)--> outrigger [statsd receiver -> batch -> file exporter]
# The collector runs pinned to CPU $COLLECTOR_CPU, the blaster to $CLIENT_CPU. Each
# scenario starts a fresh collector (so each peak RSS is its own) with
#   statsd: udp, socket_buffer_size $SOCKET_BUFFER, aggregation_interval $INTERVAL
#
# Scenarios (name:lines_per_s|max:seconds:series[:observer]):
#   max       as fast as the blaster can send: lines per CPU-second of the collector
#   500k, 1M  offered rates: loss = lines sent - (accepted + malformed), from /metrics
#   100k      a moderate rate: % of a core
#   1M-summary, 1M-exphist   1M lines/s with timings/histograms as summaries / exponential
#             histograms (observer: gauge (default) | summary | histogram (explicit
#             buckets) | exponential): the cost of a bigger flush on the event loop
#   memory    MEM_SECONDS (120) at MEM_RATE (200k) lines/s, VmRSS sampled every 10 s
# Every line carries one value, so lines == the receiver's accepted metric points.
# Collector CPU = utime+stime from /proc/PID/stat, from just before the blaster starts
# until the receiver's accepted count stops moving after it ends.
# Results: bench/out/statsd_results.md (printed at the end); raw logs in bench/out/statsd.*/
#
# Environment (defaults):
#   OUTRIGGER=build/outrigger  BLASTER=build-bench/bench/statsd_blaster
#   DURATION=15 (s per throughput scenario)  SERIES=1000  LINES_PER_DATAGRAM=10
#   MIX=c:40,g:20,ms:25,h:15  TAGS=3  SAMPLED=0.25
#   SCENARIOS="max:max:$DURATION:$SERIES 500k:500000:$DURATION:$SERIES 1M:1000000:$DURATION:$SERIES
#              100k:100000:$DURATION:$SERIES max-10k-series:max:$DURATION:10000
#              1M-summary:1000000:$DURATION:$SERIES:summary 1M-exphist:1000000:$DURATION:$SERIES:exponential"
#   MEM_SECONDS=120 MEM_RATE=200000 MEM_SERIES=1000 (MEM_SECONDS=0: no memory run)
#   SOCKET_BUFFER=8MiB  INTERVAL=10s  COLLECTOR_CPU=0  CLIENT_CPU=1
#   PERF=0 (1: also profile a max-rate run with perf: bench/out/statsd_perf_profile.txt)
#   RESULTS=bench/out/statsd_results.md
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROOT=$(dirname "$HERE")
OUTRIGGER=${OUTRIGGER:-$ROOT/build/outrigger}
BLASTER=${BLASTER:-$ROOT/build-bench/bench/statsd_blaster}
DURATION=${DURATION:-15}
SERIES=${SERIES:-1000}
LINES_PER_DATAGRAM=${LINES_PER_DATAGRAM:-10}
MIX=${MIX:-c:40,g:20,ms:25,h:15}
TAGS=${TAGS:-3}
SAMPLED=${SAMPLED:-0.25}
SCENARIOS=${SCENARIOS:-"max:max:$DURATION:$SERIES 500k:500000:$DURATION:$SERIES 1M:1000000:$DURATION:$SERIES 100k:100000:$DURATION:$SERIES max-10k-series:max:$DURATION:10000 1M-summary:1000000:$DURATION:$SERIES:summary 1M-exphist:1000000:$DURATION:$SERIES:exponential"}
MEM_SECONDS=${MEM_SECONDS:-120}
MEM_RATE=${MEM_RATE:-200000}
MEM_SERIES=${MEM_SERIES:-1000}
SOCKET_BUFFER=${SOCKET_BUFFER:-8MiB}
INTERVAL=${INTERVAL:-10s}
COLLECTOR_CPU=${COLLECTOR_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PERF=${PERF:-0}

for f in "$OUTRIGGER" "$BLASTER"; do
  [[ -x $f ]] || { echo "missing $f (build it first, see bench/README.md)" >&2; exit 1; }
done
((DURATION > 0 && DURATION <= 600)) || { echo "DURATION must be 1..600" >&2; exit 1; }
((MEM_SECONDS >= 0 && MEM_SECONDS <= 1800)) || { echo "MEM_SECONDS must be 0..1800" >&2; exit 1; }

OUT=$HERE/out
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/statsd.XXXXXX")
cp "$OUTRIGGER" "$WORK/outrigger"  # a private copy: a rebuild during the run changes nothing
COL=$WORK/outrigger
TCK=$(getconf CLK_TCK)
RESULTS=${RESULTS:-$OUT/statsd_results.md}

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$COL" "$WORK"/*.metrics.jsonl
}
trap cleanup EXIT

wait_ready() {  # pid udp_port metrics_port
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 1
    udp_bound "$2" && tcp_listening "$3" && return 0
    sleep 0.1
  done
  return 1
}

mapping_yaml() {  # observer
  local t
  [[ $1 == gauge ]] && return 0
  echo "    timer_histogram_mapping:"
  for t in timing histogram distribution; do
    echo "      - statsd_type: $t"
    case $1 in
      summary) echo "        observer_type: summary" ;;
      exponential) echo "        observer_type: histogram" ;;
      histogram)
        echo "        observer_type: histogram"
        echo "        histogram:"
        echo "          explicit_buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]" ;;
      *) echo "unknown observer $1" >&2; return 1 ;;
    esac
  done
}

write_config() {  # file udp_port metrics_port out_file observer
  cat >"$1" <<EOF
receivers:
  statsd:
    endpoint: 127.0.0.1:$2
    transport: udp
    socket_buffer_size: $SOCKET_BUFFER
    aggregation_interval: $INTERVAL
$(mapping_yaml "${5:-gauge}")
processors:
  batch:
exporters:
  file:
    path: $4
service:
  telemetry:
    logs:
      level: warn
    metrics:
      address: 127.0.0.1:$3
  pipelines:
    metrics:
      receivers: [statsd]
      processors: [batch]
      exporters: [file]
EOF
}

start_collector() {  # label [observer] -> sets COL_PID UDP_PORT METRICS_PORT
  local label=$1
  UDP_PORT=$(free_udp_port)
  METRICS_PORT=$(free_ports 1)
  write_config "$WORK/$label.yaml" "$UDP_PORT" "$METRICS_PORT" "$WORK/$label.metrics.jsonl" "${2:-gauge}"
  taskset -c "$COLLECTOR_CPU" "$COL" --config "$WORK/$label.yaml" >"$WORK/$label.collector.log" 2>&1 &
  COL_PID=$!
  PIDS+=("$COL_PID")
  wait_ready "$COL_PID" "$UDP_PORT" "$METRICS_PORT" || {
    log "$label: collector did not start"; cat "$WORK/$label.collector.log" >&2; return 1; }
  sleep 0.5
}

# After the load: until accepted + malformed stops moving for 0.5 s (at most 10 s).
drain() {  # metrics_port -> prints accepted malformed refused
  local a m r last=-1 still=0
  for _ in $(seq 1 100); do
    a=$(self_metric "$1" outrigger_receiver_accepted_metric_points_total)
    m=$(self_metric "$1" outrigger_receiver_malformed_requests_total)
    if [[ "$a+$m" == "$last" ]]; then ((++still >= 5)) && break; else still=0; fi
    last="$a+$m"
    sleep 0.1
  done
  r=$(self_metric "$1" outrigger_receiver_refused_metric_points_total)
  echo "$a $m $r"
}

blast() {  # label rate(max|N) seconds series -> RESULT line on stdout
  local rate=$2 rate_arg=0
  [[ $rate != max ]] && rate_arg=$rate
  taskset -c "$CLIENT_CPU" "$BLASTER" --endpoint "127.0.0.1:$UDP_PORT" --rate "$rate_arg" --duration "$3" \
    --series "$4" --lines-per-datagram "$LINES_PER_DATAGRAM" --mix "$MIX" --tags "$TAGS" --sampled "$SAMPLED" \
    2>"$WORK/$1.blaster.err" | grep '^RESULT' || true
}

ROWS=()
NOTES=()
PERF_NOTE=""

run_scenario() {  # label rate seconds series observer [perf]
  local label=$1 rate=$2 secs=$3 series=$4 observer=$5 do_perf=${6:-0}
  ((do_perf)) && label="$label-perf"
  start_collector "$label" "$observer" || return 1
  local rb; rb=$(ss -lumnH "sport = :$UDP_PORT" | sed -n 's/.*skmem:(\([^)]*\)).*/\1/p' | tr ',' '\n' | sed -n 's/^rb//p')
  log "$label: ${secs}s at $rate lines/s, $series series, timers as $observer (collector pid $COL_PID, udp $UDP_PORT, rcvbuf ${rb:-?} B)"
  local perf_pid=""
  if ((do_perf)); then
    perf record -F 499 --call-graph dwarf,16384 -p "$COL_PID" -o "$WORK/perf.data" -- sleep "$secs" \
      >"$WORK/perf.log" 2>&1 &
    perf_pid=$!
  fi
  local c0 t0 o0 e0 c1 t1 o1 e1 result
  c0=$(cpu_ticks "$COL_PID"); o0=$(cpu_busy "$COLLECTOR_CPU"); e0=$(udp_snmp 6); t0=$(date +%s.%N)
  result=$(blast "$label" "$rate" "$secs" "$series")
  read -r acc mal ref <<<"$(drain "$METRICS_PORT")"
  c1=$(cpu_ticks "$COL_PID"); o1=$(cpu_busy "$COLLECTOR_CPU"); e1=$(udp_snmp 6); t1=$(date +%s.%N)
  [[ -n $perf_pid ]] && { wait "$perf_pid" 2>/dev/null || true; }
  local hwm rss threads
  hwm=$(status_kb "$COL_PID" VmHWM); rss=$(status_kb "$COL_PID" VmRSS); threads=$(status_kb "$COL_PID" Threads)
  stop_pid "$COL_PID" 15
  [[ -n $result ]] || { log "$label: blaster failed"; cat "$WORK/$label.blaster.err" >&2; return 1; }
  local sent achieved bcpu
  sent=$(kv "$result" lines_sent); achieved=$(kv "$result" lines_per_s); bcpu=$(kv "$result" blaster_cpu_s)
  local cpu_s wall pct per_cpu lost loss_pct other rcvbuf_err
  cpu_s=$(calc "%.2f" "($c1 - $c0) / $TCK")
  wall=$(calc "%.2f" "$t1 - $t0")
  pct=$(calc "%.1f" "100 * $cpu_s / $wall")
  per_cpu=$(awk -v a="$acc" -v c="$cpu_s" 'BEGIN { if (c > 0) printf "%.0f", a / c; else print 0 }')
  lost=$((sent - acc - mal))
  loss_pct=$(calc "%.2f" "($sent > 0) ? 100 * $lost / $sent : 0")
  # CPU $COLLECTOR_CPU busy with something else than the collector (other processes, irqs).
  other=$(calc "%.1f" "100 * (($o1 - $o0) - ($c1 - $c0)) / $TCK / $wall")
  rcvbuf_err=$((e1 - e0))
  local row
  row="| $label | $rate | $observer | $(fmt "$series") | $(fmt "$sent") | $(fmt "$achieved") | $(fmt "$acc") | $mal | $ref | $(fmt "$lost") ($loss_pct%) | $(fmt "$rcvbuf_err") | $cpu_s / $wall | $pct | $other | $(fmt "$per_cpu") | $(calc "%.1f" "$hwm / 1024") | $(calc "%.1f" "$rss / 1024") | $threads | $bcpu |"
  if ((do_perf)); then
    PERF_ROW=$row
  else
    ROWS+=("$row")
  fi
  log "$label: sent $sent ($achieved lines/s), accepted $acc, malformed $mal, lost $lost ($loss_pct%), kernel rcvbuf drops $rcvbuf_err datagrams, collector ${cpu_s}s CPU in ${wall}s (${pct}%), $per_cpu lines/CPU-s, hwm ${hwm} kB"
  if ((do_perf)); then
    {
      echo "# perf, collector during $label ($rate lines/s, $series series)"
      echo
      echo "## self time by library"
      perf report -i "$WORK/perf.data" --no-children -g none --stdio --sort dso --percent-limit 0.5 2>/dev/null | grep '%'
      echo
      echo "## self time by symbol (>= 0.5%)"
      perf report -i "$WORK/perf.data" --no-children -g none --stdio --sort dso,symbol --percent-limit 0.5 2>/dev/null \
        | grep '%' | cut -c1-180
      echo
      echo "## inclusive time (children) of the collector's own frames (>= 1%)"
      perf report -i "$WORK/perf.data" --children -g none --stdio --sort symbol --percent-limit 1 2>/dev/null \
        | grep -E '\] (outrigger::|prometheus::|boost::asio::detail::epoll|__libc_recvmmsg|recvmmsg)' \
        | grep -v '(inlined)' | cut -c1-180 | head -40
    } >"$OUT/statsd_perf_profile.txt"
    rm -f "$WORK/perf.data"
    PERF_NOTE="perf profile ($label): bench/out/statsd_perf_profile.txt"
  fi
}

MEM_ROWS=()
MEM_SUMMARY=""
run_memory() {
  local label=memory
  start_collector "$label" || return 1
  log "$label: ${MEM_SECONDS}s at $MEM_RATE lines/s, $MEM_SERIES series (collector pid $COL_PID); VmRSS every 10 s"
  local c0 t0 cprev tprev
  c0=$(cpu_ticks "$COL_PID"); t0=$(date +%s.%N); cprev=$c0; tprev=$t0
  local bpid resfile=$WORK/$label.blaster.result
  blast "$label" "$MEM_RATE" "$MEM_SECONDS" "$MEM_SERIES" >"$resfile" &
  bpid=$!
  PIDS+=("$bpid")
  MEM_ROWS+=("| 0 | $(calc "%.1f" "$(status_kb "$COL_PID" VmRSS) / 1024") | $(calc "%.1f" "$(status_kb "$COL_PID" RssAnon) / 1024") | $(calc "%.1f" "$(status_kb "$COL_PID" VmHWM) / 1024") | - | 0 |")
  local i c t acc
  for ((i = 10; i <= MEM_SECONDS; i += 10)); do
    sleep "$(calc "%.3f" "$t0 + $i - $(date +%s.%N)")" 2>/dev/null || true
    c=$(cpu_ticks "$COL_PID"); t=$(date +%s.%N)
    acc=$(self_metric "$METRICS_PORT" outrigger_receiver_accepted_metric_points_total)
    MEM_ROWS+=("| $i | $(calc "%.1f" "$(status_kb "$COL_PID" VmRSS) / 1024") | $(calc "%.1f" "$(status_kb "$COL_PID" RssAnon) / 1024") | $(calc "%.1f" "$(status_kb "$COL_PID" VmHWM) / 1024") | $(calc "%.1f" "100 * ($c - $cprev) / $TCK / ($t - $tprev)") | $(fmt "$acc") |")
    cprev=$c; tprev=$t
  done
  wait "$bpid" 2>/dev/null || true
  read -r acc mal ref <<<"$(drain "$METRICS_PORT")"
  local c1 t1; c1=$(cpu_ticks "$COL_PID"); t1=$(date +%s.%N)
  local rss hwm; rss=$(status_kb "$COL_PID" VmRSS); hwm=$(status_kb "$COL_PID" VmHWM)
  stop_pid "$COL_PID" 15
  local result sent lost cpu_s
  result=$(cat "$resfile")
  sent=$(kv "$result" lines_sent); sent=${sent:-0}
  lost=$((sent - acc - mal))
  cpu_s=$(calc "%.2f" "($c1 - $c0) / $TCK")
  MEM_SUMMARY="sent $(fmt "$sent") lines ($(fmt "$(kv "$result" lines_per_s)") lines/s), accepted $(fmt "$acc"), malformed $mal, lost $(fmt "$lost") ($(calc "%.3f" "($sent > 0) ? 100 * $lost / $sent : 0")%); collector CPU ${cpu_s}s in $(calc "%.1f" "$t1 - $t0")s ($(calc "%.1f" "100 * $cpu_s / ($t1 - $t0)")% of a core, $(fmt "$(awk -v a="$acc" -v c="$cpu_s" 'BEGIN { if (c > 0) printf "%.0f", a / c; else print 0 }')") lines per CPU-s); end RSS $(calc "%.1f" "$rss / 1024") MiB, peak $(calc "%.1f" "$hwm / 1024") MiB"
  log "$label: $MEM_SUMMARY"
}

START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $SCENARIOS; do
  IFS=: read -r label rate secs series observer <<<"$s"
  run_scenario "$label" "$rate" "${secs:-$DURATION}" "${series:-$SERIES}" "${observer:-gauge}" 0 || log "scenario $s failed"
done
PERF_ROW=""
((PERF)) && { run_scenario max max "$DURATION" "$SERIES" gauge 1 || log "perf run failed"; }
((MEM_SECONDS > 0)) && { run_memory || log "memory run failed"; }

{
  echo "# Outrigger StatsD end-to-end benchmark"
  echo
  echo "- date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty tree)')"
  echo "- machine: $(nproc) vCPU, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(uname -r); load average at start: $LOAD0"
  echo "- collector pinned to CPU $COLLECTOR_CPU, blaster to CPU $CLIENT_CPU"
  echo "- pipeline: statsd (udp 127.0.0.1, socket_buffer_size $SOCKET_BUFFER, aggregation_interval $INTERVAL, timer_histogram_mapping per the \"ms/h/d as\" column for timing, histogram and distribution alike (gauge: the default; histogram: explicit buckets 1..10000; exponential: max_size 160), other options default) -> batch (defaults) -> file exporter"
  echo "- load: statsd_blaster, sendmmsg of 64 datagrams, $LINES_PER_DATAGRAM lines per datagram, one value per line, mix $MIX, $TAGS DogStatsD tags, $SAMPLED of c/ms/h series with @0.5 or @0.1; series walked round-robin"
  echo
  echo "| scenario | offered lines/s | ms/h/d as | series | lines sent | achieved lines/s | accepted | malformed | refused | lost (%) | kernel UDP rcvbuf drops (datagrams, system-wide) | collector CPU s / wall s | % of a core | CPU $COLLECTOR_CPU busy with others % | lines per CPU-s | peak RSS MiB | end RSS MiB | threads | blaster CPU s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for r in "${ROWS[@]}"; do echo "$r"; done
  [[ -n $PERF_ROW ]] && echo "$PERF_ROW"
  echo
  echo "- **lost** = lines sent - accepted - malformed (lines the kernel dropped because the receive buffer was full; cross-check: the kernel's UDP RcvbufErrors over the scenario, in datagrams of $LINES_PER_DATAGRAM lines)."
  echo "- **lines per CPU-s** = accepted / collector CPU s: receive (recvmmsg), parse, aggregate, flush, export, per line. On loopback most of the kernel's UDP receive path runs on the sender's CPU, so it is not in this figure."
  echo "- **CPU $COLLECTOR_CPU busy with others**: CPU time on the collector's CPU not used by the collector (other processes, interrupts) over the scenario; anything but ~0 means the figures are pessimistic."
  if [[ -n $MEM_SUMMARY ]]; then
    echo
    echo "## Memory over time: ${MEM_SECONDS}s at $(fmt "$MEM_RATE") lines/s, $(fmt "$MEM_SERIES") series"
    echo
    echo "| t s | VmRSS MiB | RssAnon MiB | VmHWM MiB | collector % of a core (last 10 s) | accepted so far |"
    echo "|---|---|---|---|---|---|"
    for r in "${MEM_ROWS[@]}"; do echo "$r"; done
    echo
    echo "$MEM_SUMMARY"
  fi
  echo
  [[ -n $PERF_NOTE ]] && { echo "$PERF_NOTE"; echo; }
  echo "Raw logs: ${WORK#"$ROOT"/}; total run $(( $(date +%s) - START ))s."
} >"$RESULTS"
cat "$RESULTS"
