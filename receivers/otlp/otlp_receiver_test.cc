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

}  // namespace
}  // namespace outrigger::receivers::otlp
