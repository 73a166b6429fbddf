// The loadbalancing exporter's routing (issue 10 goal: >= 1,000,000 spans per CPU-second,
// no decode beyond the trace ids): a received request (pdata as the OTLP receiver makes
// it, bytes kept undecoded) split by trace id over a ring of N gateways into one pdata
// request per gateway — what LoadBalancingExporter::Route does before it enqueues.
// Requests of 100 spans (~250 bytes each) from bench/otlp_payload.h. Items/s = spans/s.
#include <benchmark/benchmark.h>

#include "bench/otlp_payload.h"
#include "collector/pdata/pdata.h"
#include "exporters/loadbalancing/ring.h"
#include "exporters/loadbalancing/split.h"

namespace outrigger::exporters::loadbalancing {
namespace {

HashRing Ring(int n) {
  std::vector<std::string> eps;
  for (int i = 0; i < n; ++i) eps.push_back("10.0.0." + std::to_string(i + 1) + ":4317");
  return HashRing(eps);
}

void BM_SplitByTraceId(benchmark::State& state) {
  bench::PayloadOptions opt;
  opt.spans_per_request = static_cast<size_t>(state.range(1));
  auto reqs = bench::MakeTraceRequests(opt, 64);
  std::vector<pdata::Traces> in;
  for (auto& r : reqs) in.push_back(*pdata::Traces::FromProto(r));
  HashRing ring = Ring(static_cast<int>(state.range(0)));
  std::vector<pdata::Traces> out;
  size_t i = 0, spans = 0;
  for (auto _ : state) {
    const auto& d = in[i++ % in.size()];
    auto st = Split(Signal::kTraces, d, RoutingKey::kTraceId, ring, &out);
    if (!st.ok()) state.SkipWithError("split failed");
    for (const auto& p : out) spans += p.ItemCount();
  }
  state.SetItemsProcessed(static_cast<int64_t>(spans));
}
BENCHMARK(BM_SplitByTraceId)->Args({3, 100})->Args({10, 100})->Args({3, 1000})->Args({1, 100});

void BM_SplitByService(benchmark::State& state) {
  bench::PayloadOptions opt;
  auto reqs = bench::MakeTraceRequests(opt, 64);
  std::vector<pdata::Traces> in;
  for (auto& r : reqs) in.push_back(*pdata::Traces::FromProto(r));
  HashRing ring = Ring(3);
  std::vector<pdata::Traces> out;
  size_t i = 0, spans = 0;
  for (auto _ : state) {
    (void)Split(Signal::kTraces, in[i++ % in.size()], RoutingKey::kService, ring, &out);
    for (const auto& p : out) spans += p.ItemCount();
  }
  state.SetItemsProcessed(static_cast<int64_t>(spans));
}
BENCHMARK(BM_SplitByService);

void BM_RingLookup(benchmark::State& state) {
  HashRing ring = Ring(3);
  std::string key(16, 'k');
  uint64_t n = 0;
  for (auto _ : state) {
    key[0] = static_cast<char>(n);
    key[1] = static_cast<char>(n >> 8);
    benchmark::DoNotOptimize(ring.IndexFor(key));
    ++n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_RingLookup);

}  // namespace
}  // namespace outrigger::exporters::loadbalancing

BENCHMARK_MAIN();
