// The probabilistic sampler's per-span cost (processors/probabilistic_sampler): one
// ConsumeTraces of 100 or 1,000 spans (the argument; 8 string attributes each, random
// trace ids, on a protobuf arena as a receiver decodes them) per iteration, in each mode,
// with and without an arriving tracestate, and at 100% (every span gets `ot=th:0`). The
// batch is rebuilt outside the measured time; what is measured is the decision, the
// removal of dropped spans and the tracestate writes, in this thread's CPU time (manual
// time): ns per span = 1e9 / items_per_second. 100 spans (~120 KB) stay in the L2 cache
// after the untimed copy; 1,000 (~1.2 MB) mostly do not, which on a shared machine is
// what reading a freshly decoded request costs. bench/README.md: how to count
// instructions per span with perf.

#include <benchmark/benchmark.h>

#include <time.h>

#include <random>
#include <string>

#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "processors/probabilistic_sampler/probabilistic_sampler.h"
#include "spdlog/spdlog.h"

namespace {

using namespace outrigger;                                     // NOLINT
using namespace outrigger::processors::probabilistic_sampler;  // NOLINT
namespace ctpb = opentelemetry::proto::collector::trace::v1;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class Drop : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    kept += d.ItemCount();
    return absl::OkStatus();
  }
  absl::Status ConsumeMetrics(pdata::Metrics&&) override { return absl::OkStatus(); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    kept += d.ItemCount();
    return absl::OkStatus();
  }
  size_t kept = 0;
};

ctpb::ExportTraceServiceRequest Batch(const std::string& tracestate, int spans) {
  ctpb::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* svc = rs->mutable_resource()->add_attributes();
  svc->set_key("service.name");
  svc->mutable_value()->set_string_value("auth-service");
  auto* ss = rs->add_scope_spans();
  std::mt19937_64 rng(1);
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    std::string tid(16, '\0'), sid(8, '\0');
    for (char& c : tid) c = static_cast<char>(rng());
    for (char& c : sid) c = static_cast<char>(rng());
    s->set_trace_id(tid);
    s->set_span_id(sid);
    s->set_name(i % 2 == 0 ? "login" : "logout");
    s->set_trace_state(tracestate);
    for (const char* k : {"http.method", "http.route", "http.status_code", "net.peer.ip", "user.id", "user.email",
                          "deployment.env", "thread.name"}) {
      auto* kv = s->add_attributes();
      kv->set_key(k);
      kv->mutable_value()->set_string_value(std::string(k) + "-value-" + std::to_string(i));
    }
  }
  return req;
}

void Run(benchmark::State& state, Config cfg, const std::string& tracestate) {
  Telemetry telemetry;
  auto logger = std::make_shared<spdlog::logger>("bench");  // no sinks: silent
  CreateSettings settings{ComponentId{"probabilistic_sampler", ""}, Kind::kProcessor, &telemetry, logger};
  Drop drop;
  auto p = NewProbabilisticSampler(settings, cfg, Signal::kTraces, &drop);
  const int spans = static_cast<int>(state.range(0));
  const ctpb::ExportTraceServiceRequest src = Batch(tracestate, spans);
  pdata::Traces d;
  for (auto _ : state) {
    d = pdata::Traces();  // the previous batch is freed outside the measured time
    ctpb::ExportTraceServiceRequest* req;
    d = pdata::Traces::New(&req);
    req->CopyFrom(src);
    // Manual time: this thread's CPU time around the call only (the machine is shared;
    // PauseTiming's own cost would dominate a 1,000-span call).
    double t0 = ThreadCpuSeconds();
    // Drop leaves the batch in `d`: only the sampling is measured.
    benchmark::DoNotOptimize(p->ConsumeTraces(std::move(d)));
    state.SetIterationTime(ThreadCpuSeconds() - t0);
  }
  state.SetItemsProcessed(state.iterations() * spans);
  // items/s is over the manual (CPU) time: ns/span = 1e9 / items_per_second.
  state.counters["kept"] = static_cast<double>(drop.kept) / static_cast<double>(state.iterations() * spans);
}

Config Cfg(Mode mode, float pct) {
  Config c;
  c.mode = mode;
  c.sampling_percentage = pct;
  return c;
}

void BM_HashSeed10(benchmark::State& s) { Run(s, Cfg(Mode::kHashSeed, 10), ""); }
void BM_Proportional10(benchmark::State& s) { Run(s, Cfg(Mode::kProportional, 10), ""); }
void BM_Equalizing10(benchmark::State& s) { Run(s, Cfg(Mode::kEqualizing, 10), ""); }
void BM_Proportional10_ArrivingTh(benchmark::State& s) { Run(s, Cfg(Mode::kProportional, 10), "ot=th:8,vendor=x"); }
void BM_Proportional100(benchmark::State& s) { Run(s, Cfg(Mode::kProportional, 100), ""); }
void BM_HashSeed100(benchmark::State& s) { Run(s, Cfg(Mode::kHashSeed, 100), ""); }

BENCHMARK(BM_HashSeed10)->UseManualTime()->Arg(100)->Arg(1000);
BENCHMARK(BM_Proportional10)->UseManualTime()->Arg(100)->Arg(1000);
BENCHMARK(BM_Equalizing10)->UseManualTime()->Arg(100)->Arg(1000);
BENCHMARK(BM_Proportional10_ArrivingTh)->UseManualTime()->Arg(100)->Arg(1000);
BENCHMARK(BM_Proportional100)->UseManualTime()->Arg(100)->Arg(1000);
BENCHMARK(BM_HashSeed100)->UseManualTime()->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
