// The OTLP receiver's confighttp server options on a running receiver: CORS (preflights
// answered before authentication, allowed origins echoed), response_headers,
// compression_algorithms, and *_url_path values without a leading '/'.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/ascii.h"

#include "collector/component/auth.h"
#include "collector/http/cors.h"
#include "collector/otlp/wire.h"
#include "receivers/otlp/otlp_receiver.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::receivers::otlp {
namespace {

struct Answer {
  long code = 0;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string Get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

size_t Discard(char*, size_t s, size_t n, void*) { return s * n; }
size_t Headers(char* p, size_t s, size_t n, void* u) {
  std::string line(p, s * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    static_cast<Answer*>(u)->headers.emplace(name, value);
  }
  return s * n;
}

Answer Request(uint16_t port, const std::string& method, const std::string& path,
               const std::vector<std::string>& headers, const std::string& body = "") {
  CURL* h = curl_easy_init();
  Answer a;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_slist* list = nullptr;
  for (const auto& x : headers) list = curl_slist_append(list, x.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, Headers);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
  EXPECT_EQ(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.code);
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  return a;
}

// Lets requests with "authorization: Bearer ok" through.
class TokenAuth : public Extension, public ServerAuthenticator {
 public:
  absl::Status Authenticate(const std::map<std::string, std::string>& headers) override {
    auto it = headers.find("authorization");
    if (it != headers.end() && it->second == "Bearer ok") return absl::OkStatus();
    return absl::UnauthenticatedError("no token");
  }
};

class AuthHost : public testutil::TestHost {
 public:
  Extension* GetExtension(const std::string& id) override { return id == "tokenauth" ? &auth : nullptr; }
  TokenAuth auth;
};

class OtlpHttpServerOptionsTest : public ::testing::Test {
 protected:
  void Start(const std::string& http_yaml) {
    Config cfg;
    config::Errors errors;
    ASSERT_TRUE(testutil::DecodeYaml("protocols:\n  http:\n" + http_yaml, &cfg, &errors).ok()) << errors.Joined();
    ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
    receiver_ = std::make_unique<OtlpReceiver>(testutil::Settings(&telemetry_, "otlp", Kind::kReceiver), cfg);
    receiver_->SetConsumers({&sink_, &sink_, &sink_});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  void TearDown() override {
    if (receiver_) {
      ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
  }
  uint16_t port() const { return receiver_->http_port(); }

  Telemetry telemetry_;
  testutil::Sink sink_;
  AuthHost host_;
  std::unique_ptr<OtlpReceiver> receiver_;
};

constexpr char kCors[] =
    "    endpoint: 127.0.0.1:0\n"
    "    auth: {authenticator: tokenauth}\n"
    "    cors:\n"
    "      allowed_origins: [https://*.test.com, https://test.com]\n"
    "      allowed_headers: [Content-Type, Example-Header]\n"
    "      max_age: 7200\n"
    "    response_headers: {X-Served-By: outrigger}\n";

TEST_F(OtlpHttpServerOptionsTest, CorsPreflightIsAnsweredBeforeAuthentication) {
  Start(kCors);
  auto a = Request(port(), "OPTIONS", "/v1/traces",
                   {"Origin: https://www.test.com", "Access-Control-Request-Method: POST",
                    "Access-Control-Request-Headers: content-type, example-header"});
  EXPECT_EQ(a.code, 204);
  EXPECT_EQ(a.Get("access-control-allow-origin"), "https://www.test.com");
  EXPECT_EQ(a.Get("access-control-allow-methods"), "POST");
  EXPECT_EQ(a.Get("access-control-allow-headers"), "content-type, example-header");
  EXPECT_EQ(a.Get("access-control-allow-credentials"), "true");
  EXPECT_EQ(a.Get("access-control-max-age"), "7200");
  EXPECT_EQ(a.Get("x-served-by"), "outrigger");
  EXPECT_EQ(a.headers.count("access-control-allow-origin"), 1u);

  // Not an allowed origin ("*" stands for characters before ".test.com", not for the
  // dot), a header not allowed: 204 without the allow headers (the browser refuses).
  for (const auto& [origin, hdr] :
       {std::pair{"https://wwwtest.com", "content-type"}, std::pair{"http://www.test.com", "content-type"},
        std::pair{"https://test.com", "x-other"}}) {
    auto r = Request(port(), "OPTIONS", "/v1/traces",
                     {std::string("Origin: ") + origin, "Access-Control-Request-Method: POST",
                      std::string("Access-Control-Request-Headers: ") + hdr});
    EXPECT_EQ(r.code, 204) << origin;
    EXPECT_EQ(r.Get("access-control-allow-origin"), "") << origin << " " << hdr;
  }
  EXPECT_EQ(sink_.Calls(), 0u);
}

TEST_F(OtlpHttpServerOptionsTest, CorsActualRequestsCarryTheOriginAndAuthStillApplies) {
  Start(kCors);
  const std::string body = testutil::MakeTraces(2).ToProto();
  auto ok =
      Request(port(), "POST", "/v1/traces",
              {"Origin: https://test.com", "Content-Type: application/x-protobuf", "Authorization: Bearer ok"}, body);
  EXPECT_EQ(ok.code, 200);
  EXPECT_EQ(ok.Get("access-control-allow-origin"), "https://test.com");
  EXPECT_EQ(ok.Get("access-control-allow-credentials"), "true");
  EXPECT_EQ(ok.Get("vary"), "Origin");
  EXPECT_EQ(ok.Get("x-served-by"), "outrigger");
  EXPECT_EQ(sink_.SpanCount(), 2u);
  // Without the token: refused by the authenticator, still with the CORS headers (so the
  // page can read the 401).
  auto refused = Request(port(), "POST", "/v1/traces",
                         {"Origin: https://a.test.com", "Content-Type: application/x-protobuf"}, body);
  EXPECT_EQ(refused.code, 401);
  EXPECT_EQ(refused.Get("access-control-allow-origin"), "https://a.test.com");
  EXPECT_EQ(refused.Get("x-served-by"), "outrigger");
  // Another origin: served, without Access-Control-Allow-Origin.
  auto other = Request(
      port(), "POST", "/v1/traces",
      {"Origin: https://evil.example", "Content-Type: application/x-protobuf", "Authorization: Bearer ok"}, body);
  EXPECT_EQ(other.code, 200);
  EXPECT_EQ(other.Get("access-control-allow-origin"), "");
  EXPECT_EQ(sink_.SpanCount(), 4u);
}

TEST_F(OtlpHttpServerOptionsTest, WithoutCorsAPreflightIsAnOrdinaryRequest) {
  Start("    endpoint: 127.0.0.1:0\n");
  auto a =
      Request(port(), "OPTIONS", "/v1/traces", {"Origin: https://www.test.com", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(a.code, 405);
  EXPECT_EQ(a.Get("access-control-allow-origin"), "");
}

TEST_F(OtlpHttpServerOptionsTest, UrlPathsWithoutLeadingSlashAreServed) {
  // upstream receiver/otlpreceiver testdata/config.yaml
  Start(
      "    endpoint: 127.0.0.1:0\n    traces_url_path: traces\n    metrics_url_path: /v2/metrics\n"
      "    logs_url_path: log/ingest\n");
  const std::vector<std::string> proto = {"Content-Type: application/x-protobuf"};
  EXPECT_EQ(Request(port(), "POST", "/traces", proto, testutil::MakeTraces(1).ToProto()).code, 200);
  EXPECT_EQ(Request(port(), "POST", "/v2/metrics", proto, testutil::MakeMetrics(2).ToProto()).code, 200);
  EXPECT_EQ(Request(port(), "POST", "/log/ingest", proto, testutil::MakeLogs(3).ToProto()).code, 200);
  EXPECT_EQ(Request(port(), "POST", "/v1/traces", proto, testutil::MakeTraces(1).ToProto()).code, 404);
  EXPECT_EQ(sink_.SpanCount(), 1u);
  EXPECT_EQ(sink_.PointCount(), 2u);
  EXPECT_EQ(sink_.LogCount(), 3u);
}

TEST_F(OtlpHttpServerOptionsTest, CompressionAlgorithmsLimitTheEncodings) {
  Start("    endpoint: 127.0.0.1:0\n    compression_algorithms: [gzip]\n");
  const std::string body = testutil::MakeTraces(1).ToProto();
  const std::string ct = "Content-Type: application/x-protobuf";
  EXPECT_EQ(Request(port(), "POST", "/v1/traces", {ct, "Content-Encoding: gzip"}, outrigger::otlp::Gzip(body)).code,
            200);
  // Not listed: uncompressed ("") and zlib.
  EXPECT_EQ(Request(port(), "POST", "/v1/traces", {ct}, body).code, 400);
  EXPECT_EQ(Request(port(), "POST", "/v1/traces", {ct, "Content-Encoding: zlib"}, body).code, 400);
  EXPECT_EQ(sink_.SpanCount(), 1u);
}

TEST(OtlpReceiverConfigUpstream, HttpServerOptionsDecodeAndRefusals) {
  EXPECT_EQ(SanitizeUrlPath("traces"), "/traces");
  EXPECT_EQ(SanitizeUrlPath("/v2/metrics"), "/v2/metrics");
  EXPECT_EQ(SanitizeUrlPath("log/ingest?x=1"), "/log/ingest");
  EXPECT_EQ(SanitizeUrlPath("http://host:4318/custom"), "/custom");
  EXPECT_EQ(SanitizeUrlPath(""), "/");

  Config c;
  config::Errors errors;
  ASSERT_TRUE(
      testutil::DecodeYaml("protocols:\n  http:\n    compression_algorithms: ['', gzip, zstd]\n", &c, &errors).ok())
      << errors.Joined();
  EXPECT_NE(c.Validate().message().find("\"zstd\" is not supported"), std::string_view::npos) << c.Validate();

  Config same;
  ASSERT_TRUE(
      testutil::DecodeYaml("protocols:\n  http:\n    traces_url_path: x\n    logs_url_path: /x\n", &same, &errors)
          .ok());
  EXPECT_NE(same.Validate().message().find("share the URL path \"/x\""), std::string_view::npos);

  Config bad;
  config::Errors refused;
  EXPECT_FALSE(testutil::DecodeYaml("protocols:\n"
                                    "  grpc: {transport: unix, endpoint: /tmp/grpc_otlp.sock}\n"
                                    "  http:\n"
                                    "    keep_alives_enabled: true\n"
                                    "    middlewares: []\n"
                                    "    auth: {authenticator: a, request_params: [token]}\n",
                                    &bad, &refused)
                   .ok());
  for (const char* want : {"transport \"unix\" is not supported: grpc listens on TCP only",
                           "middlewares is not supported", "request_params is not supported"}) {
    EXPECT_NE(refused.Joined().find(want), std::string::npos) << refused.Joined();
  }
  Config ka;
  config::Errors ka_errors;
  ASSERT_TRUE(testutil::DecodeYaml("protocols:\n  http:\n    keep_alives_enabled: false\n", &ka, &ka_errors).ok());
  EXPECT_NE(ka.Validate().message().find("keep_alives_enabled: false is not supported"), std::string_view::npos);
}

TEST(HttpCors, OriginPatterns) {
  http::CorsConfig cfg;
  cfg.allowed_origins = {"https://*.test.com", "https://Test.com", "http://*"};
  http::Cors cors(cfg);
  EXPECT_TRUE(cors.OriginAllowed("https://www.test.com"));
  EXPECT_TRUE(cors.OriginAllowed("https://a.b.test.com"));
  EXPECT_TRUE(cors.OriginAllowed("https://TEST.com"));
  EXPECT_TRUE(cors.OriginAllowed("http://anything:8080"));
  EXPECT_FALSE(cors.OriginAllowed("https://wwwtest.com"));
  EXPECT_FALSE(cors.OriginAllowed("https://test.com.evil"));
  EXPECT_FALSE(cors.OriginAllowed("https://evil.com"));
  cfg.allowed_origins = {"https://**.x"};
  EXPECT_FALSE(cfg.Validate("protocols.http").ok());
  cfg.allowed_origins = {"https://x"};
  cfg.max_age = -1;
  EXPECT_NE(cfg.Validate("protocols.http").message().find("protocols.http.cors.max_age"), std::string_view::npos);
}

}  // namespace
}  // namespace outrigger::receivers::otlp
