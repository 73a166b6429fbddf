#include "processors/transform/transform_processor.h"

#include <gtest/gtest.h>

#include "collector/ottl/value.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::transform {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
namespace lpb = opentelemetry::proto::logs::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace ctpb = opentelemetry::proto::collector::trace::v1;
namespace clpb = opentelemetry::proto::collector::logs::v1;
namespace cmpb = opentelemetry::proto::collector::metrics::v1;
using ottl::Find;

// Keeps what it is given.
class Capture : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Keep(traces, std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Keep(metrics, std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Keep(logs, std::move(d)); }
  template <typename T>
  absl::Status Keep(std::vector<T>& v, T&& d) {
    v.push_back(std::move(d));
    return absl::OkStatus();
  }
  std::vector<pdata::Traces> traces;
  std::vector<pdata::Metrics> metrics;
  std::vector<pdata::Logs> logs;
};

class TransformTest : public ::testing::Test {
 protected:
  std::unique_ptr<Processor> Make(std::string_view yaml, Signal signal) {
    config::Errors errors;
    EXPECT_TRUE(testutil::DecodeYaml(yaml, &cfg_, &errors).ok()) << errors.Joined();
    return NewTransformProcessor(testutil::Settings(&telemetry_, "transform", Kind::kProcessor), cfg_, signal, &next_);
  }
  Config cfg_;
  Telemetry telemetry_;
  Capture next_;
};

void Attr(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* m, const std::string& k,
          const std::string& v) {
  ottl::Upsert(m, k)->set_string_value(v);
}

std::string Str(const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& m,
                const std::string& k) {
  const auto* v = Find(m, k);
  return v == nullptr ? "<absent>" : ottl::ToString(ottl::Value::FromAny(*v));
}

// upstream's README example for traces (the flat, context-inferred form).
TEST_F(TransformTest, ReadmeTraceExample) {
  auto p = Make(R"y(
error_mode: ignore
trace_statements:
  - keep_keys(span.attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])
  - replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
  - limit(span.attributes, 100, [])
  - truncate_all(span.attributes, 4096)
)y",
                Signal::kTraces);
  ctpb::ExportTraceServiceRequest* req;
  pdata::Traces t = pdata::Traces::New(&req);
  auto* span = req->add_resource_spans()->add_scope_spans()->add_spans();
  span->set_name("s");
  Attr(span->mutable_attributes(), "service.name", "svc");
  Attr(span->mutable_attributes(), "process.command_line", "app --password=hunter2 --v");
  Attr(span->mutable_attributes(), "drop.me", "x");
  Attr(span->mutable_attributes(), "cloud.region", std::string(5000, 'r'));
  ASSERT_TRUE(p->ConsumeTraces(std::move(t)).ok());
  ASSERT_EQ(next_.traces.size(), 1u);
  next_.traces[0].ForEachRequest([&](const ctpb::ExportTraceServiceRequest& r) {
    const auto& attrs = r.resource_spans(0).scope_spans(0).spans(0).attributes();
    EXPECT_EQ(attrs.size(), 3);
    EXPECT_EQ(Str(attrs, "service.name"), "svc");
    EXPECT_EQ(Str(attrs, "process.command_line"), "app --password=***--v");
    EXPECT_EQ(Str(attrs, "drop.me"), "<absent>");
    EXPECT_EQ(Str(attrs, "cloud.region").size(), 4096u);
  });
  EXPECT_EQ(cfg_.trace_statements.size(), 1u);  // consecutive statements of one context: one group
}

// upstream's README example for logs.
TEST_F(TransformTest, ReadmeLogExample) {
  auto p = Make(R"y(
error_mode: ignore
log_statements:
  - set(log.severity_text, "FAIL") where log.body == "request failed"
  - replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")
  - replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")
  - set(log.body, log.attributes["http.route"])
)y",
                Signal::kLogs);
  clpb::ExportLogsServiceRequest* req;
  pdata::Logs l = pdata::Logs::New(&req);
  auto* sl = req->add_resource_logs()->add_scope_logs();
  auto* failed = sl->add_log_records();
  failed->mutable_body()->set_string_value("request failed");
  Attr(failed->mutable_attributes(), "http.route", "/user/12/list/34");
  auto* ok = sl->add_log_records();
  ok->mutable_body()->set_string_value("fine");
  Attr(ok->mutable_attributes(), "http.route", "/account/1234");
  ASSERT_TRUE(p->ConsumeLogs(std::move(l)).ok());
  ASSERT_EQ(next_.logs.size(), 1u);
  next_.logs[0].ForEachRequest([&](const clpb::ExportLogsServiceRequest& r) {
    const auto& recs = r.resource_logs(0).scope_logs(0).log_records();
    EXPECT_EQ(recs[0].severity_text(), "FAIL");
    EXPECT_EQ(recs[0].body().string_value(), "/user/{userId}/list/{listId}");
    EXPECT_EQ(recs[1].severity_text(), "");
    EXPECT_EQ(recs[1].body().string_value(), "/account/{accountId}");
  });
}

// The context + statements form with conditions, on metrics, in order.
TEST_F(TransformTest, ContextGroupsWithConditions) {
  auto p = Make(R"y(
metric_statements:
  - context: resource
    statements:
      - keep_keys(attributes, ["host.name"])
  - context: metric
    conditions:
      - name == "system.cpu.time"
    statements:
      - set(description, "CPU")
      - set(unit, "s")
  - context: datapoint
    statements:
      - set(attributes["seen"], metric.description)
)y",
                Signal::kMetrics);
  pdata::Metrics m = testutil::MetricsWith({{"host.name", "h"}, {"other", "o"}}, [](mpb::ScopeMetrics* sm) {
    auto* cpu = sm->add_metrics();
    cpu->set_name("system.cpu.time");
    cpu->mutable_sum()->add_data_points()->set_as_double(1);
    auto* mem = sm->add_metrics();
    mem->set_name("system.memory.usage");
    mem->mutable_gauge()->add_data_points()->set_as_int(2);
  });
  ASSERT_TRUE(p->ConsumeMetrics(std::move(m)).ok());
  ASSERT_EQ(next_.metrics.size(), 1u);
  next_.metrics[0].ForEachRequest([&](const cmpb::ExportMetricsServiceRequest& r) {
    const auto& rm = r.resource_metrics(0);
    EXPECT_EQ(rm.resource().attributes_size(), 1);
    const auto& ms = rm.scope_metrics(0).metrics();
    EXPECT_EQ(ms[0].description(), "CPU");
    EXPECT_EQ(ms[0].unit(), "s");
    EXPECT_EQ(ms[1].description(), "");
    EXPECT_EQ(Str(ms[0].sum().data_points(0).attributes(), "seen"), "CPU");  // ran after the metric group
    EXPECT_EQ(Str(ms[1].gauge().data_points(0).attributes(), "seen"), "");
  });
}

// upstream's README "Basic Config" metric statements: the metric-context conversions,
// their context inferred from the function (no path names it).
TEST_F(TransformTest, ConvertSumToGaugeAndGaugeToSum) {
  auto p = Make(R"y(
metric_statements:
  - convert_sum_to_gauge() where metric.name == "system.processes.count"
  - convert_gauge_to_sum("cumulative", false) where metric.name == "prometheus_metric"
  - convert_gauge_to_sum("delta", true) where metric.name == "already.sum"
)y",
                Signal::kMetrics);
  pdata::Metrics m = testutil::MetricsWith({}, [](mpb::ScopeMetrics* sm) {
    auto* procs = sm->add_metrics();
    procs->set_name("system.processes.count");
    procs->mutable_sum()->set_is_monotonic(true);
    procs->mutable_sum()->add_data_points()->set_as_int(7);
    procs->mutable_sum()->add_data_points()->set_as_int(8);
    auto* prom = sm->add_metrics();
    prom->set_name("prometheus_metric");
    prom->mutable_gauge()->add_data_points()->set_as_double(1.5);
    auto* sum = sm->add_metrics();  // not a gauge: convert_gauge_to_sum leaves it alone
    sum->set_name("already.sum");
    sum->mutable_sum()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
    sum->mutable_sum()->add_data_points()->set_as_int(3);
  });
  ASSERT_TRUE(p->ConsumeMetrics(std::move(m)).ok());
  ASSERT_EQ(next_.metrics.size(), 1u);
  next_.metrics[0].ForEachRequest([&](const cmpb::ExportMetricsServiceRequest& r) {
    const auto& ms = r.resource_metrics(0).scope_metrics(0).metrics();
    ASSERT_EQ(ms.size(), 3);
    ASSERT_TRUE(ms[0].has_gauge());
    ASSERT_EQ(ms[0].gauge().data_points_size(), 2);
    EXPECT_EQ(ms[0].gauge().data_points(1).as_int(), 8);
    ASSERT_TRUE(ms[1].has_sum());
    EXPECT_EQ(ms[1].sum().aggregation_temporality(), mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
    EXPECT_FALSE(ms[1].sum().is_monotonic());
    ASSERT_EQ(ms[1].sum().data_points_size(), 1);
    EXPECT_DOUBLE_EQ(ms[1].sum().data_points(0).as_double(), 1.5);
    ASSERT_TRUE(ms[2].has_sum());
    EXPECT_EQ(ms[2].sum().aggregation_temporality(), mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
    EXPECT_EQ(ms[2].sum().data_points(0).as_int(), 3);
  });
}

TEST_F(TransformTest, MetricFunctionsAreRefusedOutsideTheMetricContext) {
  Config cfg;
  config::Errors errors;
  // One group naming a datapoint path: its context is datapoint, where the conversion cannot run.
  EXPECT_FALSE(testutil::DecodeYaml(R"y(
metric_statements:
  - statements:
      - convert_sum_to_gauge()
      - limit(datapoint.attributes, 100, ["host.name"])
)y",
                                    &cfg, &errors)
                   .ok());
  EXPECT_NE(errors.Joined().find("convert_sum_to_gauge can only be used in the metric context, not in datapoint"),
            std::string::npos)
      << errors.Joined();
  Config bad_temporality;
  config::Errors errors2;
  EXPECT_FALSE(testutil::DecodeYaml("metric_statements: ['convert_gauge_to_sum(\"weekly\", false)']\n",
                                    &bad_temporality, &errors2)
                   .ok());
  EXPECT_NE(errors2.Joined().find("unknown aggregation temporality"), std::string::npos) << errors2.Joined();
  Config unsupported;
  config::Errors errors3;
  EXPECT_FALSE(testutil::DecodeYaml("metric_statements: ['scale_metric(0.1)']\n", &unsupported, &errors3).ok());
  EXPECT_NE(errors3.Joined().find("scale_metric (upstream's transform processor's) is not supported"),
            std::string::npos)
      << errors3.Joined();
}

TEST_F(TransformTest, ErrorModes) {
  const char* stmts = R"y(
trace_statements:
  - context: span
    statements:
      - set(attributes["ratio"], attributes["a"] / attributes["b"])
      - set(attributes["after"], "yes")
)y";
  auto data = [] {
    ctpb::ExportTraceServiceRequest* req;
    pdata::Traces t = pdata::Traces::New(&req);
    auto* span = req->add_resource_spans()->add_scope_spans()->add_spans();
    ottl::Upsert(span->mutable_attributes(), "a")->set_int_value(1);
    ottl::Upsert(span->mutable_attributes(), "b")->set_int_value(0);
    return t;
  };
  {  // propagate: the batch is refused, nothing goes on
    auto p = Make(std::string("error_mode: propagate") + stmts, Signal::kTraces);
    absl::Status st = p->ConsumeTraces(data());
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("division by zero"), std::string::npos) << st;
    EXPECT_TRUE(next_.traces.empty());
    EXPECT_EQ(telemetry_.Value("outrigger_processor_transform_errors_total", {{"processor", "transform"}}), 1);
  }
  for (const char* mode : {"", "ignore", "silent"}) {  // "": the default, ignore
    cfg_ = Config();
    next_.traces.clear();
    auto p = Make(*mode ? std::string("error_mode: ") + mode + stmts : stmts, Signal::kTraces);
    ASSERT_TRUE(p->ConsumeTraces(data()).ok()) << mode;
    ASSERT_EQ(next_.traces.size(), 1u);
    next_.traces[0].ForEachRequest([&](const ctpb::ExportTraceServiceRequest& r) {
      const auto& attrs = r.resource_spans(0).scope_spans(0).spans(0).attributes();
      EXPECT_EQ(Str(attrs, "ratio"), "<absent>");
      EXPECT_EQ(Str(attrs, "after"), "yes") << mode;  // the next statement still ran
    });
  }
}

TEST_F(TransformTest, SpanEventsAndScope) {
  auto p = Make(R"y(
trace_statements:
  - set(spanevent.attributes["span"], span.name)
  - set(scope.attributes["touched"], true)
)y",
                Signal::kTraces);
  ASSERT_EQ(cfg_.trace_statements.size(), 2u);
  EXPECT_EQ(cfg_.trace_statements[0].context, ottl::ContextKind::kSpanEvent);
  EXPECT_EQ(cfg_.trace_statements[1].context, ottl::ContextKind::kScope);
  ctpb::ExportTraceServiceRequest* req;
  pdata::Traces t = pdata::Traces::New(&req);
  auto* span = req->add_resource_spans()->add_scope_spans()->add_spans();
  span->set_name("parent");
  span->add_events()->set_name("e1");
  span->add_events()->set_name("e2");
  ASSERT_TRUE(p->ConsumeTraces(std::move(t)).ok());
  next_.traces[0].ForEachRequest([&](const ctpb::ExportTraceServiceRequest& r) {
    const auto& ss = r.resource_spans(0).scope_spans(0);
    EXPECT_EQ(Str(ss.spans(0).events(0).attributes(), "span"), "parent");
    EXPECT_EQ(Str(ss.spans(0).events(1).attributes(), "span"), "parent");
    EXPECT_EQ(Str(ss.scope().attributes(), "touched"), "true");
  });
}

TEST_F(TransformTest, NoStatementsPassesThrough) {
  auto p = Make("log_statements: []\n", Signal::kTraces);
  ASSERT_TRUE(p->ConsumeTraces(testutil::MakeTraces(3)).ok());
  ASSERT_EQ(next_.traces.size(), 1u);
  EXPECT_EQ(next_.traces[0].ItemCount(), 3u);
}

}  // namespace
}  // namespace outrigger::processors::transform
