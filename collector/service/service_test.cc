#include "collector/service/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "collector/component/admission.h"
#include "collector/component/registry.h"
#include "tests/testutil/testutil.h"

namespace outrigger {
namespace {

using testutil::MakeTraces;

// ---- test components, observable through globals ----
std::vector<std::string>* events;
std::map<std::string, testutil::Sink*>* sinks;
std::map<std::string, Receiver::Consumers>* receivers;
std::map<std::string, Admission>* admissions;
int receiver_creations = 0;

class Recorded : public Component {};

// A config with one optional key, so a test can change a component's config.
struct TagConfig : ComponentConfig {
  std::string tag;
  bool fail_start = false;
  void Decode(config::Node& n) override {
    n.Read("tag", &tag);
    n.Read("fail_start", &fail_start);
  }
};

class SinkExporter : public testutil::Sink {
 public:
  SinkExporter(std::string id, bool fail_start) : id_(std::move(id)), fail_start_(fail_start) { (*sinks)[id_] = this; }
  ~SinkExporter() override {
    if ((*sinks)[id_] == this) sinks->erase(id_);
  }
  absl::Status Start(Host&) override {
    events->push_back("start exporter " + id_);
    return fail_start_ ? absl::UnavailableError("address in use") : absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    events->push_back("stop exporter " + id_);
    return absl::OkStatus();
  }
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    ++entered;
    return testutil::Sink::ConsumeTraces(std::move(d));
  }
  std::atomic<int> entered{0};  // calls begun (a blocked one included)

 private:
  std::string id_;
  bool fail_start_;
};

class SinkFactory : public ExporterFactory {
 public:
  SinkFactory(std::string type, std::set<Signal> signals) : type_(std::move(type)), signals_(std::move(signals)) {}
  std::string_view Type() const override { return type_; }
  std::set<Signal> Signals() const override { return signals_; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<TagConfig>(); }
  absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings& s,
                                                           const ComponentConfig& cfg) const override {
    return std::unique_ptr<Exporter>(
        std::make_unique<SinkExporter>(s.id.String(), static_cast<const TagConfig&>(cfg).fail_start));
  }
  std::string type_;
  std::set<Signal> signals_;
};

class TestReceiver : public Receiver, public AdmissionClient {
 public:
  explicit TestReceiver(std::string id) : id_(std::move(id)) {}
  absl::Status Start(Host&) override {
    (*receivers)[id_] = consumers_;
    (*admissions)[id_] = admission_;
    events->push_back("start receiver " + id_);
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    events->push_back("stop receiver " + id_);
    return absl::OkStatus();
  }
  std::string id_;
};

class TestReceiverFactory : public ReceiverFactory {
 public:
  std::string_view Type() const override { return "testrecv"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<TagConfig>(); }
  absl::StatusOr<std::unique_ptr<Receiver>> CreateReceiver(const CreateSettings& s,
                                                           const ComponentConfig&) const override {
    ++receiver_creations;
    return std::unique_ptr<Receiver>(std::make_unique<TestReceiver>(s.id.String()));
  }
};

// Renames every span: a mutating consumer.
class Renamer : public Processor {
 public:
  Renamer(std::string id, Consumer* next) : id_(std::move(id)), next_(next) {}
  bool MutatesData() const override { return true; }
  absl::Status Start(Host&) override {
    events->push_back("start processor " + id_);
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    events->push_back("stop processor " + id_);
    return absl::OkStatus();
  }
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    d.ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
      for (auto& rs : *r.mutable_resource_spans())
        for (auto& ss : *rs.mutable_scope_spans())
          for (auto& s : *ss.mutable_spans()) s.set_name("renamed-" + s.name());
    });
    return next_->ConsumeTraces(std::move(d));
  }
  std::string id_;
  Consumer* next_;
};

struct RenamerConfig : ComponentConfig {
  std::string prefix = "renamed-";
  void Decode(config::Node& n) override { n.Read("prefix", &prefix); }
};

class RenamerFactory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "renamer"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<RenamerConfig>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& s, const ComponentConfig&, Signal,
                                                             Consumer* next) const override {
    return std::unique_ptr<Processor>(std::make_unique<Renamer>(s.id.String(), next));
  }
};

// Passes data on; its admission control refuses everything (as a memory_limiter above
// its limit would).
class Closed : public AdmissionControl {
 public:
  absl::Status Reserve(uint64_t) override { return absl::ResourceExhaustedError("closed"); }
  void Release(uint64_t) override {}
};
class Gate : public Processor, public AdmissionProvider {
 public:
  explicit Gate(Consumer* next) : next_(next) {}
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return next_->ConsumeTraces(std::move(d)); }
  AdmissionControl* admission() override { return &closed_; }
  Consumer* next_;
  Closed closed_;
};
class GateFactory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "gate"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<EmptyConfig>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings&, const ComponentConfig&, Signal,
                                                             Consumer* next) const override {
    return std::unique_ptr<Processor>(std::make_unique<Gate>(next));
  }
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events = &events_;
    sinks = &sinks_;
    receivers = &receivers_;
    admissions = &admissions_;
    receiver_creations = 0;
    RegisterBuiltins(registry_);
    registry_.Add(
        std::make_unique<SinkFactory>("sink", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs}));
    registry_.Add(std::make_unique<SinkFactory>("tracesink", std::set<Signal>{Signal::kTraces}));
    registry_.Add(std::make_unique<TestReceiverFactory>());
    registry_.Add(std::make_unique<RenamerFactory>());
    registry_.Add(std::make_unique<GateFactory>());
  }

  absl::StatusOr<std::unique_ptr<Service>> Build(const std::string& yaml, const Service* previous = nullptr) {
    errors_ = config::Errors();
    std::string full = yaml + "\n  telemetry:\n    metrics:\n      level: none\n";
    YAML::Node root = config::LoadAndMerge({{"test.yaml", full}}, &errors_);
    return Service::Build(root, registry_, telemetry_, &errors_, previous);
  }
  // The events since `from`.
  std::vector<std::string> EventsSince(size_t from) const {
    return std::vector<std::string>(events_.begin() + static_cast<long>(from), events_.end());
  }
  std::string Errors() const { return errors_.Joined(); }

  Registry registry_;
  Telemetry telemetry_;
  config::Errors errors_;
  testutil::TestHost host_;
  std::vector<std::string> events_;
  std::map<std::string, testutil::Sink*> sinks_;
  std::map<std::string, Receiver::Consumers> receivers_;
  std::map<std::string, Admission> admissions_;
};

TEST_F(ServiceTest, FanOutGivesEachPipelineItsOwnCopy) {
  auto svc = Build(R"(
receivers: {testrecv: }
processors: {renamer: }
exporters: {sink/a: , sink/b: , sink/c: }
service:
  pipelines:
    traces/renamed: {receivers: [testrecv], processors: [renamer], exporters: [sink/a]}
    traces/plain: {receivers: [testrecv], exporters: [sink/b, sink/c]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  ASSERT_TRUE((*svc)->Start(host_.IoContext()).ok());
  ASSERT_TRUE(receivers_["testrecv"].traces != nullptr);
  ASSERT_TRUE(receivers_["testrecv"].traces->ConsumeTraces(MakeTraces(2, "svc", "x")).ok());
  EXPECT_EQ(sinks_["sink/a"]->SpanNames(), (std::vector<std::string>{"renamed-x-0", "renamed-x-1"}));
  EXPECT_EQ(sinks_["sink/b"]->SpanNames(), (std::vector<std::string>{"x-0", "x-1"}));
  EXPECT_EQ(sinks_["sink/c"]->SpanNames(), (std::vector<std::string>{"x-0", "x-1"}));
  (*svc)->Shutdown();
}

TEST_F(ServiceTest, OneReceiverInstanceServesEveryPipelineAndSignal) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]}
    logs: {receivers: [testrecv], exporters: [sink]}
    metrics: {receivers: [testrecv], exporters: [sink]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  EXPECT_EQ(receiver_creations, 1);
  ASSERT_TRUE((*svc)->Start(host_.IoContext()).ok());
  auto c = receivers_["testrecv"];
  ASSERT_TRUE(c.traces && c.metrics && c.logs);
  ASSERT_TRUE(c.metrics->ConsumeMetrics(testutil::MakeMetrics(3)).ok());
  ASSERT_TRUE(c.logs->ConsumeLogs(testutil::MakeLogs(2)).ok());
  EXPECT_EQ(sinks_["sink"]->PointCount(), 3u);
  EXPECT_EQ(sinks_["sink"]->LogCount(), 2u);
}

TEST_F(ServiceTest, StartsDownstreamFirstAndStopsUpstreamFirst) {
  auto svc = Build(R"(
receivers: {testrecv: }
processors: {renamer: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], processors: [renamer], exporters: [sink]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  ASSERT_TRUE((*svc)->Start(host_.IoContext()).ok());
  EXPECT_TRUE((*svc)->Ready());
  (*svc)->Shutdown();
  EXPECT_FALSE((*svc)->Ready());
  EXPECT_EQ(events_,
            (std::vector<std::string>{"start exporter sink", "start processor renamer", "start receiver testrecv",
                                      "stop receiver testrecv", "stop processor renamer", "stop exporter sink"}));
}

TEST_F(ServiceTest, MissingComponentIsRefusedWithWhatIsConfigured) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [nope]})");
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(Errors().find("references exporter \"nope\" which is not configured; configured: sink"), std::string::npos)
      << Errors();
}

TEST_F(ServiceTest, UnknownTypeGetsASuggestion) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters: {debg: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [debg]})");
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(Errors().find("exporters.debg (line 3): unknown exporter type \"debg\"; did you mean 'debug'?"),
            std::string::npos)
      << Errors();
}

TEST_F(ServiceTest, UpstreamsCurrentTypeNamesAreAliases) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters:
  otlp_grpc: {endpoint: "127.0.0.1:1"}
  otlp_http/b: {endpoint: "http://127.0.0.1:1"}
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [otlp_grpc, otlp_http/b]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  EXPECT_EQ(registry_.Find(Kind::kExporter, "otlp_grpc"), registry_.Find(Kind::kExporter, "otlp"));
  EXPECT_EQ(registry_.Find(Kind::kExporter, "otlp_http"), registry_.Find(Kind::kExporter, "otlphttp"));
  auto typo = Build(R"(
receivers: {testrecv: }
exporters: {otlp_htp: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [otlp_htp]})");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(Errors().find("did you mean 'otlp_http'?"), std::string::npos) << Errors();
}

TEST_F(ServiceTest, UnsupportedSignalIsRefused) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters: {tracesink: }
service:
  pipelines:
    logs: {receivers: [testrecv], exporters: [tracesink]})");
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(Errors().find("exporter \"tracesink\" does not support logs"), std::string::npos) << Errors();
}

TEST_F(ServiceTest, CyclesThroughConnectorsAreRefused) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters: {sink: }
connectors: {forward/1: , forward/2: }
service:
  pipelines:
    traces/in: {receivers: [testrecv], exporters: [forward/1]}
    traces/b: {receivers: [forward/1, forward/2], exporters: [sink, forward/2]})");
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(Errors().find("pipelines form a cycle through connectors: traces/b -> traces/b"), std::string::npos)
      << Errors();
}

TEST_F(ServiceTest, ForwardConnectorJoinsPipelines) {
  auto svc = Build(R"(
receivers: {testrecv: }
processors: {renamer: }
exporters: {sink: }
connectors: {forward: }
service:
  pipelines:
    traces/in: {receivers: [testrecv], exporters: [forward]}
    traces/out: {receivers: [forward], processors: [renamer], exporters: [sink]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  ASSERT_TRUE((*svc)->Start(host_.IoContext()).ok());
  ASSERT_TRUE(receivers_["testrecv"].traces->ConsumeTraces(MakeTraces(1, "svc", "f")).ok());
  EXPECT_EQ(sinks_["sink"]->SpanNames(), (std::vector<std::string>{"renamed-f-0"}));
}

TEST_F(ServiceTest, EveryErrorIsListed) {
  auto svc = Build(R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpint: 127.0.0.1:4317
processors:
  batch:
    timeout: soon
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [sink]}
    bogus: {receivers: [otlp], exporters: [sink]})");
  ASSERT_FALSE(svc.ok());
  EXPECT_EQ(errors_.list().size(), 3u) << Errors();
  EXPECT_NE(Errors().find("receivers.otlp.protocols.grpc.endpint (line 6): unknown key; did you mean 'endpoint'?"),
            std::string::npos)
      << Errors();
  EXPECT_NE(Errors().find("processors.batch.timeout (line 9): expected a duration"), std::string::npos);
  EXPECT_NE(Errors().find("pipeline type \"bogus\" must be traces, metrics or logs"), std::string::npos);
}

TEST_F(ServiceTest, EmbeddedComponentsValidateTheirConfig) {
  auto svc = Build(R"(
receivers: {testrecv: }
processors:
  batch: {send_batch_size: 100, send_batch_max_size: 10}
exporters:
  file: {}
service:
  pipelines:
    traces: {receivers: [testrecv], processors: [batch], exporters: [file]})");
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(Errors().find("send_batch_max_size must be 0 or at least send_batch_size"), std::string::npos) << Errors();
  EXPECT_NE(Errors().find("exporters.file"), std::string::npos);
  EXPECT_NE(Errors().find("path is required"), std::string::npos);
}

TEST_F(ServiceTest, AStartFailureNamesTheComponent) {
  auto svc = Build(R"(
receivers: {testrecv: }
exporters:
  file/archive: {path: /nonexistent-dir/out.jsonl}
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [file/archive]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  auto st = (*svc)->Start(host_.IoContext());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(
      std::string(st.message()).find("cannot start exporter file/archive: cannot open \"/nonexistent-dir/out.jsonl\""),
      std::string::npos)
      << st;
  EXPECT_FALSE((*svc)->Ready());
}

TEST_F(ServiceTest, NoPipelinesIsAnError) {
  auto svc = Build("receivers: {testrecv: }\nservice:\n  pipelines: {}");
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(Errors().find("at least one pipeline"), std::string::npos) << Errors();
}

TEST_F(ServiceTest, OwnMetricsTlsIsDecodedAndChecked) {
  auto build = [&](const std::string& tls) {
    errors_ = config::Errors();
    std::string yaml = R"(
receivers: {testrecv: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]}
  telemetry:
    metrics:
      address: 127.0.0.1:0
      tls: )" + tls + "\n";
    YAML::Node root = config::LoadAndMerge({{"test.yaml", yaml}}, &errors_);
    return Service::Build(root, registry_, telemetry_, &errors_);
  };
  auto ok = build("{cert_file: /etc/tls/s.pem, key_file: /etc/tls/s.key, client_ca_file: /etc/tls/ca.pem}");
  ASSERT_TRUE(ok.ok()) << Errors();
  EXPECT_EQ((*ok)->settings().metrics_tls.cert_file, "/etc/tls/s.pem");
  EXPECT_TRUE((*ok)->settings().metrics_tls.mutual());
  // Files are read at start: a missing one fails it, naming the file.
  auto st = (*ok)->Start(host_.IoContext());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/etc/tls/s.pem"), std::string::npos) << st;
  (*ok)->Shutdown();

  auto half = build("{cert_file: /etc/tls/s.pem}");
  EXPECT_FALSE(half.ok());
  EXPECT_NE(Errors().find("service.telemetry.metrics.tls"), std::string::npos) << Errors();
  EXPECT_NE(Errors().find("key_file"), std::string::npos) << Errors();
}

TEST_F(ServiceTest, OwnMetricsNamingAndUpstreamReaders) {
  auto build = [&](const std::string& metrics) {
    errors_ = config::Errors();
    std::string yaml = R"(
receivers: {testrecv: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]}
  telemetry:
    metrics: )" + metrics +
                       "\n";
    YAML::Node root = config::LoadAndMerge({{"test.yaml", yaml}}, &errors_);
    return Service::Build(root, registry_, telemetry_, &errors_);
  };
  auto def = build("{}");
  ASSERT_TRUE(def.ok()) << Errors();
  EXPECT_EQ((*def)->settings().metrics_exposition.naming, MetricNaming::kOutrigger);

  // Upstream's current form: one pull reader of the Prometheus exporter.
  auto readers = build(
      "{naming: otelcol, level: detailed, readers: [{pull: {exporter: {prometheus: "
      "{host: '::1', port: 9464, without_type_suffix: false, without_units: true, without_scope_info: true}}}}]}");
  ASSERT_TRUE(readers.ok()) << Errors();
  EXPECT_EQ((*readers)->settings().metrics_address, "[::1]:9464");
  EXPECT_EQ((*readers)->settings().metrics_exposition.naming, MetricNaming::kOtelcol);
  EXPECT_FALSE((*readers)->settings().metrics_exposition.without_type_suffix);
  EXPECT_TRUE((*readers)->settings().metrics_exposition.without_units);
  auto local = build("{readers: [{pull: {exporter: {prometheus: {host: localhost, port: 8888}}}}]}");
  ASSERT_TRUE(local.ok()) << Errors();
  EXPECT_EQ((*local)->settings().metrics_address, "127.0.0.1:8888");

  // Refused, each with what to do instead (never "unknown key").
  for (auto [metrics, want] : std::vector<std::pair<std::string, std::string>>{
           {"{naming: prometheus}", "naming"},
           {"{readers: [{periodic: {exporter: {otlp: {endpoint: 'http://x:4317'}}}}]}",
            "periodic is not supported: pushing the collector's own metrics"},
           {"{readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1}}}}]}", "port is required"},
           {"{readers: [{pull: {exporter: {prometheus: {port: 1, with_resource_constant_labels: {included: [a]}}}}}]}",
            "with_resource_constant_labels is not supported"},
           {"{readers: [{pull: {exporter: {prometheus: {port: 1, without_scope_info: false}}}}]}",
            "no instrumentation scopes"},
           {"{readers: [{pull: {exporter: {prometheus: {port: 1}}}}, {pull: {exporter: {prometheus: {port: 2}}}}]}",
            "only one pull reader"},
           {"{address: '127.0.0.1:1', readers: [{pull: {exporter: {prometheus: {port: 2}}}}]}", "not both"},
           {"{views: [{selector: {instrument_name: x}}]}", "views is not supported"},
       }) {
    auto svc = build(metrics);
    EXPECT_FALSE(svc.ok()) << metrics;
    EXPECT_NE(Errors().find(want), std::string::npos) << metrics << "\n" << Errors();
    EXPECT_EQ(Errors().find("unknown"), std::string::npos) << metrics << "\n" << Errors();
  }
}

// ---- reload: what is carried over, what is replaced ----

constexpr char kTwoPipelines[] = R"(
receivers: {testrecv: }
processors: {renamer: }
exporters: {sink/a: {tag: TAG}, sink/b: }
service:
  pipelines:
    traces/1: {receivers: [testrecv], processors: [renamer], exporters: [sink/a]}
    traces/2: {receivers: [testrecv], exporters: [sink/b]})";

std::string WithTag(std::string yaml, const std::string& tag) {
  yaml.replace(yaml.find("TAG"), 3, tag);
  return yaml;
}

TEST_F(ServiceTest, ReloadKeepsTheUnchangedReceiverAndReplacesTheChangedExporter) {
  auto v1 = Build(WithTag(kTwoPipelines, "one"));
  ASSERT_TRUE(v1.ok()) << Errors();
  ASSERT_TRUE((*v1)->Start(host_.IoContext()).ok());
  Consumer* entry = receivers_["testrecv"].traces;
  ASSERT_TRUE(entry->ConsumeTraces(MakeTraces(1, "svc", "before")).ok());
  testutil::Sink* old_a = sinks_["sink/a"];
  testutil::Sink* b = sinks_["sink/b"];

  auto v2 = Build(WithTag(kTwoPipelines, "two"), v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  const ReloadPlan& plan = (*v2)->plan();
  ASSERT_TRUE(plan.partial) << plan.why_full;
  EXPECT_EQ(plan.kept, (std::vector<std::string>{"exporter sink/b", "pipeline traces/2", "receiver testrecv"}));
  EXPECT_EQ(plan.replaced, (std::vector<std::string>{"exporter sink/a", "pipeline traces/1"}));
  EXPECT_TRUE(plan.added.empty() && plan.removed.empty()) << plan.Summary();
  EXPECT_EQ(receiver_creations, 1);  // the kept one is the same instance, not a new one
  EXPECT_NE((*v1)->config_hash(), (*v2)->config_hash());

  const size_t mark = events_.size();
  bool untouched = false;
  ASSERT_TRUE((*v2)->TakeOver(**v1, host_.IoContext(), &untouched).ok());
  // New first, then the old ones stop (flushing into what still runs); the receiver
  // and sink/b never stop.
  EXPECT_EQ(EventsSince(mark), (std::vector<std::string>{"start exporter sink/a", "start processor renamer",
                                                         "stop processor renamer", "stop exporter sink/a"}));
  EXPECT_TRUE((*v2)->Ready());
  v1->reset();  // the previous service stops nothing more when it goes
  EXPECT_EQ(events_.size(), mark + 4);

  // The receiver's consumer is the one it was given at first; it now feeds the new sink/a.
  EXPECT_EQ(receivers_["testrecv"].traces, entry);
  ASSERT_TRUE(entry->ConsumeTraces(MakeTraces(1, "svc", "after")).ok());
  ASSERT_NE(sinks_["sink/a"], old_a);
  EXPECT_EQ(sinks_["sink/a"]->SpanNames(), (std::vector<std::string>{"renamed-after-0"}));
  EXPECT_EQ(sinks_["sink/b"], b);  // the same exporter, holding what it had
  EXPECT_EQ(b->SpanNames(), (std::vector<std::string>{"before-0", "after-0"}));
  (*v2)->Shutdown();
  EXPECT_EQ(EventsSince(mark + 4), (std::vector<std::string>{"stop receiver testrecv", "stop processor renamer",
                                                             "stop exporter sink/b", "stop exporter sink/a"}));
}

TEST_F(ServiceTest, ReloadOfTheSameConfigKeepsEverything) {
  auto v1 = Build(WithTag(kTwoPipelines, "one"));
  ASSERT_TRUE(v1.ok()) << Errors();
  ASSERT_TRUE((*v1)->Start(host_.IoContext()).ok());
  // Key order and flow style do not count.
  auto v2 = Build(R"(
exporters:
  sink/b:
  sink/a:
    tag: one
receivers: {testrecv: }
processors: {renamer: }
service:
  pipelines:
    traces/2: {receivers: [testrecv], exporters: [sink/b]}
    traces/1: {receivers: [testrecv], processors: [renamer], exporters: [sink/a]})",
                  v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  EXPECT_TRUE((*v2)->plan().replaced.empty() && (*v2)->plan().added.empty()) << (*v2)->plan().Summary();
  EXPECT_EQ((*v2)->plan().kept.size(), 5u) << (*v2)->plan().Summary();
  EXPECT_EQ((*v1)->config_hash(), (*v2)->config_hash());
  const size_t mark = events_.size();
  bool untouched = false;
  ASSERT_TRUE((*v2)->TakeOver(**v1, host_.IoContext(), &untouched).ok());
  v1->reset();
  EXPECT_EQ(events_.size(), mark);  // nothing stopped, nothing started
  ASSERT_TRUE(receivers_["testrecv"].traces->ConsumeTraces(MakeTraces(1, "svc", "x")).ok());
  EXPECT_EQ(sinks_["sink/a"]->SpanNames(), (std::vector<std::string>{"renamed-x-0"}));
}

TEST_F(ServiceTest, AChangedReceiverStopsBeforeItsReplacementStarts) {
  const std::string yaml = R"(
receivers: {testrecv: {tag: TAG}}
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]})";
  auto v1 = Build(WithTag(yaml, "one"));
  ASSERT_TRUE(v1.ok()) << Errors();
  ASSERT_TRUE((*v1)->Start(host_.IoContext()).ok());
  auto v2 = Build(WithTag(yaml, "two"), v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  EXPECT_EQ((*v2)->plan().replaced, (std::vector<std::string>{"receiver testrecv"}));
  const size_t mark = events_.size();
  bool untouched = false;
  ASSERT_TRUE((*v2)->TakeOver(**v1, host_.IoContext(), &untouched).ok());
  // It may listen where the old one did: the old one goes first. The exporter stays.
  EXPECT_EQ(EventsSince(mark), (std::vector<std::string>{"stop receiver testrecv", "start receiver testrecv"}));
  EXPECT_EQ(receiver_creations, 2);
  v1->reset();
  ASSERT_TRUE(receivers_["testrecv"].traces->ConsumeTraces(MakeTraces(1, "svc", "x")).ok());
  EXPECT_EQ(sinks_["sink"]->SpanNames(), (std::vector<std::string>{"x-0"}));
}

TEST_F(ServiceTest, AReceiverFeedingAnotherSignalIsReplaced) {
  auto v1 = Build(R"(
receivers: {testrecv: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]})");
  ASSERT_TRUE(v1.ok()) << Errors();
  auto v2 = Build(R"(
receivers: {testrecv: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]}
    logs: {receivers: [testrecv], exporters: [sink]})",
                  v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  EXPECT_EQ((*v2)->plan().replaced, (std::vector<std::string>{"receiver testrecv"}));
  EXPECT_EQ((*v2)->plan().kept, (std::vector<std::string>{"exporter sink", "pipeline traces"}));
  EXPECT_EQ((*v2)->plan().added, (std::vector<std::string>{"pipeline logs"}));
}

TEST_F(ServiceTest, APipelineBehindAConnectorThatChangedRebuildsTheOneFeedingIt) {
  const std::string yaml = R"(
receivers: {testrecv: }
exporters: {sink: {tag: TAG}, sink/other: }
connectors: {forward: }
service:
  pipelines:
    traces/in: {receivers: [testrecv], exporters: [forward]}
    traces/out: {receivers: [forward], exporters: [sink]}
    traces/side: {receivers: [testrecv], exporters: [sink/other]})";
  auto v1 = Build(WithTag(yaml, "one"));
  ASSERT_TRUE(v1.ok()) << Errors();
  ASSERT_TRUE((*v1)->Start(host_.IoContext()).ok());
  auto same = Build(WithTag(yaml, "one"), v1->get());
  ASSERT_TRUE(same.ok()) << Errors();
  EXPECT_TRUE((*same)->plan().replaced.empty()) << (*same)->plan().Summary();
  same->get()->plan();
  auto v2 = Build(WithTag(yaml, "two"), v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  EXPECT_EQ((*v2)->plan().replaced,
            (std::vector<std::string>{"exporter sink", "pipeline traces/out", "pipeline traces/in"}));
  EXPECT_EQ((*v2)->plan().kept,
            (std::vector<std::string>{"exporter sink/other", "pipeline traces/side", "receiver testrecv"}));
  same->reset();  // built, never started: stops nothing shared
  bool untouched = false;
  ASSERT_TRUE((*v2)->TakeOver(**v1, host_.IoContext(), &untouched).ok());
  v1->reset();
  ASSERT_TRUE(receivers_["testrecv"].traces->ConsumeTraces(MakeTraces(1, "svc", "x")).ok());
  EXPECT_EQ(sinks_["sink"]->SpanNames(), (std::vector<std::string>{"x-0"}));
  EXPECT_EQ(sinks_["sink/other"]->SpanNames(), (std::vector<std::string>{"x-0"}));
}

TEST_F(ServiceTest, ANewExporterThatCannotStartLeavesThePreviousServiceRunning) {
  const std::string yaml = R"(
receivers: {testrecv: }
exporters: {sink: {fail_start: TAG}}
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]})";
  auto v1 = Build(WithTag(yaml, "false"));
  ASSERT_TRUE(v1.ok()) << Errors();
  ASSERT_TRUE((*v1)->Start(host_.IoContext()).ok());
  testutil::Sink* old_sink = sinks_["sink"];
  auto v2 = Build(WithTag(yaml, "true"), v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  const size_t mark = events_.size();
  bool untouched = false;
  auto st = (*v2)->TakeOver(**v1, host_.IoContext(), &untouched);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(untouched);
  EXPECT_NE(st.message().find("cannot start exporter sink: address in use"), std::string::npos) << st;
  v2->reset();  // what it started is stopped; what it shared is not
  EXPECT_EQ(EventsSince(mark), (std::vector<std::string>{"start exporter sink", "stop exporter sink"}));
  EXPECT_TRUE((*v1)->Ready());
  sinks_["sink"] = old_sink;
  ASSERT_TRUE(receivers_["testrecv"].traces->ConsumeTraces(MakeTraces(1, "svc", "still")).ok());
  EXPECT_EQ(old_sink->SpanNames(), (std::vector<std::string>{"still-0"}));
}

TEST_F(ServiceTest, ChangedExtensionsRestartEverything) {
  const std::string yaml = R"(
extensions: {health_check: {endpoint: "127.0.0.1:0", path: PATH}}
receivers: {testrecv: }
exporters: {sink: }
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]})";
  auto with_path = [&](const std::string& p) {
    std::string y = yaml;
    y.replace(y.find("PATH"), 4, p);
    return y;
  };
  auto v1 = Build(with_path("/a"));
  ASSERT_TRUE(v1.ok()) << Errors();
  auto same = Build(with_path("/a"), v1->get());
  ASSERT_TRUE(same.ok()) << Errors();
  EXPECT_TRUE((*same)->plan().partial);
  auto v2 = Build(with_path("/b"), v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  EXPECT_FALSE((*v2)->plan().partial);
  EXPECT_EQ((*v2)->plan().Summary(), "everything restarted (the extensions changed)");
  EXPECT_EQ(receiver_creations, 2);  // `same` shares v1's receiver; v2 shares nothing
}

// A swap waits for the calls still inside the old pipeline, so stopping it loses nothing.
TEST_F(ServiceTest, TakeOverWaitsForCallsInFlightInTheOldPipeline) {
  const std::string yaml = R"(
receivers: {testrecv: }
exporters: {sink: {tag: TAG}}
service:
  pipelines:
    traces: {receivers: [testrecv], exporters: [sink]})";
  auto v1 = Build(WithTag(yaml, "one"));
  ASSERT_TRUE(v1.ok()) << Errors();
  ASSERT_TRUE((*v1)->Start(host_.IoContext()).ok());
  Consumer* entry = receivers_["testrecv"].traces;
  auto* old_sink = static_cast<SinkExporter*>(sinks_["sink"]);
  old_sink->Block();
  std::thread in_flight([&] { EXPECT_TRUE(entry->ConsumeTraces(MakeTraces(1, "svc", "slow")).ok()); });
  ASSERT_TRUE(testutil::WaitFor([&] { return old_sink->entered.load() == 1; }));
  auto v2 = Build(WithTag(yaml, "two"), v1->get());
  ASSERT_TRUE(v2.ok()) << Errors();
  std::atomic<bool> done{false};
  std::thread reload([&] {
    bool untouched = false;
    EXPECT_TRUE((*v2)->TakeOver(**v1, host_.IoContext(), &untouched).ok());
    done = true;
  });
  // The swap cannot end while a call is inside the old exporter.
  EXPECT_FALSE(done.load());
  old_sink->Unblock();
  in_flight.join();
  reload.join();
  EXPECT_EQ(old_sink->SpanNames(), (std::vector<std::string>{"slow-0"}));
  ASSERT_TRUE(entry->ConsumeTraces(MakeTraces(1, "svc", "fast")).ok());
  EXPECT_EQ(sinks_["sink"]->SpanNames(), (std::vector<std::string>{"fast-0"}));
}

}  // namespace
}  // namespace outrigger

namespace outrigger {
namespace {

// A processor with an admission control (the memory_limiter) in any pipeline a receiver
// feeds, directly or through a connector, makes that receiver ask it; others do not.
TEST_F(ServiceTest, ReceiversGetTheAdmissionControlsOfEveryPipelineTheyFeed) {
  auto svc = Build(R"(
receivers: {testrecv: , testrecv/direct: , testrecv/free: }
processors: {gate: }
exporters: {sink: }
connectors: {forward: }
service:
  pipelines:
    traces/in: {receivers: [testrecv], exporters: [forward]}
    traces/out: {receivers: [forward], processors: [gate], exporters: [sink]}
    traces/direct: {receivers: [testrecv/direct], processors: [gate], exporters: [sink]}
    traces/free: {receivers: [testrecv/free], exporters: [sink]})");
  ASSERT_TRUE(svc.ok()) << Errors();
  ASSERT_TRUE((*svc)->Start(host_.IoContext()).ok());
  EXPECT_FALSE(admissions_["testrecv"].empty());
  EXPECT_EQ(admissions_["testrecv"].Admit(10).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(admissions_["testrecv/direct"].Admit(10).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(admissions_["testrecv/free"].empty());
  EXPECT_TRUE(admissions_["testrecv/free"].Admit(10).ok());
  (*svc)->Shutdown();
}

}  // namespace
}  // namespace outrigger
