// The count connector: exact counts for crafted spans, span events, metrics, data points
// and log records, by attribute (record, scope, resource order; default_value; records
// without the attribute left out), with conditions (OR-ed), per resource; the output's
// shape (monotonic delta Sum, integer points, upstream's scope) and the answer to
// pushback.
#include "connectors/count/count_connector.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "collector/filterset/filterset.h"
#include "connectors/count/factory.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::connectors::count {
namespace {

namespace cpb = opentelemetry::proto::common::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace lpb = opentelemetry::proto::logs::v1;
namespace tpb = opentelemetry::proto::trace::v1;
namespace clpb = opentelemetry::proto::collector::logs::v1;
namespace cmpb = opentelemetry::proto::collector::metrics::v1;
namespace ctpb = opentelemetry::proto::collector::trace::v1;

using Map = std::map<std::string, std::string>;
using Attrs = google::protobuf::RepeatedPtrField<cpb::KeyValue>;
constexpr uint64_t kNow = 1'700'000'000'000'000'000;

void AddAttrs(Attrs* out, const Map& attrs) {
  for (const auto& [k, v] : attrs) {
    auto* kv = out->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
}
Map ToMap(const Attrs& attrs) {
  Map m;
  for (const auto& kv : attrs) m[kv.key()] = filterset::AsString(kv.value());
  return m;
}

struct Point {
  Map resource;
  std::string scope, metric, description;
  Map attrs;
  int64_t value = 0;
  bool monotonic = false;
  int temporality = 0;
  uint64_t time = 0;
};

// Records the Metrics it is given; can refuse.
class Capture : public Consumer {
 public:
  absl::Status ConsumeMetrics(pdata::Metrics&& m) override {
    std::lock_guard l(mu_);
    if (refuse_) return absl::UnavailableError("downstream full");
    m.ForEachRequest([&](const cmpb::ExportMetricsServiceRequest& req) {
      for (const auto& rm : req.resource_metrics()) {
        for (const auto& sm : rm.scope_metrics()) {
          for (const auto& metric : sm.metrics()) {
            for (const auto& dp : metric.sum().data_points()) {
              Point p;
              p.resource = ToMap(rm.resource().attributes());
              p.scope = sm.scope().name();
              p.metric = metric.name();
              p.description = metric.description();
              p.attrs = ToMap(dp.attributes());
              EXPECT_EQ(dp.value_case(), mpb::NumberDataPoint::kAsInt);
              p.value = dp.as_int();
              p.monotonic = metric.sum().is_monotonic();
              p.temporality = metric.sum().aggregation_temporality();
              p.time = dp.time_unix_nano();
              points_.push_back(p);
            }
          }
        }
      }
    });
    ++calls_;
    return absl::OkStatus();
  }
  std::vector<Point> Take() {
    std::lock_guard l(mu_);
    return std::exchange(points_, {});
  }
  int calls() {
    std::lock_guard l(mu_);
    return calls_;
  }
  bool refuse_ = false;

 private:
  std::mutex mu_;
  std::vector<Point> points_;
  int calls_ = 0;
};

// metric name + attributes (+ the resource's service.name) → value.
std::map<std::string, int64_t> Counts(const std::vector<Point>& ps) {
  std::map<std::string, int64_t> out;
  for (const Point& p : ps) {
    std::string k = p.metric;
    if (auto it = p.resource.find("service.name"); it != p.resource.end()) k = it->second + "/" + k;
    for (const auto& [a, v] : p.attrs) k += "," + a + "=" + v;
    EXPECT_EQ(out.count(k), 0u) << "two points for " << k;
    out[k] = p.value;
  }
  return out;
}

Config Cfg(const std::string& yaml = "") {
  Config cfg;
  config::Errors errors;
  EXPECT_TRUE(testutil::DecodeYaml(yaml.empty() ? "{}" : yaml, &cfg, &errors).ok()) << errors.Joined();
  return cfg;
}

struct Log {
  Log(std::string text, int number, Map attrs = {})
      : severity_text(std::move(text)), severity_number(number), attrs(std::move(attrs)) {}
  std::string severity_text;
  int severity_number = 0;
  Map attrs;
};

// One ResourceLogs per resource, one scope (with `scope_attrs`) each.
pdata::Logs Logs(const std::vector<std::pair<Map, std::vector<Log>>>& resources, const Map& scope_attrs = {}) {
  clpb::ExportLogsServiceRequest* req = nullptr;
  pdata::Logs d = pdata::Logs::New(&req);
  for (const auto& [res, logs] : resources) {
    auto* rl = req->add_resource_logs();
    AddAttrs(rl->mutable_resource()->mutable_attributes(), res);
    auto* sl = rl->add_scope_logs();
    AddAttrs(sl->mutable_scope()->mutable_attributes(), scope_attrs);
    for (const Log& l : logs) {
      auto* r = sl->add_log_records();
      r->set_severity_text(l.severity_text);
      r->set_severity_number(static_cast<lpb::SeverityNumber>(l.severity_number));
      AddAttrs(r->mutable_attributes(), l.attrs);
    }
  }
  return d;
}

class CountTest : public ::testing::Test {
 protected:
  std::unique_ptr<CountConnector> Make(const std::string& yaml = "") {
    return std::make_unique<CountConnector>(testutil::Settings(&telemetry_, "count", Kind::kConnector), Cfg(yaml),
                                            &out_);
  }
  double Own(const std::string& name) { return telemetry_.Value(name, {{"connector", "count"}}); }
  Telemetry telemetry_;
  Capture out_;
};

TEST_F(CountTest, DefaultCountsLogsPerResourceAsMonotonicDeltaInts) {
  auto c = Make();
  ASSERT_TRUE(c->CountLogs(Logs({{{{"service.name", "a"}, {"k8s.pod.name", "p1"}}, {{"INFO", 9}, {"WARN", 13}}},
                                 {{{"service.name", "b"}}, {{"ERROR", 17}, {"ERROR", 17}, {"INFO", 9}}}}),
                           kNow)
                  .ok());
  auto ps = out_.Take();
  EXPECT_EQ(Counts(ps), (std::map<std::string, int64_t>{{"a/log.record.count", 2}, {"b/log.record.count", 3}}));
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].resource, (Map{{"service.name", "a"}, {"k8s.pod.name", "p1"}}));
  EXPECT_EQ(ps[0].scope, kScopeName);
  EXPECT_EQ(ps[0].description, "The number of log records observed.");
  EXPECT_TRUE(ps[0].monotonic);
  EXPECT_EQ(ps[0].temporality, mpb::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_EQ(ps[0].time, kNow);
  // Delta: the next request is counted on its own.
  ASSERT_TRUE(c->CountLogs(Logs({{{{"service.name", "a"}}, {{"INFO", 9}}}}), kNow + 1).ok());
  EXPECT_EQ(Counts(out_.Take()), (std::map<std::string, int64_t>{{"a/log.record.count", 1}}));
  // Nothing to count: nothing is sent.
  ASSERT_TRUE(c->CountLogs(Logs({{{{"service.name", "a"}}, {}}}), kNow + 2).ok());
  EXPECT_EQ(out_.calls(), 2);
}

TEST_F(CountTest, LogsByAttributeWithDefaultAndLookupOrder) {
  auto c = Make(R"(
logs:
  by.sev:
    attributes:
      - key: log.severity
        default_value: UNSPECIFIED
      - key: k8s.pod.name
  by.env:
    attributes:
      - key: env
)");
  // env: on the record for some, on the scope for none here, on the resource for "b";
  // the record's wins over the resource's.
  ASSERT_TRUE(c->CountLogs(Logs({{{{"service.name", "a"}, {"k8s.pod.name", "p1"}},
                                  {{"", 0, {{"log.severity", "ERROR"}, {"env", "prod"}}},
                                   {"", 0, {{"log.severity", "ERROR"}}},
                                   {"", 0, {{"log.severity", "INFO"}, {"k8s.pod.name", "override"}}},
                                   {"", 0, {}}}},
                                 {{{"service.name", "b"}, {"env", "dev"}},  // no pod: by.sev skips b's records
                                  {{"", 0, {{"log.severity", "ERROR"}}}, {"", 0, {{"env", "prod"}}}}}}),
                           kNow)
                  .ok());
  EXPECT_EQ(Counts(out_.Take()), (std::map<std::string, int64_t>{
                                     {"a/by.sev,k8s.pod.name=p1,log.severity=ERROR", 2},
                                     {"a/by.sev,k8s.pod.name=override,log.severity=INFO", 1},
                                     {"a/by.sev,k8s.pod.name=p1,log.severity=UNSPECIFIED", 1},
                                     {"a/by.env,env=prod", 1},
                                     {"b/by.env,env=dev", 1},
                                     {"b/by.env,env=prod", 1},
                                 }));
  // The scope's attribute comes before the resource's.
  ASSERT_TRUE(
      c->CountLogs(Logs({{{{"service.name", "c"}, {"env", "res"}}, {{"", 0, {}}}}}, {{"env", "scope"}}), kNow).ok());
  EXPECT_EQ(Counts(out_.Take()), (std::map<std::string, int64_t>{{"c/by.env,env=scope", 1}}));
}

TEST_F(CountTest, LogConditionsAreOred) {
  auto c = Make(R"(
logs:
  errors:
    conditions:
      - 'severity_number >= SEVERITY_NUMBER_ERROR'
      - 'attributes["force"] == "yes"'
  infos:
    conditions: ['severity_text == "INFO"']
)");
  ASSERT_TRUE(
      c->CountLogs(
           Logs(
               {{{{"service.name", "a"}},
                 {{"INFO", 9}, {"INFO", 9, {{"force", "yes"}}}, {"WARN", 13}, {"ERROR", 17}, {"FATAL", 21}, {"", 0}}}}),
           kNow)
          .ok());
  EXPECT_EQ(Counts(out_.Take()), (std::map<std::string, int64_t>{{"a/errors", 3}, {"a/infos", 2}}));
}

TEST_F(CountTest, SpansAndSpanEvents) {
  auto c = Make(R"(
spans:
  trace.span.count: {}
  errors.by.route:
    conditions: ['status.code == STATUS_CODE_ERROR']
    attributes:
      - key: http.route
        default_value: none
spanevents:
  exceptions:
    conditions: ['name == "exception"']
    attributes:
      - key: exception.type
)");
  ctpb::ExportTraceServiceRequest* req = nullptr;
  pdata::Traces d = pdata::Traces::New(&req);
  auto* rs = req->add_resource_spans();
  AddAttrs(rs->mutable_resource()->mutable_attributes(), {{"service.name", "svc"}});
  auto* ss = rs->add_scope_spans();
  auto span = [&](const std::string& route, bool error, std::vector<std::pair<std::string, Map>> events) {
    auto* s = ss->add_spans();
    s->set_name("op");
    if (!route.empty()) AddAttrs(s->mutable_attributes(), {{"http.route", route}});
    if (error) s->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
    for (const auto& [name, attrs] : events) {
      auto* e = s->add_events();
      e->set_name(name);
      AddAttrs(e->mutable_attributes(), attrs);
    }
  };
  span("/a", true, {{"exception", {{"exception.type", "IOError"}}}, {"log", {}}});
  span("/a", true, {{"exception", {{"exception.type", "IOError"}}}});
  span("/b", false, {{"exception", {{"exception.type", "KeyError"}}}, {"exception", {}}});
  span("", true, {});
  ASSERT_TRUE(c->CountTraces(std::move(d), kNow).ok());
  EXPECT_EQ(Counts(out_.Take()), (std::map<std::string, int64_t>{
                                     {"svc/trace.span.count", 4},
                                     {"svc/errors.by.route,http.route=/a", 2},
                                     {"svc/errors.by.route,http.route=none", 1},
                                     {"svc/exceptions,exception.type=IOError", 2},
                                     {"svc/exceptions,exception.type=KeyError", 1},
                                 }));
}

TEST_F(CountTest, DefaultSpanCountsAndMetricsAndDataPoints) {
  {
    auto c = Make();
    ASSERT_TRUE(c->CountTraces(testutil::MakeTraces(5, "svc"), kNow).ok());
    auto counts = Counts(out_.Take());
    EXPECT_EQ(counts["svc/trace.span.count"], 5);
    EXPECT_EQ(counts.count("svc/trace.span.event.count"), 0u);  // no events: no point
  }
  auto c = Make(R"(
metrics:
  metric.count: {}
  sums:
    conditions: ['type == METRIC_DATA_TYPE_SUM']
datapoints:
  metric.datapoint.count: {}
  by.env:
    conditions: ['metric.name == "requests"']
    attributes:
      - key: env
)");
  cmpb::ExportMetricsServiceRequest* req = nullptr;
  pdata::Metrics d = pdata::Metrics::New(&req);
  auto* rm = req->add_resource_metrics();
  AddAttrs(rm->mutable_resource()->mutable_attributes(), {{"service.name", "svc"}});
  auto* sm = rm->add_scope_metrics();
  auto* m1 = sm->add_metrics();
  m1->set_name("requests");
  for (const char* env : {"prod", "prod", "dev"}) {
    auto* p = m1->mutable_sum()->add_data_points();
    AddAttrs(p->mutable_attributes(), {{"env", env}});
  }
  m1->mutable_sum()->add_data_points();  // no env: not in by.env
  auto* m2 = sm->add_metrics();
  m2->set_name("latency");
  AddAttrs(m2->mutable_histogram()->add_data_points()->mutable_attributes(), {{"env", "prod"}});
  auto* m3 = sm->add_metrics();
  m3->set_name("temp");
  m3->mutable_gauge()->add_data_points();
  ASSERT_TRUE(c->CountMetrics(std::move(d), kNow).ok());
  EXPECT_EQ(Counts(out_.Take()), (std::map<std::string, int64_t>{
                                     {"svc/metric.count", 3},
                                     {"svc/sums", 1},
                                     {"svc/metric.datapoint.count", 6},
                                     {"svc/by.env,env=prod", 2},
                                     {"svc/by.env,env=dev", 1},
                                 }));
}

TEST_F(CountTest, PushbackIsReturned) {
  auto c = Make();
  out_.refuse_ = true;
  absl::Status st = c->ConsumeLogs(Logs({{{{"service.name", "a"}}, {{"INFO", 9}}}}));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Own("outrigger_connector_count_refused_total"), 1);
  out_.refuse_ = false;
  EXPECT_TRUE(c->ConsumeLogs(Logs({{{{"service.name", "a"}}, {{"INFO", 9}}}})).ok());
  EXPECT_EQ(Counts(out_.Take())["a/log.record.count"], 1);
}

TEST_F(CountTest, ConditionErrorRefusesTheRequestAsUpstream) {
  // int + double cannot be computed: an evaluation error, which upstream returns.
  auto c = Make(R"(
logs:
  bad:
    conditions: ['severity_number + 1.5 > 0']
)");
  absl::Status st = c->CountLogs(Logs({{{{"service.name", "a"}}, {{"INFO", 9}}}}), kNow);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("count metric bad"), std::string::npos) << st;
  EXPECT_EQ(Own("outrigger_connector_count_condition_errors_total"), 1);
  EXPECT_EQ(out_.calls(), 0);
}

}  // namespace
}  // namespace outrigger::connectors::count
