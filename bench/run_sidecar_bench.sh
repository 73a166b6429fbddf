#!/usr/bin/env bash
# The sidecar tax: the collector under a realistic mixed load, as one Pod's sidecar sees it.
#   a writer appends $LOG_RATE nginx-style lines/s to a file  --> filelog  --\
#   statsd_blaster sends $STATSD_RATE StatsD lines/s (UDP)    --> statsd   ---+--> batch --> otlp exporter --> otlp_loadgen sink
#   otlp_loadgen sends $SPAN_RATE spans/s over OTLP/HTTP       --> otlp     --/    (traces, logs)
#                                                                  statsd metrics --> prometheus exporter (scraped every $SCRAPE s)
# Phase 1 ($DURATION s, nothing attached): collector CPU (% of a core, from utime+stime),
# RSS split (RssAnon / RssFile / VmHWM from /proc/PID/status) and by mapped file, threads, CPU by thread.
# Phase 2 ($STRACE_SECONDS s, same load): `strace -f` attached: syscalls per second,
# the top syscalls, syscalls by thread, and syscalls per OTLP request (all threads, all load, so an upper
# bound for the OTLP path alone). strace slows the process: phase 2's CPU is not reported.
# Prints one table (and writes it to $RESULTS).
#
# Environment (defaults):
#   OUTRIGGER=build/outrigger  LOADGEN=build/bench/otlp_loadgen  BLASTER=build/bench/statsd_blaster
#   (build-bench/bench/... is used when build/bench/... is missing)
#   WARMUP=35 DURATION=30 STRACE_SECONDS=10 LOG_RATE=1000 STATSD_RATE=10000 SPAN_RATE=1000
#   SPANS_PER_REQUEST=100 (so 10 requests/s) STATSD_SERIES=200 SCRAPE=15
#   LOG_LINES_PER_WRITE=100 (lines per write+flush of the log writer)
#   STATSD_LINES_PER_DATAGRAM=10 STATSD_BATCH=64 (datagrams per sendmmsg)
#   (an application that logs and sends metrics one at a time, as most do:
#   LOG_LINES_PER_WRITE=1 STATSD_LINES_PER_DATAGRAM=1 STATSD_BATCH=1)
#   STATSD_BUFFER= (the statsd receiver's socket_buffer_size; empty: the system's default.
#   From 512KiB on, it reads one-datagram-per-line clients in groups)
#   EXPORT_COMPRESSION= (the otlp exporter's; empty: its default, gzip as upstream)
#   COLLECTOR_CPU=0 CLIENT_CPU=1 RESULTS=bench/out/sidecar_results.md
#   CALLGRIND=0 (1: the collector runs under callgrind, and phase 1 counts instructions
#   per second by thread instead of CPU time: the same on a busy or a quiet machine; the
#   RSS and CPU figures of that run are valgrind's, and phase 2 is left out); KEEP_CG=1
#   keeps callgrind's files (in /tmp/outrigger-callgrind.*) for callgrind_annotate
# Goals (issue 12): <= 1% of a core, <= 16 MiB RSS.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROOT=$(dirname "$HERE")
pick() { [[ -x $ROOT/build/bench/$1 ]] && echo "$ROOT/build/bench/$1" || echo "$ROOT/build-bench/bench/$1"; }
OUTRIGGER=${OUTRIGGER:-$ROOT/build/outrigger}
LOADGEN=${LOADGEN:-$(pick otlp_loadgen)}
BLASTER=${BLASTER:-$(pick statsd_blaster)}
WARMUP=${WARMUP:-35}
DURATION=${DURATION:-30}
STRACE_SECONDS=${STRACE_SECONDS:-10}
LOG_RATE=${LOG_RATE:-1000}
STATSD_RATE=${STATSD_RATE:-10000}
SPAN_RATE=${SPAN_RATE:-1000}
SPANS_PER_REQUEST=${SPANS_PER_REQUEST:-100}
STATSD_SERIES=${STATSD_SERIES:-200}
LOG_LINES_PER_WRITE=${LOG_LINES_PER_WRITE:-100}
STATSD_LINES_PER_DATAGRAM=${STATSD_LINES_PER_DATAGRAM:-10}
STATSD_BATCH=${STATSD_BATCH:-64}
STATSD_BUFFER=${STATSD_BUFFER:-}
SCRAPE=${SCRAPE:-15}
EXPORT_COMPRESSION=${EXPORT_COMPRESSION:-}
CALLGRIND=${CALLGRIND:-0}
COLLECTOR_CPU=${COLLECTOR_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
for f in "$OUTRIGGER" "$LOADGEN" "$BLASTER"; do
  [[ -x $f ]] || { echo "missing $f (build it first, see bench/README.md)" >&2; exit 1; }
done
command -v strace >/dev/null || STRACE_SECONDS=0

OUT=$HERE/out
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/sidecar.XXXXXX")
RESULTS=${RESULTS:-$OUT/sidecar_results.md}
TCK=$(getconf CLK_TCK)
cp "$OUTRIGGER" "$WORK/outrigger"
PIDS=()
# callgrind's files go outside the config's directory (the collector watches it).
CG_DIR=$(mktemp -d /tmp/outrigger-callgrind.XXXXXX)
cleanup() {
  kill_pids "${PIDS[@]:-}"
  rm -rf "$WORK/outrigger" "$WORK/logs"
  [[ -n ${KEEP_CG:-} ]] || rm -rf "$CG_DIR"
}
trap cleanup EXIT

read -r SINK_PORT HTTP_PORT PROM_PORT METRICS_PORT <<<"$(free_ports 4)"
STATSD_PORT=$(free_udp_port)
# Not beside config.yaml: the collector watches the config's directory for a reload, and
# each write of the log would wake it.
mkdir -p "$WORK/logs"
LOG=$WORK/logs/app.log
: >"$LOG"
TOTAL_SECONDS=$((WARMUP + DURATION + STRACE_SECONDS + 7))
cat >"$WORK/config.yaml" <<EOF
receivers:
  filelog:
    include: [$LOG]
    start_at: end
  statsd:
    endpoint: 127.0.0.1:$STATSD_PORT
    aggregation_interval: 10s
${STATSD_BUFFER:+    socket_buffer_size: $STATSD_BUFFER
}  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$HTTP_PORT
processors:
  batch:
exporters:
  otlp:
    endpoint: 127.0.0.1:$SINK_PORT
    tls:
      insecure: true
$([[ -n $EXPORT_COMPRESSION ]] && echo "    compression: $EXPORT_COMPRESSION")
  prometheus:
    endpoint: 127.0.0.1:$PROM_PORT
service:
  telemetry:
    logs:
      level: warn
    metrics:
      address: 127.0.0.1:$METRICS_PORT
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
    logs:
      receivers: [filelog]
      processors: [batch]
      exporters: [otlp]
    metrics:
      receivers: [statsd]
      exporters: [prometheus]
EOF

taskset -c "$CLIENT_CPU" "$LOADGEN" sink --endpoint "127.0.0.1:$SINK_PORT" --lifetime $((TOTAL_SECONDS + 60)) \
  >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK=$!; PIDS+=("$SINK")
WRAP=()
if ((CALLGRIND)); then
  WRAP=(valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no --dump-instr=no
    "--callgrind-out-file=$CG_DIR/cg.%p")
  STRACE_SECONDS=0
fi
taskset -c "$COLLECTOR_CPU" "${WRAP[@]}" "$WORK/outrigger" --config "$WORK/config.yaml" >"$WORK/collector.log" 2>&1 &
COL=$!; PIDS+=("$COL")
for _ in $(seq 1 600); do
  tcp_listening "$HTTP_PORT" && tcp_listening "$PROM_PORT" && tcp_listening "$SINK_PORT" && break
  kill -0 "$COL" 2>/dev/null || { cat "$WORK/collector.log" >&2; exit 1; }
  sleep 0.1
done
sleep 1

# The load, all on the client CPU, for the whole run.
taskset -c "$CLIENT_CPU" python3 - "$LOG" "$LOG_RATE" "$TOTAL_SECONDS" "$LOG_LINES_PER_WRITE" >"$WORK/writer.out" 2>&1 <<'PY' &
import sys, time, random
path, rate, seconds, per_tick = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
paths = ["/", "/api/v1/orders", "/api/v1/users/42", "/static/app.js", "/healthz"]
start = time.monotonic()
n = 0
with open(path, "a", buffering=1 << 16) as f:
    while time.monotonic() - start < seconds:
        ts = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        for _ in range(per_tick):
            f.write('10.1.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "-" "curl/8.5.0"\n' % (
                random.randrange(256), random.randrange(256), ts, random.choice(paths),
                random.choice((200, 200, 200, 404, 500)), random.randrange(100, 5000)))
        f.flush()
        n += per_tick
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
print("lines", n)
PY
PIDS+=("$!")
taskset -c "$CLIENT_CPU" "$BLASTER" --endpoint "127.0.0.1:$STATSD_PORT" --rate "$STATSD_RATE" \
  --duration "$TOTAL_SECONDS" --series "$STATSD_SERIES" --lines-per-datagram "$STATSD_LINES_PER_DATAGRAM" \
  --batch "$STATSD_BATCH" >"$WORK/blaster.out" 2>"$WORK/blaster.err" &
PIDS+=("$!")
taskset -c "$CLIENT_CPU" "$LOADGEN" send --protocol http --endpoint "127.0.0.1:$HTTP_PORT" --concurrency 1 \
  --duration "$TOTAL_SECONDS" --rate "$SPAN_RATE" --spans-per-request "$SPANS_PER_REQUEST" \
  >"$WORK/loadgen.out" 2>"$WORK/loadgen.err" &
LG=$!; PIDS+=("$LG")
(
  while kill -0 "$COL" 2>/dev/null; do
    curl -s --max-time 2 "http://127.0.0.1:$PROM_PORT/metrics" >/dev/null || true
    sleep "$SCRAPE"
  done
) &
PIDS+=("$!")

((CALLGRIND)) && callgrind_control -i on "$COL" >/dev/null
# Warm-up: files found, first batches sent, and the collector settled: it releases the code
# pages that ran only once (start-up, first connections) 30 s after it starts.
sleep "$WARMUP"
log "phase 1: ${DURATION}s of mixed load (collector pid $COL)"
thread_snapshot "$COL" >"$WORK/threads0"
((CALLGRIND)) && callgrind_control -z "$COL" >/dev/null
c0=$(cpu_ticks "$COL"); t0=$(date +%s.%N)
max_anon=0 max_file=0 max_rss=0
for _ in $(seq 1 "$DURATION"); do
  sleep 1
  a=$(status_kb "$COL" RssAnon); f=$(status_kb "$COL" RssFile); r=$(status_kb "$COL" VmRSS)
  ((a > max_anon)) && max_anon=$a; ((f > max_file)) && max_file=$f; ((r > max_rss)) && max_rss=$r
done
c1=$(cpu_ticks "$COL"); t1=$(date +%s.%N)
thread_snapshot "$COL" >"$WORK/threads1"
((CALLGRIND)) && callgrind_control -d "$COL" >/dev/null
anon=$(status_kb "$COL" RssAnon); file=$(status_kb "$COL" RssFile); rss=$(status_kb "$COL" VmRSS)
hwm=$(status_kb "$COL" VmHWM); threads=$(status_kb "$COL" Threads)
rss_by_file "$COL" 12 >"$WORK/rss_by_file"
cpu_s=$(calc "%.3f" "($c1 - $c0) / $TCK")
wall=$(calc "%.2f" "$t1 - $t0")
pct=$(calc "%.2f" "100 * $cpu_s / $wall")

sys_line="not measured (STRACE_SECONDS=0 or no strace)"
per_req="-"
top=""
if ((STRACE_SECONDS > 0)); then
  log "phase 2: ${STRACE_SECONDS}s with strace -f attached"
  r0=$(self_metric "$METRICS_PORT" outrigger_receiver_accepted_spans_total)
  for t in /proc/"$COL"/task/*; do echo "${t##*/} $(tr ' ' _ <"$t/comm")"; done >"$WORK/tids"
  # In a folder of its own: the collector watches its config's folder, and each write there
  # would wake it.
  mkdir -p "$WORK/trace"
  strace -f -qq -p "$COL" -o "$WORK/trace/strace.raw" &
  ST=$!
  sleep "$STRACE_SECONDS"
  kill -INT "$ST" 2>/dev/null || true
  wait "$ST" 2>/dev/null || true
  r1=$(self_metric "$METRICS_PORT" outrigger_receiver_accepted_spans_total)
  strace_by_thread "$WORK/trace/strace.raw" "$WORK/tids" >"$WORK/strace.txt"
  total=$(awk '$1 == "*" {t += $3} END {print t + 0}' "$WORK/strace.txt")
  sys_line=$(calc "%.0f" "$total / $STRACE_SECONDS")
  reqs=$(calc "%.1f" "($r1 - $r0) / $SPANS_PER_REQUEST")
  per_req=$(awk -v t="$total" -v r="$reqs" 'BEGIN { if (r > 0) printf "%.1f", t / r; else print "-" }')
  top=$(awk '$1 == "*" {print $2, $3}' "$WORK/strace.txt" |
    sort -k2,2nr | head -8 | awk -v s="$STRACE_SECONDS" '{printf "%s %.0f/s, ", $1, $2 / s}')
  by_thread=$(awk -v s="$STRACE_SECONDS" '$1 != "*" {t[$1] += $3; c[$1] = c[$1] sprintf("%s %.1f, ", $2, $3 / s)}
    END {for (k in t) printf "%.1f|%s|%s\n", t[k] / s, k, c[k]}' \
    <(awk '$1 != "*"' "$WORK/strace.txt" | sort -k1,1 -k3,3nr) | sort -t'|' -k1,1nr |
    awk -F'|' '{sub(/, $/, "", $3); printf "| %s | %s | %s |\n", $2, $1, $3}')
fi

spans=$(self_metric "$METRICS_PORT" outrigger_receiver_accepted_spans_total)
logs=$(self_metric "$METRICS_PORT" outrigger_receiver_accepted_log_records_total)
points=$(self_metric "$METRICS_PORT" outrigger_receiver_accepted_metric_points_total)
stop_pid "$LG" 5 || true
stop_pid "$COL" 15
stop_pid "$SINK" 5

{
  echo "# Outrigger sidecar benchmark (mixed load)"
  echo
  echo "- date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty tree)')"
  echo "- machine: $(nproc) vCPU, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- collector pinned to CPU $COLLECTOR_CPU, the load on CPU $CLIENT_CPU"
  echo "- load: $LOG_RATE log lines/s (filelog; $LOG_LINES_PER_WRITE per write), $STATSD_RATE StatsD lines/s over UDP ($STATSD_SERIES series, $STATSD_LINES_PER_DATAGRAM per datagram, $STATSD_BATCH datagrams per sendmmsg, socket_buffer_size ${STATSD_BUFFER:-default}, aggregation_interval 10s),"
  echo "  $SPAN_RATE spans/s over OTLP/HTTP ($SPANS_PER_REQUEST spans per request, 1 connection); exporters: otlp (traces, logs; compression ${EXPORT_COMPRESSION:-gzip}) to a sink, prometheus (scraped every ${SCRAPE}s)"
  echo
  echo "| phase-1 s | CPU s | % of a core | RSS MiB (anon / file) | peak in run: anon / file | VmHWM MiB | threads | syscalls/s | syscalls per OTLP request (all threads) | accepted spans / log records / metric points |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  echo "| $wall | $cpu_s | $pct | $(calc "%.1f" "$rss / 1024") ($(calc "%.1f" "$anon / 1024") / $(calc "%.1f" "$file / 1024")) | $(calc "%.1f" "$max_anon / 1024") / $(calc "%.1f" "$max_file / 1024") | $(calc "%.1f" "$hwm / 1024") | $threads | $sys_line | $per_req | $spans / $logs / $points |"
  echo
  echo "CPU by thread in phase 1 (/proc/PID/task/*/schedstat, in ns; context switches; threads that ended before its end are not shown):"
  echo
  echo "| thread | CPU ms per s | context switches per s |"
  echo "|---|---|---|"
  thread_rows "" "$WORK/threads0" "$WORK/threads1" "$wall" 0 | cut -d'|' -f1-4 | sed 's/$/|/'
  echo
  if ((CALLGRIND)); then
    echo "Instructions by thread in phase 1 (callgrind; the CPU and RSS figures above are valgrind's):"
    echo
    echo "| thread | instructions per second |"
    echo "|---|---|"
    callgrind_threads "$CG_DIR"/cg.*.1-* | awk -v w="$wall" '{printf "%.0f %s\n", $2 / w, $1; t += $2} END {printf "%.0f all threads\n", t / w}' |
      while read -r n name; do echo "| $name | $(fmt "$n") |"; done
    echo
  fi
  echo "RSS by mapped file at the end of phase 1 (/proc/PID/smaps; a file's anonymous pages are its relocated or written ones):"
  echo
  echo "| mapping | RSS KiB | of which anonymous |"
  echo "|---|---|---|"
  awk '{printf "| %s | %s | %s |\n", $1, $2, $3}' "$WORK/rss_by_file"
  echo
  if [[ -n $top ]]; then
    echo "Top syscalls (phase 2, strace -f): ${top%, }"
    echo
    echo "Syscalls by thread (phase 2, strace -f):"
    echo
    echo "| thread | syscalls per s | by syscall, per s |"
    echo "|---|---|---|"
    echo "$by_thread"
    echo
  fi
  echo "Goals (issue 12): <= 1% of a core and <= 16 MiB RSS. Raw files: ${WORK#"$ROOT"/}"
} >"$RESULTS"
cat "$RESULTS"
