// `auth: {authenticator: ...}` on the exporters: the headers of a bearertokenauth
// extension reach the server with each request. gRPC: our OTLP receiver, checking with
// another bearertokenauth; HTTP exporters (otlphttp, prometheusremotewrite,
// elasticsearch): a small HTTP server recording the Authorization header. Everything comes
// from the registry, as in the collector (components do not include each other).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "absl/strings/str_split.h"
#include "collector/component/auth.h"
#include "collector/component/registry.h"
#include "collector/http/server.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger {
namespace {

// A host whose extensions are the ones a test created.
class ExtensionHost : public testutil::TestHost {
 public:
  Extension* GetExtension(const std::string& id) override {
    auto it = extensions.find(id);
    return it == extensions.end() ? nullptr : it->second.get();
  }
  std::map<std::string, std::unique_ptr<Extension>> extensions;
};

class ClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterBuiltins(registry_); }
  void TearDown() override {
    for (auto* c : started_) EXPECT_TRUE(c->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  }

  std::unique_ptr<ComponentConfig> Decode(Kind kind, const std::string& type, const std::string& yaml) {
    const auto* f = registry_.Find(kind, type);
    EXPECT_NE(f, nullptr) << type;
    auto cfg = f->CreateDefaultConfig();
    config::Errors errors;
    EXPECT_TRUE(testutil::DecodeYaml(yaml, cfg.get(), &errors).ok()) << errors.Joined();
    EXPECT_TRUE(cfg->Validate().ok()) << cfg->Validate().message();
    return cfg;
  }
  void AddExtension(const std::string& id, const std::string& yaml) {
    auto cfg = Decode(Kind::kExtension, "bearertokenauth", yaml);
    const auto* f = static_cast<const ExtensionFactory*>(registry_.Find(Kind::kExtension, "bearertokenauth"));
    auto e = f->CreateExtension(testutil::Settings(&telemetry_, id, Kind::kExtension), *cfg);
    ASSERT_TRUE(e.ok());
    ASSERT_TRUE((*e)->Start(host_).ok());
    host_.extensions[id] = std::move(*e);
  }
  Exporter* StartExporter(const std::string& type, const std::string& yaml) {
    auto cfg = Decode(Kind::kExporter, type, yaml);
    const auto* f = static_cast<const ExporterFactory*>(registry_.Find(Kind::kExporter, type));
    auto e = f->CreateExporter(testutil::Settings(&telemetry_, type, Kind::kExporter), *cfg);
    EXPECT_TRUE(e.ok());
    exporters_.push_back(std::move(*e));
    absl::Status st = exporters_.back()->Start(host_);
    EXPECT_TRUE(st.ok()) << st.message();
    if (st.ok()) started_.push_back(exporters_.back().get());
    return exporters_.back().get();
  }
  double Auth(const char* id, const char* result) {
    return telemetry_.Value("outrigger_extension_bearertokenauth_requests_total",
                            {{"extension", id}, {"result", result}});
  }

  Registry registry_;
  Telemetry telemetry_;
  testutil::Sink sink_;
  ExtensionHost host_;
  std::vector<std::unique_ptr<Exporter>> exporters_;
  std::unique_ptr<Receiver> receiver_;
  std::vector<Component*> started_;
};

TEST_F(ClientAuthTest, OtlpGrpcExporterSendsTheTokenAsMetadata) {
  AddExtension("bearertokenauth/server", "tokens: [t0ken, other]\n");
  AddExtension("bearertokenauth/client", "token: t0ken\n");
  AddExtension("bearertokenauth/wrong", "token: wrong\n");
  const uint16_t port = testutil::FreePort();
  auto rcfg = Decode(Kind::kReceiver, "otlp",
                     "protocols:\n  grpc:\n    endpoint: 127.0.0.1:" + std::to_string(port) +
                         "\n    auth: {authenticator: bearertokenauth/server}\n");
  const auto* rf = static_cast<const ReceiverFactory*>(registry_.Find(Kind::kReceiver, "otlp"));
  auto r = rf->CreateReceiver(testutil::Settings(&telemetry_, "otlp", Kind::kReceiver), *rcfg);
  ASSERT_TRUE(r.ok());
  receiver_ = std::move(*r);
  receiver_->SetConsumers({&sink_, &sink_, &sink_});
  ASSERT_TRUE(receiver_->Start(host_).ok());
  started_.push_back(receiver_.get());

  const std::string common =
      "endpoint: 127.0.0.1:" + std::to_string(port) + "\ntls: {insecure: true}\nretry_on_failure: {enabled: false}\n";
  Exporter* good = StartExporter("otlp", common + "auth: {authenticator: bearertokenauth/client}\n");
  ASSERT_TRUE(good->ConsumeTraces(testutil::MakeTraces(3)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 3; }));
  EXPECT_EQ(Auth("bearertokenauth/server", "accepted"), 1);

  // The wrong token is refused (UNAUTHENTICATED is permanent: dropped, not retried).
  Exporter* bad = StartExporter("otlp", common + "auth: {authenticator: bearertokenauth/wrong}\n");
  ASSERT_TRUE(bad->ConsumeTraces(testutil::MakeTraces(2)).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return Auth("bearertokenauth/server", "refused") == 1; }));
  ASSERT_TRUE(testutil::WaitFor([&] {
    return telemetry_.Value("outrigger_exporter_dropped_spans_total", {{"exporter", "otlp"}}) == 2;
  }));
  EXPECT_EQ(sink_.SpanCount(), 3u);
}

TEST_F(ClientAuthTest, AnAuthenticatorNotConfiguredFailsStart) {
  const auto* f = static_cast<const ExporterFactory*>(registry_.Find(Kind::kExporter, "otlphttp"));
  auto cfg = Decode(Kind::kExporter, "otlphttp",
                    "endpoint: http://127.0.0.1:1\nauth: {authenticator: bearertokenauth/nope}\n");
  auto e = f->CreateExporter(testutil::Settings(&telemetry_, "otlphttp", Kind::kExporter), *cfg);
  ASSERT_TRUE(e.ok());
  absl::Status st = (*e)->Start(host_);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no extension \"bearertokenauth/nope\" in service.extensions"), std::string_view::npos)
      << st.message();
  EXPECT_TRUE((*e)->Shutdown(absl::Now() + absl::Seconds(1)).ok());
}

// The HTTP exporters, each against a server that records the Authorization header.
TEST_F(ClientAuthTest, HttpExportersSendTheAuthenticatorsHeader) {
  AddExtension("bearertokenauth/client", "token: h77p-token\nscheme: Token\n");
  std::mutex mu;
  std::map<std::string, std::string> seen;  // path -> authorization
  auto srv = http::Server::Listen(host_.IoContext(), "127.0.0.1:0", 16 << 20, [&](http::Request& req) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen[req.path] = req.Header("authorization");
    }
    http::Response resp;
    if (req.path == "/_bulk") {
      // One item per document (action line + document line).
      size_t lines = 0;
      for (absl::string_view l : absl::StrSplit(req.body, '\n')) lines += l.empty() ? 0 : 1;
      std::string items;
      for (size_t i = 0; i < lines / 2; ++i) items += std::string(i ? "," : "") + R"({"create":{"status":201}})";
      resp.content_type = "application/json";
      resp.body = R"({"errors":false,"items":[)" + items + "]}";
    } else {
      resp.content_type = "application/x-protobuf";
    }
    return resp;
  });
  ASSERT_TRUE(srv.ok());
  const std::string base = "http://127.0.0.1:" + std::to_string((*srv)->port());
  const std::string auth = "auth: {authenticator: bearertokenauth/client}\nretry_on_failure: {enabled: false}\n";

  StartExporter("otlphttp", "endpoint: " + base + "\n" + auth)->ConsumeLogs(testutil::MakeLogs(1)).IgnoreError();
  StartExporter("prometheusremotewrite", "endpoint: " + base + "/api/v1/write\n" + auth)
      ->ConsumeMetrics(testutil::MakeMetrics(2))
      .IgnoreError();
  StartExporter("elasticsearch", "endpoint: " + base + "\ncompression: none\nflush: {interval: 10ms}\n" + auth)
      ->ConsumeLogs(testutil::MakeLogs(2))
      .IgnoreError();
  auto got = [&](const std::string& path) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = seen.find(path);
    return it == seen.end() ? std::string("(no request)") : it->second;
  };
  EXPECT_TRUE(testutil::WaitFor([&] { return got("/v1/logs") == "Token h77p-token"; })) << got("/v1/logs");
  EXPECT_TRUE(testutil::WaitFor([&] { return got("/api/v1/write") == "Token h77p-token"; })) << got("/api/v1/write");
  EXPECT_TRUE(testutil::WaitFor([&] { return got("/_bulk") == "Token h77p-token"; })) << got("/_bulk");
  for (auto* c : started_) EXPECT_TRUE(c->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  started_.clear();
  (*srv)->Stop();
}

}  // namespace
}  // namespace outrigger
