// Both OTLP exporters against our own OTLP receiver (a real server, in process): data
// arrives intact, pushback is retried after the server's delay, permanent errors are not.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "collector/component/registry.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/otlp/wire.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger {
namespace {

class OtlpExporterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    RegisterBuiltins(registry_);
    // The receiver comes from the registry, as in the collector: components do not
    // include each other.
    grpc_port_ = testutil::FreePort();
    do {
      http_port_ = testutil::FreePort();
    } while (http_port_ == grpc_port_);
    const auto* rf = static_cast<const ReceiverFactory*>(registry_.Find(Kind::kReceiver, "otlp"));
    ASSERT_NE(rf, nullptr);
    auto rcfg = rf->CreateDefaultConfig();
    config::Errors errors;
    ASSERT_TRUE(testutil::DecodeYaml("protocols:\n  grpc: {endpoint: 127.0.0.1:" + std::to_string(grpc_port_) +
                                         "}\n  http: {endpoint: 127.0.0.1:" + std::to_string(http_port_) + "}\n",
                                     rcfg.get(), &errors)
                    .ok())
        << errors.Joined();
    auto r = rf->CreateReceiver(testutil::Settings(&telemetry_, "otlp", Kind::kReceiver), *rcfg);
    ASSERT_TRUE(r.ok()) << r.status();
    receiver_ = std::move(*r);
    receiver_->SetConsumers({&sink_, &sink_, &sink_});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  void TearDown() override {
    if (exporter_) {
      EXPECT_TRUE(exporter_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
    if (receiver_) {
      EXPECT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
  }

  // `endpoint_yaml` replaces the endpoint and tls lines.
  void MakeExporter(const std::string& retry_yaml = "retry_on_failure: {initial_interval: 10ms, max_interval: 50ms}\n",
                    const std::string& endpoint_yaml = "") {
    const bool http = GetParam() == "otlphttp";
    std::string endpoint =
        http ? "http://127.0.0.1:" + std::to_string(http_port_) : "127.0.0.1:" + std::to_string(grpc_port_);
    std::string yaml =
        (endpoint_yaml.empty() ? "endpoint: " + endpoint + "\ntls: {insecure: true}\n" : endpoint_yaml) + retry_yaml;
    const auto* f = static_cast<const ExporterFactory*>(registry_.Find(Kind::kExporter, GetParam()));
    ASSERT_NE(f, nullptr);
    auto cfg = f->CreateDefaultConfig();
    config::Errors errors;
    config::Node node(YAML::Load(yaml), "exporters." + GetParam(), &errors);
    cfg->Decode(node);
    node.Finish();
    ASSERT_TRUE(errors.empty()) << errors.Joined();
    ASSERT_TRUE(cfg->Validate().ok());
    auto e = f->CreateExporter(testutil::Settings(&telemetry_, GetParam(), Kind::kExporter), *cfg);
    ASSERT_TRUE(e.ok());
    exporter_ = std::move(*e);
    ASSERT_TRUE(exporter_->Start(host_).ok());
  }
  double Exported(const char* what) { return telemetry_.Value(what, {{"exporter", GetParam()}}); }

  Registry registry_;
  Telemetry telemetry_;
  testutil::Sink sink_;
  testutil::TestHost host_;
  uint16_t grpc_port_ = 0;
  uint16_t http_port_ = 0;
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_P(OtlpExporterTest, DeliversEverySignalIntact) {
  MakeExporter();
  auto traces = testutil::MakeTraces(3, "svc", "e");
  traces.Append(testutil::MakeTraces(2, "other", "f"));
  const std::string want = traces.ToProto();
  ASSERT_TRUE(exporter_->ConsumeTraces(std::move(traces)).ok());
  ASSERT_TRUE(exporter_->ConsumeMetrics(testutil::MakeMetrics(4)).ok());
  ASSERT_TRUE(exporter_->ConsumeLogs(testutil::MakeLogs(6)).ok());
  ASSERT_TRUE(
      sink_.WaitFor([&] { return sink_.SpanCount() == 5 && sink_.PointCount() == 4 && sink_.LogCount() == 6; }));
  EXPECT_EQ(sink_.SpanNames(), (std::vector<std::string>{"e-0", "e-1", "e-2", "f-0", "f-1"}));
  ASSERT_TRUE(sink_.WaitFor([&] { return Exported("outrigger_exporter_sent_spans_total") == 5; }));
}

TEST_P(OtlpExporterTest, PushbackIsRetriedNothingLost) {
  MakeExporter();
  sink_.FailNext(2, absl::UnavailableError("busy"));
  ASSERT_TRUE(exporter_->ConsumeTraces(testutil::MakeTraces(4)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 4; }, std::chrono::seconds(20)));
  EXPECT_EQ(sink_.Calls(), 3u);
  EXPECT_EQ(Exported("outrigger_exporter_retries_total"), 2);
  EXPECT_EQ(Exported("outrigger_exporter_dropped_spans_total"), 0);
}

TEST_P(OtlpExporterTest, PermanentErrorIsNotRetried) {
  MakeExporter();
  sink_.FailNext(1, absl::InvalidArgumentError("bad"));
  ASSERT_TRUE(exporter_->ConsumeTraces(testutil::MakeTraces(2)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return Exported("outrigger_exporter_dropped_spans_total") == 2; }));
  EXPECT_EQ(sink_.Calls(), 1u);
  EXPECT_EQ(Exported("outrigger_exporter_retries_total"), 0);
}

TEST_P(OtlpExporterTest, UnreachableServerIsRetryableThenDropped) {
  // A port nothing listens on: connection errors are retried until max_elapsed_time.
  const uint16_t port = GetParam() == "otlphttp" ? http_port_ : grpc_port_;
  MakeExporter(
      "retry_on_failure: {initial_interval: 10ms, max_interval: 20ms, max_elapsed_time: 200ms}\n"
      "timeout: 500ms\n");
  receiver_->Shutdown(absl::Now()).IgnoreError();
  ASSERT_NE(port, 0);
  ASSERT_TRUE(exporter_->ConsumeTraces(testutil::MakeTraces(3)).ok());
  ASSERT_TRUE(
      sink_.WaitFor([&] { return Exported("outrigger_exporter_dropped_spans_total") == 3; }, std::chrono::seconds(20)));
  EXPECT_GT(Exported("outrigger_exporter_retries_total"), 0);
}

// The endpoint forms upstream's configgrpc reads, each delivering to a plaintext server:
// http:// turns TLS off without tls.insecure; dns:/// is a resolver target.
TEST_P(OtlpExporterTest, GrpcEndpointFormsDeliver) {
  if (GetParam() != "otlp") GTEST_SKIP() << "gRPC endpoints";
  const std::string port = std::to_string(grpc_port_);
  const std::string forms[] = {
      "endpoint: http://127.0.0.1:" + port + "\n",
      "endpoint: http://127.0.0.1:" + port + "/\n",
      "endpoint: dns:///localhost:" + port + "\ntls: {insecure: true}\n",
      "endpoint: localhost:" + port +
          "\ntls: {insecure: true}\nkeepalive: {time: 30s, timeout: 5s}\n"
          "wait_for_ready: true\nbalancer_name: round_robin\nauthority: collector.example\n",
  };
  size_t want = 0;
  for (const auto& form : forms) {
    SCOPED_TRACE(form);
    MakeExporter("", form);
    want += 2;
    ASSERT_TRUE(exporter_->ConsumeTraces(testutil::MakeTraces(2)).ok());
    ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == want; })) << sink_.SpanCount();
    ASSERT_TRUE(exporter_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    exporter_.reset();
  }
}

INSTANTIATE_TEST_SUITE_P(Both, OtlpExporterTest, ::testing::Values("otlp", "otlphttp"));

// A gRPC service that answers every call OK (an empty export response), counts the
// calls per method and keeps the last request message as gRPC handed it over (still
// compressed, on a server built without per-message decompression).
class CountingService : public grpc::CallbackGenericService {
 public:
  std::atomic<int> trace_calls{0};
  std::mutex mu;
  std::string last_request;
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    if (ctx->method() == "/opentelemetry.proto.collector.trace.v1.TraceService/Export") ++trace_calls;
    return new Reactor(this);
  }

 private:
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(CountingService* service) : service_(service), empty_(""), response_(&empty_, 1) {
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      grpc::Slice whole;
      if (request_.DumpToSingleSlice(&whole).ok()) {
        std::lock_guard<std::mutex> lock(service_->mu);
        service_->last_request.assign(reinterpret_cast<const char*>(whole.begin()), whole.size());
      }
      StartWrite(&response_);
    }
    void OnWriteDone(bool) override { Finish(grpc::Status::OK); }
    void OnDone() override { delete this; }

   private:
    CountingService* service_;
    grpc::ByteBuffer request_;
    grpc::Slice empty_;
    grpc::ByteBuffer response_;
  };
};

// A gRPC server on a Unix socket (per-message decompression off when `raw`), and an
// otlp exporter with `config` (its endpoint added) that sends it 3 spans.
void ExportThreeSpansOverUnixSocket(const std::string& config, bool raw, CountingService* service) {
  const std::string dir = testing::TempDir() + "otlp-unix-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string sock = dir + "/otlp.sock";
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + sock, grpc::InsecureServerCredentials());
  if (raw) builder.AddChannelArgument(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
  builder.RegisterCallbackGenericService(service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  Registry registry;
  RegisterBuiltins(registry);
  Telemetry telemetry;
  testutil::TestHost host;
  const auto* f = static_cast<const ExporterFactory*>(registry.Find(Kind::kExporter, "otlp"));
  ASSERT_NE(f, nullptr);
  auto cfg = f->CreateDefaultConfig();
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("endpoint: unix://" + sock + "\n" + config, cfg.get(), &errors).ok())
      << errors.Joined();
  ASSERT_TRUE(cfg->Validate().ok()) << cfg->Validate();
  auto e = f->CreateExporter(testutil::Settings(&telemetry, "otlp", Kind::kExporter), *cfg);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->Start(host).ok());
  ASSERT_TRUE((*e)->ConsumeTraces(testutil::MakeTraces(3)).ok());
  EXPECT_TRUE(testutil::WaitFor([&] {
    return telemetry.Value("outrigger_exporter_sent_spans_total", {{"exporter", "otlp"}}) == 3;
  }));
  EXPECT_EQ(service->trace_calls.load(), 1);
  ASSERT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::filesystem::remove_all(dir);
}

TEST(OtlpExporterUnixSocket, UnixEndpointDelivers) {
  CountingService service;
  ExportThreeSpansOverUnixSocket("tls: {insecure: true}\n", /*raw=*/false, &service);
}

// The request goes out gzip-compressed once (compressed here, marked so, and not again by
// gRPC), or as it is with `compression: none`: what the server's transport hands over
// before decompression is a gzip stream of the request (or the request), and what a
// server that decompresses gets is the request.
TEST(OtlpExporterCompression, GzipOnceOnTheWire) {
  for (const std::string compression : {"gzip", "none"}) {
    for (const bool raw : {true, false}) {
      SCOPED_TRACE(compression + (raw ? " as on the wire" : " decompressed"));
      CountingService service;
      ExportThreeSpansOverUnixSocket("tls: {insecure: true}\ncompression: " + compression + "\n", raw, &service);
      std::string message;
      {
        std::lock_guard<std::mutex> lock(service.mu);
        message = service.last_request;
      }
      if (raw && compression == "gzip") {
        ASSERT_TRUE(message.size() > 2 && message[0] == '\x1f' && message[1] == '\x8b') << "not gzip";
        auto plain = otlp::Gunzip(message, 1 << 20);
        ASSERT_TRUE(plain.ok()) << plain.status();
        EXPECT_LT(message.size(), plain->size());
        message = *plain;
      }
      testutil::tpb::ExportTraceServiceRequest req;
      ASSERT_TRUE(req.ParseFromString(message));
      ASSERT_EQ(req.resource_spans_size(), 1);
      EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 3);
    }
  }
}

}  // namespace
}  // namespace outrigger
