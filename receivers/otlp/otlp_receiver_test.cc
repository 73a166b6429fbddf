#include "receivers/otlp/otlp_receiver.h"

#include <curl/curl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>

#include "collector/component/auth.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/otlp/wire.h"
#include "tests/testutil/testutil.h"

namespace outrigger::receivers::otlp {
namespace {

struct HttpResult {
  long code = 0;
  std::string body;
  std::string retry_after;
};

size_t Collect(char* p, size_t s, size_t n, void* u) {
  static_cast<std::string*>(u)->append(p, s * n);
  return s * n;
}
size_t Header(char* p, size_t s, size_t n, void* u) {
  std::string line(p, s * n);
  if (line.rfind("Retry-After:", 0) == 0) *static_cast<std::string*>(u) = line.substr(13, line.find('\r') - 13);
  return s * n;
}

HttpResult Post(uint16_t port, const std::string& path, const std::string& ctype, const std::string& body,
                const std::string& encoding = "", const std::vector<std::string>& extra_headers = {}) {
  CURL* h = curl_easy_init();
  HttpResult r;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_slist* hdrs = curl_slist_append(nullptr, ("Content-Type: " + ctype).c_str());
  if (!encoding.empty()) hdrs = curl_slist_append(hdrs, ("Content-Encoding: " + encoding).c_str());
  for (const auto& h : extra_headers) hdrs = curl_slist_append(hdrs, h.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.retry_after);
  EXPECT_EQ(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return r;
}

class OtlpReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config cfg;
    cfg.grpc.enabled = true;
    cfg.grpc.endpoint = "127.0.0.1:0";
    cfg.http.enabled = true;
    cfg.http.endpoint = "127.0.0.1:0";
    cfg.http.max_request_body_size = 1 << 20;
    receiver_ = std::make_unique<OtlpReceiver>(testutil::Settings(&telemetry_, "otlp", Kind::kReceiver), cfg);
    receiver_->SetConsumers({&sink_, &sink_, &sink_});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  void TearDown() override { ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok()); }

  grpc::Status GrpcExport(Signal s, const std::string& body, std::string* resp_out = nullptr) {
    auto ch =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(receiver_->grpc_port()), grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(ch);
    grpc::Slice slice(body);
    grpc::ByteBuffer req(&slice, 1), resp;
    grpc::ClientContext ctx;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, std::string(outrigger::otlp::ExportMethod(s)), grpc::StubOptions(), &req, &resp,
                   [&](grpc::Status st) { done.set_value(st); });
    auto st = done.get_future().get();
    if (st.ok() && resp_out != nullptr) {
      grpc::Slice out;
      (void)resp.DumpToSingleSlice(&out);
      resp_out->assign(reinterpret_cast<const char*>(out.begin()), out.size());
    }
    return st;
  }

  Telemetry telemetry_;
  testutil::Sink sink_;
  testutil::TestHost host_;
  std::unique_ptr<OtlpReceiver> receiver_;
};

TEST_F(OtlpReceiverTest, HttpProtobufAndJsonAreDelivered) {
  auto r = Post(receiver_->http_port(), "/v1/traces", "application/x-protobuf",
                testutil::MakeTraces(3, "svc", "p").ToProto());
  EXPECT_EQ(r.code, 200);
  r = Post(receiver_->http_port(), "/v1/logs", "application/json", testutil::MakeLogs(2).ToJson());
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "{}");
  r = Post(receiver_->http_port(), "/v1/metrics", "application/x-protobuf",
           outrigger::otlp::Gzip(testutil::MakeMetrics(4).ToProto()), "gzip");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(sink_.SpanCount(), 3u);
  EXPECT_EQ(sink_.LogCount(), 2u);
  EXPECT_EQ(sink_.PointCount(), 4u);
  EXPECT_EQ(telemetry_.Value("outrigger_receiver_accepted_spans_total", {{"transport", "http"}}), 3);
}

TEST_F(OtlpReceiverTest, HttpErrorsHaveTheRightStatus) {
  uint16_t port = receiver_->http_port();
  EXPECT_EQ(Post(port, "/v1/traces", "application/x-protobuf", "\xff\xff\xff garbage").code, 400);
  auto bad_json = Post(port, "/v1/traces", "application/json", "{\"resourceSpans\": [");
  EXPECT_EQ(bad_json.code, 400);
  EXPECT_NE(bad_json.body.find("malformed OTLP JSON"), std::string::npos);
  EXPECT_EQ(Post(port, "/v1/traces", "text/plain", "x").code, 415);
  EXPECT_EQ(Post(port, "/v1/nothing", "application/json", "{}").code, 404);
  EXPECT_EQ(Post(port, "/v1/traces", "application/json", std::string(2 << 20, ' ')).code, 413);
  std::string bomb = outrigger::otlp::Gzip(std::string(64 << 20, '\0'), 9);
  EXPECT_EQ(Post(port, "/v1/traces", "application/x-protobuf", bomb, "gzip").code, 413);
  EXPECT_EQ(Post(port, "/v1/traces", "application/x-protobuf", "not gzip", "gzip").code, 400);
  EXPECT_EQ(sink_.Calls(), 0u);
  EXPECT_EQ(telemetry_.Value("outrigger_receiver_malformed_requests_total", {{"transport", "http"}}), 6);
  // Still serving.
  EXPECT_EQ(Post(port, "/v1/traces", "application/json", testutil::MakeTraces(1).ToJson()).code, 200);
  EXPECT_EQ(sink_.SpanCount(), 1u);
}

TEST_F(OtlpReceiverTest, InvalidIdsArePartialSuccess) {
  auto t = testutil::MakeTraces(3);
  t.ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
    r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id("short");
  });
  auto r = Post(receiver_->http_port(), "/v1/traces", "application/x-protobuf", t.ToProto());
  EXPECT_EQ(r.code, 200);
  int64_t rejected = 0;
  std::string msg;
  ASSERT_TRUE(outrigger::otlp::DecodeExportResponse(Signal::kTraces, r.body, &rejected, &msg));
  EXPECT_EQ(rejected, 1);
  EXPECT_NE(msg.find("trace_id must be 16 bytes"), std::string::npos);
  EXPECT_EQ(sink_.SpanCount(), 2u);
}

TEST_F(OtlpReceiverTest, BackpressureIsRetryableOnBothTransports) {
  sink_.FailNext(2, absl::ResourceExhaustedError("full"));
  auto r = Post(receiver_->http_port(), "/v1/traces", "application/x-protobuf", testutil::MakeTraces(1).ToProto());
  EXPECT_EQ(r.code, 429);
  EXPECT_EQ(r.retry_after, "1");
  auto st = GrpcExport(Signal::kTraces, testutil::MakeTraces(1).ToProto());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto back = outrigger::otlp::FromGrpc(st);
  EXPECT_EQ(exporterhelper::RetryDelay(back), absl::Seconds(1));
  EXPECT_EQ(telemetry_.Value("outrigger_receiver_refused_spans_total", {{"transport", "grpc"}}), 1);
}

// Issue 14: Consume runs on the receiver's workers, never on the event loop. While the
// pipeline blocks, the loop goes on serving (here a 404 of the same server), and a
// request no worker can take within kHttpMaxWait is answered 503 with Retry-After.
TEST_F(OtlpReceiverTest, ABlockedPipelineDoesNotStallTheEventLoop) {
  const uint16_t port = receiver_->http_port();
  sink_.Block();
  std::vector<std::future<HttpResult>> posts;
  for (int i = 0; i < kHttpWorkers + 1; ++i) {
    posts.push_back(std::async(std::launch::async, [port] {
      return Post(port, "/v1/traces", "application/x-protobuf", testutil::MakeTraces(1).ToProto());
    }));
  }
  // One request waits for a worker: it is refused once kHttpMaxWait has passed.
  ASSERT_TRUE(testutil::WaitFor([&] {
    return telemetry_.Value("outrigger_receiver_otlp_http_busy_total", {{"receiver", "otlp"}}) == 1;
  }));
  EXPECT_EQ(Post(port, "/v1/nothing", "application/json", "{}").code, 404);  // the loop serves
  sink_.Unblock();
  int ok = 0, busy = 0;
  for (auto& f : posts) {
    HttpResult r = f.get();
    if (r.code == 200) ++ok;
    if (r.code == 503) {
      ++busy;
      EXPECT_EQ(r.retry_after, "1");
    }
  }
  EXPECT_EQ(ok, kHttpWorkers);
  EXPECT_EQ(busy, 1);
  EXPECT_EQ(sink_.SpanCount(), static_cast<size_t>(kHttpWorkers));
}

// Issue 12: the gRPC server, its completion-queue thread and gRPC's own threads exist
// only once a gRPC client connects; the HTTP workers only while there are requests.
TEST_F(OtlpReceiverTest, GrpcServerIsBuiltByTheFirstConnection) {
  EXPECT_FALSE(receiver_->grpc_serving());
  EXPECT_EQ(
      Post(receiver_->http_port(), "/v1/traces", "application/x-protobuf", testutil::MakeTraces(1).ToProto()).code,
      200);
  EXPECT_FALSE(receiver_->grpc_serving());  // HTTP does not start it
  auto st = GrpcExport(Signal::kTraces, testutil::MakeTraces(2).ToProto());
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(receiver_->grpc_serving());
  EXPECT_EQ(sink_.SpanCount(), 3u);
  // Later connections use the same server.
  ASSERT_TRUE(GrpcExport(Signal::kTraces, testutil::MakeTraces(1).ToProto()).ok());
  EXPECT_EQ(sink_.SpanCount(), 4u);
}

TEST_F(OtlpReceiverTest, GrpcDeliversAndRefusesGarbage) {
  std::string resp;
  auto st = GrpcExport(Signal::kLogs, testutil::MakeLogs(5).ToProto(), &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(sink_.LogCount(), 5u);
  auto bad = GrpcExport(Signal::kTraces, "\xff\xff\xff\xff garbage");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("malformed OTLP protobuf"), std::string::npos);
}

class TokenAuthExtension : public Extension, public ServerAuthenticator {
 public:
  absl::Status Authenticate(const std::map<std::string, std::string>& headers) override {
    auto it = headers.find("authorization");
    return it != headers.end() && it->second == "Bearer s3cret" ? absl::OkStatus()
                                                                : absl::UnauthenticatedError("bad or missing token");
  }
};

class AuthHost : public testutil::TestHost {
 public:
  Extension* GetExtension(const std::string& id) override { return id == "tokenauth" ? &auth : nullptr; }
  TokenAuthExtension auth;
};

TEST(OtlpReceiverHttpAuth, UnauthenticatedRequestsGet401AndNothingIsDelivered) {
  Telemetry telemetry;
  testutil::Sink sink;
  AuthHost host;
  Config cfg;
  cfg.http.enabled = true;
  cfg.http.endpoint = "127.0.0.1:0";
  cfg.http.auth.authenticator = "tokenauth";
  OtlpReceiver r(testutil::Settings(&telemetry, "otlp", Kind::kReceiver), cfg);
  r.SetConsumers({&sink, &sink, &sink});
  ASSERT_TRUE(r.Start(host).ok());
  auto bad = Post(r.http_port(), "/v1/traces", "application/json", testutil::MakeTraces(1).ToJson(), "",
                  {"Authorization: Bearer wrong"});
  EXPECT_EQ(bad.code, 401);
  EXPECT_NE(bad.body.find("bad or missing token"), std::string::npos) << bad.body;
  EXPECT_EQ(sink.SpanNames().size(), 0u);
  EXPECT_EQ(
      telemetry.Value("outrigger_server_refused_total", {{"server", "receiver/otlp"}, {"reason", "unauthenticated"}}),
      1);
  auto good = Post(r.http_port(), "/v1/traces", "application/json", testutil::MakeTraces(1).ToJson(), "",
                   {"Authorization: Bearer s3cret"});
  EXPECT_EQ(good.code, 200);
  EXPECT_EQ(sink.SpanNames().size(), 1u);
  ASSERT_TRUE(r.Shutdown(absl::Now() + absl::Seconds(5)).ok());

  cfg.http.auth.authenticator = "nope";
  OtlpReceiver missing(testutil::Settings(&telemetry, "otlp/2", Kind::kReceiver), cfg);
  auto st = missing.Start(host);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("\"nope\" is not a started extension"), std::string::npos) << st;
}

// A host that knows one extension, as the service's GetExtension does.
class HostWith : public testutil::TestHost {
 public:
  explicit HostWith(Extension* ext) : ext_(ext) {}
  Extension* GetExtension(const std::string& id) override { return id == "auth" ? ext_ : nullptr; }

 private:
  Extension* ext_;
};

// Accepts metadata "authorization: Bearer good"; counts what it saw.
class FakeAuth : public Extension, public ServerAuthenticator {
 public:
  absl::Status Authenticate(const std::map<std::string, std::string>& headers) override {
    ++calls;
    auto it = headers.find("authorization");
    if (it != headers.end() && it->second == "Bearer good") return absl::OkStatus();
    return absl::UnauthenticatedError("no good token");
  }
  std::atomic<int> calls{0};
};

class NotAnAuthenticator : public Extension {};

grpc::Status ExportWithToken(uint16_t port, const std::string& token) {
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(ch);
  grpc::Slice slice(testutil::MakeTraces(2).ToProto());
  grpc::ByteBuffer req(&slice, 1), resp;
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", token);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, std::string(outrigger::otlp::ExportMethod(Signal::kTraces)), grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status st) { done.set_value(st); });
  return done.get_future().get();
}

TEST(OtlpReceiverAuth, GrpcCallsAreCheckedByTheAuthenticator) {
  Telemetry telemetry;
  testutil::Sink sink;
  FakeAuth auth;
  HostWith host(&auth);
  Config cfg;
  cfg.grpc.enabled = true;
  cfg.grpc.endpoint = "127.0.0.1:0";
  cfg.grpc.auth.authenticator = "auth";
  OtlpReceiver r(testutil::Settings(&telemetry, "otlp", Kind::kReceiver), cfg);
  r.SetConsumers({&sink, &sink, &sink});
  ASSERT_TRUE(r.Start(host).ok());
  auto bad = ExportWithToken(r.grpc_port(), "Bearer bad");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(bad.error_message(), "no good token");
  EXPECT_EQ(ExportWithToken(r.grpc_port(), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(sink.Calls(), 0u);
  auto good = ExportWithToken(r.grpc_port(), "Bearer good");
  EXPECT_TRUE(good.ok()) << good.error_message();
  EXPECT_EQ(sink.SpanCount(), 2u);
  EXPECT_EQ(auth.calls.load(), 3);
  ASSERT_TRUE(r.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(OtlpReceiverAuth, UnknownOrWrongAuthenticatorFailsStart) {
  Telemetry telemetry;
  NotAnAuthenticator other;
  HostWith host(&other);
  Config cfg;
  cfg.grpc.enabled = true;
  cfg.grpc.endpoint = "127.0.0.1:0";
  cfg.grpc.auth.authenticator = "missing";
  OtlpReceiver r(testutil::Settings(&telemetry, "otlp", Kind::kReceiver), cfg);
  absl::Status st = r.Start(host);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("protocols.grpc.auth.authenticator \"missing\" is not a started extension"),
            std::string_view::npos)
      << st.message();
  cfg.grpc.auth.authenticator = "auth";
  OtlpReceiver r2(testutil::Settings(&telemetry, "otlp/2", Kind::kReceiver), cfg);
  st = r2.Start(host);
  EXPECT_NE(st.message().find("cannot authenticate requests"), std::string_view::npos) << st.message();
}

TEST(OtlpReceiverTls, UnreadableCertificateFailsStartWithTheKey) {
  Telemetry telemetry;
  testutil::TestHost host;
  Config cfg;
  cfg.grpc.enabled = true;
  cfg.grpc.endpoint = "127.0.0.1:0";
  cfg.grpc.tls.cert_file = "/nonexistent/server.crt";
  cfg.grpc.tls.key_file = "/nonexistent/server.key";
  OtlpReceiver r(testutil::Settings(&telemetry, "otlp", Kind::kReceiver), cfg);
  absl::Status st = r.Start(host);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("protocols.grpc.tls.cert_file \"/nonexistent/server.crt\" cannot be read"),
            std::string_view::npos)
      << st.message();
  EXPECT_EQ(r.grpc_port(), 0);
}

// keepalive.server_parameters.max_connection_idle: a connection with no call is closed
// by the server (GOAWAY), so a client that went quiet holds no descriptor.
TEST(OtlpReceiverKeepalive, IdleConnectionIsClosedAfterMaxConnectionIdle) {
  Telemetry telemetry;
  testutil::TestHost host;
  testutil::Sink sink;
  Config cfg;
  cfg.grpc.enabled = true;
  cfg.grpc.endpoint = "127.0.0.1:0";
  cfg.grpc.keepalive.max_connection_idle = absl::Milliseconds(300);
  OtlpReceiver r(testutil::Settings(&telemetry, "otlp", Kind::kReceiver), cfg);
  r.SetConsumers({&sink, &sink, &sink});
  ASSERT_TRUE(r.Start(host).ok());
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(r.grpc_port()), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(ch);
  std::string body = testutil::MakeTraces(1, "svc", "p").ToProto();
  grpc::Slice slice(body);
  grpc::ByteBuffer req(&slice, 1), resp;
  grpc::ClientContext ctx;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, std::string(outrigger::otlp::ExportMethod(Signal::kTraces)), grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status st) { done.set_value(st); });
  ASSERT_TRUE(done.get_future().get().ok());
  ASSERT_EQ(ch->GetState(false), GRPC_CHANNEL_READY);
  // The server's GOAWAY moves the channel out of READY; without the idle limit it would
  // stay READY past this deadline.
  EXPECT_TRUE(ch->WaitForStateChange(GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(20)));
  EXPECT_NE(ch->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_EQ(sink.SpanCount(), 1u);
  ASSERT_TRUE(r.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

// Records the client of every traces request it consumes.
class ClientRecorder : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    std::lock_guard<std::mutex> lock(mu_);
    d.ForEachRequestWithClient([&](const testutil::tpb::ExportTraceServiceRequest&, const pdata::ClientInfo* c) {
      clients.push_back(c != nullptr ? *c : pdata::ClientInfo{});
    });
    return absl::OkStatus();
  }
  std::vector<pdata::ClientInfo> Clients() {
    std::lock_guard<std::mutex> lock(mu_);
    return clients;
  }

 private:
  std::mutex mu_;
  std::vector<pdata::ClientInfo> clients;
};

class OtlpClientInfoTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    Config cfg;
    cfg.grpc.enabled = true;
    cfg.grpc.endpoint = "127.0.0.1:0";
    cfg.grpc.include_metadata = GetParam();
    cfg.http.enabled = true;
    cfg.http.endpoint = "127.0.0.1:0";
    cfg.http.include_metadata = GetParam();
    receiver_ = std::make_unique<OtlpReceiver>(testutil::Settings(&telemetry_, "otlp", Kind::kReceiver), cfg);
    receiver_->SetConsumers({&recorder_, nullptr, nullptr});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  void TearDown() override { ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok()); }

  Telemetry telemetry_;
  ClientRecorder recorder_;
  testutil::TestHost host_;
  std::unique_ptr<OtlpReceiver> receiver_;
};

TEST_P(OtlpClientInfoTest, HttpKeepsTheClientsRealAddressAndHeadersOnlyWhenAsked) {
  // The client sends from 127.0.0.2 (all of 127/8 is loopback on Linux) and its own port.
  CURL* h = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(receiver_->http_port()) + "/v1/traces";
  std::string body = testutil::MakeTraces(2).ToProto();
  std::string resp;
  curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/x-protobuf");
  hdrs = curl_slist_append(hdrs, "X-Tenant: acme");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_INTERFACE, "127.0.0.2");
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
  ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
  long code = 0, local_port = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &local_port);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  ASSERT_EQ(code, 200);
  auto clients = recorder_.Clients();
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].address, "127.0.0.2");
  EXPECT_EQ(clients[0].port, local_port);
  if (GetParam()) {
    ASSERT_NE(clients[0].Metadata("x-tenant"), nullptr);
    EXPECT_EQ(*clients[0].Metadata("x-tenant"), std::vector<std::string>{"acme"});
  } else {
    EXPECT_TRUE(clients[0].metadata.empty());
  }
}

TEST_P(OtlpClientInfoTest, GrpcKeepsThePeerAddressAndMetadataOnlyWhenAsked) {
  auto ch =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(receiver_->grpc_port()), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(ch);
  std::string body = testutil::MakeTraces(1).ToProto();
  grpc::Slice slice(body);
  grpc::ByteBuffer req(&slice, 1), resp;
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-tenant", "acme");
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, std::string(outrigger::otlp::ExportMethod(Signal::kTraces)), grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status st) { done.set_value(st); });
  ASSERT_TRUE(done.get_future().get().ok());
  auto clients = recorder_.Clients();
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].address, "127.0.0.1");
  EXPECT_NE(clients[0].port, 0);
  EXPECT_NE(clients[0].port, receiver_->grpc_port());
  if (GetParam()) {
    ASSERT_NE(clients[0].Metadata("x-tenant"), nullptr);
    EXPECT_EQ(*clients[0].Metadata("x-tenant"), std::vector<std::string>{"acme"});
  } else {
    EXPECT_TRUE(clients[0].metadata.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(IncludeMetadata, OtlpClientInfoTest, ::testing::Bool());

TEST(OtlpGrpcPeer, ParsesIpv4Ipv6AndEscapedForms) {
  pdata::ClientInfo c;
  ParseGrpcPeer("ipv4:10.1.2.3:5000", &c);
  EXPECT_EQ(c.address, "10.1.2.3");
  EXPECT_EQ(c.port, 5000);
  c = {};
  ParseGrpcPeer("ipv6:[::1]:6000", &c);
  EXPECT_EQ(c.address, "::1");
  EXPECT_EQ(c.port, 6000);
  c = {};
  ParseGrpcPeer("ipv6:%5B::ffff:10.0.0.1%5D:7", &c);
  EXPECT_EQ(c.address, "10.0.0.1");
  EXPECT_EQ(c.port, 7);
  c = {};
  ParseGrpcPeer("unix:/tmp/sock", &c);
  EXPECT_EQ(c.address, "");
}

}  // namespace
}  // namespace outrigger::receivers::otlp

namespace outrigger::receivers::otlp {
namespace {

// Admits requests of at most `max` bytes at a time (a memory_limiter with that much room).
class Room : public AdmissionControl {
 public:
  explicit Room(uint64_t max) : max_(max) {}
  absl::Status Reserve(uint64_t bytes) override {
    if (held + bytes > max_) return absl::ResourceExhaustedError("over the memory limit");
    held += bytes;
    return absl::OkStatus();
  }
  void Release(uint64_t bytes) override { held -= bytes; }
  std::atomic<uint64_t> held{0};

 private:
  uint64_t max_;
};

TEST(OtlpReceiverAdmission, RequestsOverTheMemoryLimitAreRefusedBeforeDecodingOnBothTransports) {
  Telemetry telemetry;
  testutil::Sink sink;
  testutil::TestHost host;
  Config cfg;
  cfg.grpc.enabled = true;
  cfg.grpc.endpoint = "127.0.0.1:0";
  cfg.http.enabled = true;
  cfg.http.endpoint = "127.0.0.1:0";
  OtlpReceiver r(testutil::Settings(&telemetry, "otlp", Kind::kReceiver), cfg);
  r.SetConsumers({&sink, &sink, &sink});
  Room room(4000);
  Admission admission;
  admission.Add(&room);
  r.SetAdmission(admission);
  ASSERT_TRUE(r.Start(host).ok());
  const std::string small = testutil::MakeTraces(2, "svc", "s").ToProto();
  const std::string big = testutil::MakeTraces(100, "svc", "b").ToProto();
  ASSERT_LT(small.size(), 4000u);
  ASSERT_GT(big.size(), 4000u);

  EXPECT_EQ(Post(r.http_port(), "/v1/traces", "application/x-protobuf", small).code, 200);
  auto refused = Post(r.http_port(), "/v1/traces", "application/x-protobuf", big);
  EXPECT_EQ(refused.code, 429);
  EXPECT_EQ(refused.retry_after, "1");
  EXPECT_EQ(
      telemetry.Value("outrigger_server_refused_total", {{"server", "receiver/otlp"}, {"reason", "memory_limit"}}), 1);
  EXPECT_EQ(telemetry.Value("outrigger_receiver_malformed_requests_total", {{"transport", "http"}}), 0);

  auto grpc_export = [&](const std::string& body) {
    auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(r.grpc_port()), grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(ch);
    grpc::Slice slice(body);
    grpc::ByteBuffer req(&slice, 1), resp;
    grpc::ClientContext ctx;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, std::string(outrigger::otlp::ExportMethod(Signal::kTraces)), grpc::StubOptions(), &req, &resp,
                   [&](grpc::Status st) { done.set_value(st); });
    return done.get_future().get();
  };
  EXPECT_TRUE(grpc_export(small).ok());
  grpc::Status st = grpc_export(big);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(exporterhelper::RetryDelay(outrigger::otlp::FromGrpc(st)), absl::Seconds(1));

  EXPECT_EQ(sink.SpanCount(), 4u);  // the two small requests only
  EXPECT_EQ(room.held.load(), 0u);  // everything admitted was given back
  ASSERT_TRUE(r.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace outrigger::receivers::otlp
