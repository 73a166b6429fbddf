#include "processors/filter/filter_processor.h"

#include <gtest/gtest.h>

#include "collector/ottl/value.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::filter {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
namespace lpb = opentelemetry::proto::logs::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace ctpb = opentelemetry::proto::collector::trace::v1;
namespace clpb = opentelemetry::proto::collector::logs::v1;
namespace cmpb = opentelemetry::proto::collector::metrics::v1;

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

void Attr(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* m, const std::string& k,
          const std::string& v) {
  ottl::Upsert(m, k)->set_string_value(v);
}

class FilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Processor> Make(Signal signal, std::string_view yaml = "") {
    config::Errors errors;
    std::string file;
    EXPECT_TRUE(testutil::DecodeComponentConfig("processors/filter/testdata/config.yaml", "processors", "filter/ottl",
                                                &cfg_, &errors)
                    .ok())
        << errors.Joined();
    if (!yaml.empty()) {
      cfg_ = Config();
      EXPECT_TRUE(testutil::DecodeYaml(yaml, &cfg_, &errors).ok()) << errors.Joined();
    }
    return NewFilterProcessor(testutil::Settings(&telemetry_, "filter/ottl", Kind::kProcessor), cfg_, signal, &next_);
  }
  double Filtered(std::string_view signal, std::string_view reason) {
    return telemetry_.Value("outrigger_processor_filter_filtered_total",
                            {{"signal", std::string(signal)}, {"reason", std::string(reason)}});
  }
  Config cfg_;
  Telemetry telemetry_;
  Capture next_;
};

// upstream's README example (testdata/config.yaml) on spans and span events.
TEST_F(FilterTest, ReadmeExampleTraces) {
  auto p = Make(Signal::kTraces);
  ctpb::ExportTraceServiceRequest* req;
  pdata::Traces t = pdata::Traces::New(&req);
  auto* rs = req->add_resource_spans();
  Attr(rs->mutable_resource()->mutable_attributes(), "host.name", "web-1");
  auto* ss = rs->add_scope_spans();
  auto add = [&](const std::string& name) {
    auto* s = ss->add_spans();
    s->set_name(name);
    return s;
  };
  Attr(add("in_container")->mutable_attributes(), "container.name", "app_container_1");
  add("app_3");
  auto* kept = add("kept");
  kept->add_events()->set_name("my grpc call");  // dropped: IsMatch(name, ".*grpc.*")
  auto* flagged = kept->add_events();
  flagged->set_name("flagged");
  ottl::Upsert(flagged->mutable_attributes(), "grpc")->set_bool_value(true);
  kept->add_events()->set_name("stays");
  // A second resource, on localhost: all of its spans go, and the resource with them.
  auto* local = req->add_resource_spans();
  Attr(local->mutable_resource()->mutable_attributes(), "host.name", "localhost");
  local->add_scope_spans()->add_spans()->set_name("local");

  ASSERT_TRUE(p->ConsumeTraces(std::move(t)).ok());
  ASSERT_EQ(next_.traces.size(), 1u);
  EXPECT_EQ(testutil::SpanNames(next_.traces[0]), (std::vector<std::string>{"kept"}));
  next_.traces[0].ForEachRequest([&](const ctpb::ExportTraceServiceRequest& r) {
    ASSERT_EQ(r.resource_spans_size(), 1);
    const auto& span = r.resource_spans(0).scope_spans(0).spans(0);
    ASSERT_EQ(span.events_size(), 1);
    EXPECT_EQ(span.events(0).name(), "stays");
  });
  EXPECT_EQ(Filtered("traces", R"(span: attributes["container.name"] == "app_container_1")"), 1);
  EXPECT_EQ(Filtered("traces", R"(span: resource.attributes["host.name"] == "localhost")"), 1);
  EXPECT_EQ(Filtered("traces", R"(span: name == "app_3")"), 1);
  EXPECT_EQ(Filtered("traces", R"(spanevent: attributes["grpc"] == true)"), 1);
  EXPECT_EQ(Filtered("traces", R"(spanevent: IsMatch(name, ".*grpc.*"))"), 1);
}

TEST_F(FilterTest, ReadmeExampleMetrics) {
  auto p = Make(Signal::kMetrics);
  pdata::Metrics m = testutil::MetricsWith({{"my_label", "abc123"}}, [](mpb::ScopeMetrics* sm) {
    auto* mine = sm->add_metrics();
    mine->set_name("my.metric");
    mine->mutable_gauge()->add_data_points()->set_as_int(1);
    mine->mutable_gauge()->add_data_points()->set_as_int(2);
    auto* hist = sm->add_metrics();
    hist->set_name("latency");
    hist->mutable_histogram()->add_data_points()->set_count(3);
    auto* summary = sm->add_metrics();
    summary->set_name("quantiles");
    summary->mutable_summary()->add_data_points()->set_count(1);
    auto* kept = sm->add_metrics();
    kept->set_name("kept");
    kept->mutable_sum()->add_data_points()->set_as_double(1.5);
  });
  ASSERT_TRUE(p->ConsumeMetrics(std::move(m)).ok());
  ASSERT_EQ(next_.metrics.size(), 1u);
  EXPECT_EQ(next_.metrics[0].ItemCount(), 1u);
  next_.metrics[0].ForEachRequest([&](const cmpb::ExportMetricsServiceRequest& r) {
    const auto& ms = r.resource_metrics(0).scope_metrics(0).metrics();
    ASSERT_EQ(ms.size(), 1);  // the summary lost its only point, so the metric went too
    EXPECT_EQ(ms[0].name(), "kept");
  });
  EXPECT_EQ(Filtered("metrics", R"(metric: name == "my.metric" and resource.attributes["my_label"] == "abc123")"), 2);
  EXPECT_EQ(Filtered("metrics", "metric: type == METRIC_DATA_TYPE_HISTOGRAM"), 1);
  EXPECT_EQ(Filtered("metrics", "datapoint: metric.type == METRIC_DATA_TYPE_SUMMARY"), 1);
}

TEST_F(FilterTest, ReadmeExampleLogsAndEverythingFiltered) {
  auto p = Make(Signal::kLogs);
  clpb::ExportLogsServiceRequest* req;
  pdata::Logs l = pdata::Logs::New(&req);
  auto* sl = req->add_resource_logs()->add_scope_logs();
  auto add = [&](const std::string& body, lpb::SeverityNumber sev) {
    auto* r = sl->add_log_records();
    r->mutable_body()->set_string_value(body);
    r->set_severity_number(sev);
  };
  add("user password is x", lpb::SEVERITY_NUMBER_ERROR);
  add("debug noise", lpb::SEVERITY_NUMBER_DEBUG);
  add("disk full", lpb::SEVERITY_NUMBER_WARN);
  ASSERT_TRUE(p->ConsumeLogs(std::move(l)).ok());
  ASSERT_EQ(next_.logs.size(), 1u);
  EXPECT_EQ(next_.logs[0].ItemCount(), 1u);
  EXPECT_EQ(Filtered("logs", R"(log_record: IsMatch(body, ".*password.*"))"), 1);
  EXPECT_EQ(Filtered("logs", "log_record: severity_number < SEVERITY_NUMBER_WARN"), 1);

  // Nothing left: nothing is passed on, and that is not an error.
  pdata::Logs all = pdata::Logs::New(&req);
  auto* only = req->add_resource_logs()->add_scope_logs()->add_log_records();
  only->set_severity_number(lpb::SEVERITY_NUMBER_INFO);
  ASSERT_TRUE(p->ConsumeLogs(std::move(all)).ok());
  EXPECT_EQ(next_.logs.size(), 1u);
}

TEST_F(FilterTest, ErrorModes) {
  const char* conds = R"y(
logs:
  log_record:
    - 'attributes["n"] / 0 > 1'
    - 'body == "drop"'
)y";
  auto data = [] {
    clpb::ExportLogsServiceRequest* req;
    pdata::Logs l = pdata::Logs::New(&req);
    auto* sl = req->add_resource_logs()->add_scope_logs();
    for (const char* body : {"drop", "keep"}) {
      auto* r = sl->add_log_records();
      r->mutable_body()->set_string_value(body);
      ottl::Upsert(r->mutable_attributes(), "n")->set_int_value(4);
    }
    return l;
  };
  {
    auto p = Make(Signal::kLogs, std::string("error_mode: propagate") + conds);
    absl::Status st = p->ConsumeLogs(data());
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("division by zero"), std::string::npos) << st;
    EXPECT_TRUE(next_.logs.empty());
  }
  for (const char* mode : {"ignore", "silent"}) {
    next_.logs.clear();
    auto p = Make(Signal::kLogs, std::string("error_mode: ") + mode + conds);
    ASSERT_TRUE(p->ConsumeLogs(data()).ok()) << mode;
    ASSERT_EQ(next_.logs.size(), 1u);
    EXPECT_EQ(next_.logs[0].ItemCount(), 1u) << mode;  // the failing condition counts as false
  }
  EXPECT_EQ(telemetry_.Value("outrigger_processor_filter_errors_total", {{"signal", "logs"}}), 5);
}

// upstream's README example of the older form: metrics include (regexp, with
// resource_attributes) and exclude (strict).
TEST_F(FilterTest, LegacyIncludeExcludeMetrics) {
  auto p = Make(Signal::kMetrics, R"y(
metrics:
  include:
    match_type: regexp
    metric_names:
      - prefix/.*
      - prefix_.*
    resource_attributes:
      - key: container.name
        value: app_container_1
  exclude:
    match_type: strict
    metric_names:
      - prefix_hello_world
)y");
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  pdata::Metrics m = testutil::MetricsWith({{"container.name", "app_container_1"}}, [](mpb::ScopeMetrics* sm) {
    for (const char* name : {"prefix/a", "prefix_b", "prefix_hello_world", "other"}) {
      auto* metric = sm->add_metrics();
      metric->set_name(name);
      metric->mutable_gauge()->add_data_points()->set_as_int(1);
    }
  });
  ASSERT_TRUE(p->ConsumeMetrics(std::move(m)).ok());
  ASSERT_EQ(next_.metrics.size(), 1u);
  std::vector<std::string> names;
  next_.metrics[0].ForEachRequest([&](const cmpb::ExportMetricsServiceRequest& r) {
    for (const auto& metric : r.resource_metrics(0).scope_metrics(0).metrics()) names.push_back(metric.name());
  });
  EXPECT_EQ(names, (std::vector<std::string>{"prefix/a", "prefix_b"}));
  EXPECT_EQ(Filtered("metrics", "include/exclude"), 2);
}

TEST_F(FilterTest, LegacySpansAndLogs) {
  auto spans = Make(Signal::kTraces, R"y(
spans:
  exclude:
    match_type: regexp
    span_names: ["^healthcheck"]
    services: [svc]
)y");
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  ASSERT_TRUE(spans->ConsumeTraces(testutil::MakeTraces(2, "svc", "healthcheck")).ok());
  EXPECT_TRUE(next_.traces.empty());  // all gone: nothing passed on
  ASSERT_TRUE(spans->ConsumeTraces(testutil::MakeTraces(2, "other", "healthcheck")).ok());
  ASSERT_EQ(next_.traces.size(), 1u);
  EXPECT_EQ(next_.traces[0].ItemCount(), 2u);

  auto logs = Make(Signal::kLogs, R"y(
logs:
  include:
    match_type: regexp
    bodies: ["^ERROR"]
    severity_number:
      min: WARN
)y");
  ASSERT_TRUE(cfg_.Validate().ok()) << cfg_.Validate();
  clpb::ExportLogsServiceRequest* req;
  pdata::Logs l = pdata::Logs::New(&req);
  auto* sl = req->add_resource_logs()->add_scope_logs();
  auto add = [&](const std::string& body, lpb::SeverityNumber sev) {
    auto* r = sl->add_log_records();
    r->mutable_body()->set_string_value(body);
    r->set_severity_number(sev);
  };
  add("ERROR disk", lpb::SEVERITY_NUMBER_ERROR);  // kept: both properties match
  add("ERROR minor", lpb::SEVERITY_NUMBER_INFO);  // severity too low
  add("fine", lpb::SEVERITY_NUMBER_ERROR);        // body does not match
  ASSERT_TRUE(logs->ConsumeLogs(std::move(l)).ok());
  ASSERT_EQ(next_.logs.size(), 1u);
  EXPECT_EQ(next_.logs[0].ItemCount(), 1u);
}

TEST_F(FilterTest, LegacyAndOttlTogetherAreRefused) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml(R"y(
logs:
  log_record: ['body == "x"']
  exclude:
    match_type: strict
    bodies: [x]
)y",
                                   &c, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_EQ(c.Validate().message(),
            "logs: include/exclude cannot be used together with OTTL conditions; write them all as conditions");
}

}  // namespace
}  // namespace outrigger::processors::filter
