// The span_metrics connector (connectors/span_metrics) on its hot path: Aggregate on 1,000
// server spans of 8 attributes per iteration (one resource, as an SDK batch arrives),
// with the 4 default dimensions only and with 5 configured dimensions (4 found on the
// span, 1 from the resource), explicit and exponential histograms; and a flush of the
// series that makes. Counters: ns per span (from items/s), heap allocations per span.
// Goal (issue 10): ≤ 150 ns per span with 5 dimensions.

#include <benchmark/benchmark.h>

#include <string>

#include "bench/alloc_counter.h"

#include "collector/telemetry/telemetry.h"
#include "connectors/span_metrics/span_metrics_connector.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "spdlog/spdlog.h"

namespace {

using namespace outrigger;  // NOLINT
using connectors::span_metrics::Config;
using connectors::span_metrics::Dimension;
using connectors::span_metrics::SpanMetricsConnector;
namespace ctpb = opentelemetry::proto::collector::trace::v1;
namespace tpb = opentelemetry::proto::trace::v1;

constexpr int kSpans = 1000;

void Put(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* a, const std::string& k,
         const std::string& v) {
  auto* kv = a->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

pdata::Traces MakeTraces() {
  ctpb::ExportTraceServiceRequest* req;
  auto d = pdata::Traces::New(&req);
  auto* rs = req->add_resource_spans();
  Put(rs->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  Put(rs->mutable_resource()->mutable_attributes(), "service.instance.id", "checkout-7d9f-abcde");
  Put(rs->mutable_resource()->mutable_attributes(), "k8s.namespace.name", "shop");
  Put(rs->mutable_resource()->mutable_attributes(), "telemetry.sdk.language", "nodejs");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("@opentelemetry/instrumentation-http");
  const char* routes[] = {"/api/orders/{id}", "/api/cart", "/api/checkout", "/health", "/api/users/{id}"};
  for (int i = 0; i < kSpans; ++i) {
    auto* s = ss->add_spans();
    s->set_name(i % 2 ? "GET /api/orders" : "POST /api/cart");
    s->set_kind(tpb::Span::SPAN_KIND_SERVER);
    s->mutable_status()->set_code(i % 13 == 0 ? tpb::Status::STATUS_CODE_ERROR : tpb::Status::STATUS_CODE_UNSET);
    s->set_trace_id(std::string(16, static_cast<char>(i % 251 + 1)));
    s->set_span_id(std::string(8, static_cast<char>(i % 251 + 1)));
    s->set_start_time_unix_nano(1'700'000'000'000'000'000ull);
    s->set_end_time_unix_nano(1'700'000'000'000'000'000ull + static_cast<uint64_t>(i % 97) * 1'300'000);
    auto* a = s->mutable_attributes();
    Put(a, "http.method", i % 2 ? "GET" : "POST");
    Put(a, "http.route", routes[i % 5]);
    auto* code = a->Add();
    code->set_key("http.status_code");
    code->mutable_value()->set_int_value(i % 13 == 0 ? 503 : 200);
    Put(a, "net.peer.name", "db.internal.example.com");
    Put(a, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
    Put(a, "thread.name", "worker-7");
    Put(a, "component", "http");
    Put(a, "net.host.port", "8080");
  }
  return d;
}

Config MakeConfig(bool five_dims, bool exponential) {
  Config cfg;
  if (five_dims) {
    for (const char* n : {"http.method", "http.route", "http.status_code", "component", "k8s.namespace.name"}) {
      cfg.dimensions.push_back(Dimension{n, std::nullopt, ""});
    }
  }
  cfg.histogram.exponential = exponential;
  return cfg;
}

void Run(benchmark::State& state, const Config& cfg) {
  Telemetry telemetry;
  CreateSettings settings{*ComponentId::Parse("span_metrics"), Kind::kConnector, &telemetry,
                          spdlog::default_logger()->clone("span_metrics")};
  SpanMetricsConnector c(settings, cfg, nullptr);
  pdata::Traces d = MakeTraces();
  uint64_t now = 1'700'000'000'000'000'000ull;
  c.Aggregate(d, now);  // warm up: the series exist, as in a steady state
  uint64_t before = bench::g_allocs.load();
  for (auto _ : state) {
    c.Aggregate(d, ++now);
  }
  state.SetItemsProcessed(state.iterations() * kSpans);
  state.counters["allocs_per_span"] =
      static_cast<double>(bench::g_allocs.load() - before) / static_cast<double>(state.iterations() * kSpans);
  state.counters["series"] = static_cast<double>(c.SeriesCount());
}

void BM_AggregateDefaultDimensions(benchmark::State& state) { Run(state, MakeConfig(false, false)); }
BENCHMARK(BM_AggregateDefaultDimensions);

void BM_AggregateFiveDimensions(benchmark::State& state) { Run(state, MakeConfig(true, false)); }
BENCHMARK(BM_AggregateFiveDimensions);

void BM_AggregateFiveDimensionsExponential(benchmark::State& state) { Run(state, MakeConfig(true, true)); }
BENCHMARK(BM_AggregateFiveDimensionsExponential);

void BM_AggregateFiveDimensionsExemplars(benchmark::State& state) {
  Config cfg = MakeConfig(true, false);
  cfg.exemplars.enabled = true;
  cfg.exemplars.max_per_data_point = 10;
  Run(state, cfg);
}
BENCHMARK(BM_AggregateFiveDimensionsExemplars);

// Building the Metrics of the series 1,000 spans make (cumulative, 5 dimensions).
class Discard : public Consumer {
 public:
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    points += d.ItemCount();
    return absl::OkStatus();
  }
  size_t points = 0;
};

void BM_Flush(benchmark::State& state) {
  Telemetry telemetry;
  CreateSettings settings{*ComponentId::Parse("span_metrics"), Kind::kConnector, &telemetry,
                          spdlog::default_logger()->clone("span_metrics")};
  Discard out;
  SpanMetricsConnector c(settings, MakeConfig(true, false), &out);
  c.Aggregate(MakeTraces(), 1);
  uint64_t now = 2;
  for (auto _ : state) {
    (void)c.Flush(++now);
  }
  state.counters["series"] = static_cast<double>(c.SeriesCount());
  state.counters["points_per_flush"] = static_cast<double>(out.points) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Flush);

}  // namespace

BENCHMARK_MAIN();
