// Tail sampling (processors/tail_sampling) in steady state: 10,000 traces in flight, each
// of 10 spans that arrive in 10 different requests of 100 spans (every span of a request
// belongs to another trace, as from a fleet of services). num_traces is 10,000, so each
// new trace has the oldest decided (its 10 spans have all arrived by then): ingest,
// policy folding, decisions and forwarding all run in the benchmark's thread, which is
// what the CPU time measures. Policies: a drop on /health, errors, latency ≥ 5 s,
// a regex on http.route and 10% probabilistic. The next consumer discards.
//
// Counters: spans/s is items_per_second (CPU time, one core). BM_TailSamplingMemory:
// held_MiB is what the processor holds (its bytes_held gauge: the encoded ResourceSpans
// of each arrival, buffer slack and per-trace overhead included); span_MiB the encoded
// spans alone; rss_over_* the process RSS growth from before the processor was created
// to the steady state, over those.
// Goals (issue 10): ≥ 500,000 spans per CPU-second; RSS ≤ 1.5× the bytes held.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "collector/component/component.h"
#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "processors/tail_sampling/tail_sampling_processor.h"
#include "spdlog/spdlog.h"

namespace {

using namespace outrigger;                             // NOLINT
using namespace outrigger::processors::tail_sampling;  // NOLINT
namespace ctpb = opentelemetry::proto::collector::trace::v1;
namespace tpb = opentelemetry::proto::trace::v1;
namespace cpb = opentelemetry::proto::common::v1;

constexpr int kSpansPerTrace = 10;
constexpr int kInFlight = 10000;
constexpr int kStride = kInFlight / kSpansPerTrace + 1;  // slots between a trace's spans
constexpr int kSlotsPerRequest = 10;                     // 10 slots × 10 spans = 100 spans

class Discard : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    spans += d.ItemCount();
    return absl::OkStatus();
  }
  size_t spans = 0;
};

size_t RssBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void Str(google::protobuf::RepeatedPtrField<cpb::KeyValue>* a, const char* k, const std::string& v) {
  auto* kv = a->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// The request of slots [first, first + kSlotsPerRequest): slot s carries span j of trace
// s - j·kStride, so a trace's spans come kStride slots apart.
std::string Request(int64_t first, size_t* span_bytes) {
  ctpb::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* ra = rs->mutable_resource()->mutable_attributes();
  Str(ra, "service.name", "checkout");
  Str(ra, "service.version", "1.42.0");
  Str(ra, "host.name", "checkout-7d9f8c6b5-x2x9z");
  Str(ra, "k8s.namespace.name", "shop");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.http");
  for (int64_t s = first; s < first + kSlotsPerRequest; ++s) {
    for (int j = 0; j < kSpansPerTrace; ++j) {
      const int64_t t = s - static_cast<int64_t>(j) * kStride;
      if (t < 0) continue;
      tpb::Span* span = ss->add_spans();
      std::string id(16, '\0');
      for (int b = 0; b < 8; ++b) id[static_cast<size_t>(8 + b)] = static_cast<char>(t >> (8 * b));
      id[0] = 0x5a;
      span->set_trace_id(id);
      span->set_span_id(std::string(7, '\2') + static_cast<char>(j + 1));
      if (j != 0) span->set_parent_span_id(std::string(7, '\2') + '\1');
      span->set_name(j % 2 ? "GET /api/orders/{id}" : "SELECT orders");
      span->set_kind(tpb::Span::SPAN_KIND_SERVER);
      span->set_start_time_unix_nano(1'700'000'000'000'000'000ull + static_cast<uint64_t>(t) * 1000);
      span->set_end_time_unix_nano(span->start_time_unix_nano() + 3'000'000);
      auto* a = span->mutable_attributes();
      Str(a, "http.method", "GET");
      Str(a, "http.route", t % 50 == 0 ? "/health" : "/api/orders/{id}");
      Str(a, "net.peer.name", "db.internal.example.com");
      Str(a, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
      auto* code = a->Add();
      code->set_key("http.status_code");
      code->mutable_value()->set_int_value(t % 97 == 0 ? 500 : 200);
      if (t % 97 == 0) span->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
      *span_bytes += span->ByteSizeLong();
    }
  }
  return req.SerializeAsString();
}

PolicyCfg Policy(const std::string& name, const std::string& type) {
  PolicyCfg p;
  p.name = name;
  p.type = type;
  return p;
}

// A processor with the policies above, fed until 10,000 traces are in flight.
struct Bench {
  Telemetry telemetry;
  Discard out;
  std::unique_ptr<Processor> proc;
  int64_t slot = 0;
  size_t span_bytes = 0, spans = 0;
  std::vector<std::string> block;

  bool Init() {
    spdlog::set_level(spdlog::level::warn);
    Config cfg;
    cfg.decision_wait = absl::Hours(1);  // decided by num_traces, in this thread
    cfg.num_traces = kInFlight;
    cfg.max_memory_mib = 1024;
    cfg.sampled_cache_size = 0;  // trace ids come back when the slots wrap around
    cfg.non_sampled_cache_size = 0;
    PolicyCfg health = Policy("health", "string_attribute");
    health.key = "http.route";
    health.values = {"/health"};
    PolicyCfg drop = Policy("no-health", "drop");
    drop.sub = {health};
    PolicyCfg errors = Policy("errors", "status_code");
    errors.status_codes = {"ERROR"};
    PolicyCfg slow = Policy("slow", "latency");
    slow.threshold_ms = 5000;
    PolicyCfg route = Policy("orders", "string_attribute");
    route.key = "http.route";
    route.values = {"^/api/admin/.*"};
    route.enabled_regex_matching = true;
    PolicyCfg ten = Policy("ten-percent", "probabilistic");
    ten.sampling_percentage = 10;
    cfg.policies = {drop, errors, slow, route, ten};
    CreateSettings settings{ComponentId{"tail_sampling", ""}, Kind::kProcessor, &telemetry,
                            spdlog::default_logger()->clone("tail_sampling")};
    auto p = NewTailSamplingProcessor(settings, cfg, &out);
    if (!p.ok()) return false;
    proc = std::move(*p);
    // Warm up to the steady state: 10,000 traces in flight, the oldest decided.
    while (slot < 3 * static_cast<int64_t>(kStride) * kSpansPerTrace) Feed();
    span_bytes = 0;
    spans = 0;
    return true;
  }
  // The requests are made in blocks (outside the timed region).
  static constexpr int kBlock = 200;
  void MakeBlock() {
    block.clear();
    for (int i = 0; i < kBlock; ++i) {
      block.push_back(Request(slot, &span_bytes));
      slot += kSlotsPerRequest;
    }
  }
  void Consume() {
    for (auto& b : block) {
      auto d = pdata::Traces::FromProto(std::move(b));
      spans += d->ItemCount();
      benchmark::DoNotOptimize(proc->ConsumeTraces(std::move(*d)));
    }
  }
  void Feed() {
    MakeBlock();
    Consume();
  }
  double Held() {
    return telemetry.Value("outrigger_processor_tail_sampling_bytes_held", {{"processor", "tail_sampling"}});
  }
  double InFlight() {
    return telemetry.Value("outrigger_processor_tail_sampling_traces_held", {{"processor", "tail_sampling"}});
  }
};

// Memory: RSS growth from before the processor exists to the steady state (run first,
// so no earlier benchmark's freed memory hides the growth).
void BM_TailSamplingMemory(benchmark::State& state) {
  malloc_trim(0);
  const size_t rss_before = RssBytes();
  Bench b;
  if (!b.Init()) {
    state.SkipWithError("bad config");
    return;
  }
  for (auto _ : state) b.Feed();  // keeps the steady state
  b.block.clear();
  b.block.shrink_to_fit();
  const double held = b.Held();
  const double rss = static_cast<double>(RssBytes()) - static_cast<double>(rss_before);
  // Encoded spans alone: the average span of the last block times the spans in flight.
  const double span_bytes =
      b.spans > 0 ? static_cast<double>(b.span_bytes) / static_cast<double>(b.spans) * b.InFlight() * kSpansPerTrace
                  : 0;
  state.counters["traces_in_flight"] = b.InFlight();
  state.counters["held_MiB"] = held / (1 << 20);
  state.counters["span_MiB"] = span_bytes / (1 << 20);
  state.counters["rss_growth_MiB"] = rss / (1 << 20);
  state.counters["rss_over_held"] = held > 0 ? rss / held : 0;
  state.counters["rss_over_spans"] = span_bytes > 0 ? rss / span_bytes : 0;
  (void)b.proc->Shutdown(absl::Now() + absl::Seconds(5));
}
BENCHMARK(BM_TailSamplingMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

// Throughput: spans per CPU-second in the steady state.
void BM_TailSampling(benchmark::State& state) {
  Bench b;
  if (!b.Init()) {
    state.SkipWithError("bad config");
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    b.MakeBlock();
    state.ResumeTiming();
    b.Consume();
  }
  state.SetItemsProcessed(static_cast<int64_t>(b.spans));
  state.counters["traces_in_flight"] = b.InFlight();
  state.counters["forwarded"] = static_cast<double>(b.out.spans);
  (void)b.proc->Shutdown(absl::Now() + absl::Seconds(5));
}
BENCHMARK(BM_TailSampling)->Unit(benchmark::kMillisecond)->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
