// The span_metrics connector: exact calls, duration and events values for crafted spans,
// cumulative and delta flushes, dimensions, the cardinality limit, per-series expiration,
// exemplars, the resource key, the timer on the host's loop and the answer to pushback.
#include "connectors/span_metrics/span_metrics_connector.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>

#include "collector/filterset/filterset.h"
#include "connectors/span_metrics/factory.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::connectors::span_metrics {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace cpb = opentelemetry::proto::common::v1;
namespace trpb = opentelemetry::proto::trace::v1;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 1'700'000'000'000'000'000;  // "now" of the first aggregation

using Map = std::map<std::string, std::string>;

// ---- building spans ----

struct SpanSpec {
  SpanSpec(std::string name, int kind, int status, uint64_t duration_ns, Map attrs = {},
           std::map<std::string, int64_t> int_attrs = {}, std::vector<Map> events = {}, std::string trace_id = "",
           bool negative = false)
      : name(std::move(name)),
        kind(kind),
        status(status),
        duration_ns(duration_ns),
        attrs(std::move(attrs)),
        int_attrs(std::move(int_attrs)),
        events(std::move(events)),
        trace_id(std::move(trace_id)),
        negative(negative) {}
  std::string name;
  int kind;
  int status;  // 0 unset, 1 ok, 2 error
  uint64_t duration_ns;
  Map attrs;
  std::map<std::string, int64_t> int_attrs;
  std::vector<Map> events;
  std::string trace_id;  // 16 bytes or empty
  bool negative;         // end before start
};

void AddAttrs(google::protobuf::RepeatedPtrField<cpb::KeyValue>* out, const Map& attrs) {
  for (const auto& [k, v] : attrs) {
    auto* kv = out->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
}

// One resource with `resource` attributes, one scope, the spans.
void AddResource(tpb::ExportTraceServiceRequest* req, const Map& resource, const std::vector<SpanSpec>& spans,
                 const std::string& scope = "test", const std::string& scope_version = "") {
  auto* rs = req->add_resource_spans();
  AddAttrs(rs->mutable_resource()->mutable_attributes(), resource);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(scope);
  ss->mutable_scope()->set_version(scope_version);
  for (const SpanSpec& sp : spans) {
    auto* s = ss->add_spans();
    s->set_name(sp.name);
    s->set_kind(static_cast<trpb::Span::SpanKind>(sp.kind));
    s->mutable_status()->set_code(static_cast<trpb::Status::StatusCode>(sp.status));
    const uint64_t start = 1'000'000'000'000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(sp.negative ? start - 5 : start + sp.duration_ns);
    AddAttrs(s->mutable_attributes(), sp.attrs);
    for (const auto& [k, v] : sp.int_attrs) {
      auto* kv = s->add_attributes();
      kv->set_key(k);
      kv->mutable_value()->set_int_value(v);
    }
    for (const Map& e : sp.events) AddAttrs(s->add_events()->mutable_attributes(), e);
    if (!sp.trace_id.empty()) {
      s->set_trace_id(sp.trace_id);
      s->set_span_id(sp.trace_id.substr(0, 8));
    }
  }
}

pdata::Traces Traces(const Map& resource, const std::vector<SpanSpec>& spans) {
  tpb::ExportTraceServiceRequest* req;
  auto d = pdata::Traces::New(&req);
  AddResource(req, resource, spans);
  return d;
}

// ---- reading what was flushed ----

Map ToMap(const google::protobuf::RepeatedPtrField<cpb::KeyValue>& attrs) {
  Map m;
  for (const auto& kv : attrs) m[kv.key()] = filterset::AsString(kv.value());
  return m;
}

struct Point {
  Map resource;
  std::string scope, metric, unit;
  Map attrs;
  int temporality = 0;
  double value = 0;  // sums
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  int32_t scale = 0, offset = 0;
  uint64_t zero = 0;
  uint64_t start = 0, time = 0;
  std::vector<std::string> exemplar_traces;
  std::vector<double> exemplar_values;
};

std::vector<Point> Points(const pdata::Metrics& m) {
  std::vector<Point> out;
  m.ForEachRequest([&](const testutil::mpb::ExportMetricsServiceRequest& req) {
    for (const auto& rm : req.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& metric : sm.metrics()) {
          auto base = [&] {
            Point p;
            p.resource = ToMap(rm.resource().attributes());
            p.scope = sm.scope().name();
            p.metric = metric.name();
            p.unit = metric.unit();
            return p;
          };
          for (const auto& dp : metric.sum().data_points()) {
            Point p = base();
            p.attrs = ToMap(dp.attributes());
            p.temporality = metric.sum().aggregation_temporality();
            p.value = dp.as_double();
            p.start = dp.start_time_unix_nano();
            p.time = dp.time_unix_nano();
            for (const auto& e : dp.exemplars()) p.exemplar_traces.push_back(e.trace_id());
            out.push_back(p);
          }
          for (const auto& dp : metric.histogram().data_points()) {
            Point p = base();
            p.attrs = ToMap(dp.attributes());
            p.temporality = metric.histogram().aggregation_temporality();
            p.count = dp.count();
            p.sum = dp.sum();
            p.min = dp.min();
            p.max = dp.max();
            p.bounds.assign(dp.explicit_bounds().begin(), dp.explicit_bounds().end());
            p.buckets.assign(dp.bucket_counts().begin(), dp.bucket_counts().end());
            p.start = dp.start_time_unix_nano();
            p.time = dp.time_unix_nano();
            for (const auto& e : dp.exemplars()) {
              p.exemplar_traces.push_back(e.trace_id());
              p.exemplar_values.push_back(e.as_double());
            }
            out.push_back(p);
          }
          for (const auto& dp : metric.exponential_histogram().data_points()) {
            Point p = base();
            p.attrs = ToMap(dp.attributes());
            p.temporality = metric.exponential_histogram().aggregation_temporality();
            p.count = dp.count();
            p.sum = dp.sum();
            p.min = dp.min();
            p.max = dp.max();
            p.scale = dp.scale();
            p.offset = dp.positive().offset();
            p.buckets.assign(dp.positive().bucket_counts().begin(), dp.positive().bucket_counts().end());
            p.zero = dp.zero_count();
            p.start = dp.start_time_unix_nano();
            p.time = dp.time_unix_nano();
            out.push_back(p);
          }
        }
      }
    }
  });
  return out;
}

// Keeps every Metrics handed to it; can refuse.
class Capture : public Consumer {
 public:
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    std::lock_guard l(mu_);
    if (refuse_ > 0) {
      --refuse_;
      return absl::UnavailableError("busy");
    }
    got_.push_back(std::move(d));
    return absl::OkStatus();
  }
  std::vector<Point> Last() {
    std::lock_guard l(mu_);
    return got_.empty() ? std::vector<Point>{} : Points(got_.back());
  }
  std::vector<Point> All() {
    std::lock_guard l(mu_);
    std::vector<Point> out;
    for (const auto& m : got_) {
      auto ps = Points(m);
      out.insert(out.end(), ps.begin(), ps.end());
    }
    return out;
  }
  size_t Count() {
    std::lock_guard l(mu_);
    return got_.size();
  }
  void Refuse(int n) {
    std::lock_guard l(mu_);
    refuse_ = n;
  }

 private:
  std::mutex mu_;
  std::vector<pdata::Metrics> got_;
  int refuse_ = 0;
};

// A copy of the point of `metric` with exactly `attrs`, or null.
std::shared_ptr<const Point> Find(const std::vector<Point>& ps, const std::string& metric, const Map& attrs) {
  for (const Point& p : ps) {
    if (p.metric == metric && p.attrs == attrs) return std::make_shared<const Point>(p);
  }
  return nullptr;
}

size_t CountOf(const std::vector<Point>& ps, const std::string& metric) {
  return static_cast<size_t>(std::count_if(ps.begin(), ps.end(), [&](const Point& p) { return p.metric == metric; }));
}

Config Cfg(const std::string& yaml = "") {
  Config cfg;
  config::Errors errors;
  EXPECT_TRUE(testutil::DecodeYaml(yaml.empty() ? "{}" : yaml, &cfg, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  return cfg;
}

class SpanMetricsTest : public ::testing::Test {
 protected:
  std::unique_ptr<SpanMetricsConnector> Make(const std::string& yaml = "") {
    return std::make_unique<SpanMetricsConnector>(testutil::Settings(&telemetry_, "span_metrics", Kind::kConnector),
                                                  Cfg(yaml), &out_);
  }
  double Own(const std::string& name) { return telemetry_.Value(name, {{"connector", "span_metrics"}}); }

  Telemetry telemetry_;
  Capture out_;
};

Map Series(const std::string& svc, const std::string& name, const std::string& kind, const std::string& status,
           Map extra = {}) {
  Map m = {{"service.name", svc}, {"span.name", name}, {"span.kind", kind}, {"status.code", status}};
  m.merge(extra);
  return m;
}

TEST_F(SpanMetricsTest, CountsCallsAndDurationsExactly) {
  auto c = Make();
  c->Aggregate(Traces({{"service.name", "checkout"}, {"k8s.pod.name", "p1"}},
                      {{"GET /cart", trpb::Span::SPAN_KIND_SERVER, 1, 1 * kMs},
                       {"GET /cart", trpb::Span::SPAN_KIND_SERVER, 1, 3 * kMs},
                       {"GET /cart", trpb::Span::SPAN_KIND_SERVER, 1, 60 * kMs},
                       {"GET /cart", trpb::Span::SPAN_KIND_SERVER, 2, 500 * kMs},
                       {"redis GET", trpb::Span::SPAN_KIND_CLIENT, 0, 0, {}, {}, {}, "", /*negative=*/true}}),
               kT0);
  ASSERT_TRUE(c->Flush(kT0 + 5 * kMs).ok());
  auto ps = out_.Last();
  ASSERT_EQ(ps.size(), 6u);  // 3 series × (calls + duration)

  auto ok =
      Find(ps, "traces.span.metrics.calls", Series("checkout", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_OK"));
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->value, 3);
  EXPECT_EQ(ok->unit, "");
  EXPECT_EQ(ok->temporality, mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(ok->start, kT0);
  EXPECT_EQ(ok->time, kT0 + 5 * kMs);
  EXPECT_EQ(ok->scope, "spanmetricsconnector");
  EXPECT_EQ(ok->resource, (Map{{"service.name", "checkout"}, {"k8s.pod.name", "p1"}}));

  auto err =
      Find(ps, "traces.span.metrics.calls", Series("checkout", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR"));
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->value, 1);

  auto d =
      Find(ps, "traces.span.metrics.duration", Series("checkout", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_OK"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "ms");
  EXPECT_EQ(d->count, 3u);
  EXPECT_DOUBLE_EQ(d->sum, 64);
  EXPECT_DOUBLE_EQ(d->min, 1);
  EXPECT_DOUBLE_EQ(d->max, 60);
  EXPECT_EQ(d->bounds,
            (std::vector<double>{2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000}));
  // 1ms ≤ 2; 3ms in (2, 4]; 60ms in (50, 100].
  std::vector<uint64_t> want(17, 0);
  want[0] = 1;
  want[1] = 1;
  want[6] = 1;
  EXPECT_EQ(d->buckets, want);

  auto e500 = Find(ps, "traces.span.metrics.duration",
                   Series("checkout", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR"));
  ASSERT_NE(e500, nullptr);
  EXPECT_EQ(e500->buckets[9], 1u);  // (400, 800]

  // End before start: duration 0 (upstream), in the first bucket.
  auto neg = Find(ps, "traces.span.metrics.duration",
                  Series("checkout", "redis GET", "SPAN_KIND_CLIENT", "STATUS_CODE_UNSET"));
  ASSERT_NE(neg, nullptr);
  EXPECT_EQ(neg->sum, 0);
  EXPECT_EQ(neg->buckets[0], 1u);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_spans_total"), 5);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_series"), 3);
}

TEST_F(SpanMetricsTest, CumulativeKeepsStartAndAddsUp) {
  auto c = Make();
  auto span = SpanSpec{"op", trpb::Span::SPAN_KIND_INTERNAL, 0, 7 * kMs};
  c->Aggregate(Traces({{"service.name", "a"}}, {span, span}), kT0);
  ASSERT_TRUE(c->Flush(kT0 + 10).ok());
  c->Aggregate(Traces({{"service.name", "a"}}, {span}), kT0 + 20);
  ASSERT_TRUE(c->Flush(kT0 + 30).ok());
  auto ps = out_.Last();
  auto calls = Find(ps, "traces.span.metrics.calls", Series("a", "op", "SPAN_KIND_INTERNAL", "STATUS_CODE_UNSET"));
  ASSERT_NE(calls, nullptr);
  EXPECT_EQ(calls->value, 3);
  EXPECT_EQ(calls->start, kT0);
  EXPECT_EQ(calls->time, kT0 + 30);
  // A cumulative series is exported at every flush, seen or not.
  ASSERT_TRUE(c->Flush(kT0 + 40).ok());
  EXPECT_EQ(out_.Count(), 3u);
  EXPECT_EQ(
      Find(out_.Last(), "traces.span.metrics.duration", Series("a", "op", "SPAN_KIND_INTERNAL", "STATUS_CODE_UNSET"))
          ->count,
      3u);
}

TEST_F(SpanMetricsTest, DeltaResetsAndChainsStartTimes) {
  auto c = Make("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n");
  auto a = SpanSpec{"a", trpb::Span::SPAN_KIND_SERVER, 0, 1 * kMs};
  auto b = SpanSpec{"b", trpb::Span::SPAN_KIND_SERVER, 0, 1 * kMs};
  c->Aggregate(Traces({{"service.name", "s"}}, {a, a, b}), kT0);
  ASSERT_TRUE(c->Flush(kT0 + 100).ok());
  c->Aggregate(Traces({{"service.name", "s"}}, {a}), kT0 + 150);
  ASSERT_TRUE(c->Flush(kT0 + 200).ok());
  auto ps = out_.Last();
  // Only what was seen since the last flush, counted from it.
  ASSERT_EQ(ps.size(), 2u);
  auto calls = Find(ps, "traces.span.metrics.calls", Series("s", "a", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"));
  ASSERT_NE(calls, nullptr);
  EXPECT_EQ(calls->temporality, mpb::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_EQ(calls->value, 1);
  EXPECT_EQ(calls->start, kT0 + 100);
  EXPECT_EQ(calls->time, kT0 + 200);
  // Nothing new: nothing sent.
  ASSERT_TRUE(c->Flush(kT0 + 300).ok());
  EXPECT_EQ(out_.Count(), 2u);
}

TEST_F(SpanMetricsTest, DeltaRefusedIsOfferedAgain) {
  auto c = Make("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n");
  auto a = SpanSpec{"a", trpb::Span::SPAN_KIND_SERVER, 0, 1 * kMs};
  c->Aggregate(Traces({{"service.name", "s"}}, {a, a}), kT0);
  out_.Refuse(1);
  EXPECT_EQ(c->Flush(kT0 + 100).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_flushes_refused_total"), 1);
  c->Aggregate(Traces({{"service.name", "s"}}, {a}), kT0 + 150);
  ASSERT_TRUE(c->Flush(kT0 + 200).ok());
  double total = 0;
  for (const Point& p : out_.Last()) {
    if (p.metric == "traces.span.metrics.calls") total += p.value;
  }
  EXPECT_EQ(total, 3);  // the refused 2 and the new 1
}

TEST_F(SpanMetricsTest, DimensionsDefaultsGlobsAndExclusions) {
  auto c = Make(R"(
dimensions:
  - name: http.method
    default: GET
  - name: http.status_code
  - name: region
  - glob: "app.*"
exclude_dimensions: [span.kind]
namespace: ""
)");
  SpanSpec s1{"op",
              trpb::Span::SPAN_KIND_SERVER,
              0,
              kMs,
              {{"http.method", "POST"}, {"app.tier", "gold"}},
              {{"http.status_code", 201}}};
  SpanSpec s2{"op", trpb::Span::SPAN_KIND_CLIENT, 0, kMs, {{"region", "span-wins"}}};
  c->Aggregate(Traces({{"service.name", "s"}, {"region", "eu"}, {"app.team", "red"}}, {s1, s2}), kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto ps = out_.Last();
  ASSERT_EQ(CountOf(ps, "calls"), 2u);  // no namespace; span.kind excluded but the values differ otherwise
  EXPECT_NE(Find(ps, "calls",
                 {{"service.name", "s"},
                  {"span.name", "op"},
                  {"status.code", "STATUS_CODE_UNSET"},
                  {"http.method", "POST"},
                  {"http.status_code", "201"},
                  {"region", "eu"},
                  {"app.tier", "gold"},
                  {"app.team", "red"}}),
            nullptr);
  EXPECT_NE(Find(ps, "calls",
                 {{"service.name", "s"},
                  {"span.name", "op"},
                  {"status.code", "STATUS_CODE_UNSET"},
                  {"http.method", "GET"},
                  {"region", "span-wins"},
                  {"app.team", "red"}}),
            nullptr);
}

TEST_F(SpanMetricsTest, ExcludedKindAggregatesAcrossKinds) {
  auto c = Make("exclude_dimensions: [span.kind, status.code]\n");
  c->Aggregate(Traces({{"service.name", "s"}},
                      {{"op", trpb::Span::SPAN_KIND_SERVER, 2, kMs}, {"op", trpb::Span::SPAN_KIND_CLIENT, 0, kMs}}),
               kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto p = Find(out_.Last(), "traces.span.metrics.calls", {{"service.name", "s"}, {"span.name", "op"}});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->value, 2);
}

TEST_F(SpanMetricsTest, CallsAndHistogramDimensionsAreSeparate) {
  auto c = Make(R"(
calls_dimensions: [{name: peer.service}]
histogram:
  dimensions: [{name: http.route}]
)");
  c->Aggregate(Traces({{"service.name", "s"}},
                      {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs, {{"peer.service", "db"}, {"http.route", "/a"}}},
                       {"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs, {{"peer.service", "db"}, {"http.route", "/b"}}}}),
               kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto ps = out_.Last();
  const Map base = Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET");
  auto calls = Find(ps, "traces.span.metrics.calls",
                    Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", {{"peer.service", "db"}}));
  ASSERT_NE(calls, nullptr);
  EXPECT_EQ(calls->value, 2);
  EXPECT_EQ(CountOf(ps, "traces.span.metrics.duration"), 2u);
  auto a = Find(ps, "traces.span.metrics.duration",
                Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", {{"http.route", "/a"}}));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->count, 1u);
  (void)base;
}

TEST_F(SpanMetricsTest, CardinalityLimitSendsTheRestToOverflow) {
  auto c = Make("aggregation_cardinality_limit: 2\n");
  std::vector<SpanSpec> spans;
  for (const char* n : {"a", "b", "c", "d", "c", "a"}) spans.push_back({n, trpb::Span::SPAN_KIND_SERVER, 0, kMs});
  c->Aggregate(Traces({{"service.name", "s"}}, spans), kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto ps = out_.Last();
  EXPECT_EQ(CountOf(ps, "traces.span.metrics.calls"), 3u);
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("s", "a", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))->value, 2);
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("s", "b", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))->value, 1);
  auto over = Find(ps, "traces.span.metrics.calls", {{"otel.metric.overflow", "true"}});
  ASSERT_NE(over, nullptr);
  EXPECT_EQ(over->value, 3);  // c, d, c
  EXPECT_EQ(Find(ps, "traces.span.metrics.duration", {{"otel.metric.overflow", "true"}})->count, 3u);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_overflow_total"), 3);
}

TEST_F(SpanMetricsTest, SeriesExpireOneByOne) {
  auto c = Make("metrics_expiration: 1m\n");
  c->Aggregate(Traces({{"service.name", "s"}}, {{"old", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}), kT0);
  const uint64_t later = kT0 + 50ull * 1000 * kMs;
  c->Aggregate(Traces({{"service.name", "s"}}, {{"new", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}), later);
  // 61 s after "old", 11 s after "new": the resource lives on, "old" does not.
  ASSERT_TRUE(c->Flush(kT0 + 61ull * 1000 * kMs).ok());
  auto ps = out_.Last();
  EXPECT_EQ(CountOf(ps, "traces.span.metrics.calls"), 1u);
  EXPECT_NE(Find(ps, "traces.span.metrics.calls", Series("s", "new", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")),
            nullptr);
  EXPECT_EQ(c->SeriesCount(), 1u);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_series_expired_total"), 1);
  // When it comes back, it starts again from its new first sighting.
  c->Aggregate(Traces({{"service.name", "s"}}, {{"old", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}), later + 20);
  ASSERT_TRUE(c->Flush(later + 30).ok());
  auto back =
      Find(out_.Last(), "traces.span.metrics.calls", Series("s", "old", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"));
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->value, 1);
  EXPECT_EQ(back->start, later + 20);
}

TEST_F(SpanMetricsTest, ExemplarsCarryTraceIdsUpToTheLimit) {
  auto c = Make("exemplars:\n  enabled: true\n  max_per_data_point: 2\n");
  const std::string t1(16, '\x01'), t2(16, '\x02'), t3(16, '\x03');
  c->Aggregate(Traces({{"service.name", "s"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, 5 * kMs, {}, {}, {}, t1},
                                                {"op", trpb::Span::SPAN_KIND_SERVER, 0, 7 * kMs, {}, {}, {}, t2},
                                                {"op", trpb::Span::SPAN_KIND_SERVER, 0, 9 * kMs, {}, {}, {}, t3}}),
               kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto d =
      Find(out_.Last(), "traces.span.metrics.duration", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->exemplar_traces, (std::vector<std::string>{t1, t2}));
  EXPECT_EQ(d->exemplar_values, (std::vector<double>{5, 7}));
  // Exemplars belong to one flush.
  ASSERT_TRUE(c->Flush(kT0 + 2).ok());
  EXPECT_TRUE(
      Find(out_.Last(), "traces.span.metrics.duration", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))
          ->exemplar_traces.empty());
}

TEST_F(SpanMetricsTest, NoExemplarsByDefault) {
  auto c = Make();
  c->Aggregate(Traces({{"service.name", "s"}},
                      {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs, {}, {}, {}, std::string(16, '\x01')}}),
               kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  for (const Point& p : out_.Last()) EXPECT_TRUE(p.exemplar_traces.empty());
}

TEST_F(SpanMetricsTest, EventsAreCountedWithTheirDimensions) {
  auto c = Make("events:\n  enabled: true\n  dimensions:\n    - name: exception.type\n");
  c->Aggregate(
      Traces({{"service.name", "s"}},
             {{"op",
               trpb::Span::SPAN_KIND_SERVER,
               2,
               kMs,
               {},
               {},
               {{{"exception.type", "IOError"}}, {{"exception.type", "IOError"}}, {{"exception.type", "Timeout"}}}}}),
      kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto ps = out_.Last();
  EXPECT_EQ(Find(ps, "traces.span.metrics.events",
                 Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR", {{"exception.type", "IOError"}}))
                ->value,
            2);
  EXPECT_EQ(Find(ps, "traces.span.metrics.events",
                 Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR", {{"exception.type", "Timeout"}}))
                ->value,
            1);
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR"))->value,
            1);
}

TEST_F(SpanMetricsTest, ResourceKeyAttributesMergeRestartedProcesses) {
  auto c = Make("resource_metrics_key_attributes: [service.name]\n");
  auto span = SpanSpec{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs};
  c->Aggregate(Traces({{"service.name", "s"}, {"process.pid", "1"}}, {span}), kT0);
  c->Aggregate(Traces({{"service.name", "s"}, {"process.pid", "2"}}, {span}), kT0 + 1);
  ASSERT_TRUE(c->Flush(kT0 + 2).ok());
  auto ps = out_.Last();
  ASSERT_EQ(CountOf(ps, "traces.span.metrics.calls"), 1u);
  EXPECT_EQ(ps[0].resource.at("process.pid"), "1");  // the first resource seen
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))->value,
            2);

  // Without it, each resource has its own metrics.
  auto all = Make();
  all->Aggregate(Traces({{"service.name", "s"}, {"process.pid", "1"}}, {span}), kT0);
  all->Aggregate(Traces({{"service.name", "s"}, {"process.pid", "2"}}, {span}), kT0 + 1);
  ASSERT_TRUE(all->Flush(kT0 + 2).ok());
  EXPECT_EQ(CountOf(out_.Last(), "traces.span.metrics.calls"), 2u);
}

TEST_F(SpanMetricsTest, ResourceCacheEvictsTheLeastRecent) {
  auto c = Make("resource_metrics_cache_size: 2\n");
  auto span = SpanSpec{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs};
  c->Aggregate(Traces({{"service.name", "a"}}, {span}), kT0);
  c->Aggregate(Traces({{"service.name", "b"}}, {span}), kT0 + 1);
  c->Aggregate(Traces({{"service.name", "a"}}, {span}), kT0 + 2);
  c->Aggregate(Traces({{"service.name", "c"}}, {span}), kT0 + 3);  // b goes
  ASSERT_TRUE(c->Flush(kT0 + 4).ok());
  auto ps = out_.Last();
  EXPECT_EQ(CountOf(ps, "traces.span.metrics.calls"), 2u);
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("b", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")), nullptr);
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("a", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))->value,
            2);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_resources_evicted_total"), 1);
}

TEST_F(SpanMetricsTest, SpansWithoutServiceNameAreSkippedAndCounted) {
  auto c = Make();
  c->Aggregate(Traces({{"host.name", "h"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}), kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  EXPECT_EQ(out_.Count(), 0u);
  EXPECT_EQ(Own("outrigger_connector_span_metrics_spans_without_service_name_total"), 1);
}

TEST_F(SpanMetricsTest, ExponentialHistogramInSeconds) {
  auto c = Make("histogram:\n  unit: s\n  exponential:\n    max_size: 10\n");
  c->Aggregate(Traces({{"service.name", "s"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, 500 * kMs},
                                                {"op", trpb::Span::SPAN_KIND_SERVER, 0, 2000 * kMs}}),
               kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto d =
      Find(out_.Last(), "traces.span.metrics.duration", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "s");
  EXPECT_EQ(d->count, 2u);
  EXPECT_DOUBLE_EQ(d->sum, 2.5);
  EXPECT_DOUBLE_EQ(d->min, 0.5);
  EXPECT_DOUBLE_EQ(d->max, 2.0);
  EXPECT_LE(d->buckets.size(), 10u);
  EXPECT_EQ(std::accumulate(d->buckets.begin(), d->buckets.end(), uint64_t{0}), 2u);
  EXPECT_EQ(d->buckets.front(), 1u);
  EXPECT_EQ(d->buckets.back(), 1u);
  // 0.5 = 2^-1 and 2 = 2^1 are the upper bounds of their buckets.
  EXPECT_EQ(d->offset, ExponentialHistogram::Index(0.5, d->scale));
  EXPECT_EQ(d->offset + static_cast<int32_t>(d->buckets.size()) - 1, ExponentialHistogram::Index(2.0, d->scale));
}

TEST_F(SpanMetricsTest, HistogramCanBeDisabled) {
  auto c = Make("histogram:\n  disable: true\n");
  c->Aggregate(Traces({{"service.name", "s"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}), kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto ps = out_.Last();
  EXPECT_EQ(CountOf(ps, "traces.span.metrics.calls"), 1u);
  EXPECT_EQ(CountOf(ps, "traces.span.metrics.duration"), 0u);
}

TEST_F(SpanMetricsTest, IncludedScopesBecomeDimensions) {
  auto c = Make("include_instrumentation_scope: [io.http]\n");
  tpb::ExportTraceServiceRequest* req;
  auto d = pdata::Traces::New(&req);
  AddResource(req, {{"service.name", "s"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}, "io.http", "1.2");
  AddResource(req, {{"service.name", "s"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs}}, "other", "9");
  c->Aggregate(d, kT0);
  ASSERT_TRUE(c->Flush(kT0 + 1).ok());
  auto ps = out_.Last();
  EXPECT_EQ(
      Find(ps, "traces.span.metrics.calls",
           Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET",
                  {{"span.instrumentation.scope.name", "io.http"}, {"span.instrumentation.scope.version", "1.2"}}))
          ->value,
      1);
  EXPECT_EQ(Find(ps, "traces.span.metrics.calls", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))->value,
            1);
}

TEST_F(SpanMetricsTest, TimerOnTheHostLoopFlushesAndShutdownFlushesTheRest) {
  auto c = Make("metrics_flush_interval: 20ms\naggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n");
  testutil::TestHost host;
  ASSERT_TRUE(c->Start(host).ok());
  ASSERT_TRUE(c->ConsumeTraces(Traces({{"service.name", "s"}}, {{"op", trpb::Span::SPAN_KIND_SERVER, 0, kMs}})).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return out_.Count() >= 1; }));
  EXPECT_EQ(
      Find(out_.Last(), "traces.span.metrics.calls", Series("s", "op", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET"))->value,
      1);
  ASSERT_TRUE(c->ConsumeTraces(Traces({{"service.name", "s"}}, {{"late", trpb::Span::SPAN_KIND_SERVER, 0, kMs}})).ok());
  ASSERT_TRUE(c->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  // The timer's next flush or the one at shutdown delivered it: once (delta).
  double late = 0;
  for (const Point& p : out_.All()) {
    if (p.metric == "traces.span.metrics.calls" && p.attrs.at("span.name") == "late") late += p.value;
  }
  EXPECT_EQ(late, 1);
  size_t n = out_.Count();
  ASSERT_TRUE(c->Shutdown(absl::Now()).ok());  // idempotent
  EXPECT_EQ(out_.Count(), n);
}

}  // namespace
}  // namespace outrigger::connectors::span_metrics
