#!/usr/bin/env bash
# The memory_limiter under overload (tests/memory_limiter/overload.py with bigger
# settings): OTLP/HTTP -> memory_limiter -> otlp exporter whose backend is down, the load
# generator sending as fast as it is answered, then the backend comes up and drains.
# Prints and writes bench/out/memlimit_results.md: peak RSS against the limit, 429s,
# accepted throughput, and accepted vs delivered spans.
#
#   bench/run_memlimit_bench.sh                      # limits 64, 128, 256 MiB; 10x; HTTP and gRPC
#   LIMITS="128" OVERLOAD=20 CONCURRENCY=32 bench/run_memlimit_bench.sh
#   OUTRIGGER=build/outrigger LOADGEN=build/bench/otlp_loadgen bench/run_memlimit_bench.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUTRIGGER="${OUTRIGGER:-$ROOT/build/outrigger}"
LOADGEN="${LOADGEN:-$ROOT/build/bench/otlp_loadgen}"
LIMITS="${LIMITS:-64 128 256}"
OVERLOAD="${OVERLOAD:-10}"
CONCURRENCY="${CONCURRENCY:-8}"
SPANS="${SPANS:-400}"
PROTOCOLS="${PROTOCOLS:-http grpc}"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
md="$OUT/memlimit_results.md"
{
  echo "| protocol | limit MiB | soft MiB | idle RSS MiB | peak RSS MiB | offered MiB | overload | 200 | 429 | other | accepted MiB/s | accepted spans | delivered spans | drain s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$md"
status=0
for protocol in $PROTOCOLS; do for limit in $LIMITS; do
  spike=$((limit / 4))
  line=$(python3 "$ROOT/tests/memory_limiter/overload.py" "$OUTRIGGER" "$LOADGEN" --limit-mib "$limit" \
    --spike-mib "$spike" --overload "$OVERLOAD" --concurrency "$CONCURRENCY" --spans-per-request "$SPANS" \
    --protocol "$protocol" --max-seconds 120 | grep '^RESULT') || status=1
  echo "$line"
  g() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
  echo "| $protocol | $limit | $(g soft_mib) | $(g idle_rss_mib) | $(g peak_rss_mib) | $(g offered_mib) | $(g overload) | $(g ok) | $(g http_429) | $(g other) | $(g accepted_mib_per_s) | $(g accepted_spans) | $(g received_spans) | $(g drain_s) |" >>"$md"
done; done
cat "$md"
exit $status
