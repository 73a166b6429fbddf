// The elasticsearch exporter's encoder: N OTLP log records (or spans, or metric data
// points) to the NDJSON body of a _bulk request, per mapping mode (otel, ecs, none), with
// and without content-hash _ids. Figures: bytes_per_second is NDJSON produced;
// items_per_second is records (data points for metrics).
//   build-rw/bench/elasticsearch_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <numeric>
#include <string>

#include "exporters/elasticsearch/encoder.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace {

using outrigger::exporters::elasticsearch::Config;
using outrigger::exporters::elasticsearch::EncodedBatch;
using outrigger::exporters::elasticsearch::Encoder;
namespace lpb = opentelemetry::proto::collector::logs::v1;
namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace cpb = opentelemetry::proto::common::v1;

void Str(cpb::KeyValue* kv, const std::string& k, const std::string& v) {
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// A typical application log: ~130-byte message, 5 attributes, a Kubernetes resource.
outrigger::pdata::Logs MakeLogs(int n) {
  lpb::ExportLogsServiceRequest* req;
  auto d = outrigger::pdata::Logs::New(&req);
  auto* rl = req->add_resource_logs();
  for (auto [k, v] : {std::pair{"service.name", "checkout"},
                      {"k8s.pod.name", "checkout-7d9f8b6c5-x2x9z"},
                      {"k8s.namespace.name", "shop"},
                      {"host.name", "node-12"}}) {
    Str(rl->mutable_resource()->add_attributes(), k, v);
  }
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("app");
  for (int i = 0; i < n; ++i) {
    auto* r = sl->add_log_records();
    r->set_time_unix_nano(1700000000000000000ULL + static_cast<uint64_t>(i) * 1000);
    r->set_observed_time_unix_nano(1700000000000000000ULL + static_cast<uint64_t>(i) * 1000 + 5);
    r->set_severity_text("INFO");
    r->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
    r->mutable_body()->set_string_value("GET /api/v1/cart/" + std::to_string(100000 + i) +
                                        " completed in 12.3ms: 200 OK \"user-agent: Mozilla/5.0 (X11; Linux x86_64)\"");
    r->set_trace_id(std::string(16, static_cast<char>(i)));
    r->set_span_id(std::string(8, static_cast<char>(i + 1)));
    Str(r->add_attributes(), "http.method", "GET");
    Str(r->add_attributes(), "http.route", "/api/v1/cart/{id}");
    auto* a = r->add_attributes();
    a->set_key("http.status_code");
    a->mutable_value()->set_int_value(200);
    a = r->add_attributes();
    a->set_key("duration_ms");
    a->mutable_value()->set_double_value(12.3);
    Str(r->add_attributes(), "user.id", "u-" + std::to_string(i % 977));
  }
  return d;
}

outrigger::pdata::Traces MakeSpans(int n) {
  tpb::ExportTraceServiceRequest* req;
  auto d = outrigger::pdata::Traces::New(&req);
  auto* rs = req->add_resource_spans();
  Str(rs->mutable_resource()->add_attributes(), "service.name", "checkout");
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < n; ++i) {
    auto* s = ss->add_spans();
    s->set_name("GET /api/v1/cart/{id}");
    s->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    s->set_trace_id(std::string(16, static_cast<char>(i)));
    s->set_span_id(std::string(8, static_cast<char>(i + 1)));
    s->set_start_time_unix_nano(1700000000000000000ULL + static_cast<uint64_t>(i));
    s->set_end_time_unix_nano(1700000000012300000ULL + static_cast<uint64_t>(i));
    Str(s->add_attributes(), "http.method", "GET");
    Str(s->add_attributes(), "http.route", "/api/v1/cart/{id}");
    auto* a = s->add_attributes();
    a->set_key("http.status_code");
    a->mutable_value()->set_int_value(200);
  }
  return d;
}

// Host-metrics-like data: `n` data points, 10 metrics (gauges, counters, a histogram)
// over n/10 attribute sets (cpu, state) at one time: n/10 documents of 10 metrics each.
outrigger::pdata::Metrics MakeMetrics(int n) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest* req;
  auto d = outrigger::pdata::Metrics::New(&req);
  auto* rm = req->add_resource_metrics();
  Str(rm->mutable_resource()->add_attributes(), "service.name", "checkout");
  Str(rm->mutable_resource()->add_attributes(), "host.name", "node-12");
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("hostmetrics");
  const int series = std::max(1, n / 10);
  for (int m = 0; m < 10; ++m) {
    auto* metric = sm->add_metrics();
    metric->set_name("system.metric." + std::to_string(m));
    for (int i = 0; i < series; ++i) {
      auto attrs = [&](auto* p) {
        p->set_time_unix_nano(1700000000000000000ULL);
        p->set_start_time_unix_nano(1690000000000000000ULL);
        Str(p->add_attributes(), "cpu", std::to_string(i));
        Str(p->add_attributes(), "state", i % 2 ? "user" : "system");
      };
      if (m == 9) {
        auto* p = metric->mutable_histogram()->add_data_points();
        attrs(p);
        p->set_count(100);
        p->set_sum(1234.5);
        for (double b : {1.0, 5.0, 10.0, 50.0, 100.0}) p->add_explicit_bounds(b);
        for (uint64_t c : {10, 20, 30, 20, 15, 5}) p->add_bucket_counts(c);
      } else if (m % 2) {
        metric->mutable_sum()->set_is_monotonic(true);
        auto* p = metric->mutable_sum()->add_data_points();
        attrs(p);
        p->set_as_double(12345.678 + i);
      } else {
        auto* p = metric->mutable_gauge()->add_data_points();
        attrs(p);
        p->set_as_int(42 + i);
      }
    }
  }
  return d;
}

Config Cfg(const char* mode, bool ids) {
  Config c;
  c.endpoint = "http://127.0.0.1:9200";
  c.mapping_mode = mode;
  if (ids) c.document_id = "content_hash";
  return c;
}

// Encodes `data` into a whole _bulk body per iteration.
template <typename D>
void Encode(benchmark::State& state, const D& data, const Config& cfg,
            void (Encoder::*encode)(const D&, uint64_t, EncodedBatch*) const) {
  const int n = static_cast<int>(state.range(0));
  Encoder enc(cfg);
  std::vector<uint32_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0u);
  size_t bytes = 0;
  for (auto _ : state) {
    EncodedBatch b;
    (enc.*encode)(data, 0, &b);
    std::string body = enc.BulkBody(b, all);
    bytes += body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_EncodeLogs(benchmark::State& state, const char* mode, bool ids) {
  Encode(state, MakeLogs(static_cast<int>(state.range(0))), Cfg(mode, ids), &Encoder::EncodeLogs);
}

void BM_EncodeSpans(benchmark::State& state, const char* mode) {
  Encode(state, MakeSpans(static_cast<int>(state.range(0))), Cfg(mode, false), &Encoder::EncodeTraces);
}

void BM_EncodeMetrics(benchmark::State& state, const char* mode) {
  const int n = static_cast<int>(state.range(0));
  const auto data = MakeMetrics(n);
  const Config cfg = Cfg(mode, false);
  Encoder enc(cfg);
  size_t bytes = 0;
  for (auto _ : state) {
    EncodedBatch b;
    enc.EncodeMetrics(data, 0, &b);
    std::vector<uint32_t> all(b.docs.size());
    std::iota(all.begin(), all.end(), 0u);
    std::string body = enc.BulkBody(b, all);
    bytes += body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_JsonString(benchmark::State& state) {
  std::string s(4096, 'a');
  for (size_t i = 0; i < s.size(); i += 64) s[i] = '"';                    // some escapes
  for (size_t i = 32; i < s.size(); i += 97) s.replace(i, 2, "\xc3\xa9");  // some UTF-8
  for (auto _ : state) {
    std::string out;
    out.reserve(5000);
    outrigger::exporters::elasticsearch::AppendJsonString(&out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}

BENCHMARK_CAPTURE(BM_EncodeLogs, otel, "otel", false)->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeLogs, ecs, "ecs", false)->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeLogs, none, "none", false)->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeLogs, otel_content_hash, "otel", true)->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeSpans, otel, "otel")->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeSpans, ecs, "ecs")->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeSpans, none, "none")->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeMetrics, otel, "otel")->Arg(1000);
BENCHMARK_CAPTURE(BM_EncodeMetrics, ecs, "ecs")->Arg(1000);
BENCHMARK(BM_JsonString);

}  // namespace

BENCHMARK_MAIN();
