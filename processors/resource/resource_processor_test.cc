#include "processors/resource/resource_processor.h"

#include <gtest/gtest.h>

#include "collector/filterset/filterset.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::resource {
namespace {

// Keeps what it consumes.
class Keep : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    traces.push_back(std::move(d));
    return absl::OkStatus();
  }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    metrics.push_back(std::move(d));
    return absl::OkStatus();
  }
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    logs.push_back(std::move(d));
    return absl::OkStatus();
  }
  std::vector<pdata::Traces> traces;
  std::vector<pdata::Metrics> metrics;
  std::vector<pdata::Logs> logs;
};

std::unique_ptr<Processor> MustCreate(const std::string& yaml, Signal signal, Consumer* next) {
  Config cfg;
  config::Errors errors;
  EXPECT_TRUE(testutil::DecodeYaml(yaml, &cfg, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  Telemetry telemetry;
  auto p = NewResourceProcessor(testutil::Settings(&telemetry, "resource", Kind::kProcessor), cfg, signal, next);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

std::string AttrsOf(const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& attrs) {
  std::string out;
  for (const auto& kv : attrs) StrAppend(&out, out.empty() ? "" : ",", kv.key(), "=", filterset::AsString(kv.value()));
  return out;
}

constexpr char kReadmeExample[] = R"(
attributes:
  - key: cloud.availability_zone
    value: "zone-1"
    action: upsert
  - key: k8s.cluster.name
    from_attribute: k8s-cluster
    action: insert
  - key: redundant-attribute
    action: delete
)";

TEST(ResourceProcessor, ReadmeExampleOnEverySignal) {
  Keep next;
  const testutil::StringAttrs resource = {
      {"service.name", "svc"}, {"k8s-cluster", "prod-eu"}, {"redundant-attribute", "x"}};
  const std::string want =
      "service.name=svc,k8s-cluster=prod-eu,cloud.availability_zone=zone-1,k8s.cluster.name=prod-eu";

  auto traces = MustCreate(kReadmeExample, Signal::kTraces, &next);
  auto t = testutil::MakeTraces(2);
  t.ForEachMutableRequest([&](testutil::tpb::ExportTraceServiceRequest& r) {
    auto* attrs = r.mutable_resource_spans(0)->mutable_resource()->mutable_attributes();
    attrs->Clear();
    testutil::SetStringAttrs(attrs, resource);
  });
  ASSERT_TRUE(traces->ConsumeTraces(std::move(t)).ok());
  next.traces.at(0).ForEachRequest([&](const testutil::tpb::ExportTraceServiceRequest& r) {
    EXPECT_EQ(AttrsOf(r.resource_spans(0).resource().attributes()), want);
  });

  auto metrics = MustCreate(kReadmeExample, Signal::kMetrics, &next);
  ASSERT_TRUE(metrics->ConsumeMetrics(testutil::MetricsWith(resource, [](auto* sm) { sm->add_metrics(); })).ok());
  next.metrics.at(0).ForEachRequest([&](const testutil::mpb::ExportMetricsServiceRequest& r) {
    EXPECT_EQ(AttrsOf(r.resource_metrics(0).resource().attributes()), want);
  });

  auto logs = MustCreate(kReadmeExample, Signal::kLogs, &next);
  auto l = testutil::MakeLogs(1);
  l.ForEachMutableRequest([&](testutil::lpb::ExportLogsServiceRequest& r) {
    auto* attrs = r.mutable_resource_logs(0)->mutable_resource()->mutable_attributes();
    attrs->Clear();
    testutil::SetStringAttrs(attrs, resource);
  });
  ASSERT_TRUE(logs->ConsumeLogs(std::move(l)).ok());
  next.logs.at(0).ForEachRequest([&](const testutil::lpb::ExportLogsServiceRequest& r) {
    EXPECT_EQ(AttrsOf(r.resource_logs(0).resource().attributes()), want);
  });
}

TEST(ResourceProcessor, EachRequestOfABatchGetsItsOwnClientAddress) {
  Keep next;
  auto p = MustCreate("attributes:\n  - {key: net.peer.ip, from_context: client.address, action: upsert}\n",
                      Signal::kLogs, &next);
  pdata::Logs batch;
  for (const char* addr : {"10.0.0.1", "10.0.0.2"}) {
    auto l = pdata::Logs::FromProto(testutil::MakeLogs(1).ToProto());
    auto c = std::make_shared<pdata::ClientInfo>();
    c->address = addr;
    l->SetClientInfo(c);
    batch.Append(std::move(*l));
  }
  ASSERT_TRUE(p->ConsumeLogs(std::move(batch)).ok());
  std::vector<std::string> got;
  next.logs.at(0).ForEachRequest([&](const testutil::lpb::ExportLogsServiceRequest& r) {
    for (const auto& rl : r.resource_logs()) got.push_back(AttrsOf(rl.resource().attributes()));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"service.name=svc,net.peer.ip=10.0.0.1",
                                           "service.name=svc,net.peer.ip=10.0.0.2"}));
}

}  // namespace
}  // namespace outrigger::processors::resource
