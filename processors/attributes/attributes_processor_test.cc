#include "processors/attributes/attributes_processor.h"

#include <gtest/gtest.h>

#include "collector/filterset/filterset.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::attributes {
namespace {

namespace tpb = testutil::tpb;
namespace mpb = testutil::mpb;
namespace lpb = testutil::lpb;

// Keeps what it consumes; can refuse.
class Keep : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Take(std::move(d), &traces); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Take(std::move(d), &metrics); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Take(std::move(d), &logs); }
  template <typename T>
  absl::Status Take(T&& d, std::vector<T>* into) {
    if (!refuse.ok()) return refuse;
    into->push_back(std::move(d));
    return absl::OkStatus();
  }
  std::vector<pdata::Traces> traces;
  std::vector<pdata::Metrics> metrics;
  std::vector<pdata::Logs> logs;
  absl::Status refuse;
};

Config MustDecode(const std::string& yaml) {
  Config cfg;
  config::Errors errors;
  EXPECT_TRUE(testutil::DecodeYaml(yaml, &cfg, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  return cfg;
}

std::unique_ptr<Processor> MustCreate(const std::string& yaml, Signal signal, Consumer* next) {
  Telemetry telemetry;
  auto p = NewAttributesProcessor(testutil::Settings(&telemetry, "attributes", Kind::kProcessor), MustDecode(yaml),
                                  signal, next);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

std::string AttrsOf(const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& attrs) {
  std::string out;
  for (const auto& kv : attrs) StrAppend(&out, out.empty() ? "" : ",", kv.key(), "=", filterset::AsString(kv.value()));
  return out;
}

// "name{attributes}" of every span, in order.
std::vector<std::string> Spans(const pdata::Traces& t) {
  std::vector<std::string> out;
  t.ForEachRequest([&](const tpb::ExportTraceServiceRequest& r) {
    for (const auto& rs : r.resource_spans())
      for (const auto& ss : rs.scope_spans())
        for (const auto& s : ss.spans()) out.push_back(s.name() + "{" + AttrsOf(s.attributes()) + "}");
  });
  return out;
}

// One request: a resource per service, each with the spans given as (name, attrs).
pdata::Traces TracesOf(
    const std::vector<std::pair<std::string, std::vector<std::pair<std::string, testutil::StringAttrs>>>>& services) {
  tpb::ExportTraceServiceRequest* req = nullptr;
  auto t = pdata::Traces::New(&req);
  int id = 1;
  for (const auto& [service, spans] : services) {
    auto* rs = req->add_resource_spans();
    testutil::SetStringAttrs(rs->mutable_resource()->mutable_attributes(), {{"service.name", service}});
    auto* ss = rs->add_scope_spans();
    for (const auto& [name, attrs] : spans) {
      auto* s = ss->add_spans();
      s->set_name(name);
      s->set_trace_id(std::string(15, '\1') + static_cast<char>(id));
      s->set_span_id(std::string(7, '\1') + static_cast<char>(id++));
      testutil::SetStringAttrs(s->mutable_attributes(), attrs);
    }
  }
  return t;
}

TEST(AttributesProcessor, ReadmeExampleOnSpans) {
  Keep next;
  auto p = MustCreate(R"(
actions:
  - key: db.table
    action: delete
  - key: redacted_span
    value: true
    action: upsert
  - key: copy_key
    from_attribute: key_original
    action: update
  - key: account_id
    value: 2245
    action: insert
  - key: account_password
    action: delete
  - key: account_email
    action: hash
  - key: http.status_code
    action: convert
    converted_type: int
)",
                      Signal::kTraces, &next);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->MutatesData());
  auto in = TracesOf({{"svc",
                       {{"s",
                         {{"db.table", "users"},
                          {"copy_key", "x"},
                          {"key_original", "orig"},
                          {"account_password", "pw"},
                          {"account_email", "abc"},
                          {"http.status_code", "200"}}}}}});
  ASSERT_TRUE(p->ConsumeTraces(std::move(in)).ok());
  ASSERT_EQ(next.traces.size(), 1u);
  EXPECT_EQ(Spans(next.traces[0]),
            std::vector<std::string>{"s{copy_key=orig,key_original=orig,account_email="
                                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad,"
                                     "http.status_code=200,redacted_span=true,account_id=2245}"});
}

TEST(AttributesProcessor, IncludeAndNotExcludeOnSpans) {
  // Upstream's testdata (attributes/excludemulti, attributes/includeservices) combined:
  // only services svcA/svcB, and not the spans marked redact_trace=false.
  Keep next;
  auto p = MustCreate(R"(
include:
  match_type: regexp
  services: ["svcA", "svcB.*"]
exclude:
  match_type: strict
  attributes:
    - key: redact_trace
      value: "false"
actions:
  - key: credit_card
    action: delete
)",
                      Signal::kTraces, &next);
  ASSERT_NE(p, nullptr);
  auto in =
      TracesOf({{"svcA", {{"a1", {{"credit_card", "1"}}}, {"a2", {{"credit_card", "2"}, {"redact_trace", "false"}}}}},
                {"svcB2", {{"b", {{"credit_card", "3"}}}}},
                {"svcC", {{"c", {{"credit_card", "4"}}}}}});
  ASSERT_TRUE(p->ConsumeTraces(std::move(in)).ok());
  EXPECT_EQ(Spans(next.traces.at(0)),
            (std::vector<std::string>{"a1{}", "a2{credit_card=2,redact_trace=false}", "b{}", "c{credit_card=4}"}));
}

TEST(AttributesProcessor, ClientInfoThroughBatchingGivesEachRequestItsOwnClient) {
  Keep next;
  auto p = MustCreate(R"(
actions:
  - {key: client.address, from_context: client.address, action: upsert}
  - {key: tenant, from_context: metadata.x-tenant, action: insert}
)",
                      Signal::kTraces, &next);
  ASSERT_NE(p, nullptr);
  // Two requests from two clients, as the OTLP receiver hands them over, appended into
  // one batch (what the batch processor does), then split (send_batch_max_size).
  auto from = [](const std::string& addr, const std::string& tenant, const std::string& name) {
    auto t = pdata::Traces::FromProto(TracesOf({{"svc", {{name, {}}, {name + "'", {}}}}}).ToProto());
    auto c = std::make_shared<pdata::ClientInfo>();
    c->address = addr;
    c->metadata["x-tenant"] = {tenant};
    t->SetClientInfo(c);
    return std::move(*t);
  };
  pdata::Traces batch;
  batch.Append(from("10.0.0.1", "acme", "one"));
  batch.Append(from("10.0.0.2", "globex", "two"));
  pdata::Traces front = batch.SplitFront(3);
  ASSERT_TRUE(p->ConsumeTraces(std::move(front)).ok());
  ASSERT_TRUE(p->ConsumeTraces(std::move(batch)).ok());
  ASSERT_EQ(next.traces.size(), 2u);
  EXPECT_EQ(Spans(next.traces[0]), (std::vector<std::string>{"one{client.address=10.0.0.1,tenant=acme}",
                                                             "one'{client.address=10.0.0.1,tenant=acme}",
                                                             "two{client.address=10.0.0.2,tenant=globex}"}));
  EXPECT_EQ(Spans(next.traces[1]), std::vector<std::string>{"two'{client.address=10.0.0.2,tenant=globex}"});
}

TEST(AttributesProcessor, SharedDataIsCopiedNotChanged) {
  Keep next;
  auto p = MustCreate("actions:\n  - {key: added, value: yes, action: insert}\n", Signal::kTraces, &next);
  auto original = TracesOf({{"svc", {{"s", {}}}}});
  pdata::Traces clone = original.Clone();
  ASSERT_TRUE(p->ConsumeTraces(std::move(clone)).ok());
  EXPECT_EQ(Spans(next.traces.at(0)), std::vector<std::string>{"s{added=yes}"});
  EXPECT_EQ(Spans(original), std::vector<std::string>{"s{}"});  // another consumer's view is intact
}

TEST(AttributesProcessor, LogsIncludeBySeverityAndBody) {
  Keep next;
  auto p = MustCreate(R"(
include:
  match_type: regexp
  log_bodies: ["^line [02]$"]
  log_severity_texts: [INFO]
actions:
  - {key: picked, value: 1, action: insert}
)",
                      Signal::kLogs, &next);
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->ConsumeLogs(testutil::MakeLogs(3)).ok());
  std::vector<std::string> got;
  next.logs.at(0).ForEachRequest([&](const lpb::ExportLogsServiceRequest& r) {
    for (const auto& l : r.resource_logs()[0].scope_logs()[0].log_records()) got.push_back(AttrsOf(l.attributes()));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"picked=1", "", "picked=1"}));
}

TEST(AttributesProcessor, MetricsActOnDataPointAttributes) {
  Keep next;
  auto p = MustCreate(R"(
include:
  match_type: strict
  metric_names: [requests]
exclude:
  match_type: strict
  attributes: [{key: route, value: /health}]
actions:
  - {key: env, value: prod, action: upsert}
  - {key: user_id, action: hash}
)",
                      Signal::kMetrics, &next);
  ASSERT_NE(p, nullptr);
  auto in = testutil::MetricsWith({{"service.name", "svc"}}, [](opentelemetry::proto::metrics::v1::ScopeMetrics* sm) {
    auto* m = sm->add_metrics();
    m->set_name("requests");
    auto* sum = m->mutable_sum();
    testutil::SetStringAttrs(sum->add_data_points()->mutable_attributes(), {{"route", "/api"}, {"user_id", "abc"}});
    testutil::SetStringAttrs(sum->add_data_points()->mutable_attributes(), {{"route", "/health"}});
    auto* other = sm->add_metrics();
    other->set_name("latency");
    testutil::SetStringAttrs(other->mutable_histogram()->add_data_points()->mutable_attributes(), {{"route", "/api"}});
  });
  ASSERT_TRUE(p->ConsumeMetrics(std::move(in)).ok());
  std::vector<std::string> got;
  next.metrics.at(0).ForEachRequest([&](const mpb::ExportMetricsServiceRequest& r) {
    for (const auto& m : r.resource_metrics()[0].scope_metrics()[0].metrics()) {
      for (const auto& dp : m.sum().data_points()) got.push_back(m.name() + ":" + AttrsOf(dp.attributes()));
      for (const auto& dp : m.histogram().data_points()) got.push_back(m.name() + ":" + AttrsOf(dp.attributes()));
    }
  });
  EXPECT_EQ(got, (std::vector<std::string>{
                     "requests:route=/api,user_id=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad,"
                     "env=prod",
                     "requests:route=/health", "latency:route=/api"}));
}

TEST(AttributesProcessor, RefusalsPassThrough) {
  Keep next;
  next.refuse = absl::ResourceExhaustedError("queue full");
  auto p = MustCreate("actions:\n  - {key: a, value: 1, action: insert}\n", Signal::kLogs, &next);
  EXPECT_EQ(p->ConsumeLogs(testutil::MakeLogs(1)).code(), absl::StatusCode::kResourceExhausted);
}

TEST(AttributesProcessor, MatchPropertiesThatDoNotSuitTheSignalAreRefused) {
  Telemetry telemetry;
  Keep next;
  Config cfg = MustDecode("include: {match_type: strict, span_names: [a]}\nactions:\n  - {key: a, action: delete}\n");
  auto logs =
      NewAttributesProcessor(testutil::Settings(&telemetry, "attributes", Kind::kProcessor), cfg, Signal::kLogs, &next);
  EXPECT_EQ(logs.status().message(),
            "for logs: include: services, span_names, and span_kinds are not valid for log records");
  EXPECT_TRUE(NewAttributesProcessor(testutil::Settings(&telemetry, "attributes", Kind::kProcessor), cfg,
                                     Signal::kTraces, &next)
                  .ok());
}

}  // namespace
}  // namespace outrigger::processors::attributes
