#!/usr/bin/env bash
# Issue 12, the sidecar tax: the threads of an idle collector (ARCHITECTURE.md, Threads).
# With the embedded default config an idle process holds its main thread and the event
# loop (which also runs the config watcher): no OTLP/HTTP worker, no gRPC server or gRPC library thread
# (both start with the first request or connection). After an OTLP/HTTP request, the
# threads it started (an HTTP worker, the batch processor's sender) leave again.
# With filelog + StatsD + OTLP -> otlp exporter: one more, the filelog receiver's.
set -u
BIN=${1:?usage: idle_threads_test.sh path/to/outrigger}
. "$(dirname "$0")/shell_test_lib.sh"
threads() { ls "/proc/$PID/task" | wc -l; }
names() { cat /proc/"$PID"/task/*/comm | sort | tr '\n' ' '; }
listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q LISTEN; }
start() {  # config; waits until its OTLP/HTTP port listens
  "$BIN" --config "$1" >"$DIR/log" 2>&1 &
  PID=$!
  wait_for "listening $HP" 20 || { echo "collector did not start"; cat "$DIR/log"; exit 1; }
}
stop() { kill -TERM "$PID"; wait "$PID"; PID=""; }

GP=$(free_port); HP=$(free_port); MP=$(free_port); HC=$(free_port); SP=$(free_port); SINK=$(free_port)
"$BIN" print-default-config | sed -e "s/127.0.0.1:4317/127.0.0.1:$GP/; s/127.0.0.1:4318/127.0.0.1:$HP/" \
  -e "s/127.0.0.1:8888/127.0.0.1:$MP/; s/127.0.0.1:13133/127.0.0.1:$HC/; s/127.0.0.1:8125/127.0.0.1:$SP/" \
  >"$DIR/default.yaml"

start "$DIR/default.yaml"
check "default config idle: 2 threads" 'wait_for "[ \$(threads) -eq 2 ]" 10 || { echo "got $(threads): $(names)"; false; }'
check "they are the main thread and the event loop" '[ "$(names)" = "event-loop outrigger " ] || { echo "got $(names)"; false; }'
check "no gRPC thread before a gRPC client" '! names | grep -Eq "grpc|executo|event_engine|timer_manager"'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}' \
  "http://127.0.0.1:$HP/v1/traces")
check "OTLP/HTTP request accepted" '[ "$code" = 200 ]'
# The HTTP worker and the batch sender leave 2 s after their last work.
check "back to 2 threads after the request" 'wait_for "[ \$(threads) -eq 2 ]" 20 || { echo "got $(threads): $(names)"; false; }'
check "still no gRPC thread" '! names | grep -Eq "grpc|executo|event_engine|timer_manager"'
stop

: >"$DIR/app.log"
cat >"$DIR/tail.yaml" <<YAML
receivers:
  filelog:
    include: [$DIR/app.log]
  statsd:
    endpoint: 127.0.0.1:$SP
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$GP"}
      http: {endpoint: "127.0.0.1:$HP"}
processors:
  batch:
exporters:
  otlp:
    endpoint: 127.0.0.1:$SINK
    tls: {insecure: true}
service:
  telemetry:
    metrics: {address: "127.0.0.1:$MP"}
  pipelines:
    logs: {receivers: [filelog, otlp], processors: [batch], exporters: [otlp]}
    metrics: {receivers: [statsd, otlp], processors: [batch], exporters: [otlp]}
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}
YAML
start "$DIR/tail.yaml"
check "filelog + StatsD + OTLP idle: 3 threads" 'wait_for "[ \$(threads) -eq 3 ]" 10 || { echo "got $(threads): $(names)"; false; }'
check "no gRPC thread before the otlp exporter sends" '! names | grep -Eq "grpc|executo|event_engine|timer_manager"'
stop

echo "idle threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
