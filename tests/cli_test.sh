#!/usr/bin/env bash
# The command line and process lifecycle of the real binary: version, help,
# components, validate (every error listed), SIGHUP reload (valid and invalid),
# SIGTERM with exit code 0.
set -u
BIN=${1:?usage: cli_test.sh path/to/outrigger}
. "$(dirname "$0")/shell_test_lib.sh"

check "--version" '"$BIN" --version | grep -q "^outrigger [0-9]"'
check "--help" '"$BIN" --help | grep -q "validate"'
check "components lists otlp receiver" '"$BIN" components | sed -n "/^receivers:/,/^processors:/p" | grep -q "^  otlp "'
check "components lists exporters" '"$BIN" components | grep -q "otlphttp"'
check "unknown argument exits 2" '"$BIN" --bogus >/dev/null 2>&1; [ $? -eq 2 ]'

cat > "$DIR/bad.yaml" <<'YAML'
receivers:
  otlp:
    protocols:
      grpc:
        endpint: 127.0.0.1:4317
exporters:
  debug:
    verbosity: loud
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug, missing]
YAML
out=$("$BIN" validate --config "$DIR/bad.yaml" 2>&1); rc=$?
check "validate bad config exits 1" '[ $rc -eq 1 ]'
check "validate lists the typo with line and suggestion" 'grep -q "receivers.otlp.protocols.grpc.endpint (line 5): unknown key; did you mean '"'"'endpoint'"'"'" <<<"$out"'
check "validate lists the bad enum" 'grep -q "verbosity (line 8).*not one of: basic, normal, detailed" <<<"$out"'
check "validate lists the missing exporter" 'grep -q "references exporter \"missing\" which is not configured" <<<"$out"'
check "validate missing file" '"$BIN" validate --config "$DIR/nope.yaml" 2>&1 | grep -q "cannot read config file"'

HP=$(free_port); MP=$(free_port); HC=$(free_port)
export OUTRIGGER_TEST_HTTP_PORT=$HP
cat > "$DIR/run.yaml" <<YAML
extensions:
  health_check:
    endpoint: 127.0.0.1:$HC
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:\${env:OUTRIGGER_TEST_HTTP_PORT}
exporters:
  file:
    path: $DIR/out.jsonl
service:
  extensions: [health_check]
  telemetry:
    metrics:
      address: 127.0.0.1:$MP
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
YAML
"$BIN" --config "$DIR/run.yaml" >"$DIR/log" 2>&1 &
PID=$!
check "becomes ready" 'wait_for "curl -sf http://127.0.0.1:$HC/ >/dev/null" 20'
check "liveness" 'curl -sf http://127.0.0.1:$HC/live | grep -q alive'
span='{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"NAME"}]}]}]}'
check "accepts a span" 'curl -sf -X POST -H "Content-Type: application/json" -d "${span/NAME/first}" http://127.0.0.1:$HP/v1/traces >/dev/null'
check "own metrics" 'curl -sf http://127.0.0.1:$MP/metrics | grep -q "outrigger_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"http\"} 1"'

# Reload to a config that writes elsewhere: takes effect.
sed "s#$DIR/out.jsonl#$DIR/out2.jsonl#" "$DIR/run.yaml" > "$DIR/run.yaml.new" && mv "$DIR/run.yaml.new" "$DIR/run.yaml"
kill -HUP $PID
check "reload applied" 'wait_for "grep -q \"configuration reloaded\" $DIR/log" 20'
check "ready after reload" 'wait_for "curl -sf http://127.0.0.1:$HC/ >/dev/null" 20'
check "serves after reload" 'curl -sf -X POST -H "Content-Type: application/json" -d "${span/NAME/second}" http://127.0.0.1:$HP/v1/traces >/dev/null'
check "new file used" 'grep -q second "$DIR/out2.jsonl"'
# Reload to an invalid config: refused, the old one keeps running.
echo "receivers: {otlp: {protocols: {http: {endpoint: nonsense}}}}" > "$DIR/run.yaml"
kill -HUP $PID
check "invalid reload refused" 'wait_for "grep -q \"reload refused\" $DIR/log" 20'
check "still serving after refused reload" 'curl -sf -X POST -H "Content-Type: application/json" -d "${span/NAME/third}" http://127.0.0.1:$HP/v1/traces >/dev/null'
check "old pipeline still writes" 'grep -q third "$DIR/out2.jsonl"'
kill -TERM $PID
wait $PID; rc=$?
PID=""
check "SIGTERM exits 0" '[ $rc -eq 0 ]'
check "first span kept" 'grep -q first "$DIR/out.jsonl"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
