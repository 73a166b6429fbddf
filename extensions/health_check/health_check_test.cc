// The health_check extension answers readiness, liveness and anything else.
#include "extensions/health_check/health_check.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>

#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::extensions::health_check {
namespace {

struct Answer {
  long code = 0;
  std::string body;
};

size_t Collect(char* p, size_t s, size_t n, void* u) {
  static_cast<std::string*>(u)->append(p, s * n);
  return s * n;
}

Answer Get(uint16_t port, const std::string& path, const std::string* post_body = nullptr) {
  Answer a;
  CURL* h = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (post_body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.body);
  EXPECT_EQ(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.code);
  curl_easy_cleanup(h);
  return a;
}

// A host whose readiness the test sets.
class SwitchableHost : public testutil::TestHost {
 public:
  bool Ready() const override { return ready_; }
  std::atomic<bool> ready_{false};
};

class HealthCheckTest : public ::testing::Test {
 protected:
  void Start(Config cfg) {
    cfg.endpoint = "127.0.0.1:0";
    ext_ = std::make_unique<HealthCheck>(testutil::Settings(&telemetry_, "health_check", Kind::kExtension), cfg);
    ASSERT_TRUE(ext_->Start(host_).ok());
    ASSERT_NE(ext_->port(), 0);
  }
  void TearDown() override {
    if (ext_) {
      ASSERT_TRUE(ext_->Shutdown(absl::Now()).ok());
      ASSERT_TRUE(ext_->Shutdown(absl::Now()).ok());  // idempotent
    }
  }

  Telemetry telemetry_;
  SwitchableHost host_;
  std::unique_ptr<HealthCheck> ext_;
};

TEST_F(HealthCheckTest, ReadinessFollowsTheHostAndLivenessAlwaysAnswers) {
  Start(Config());
  auto a = Get(ext_->port(), "/");
  EXPECT_EQ(a.code, 503);
  EXPECT_EQ(a.body, R"({"status":"Server not available"})");
  host_.ready_ = true;
  a = Get(ext_->port(), "/");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body, R"({"status":"Server available"})");
  a = Get(ext_->port(), "/live");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body, R"({"status":"Server alive"})");
  a = Get(ext_->port(), "/other");
  EXPECT_EQ(a.code, 404);
  EXPECT_EQ(a.body, R"({"status":"not found"})");
}

// max_request_body_size (the shared confighttp option) bounds request bodies: 413 beyond.
TEST_F(HealthCheckTest, MaxRequestBodySizeBoundsBodies) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("max_request_body_size: 10000\n", &cfg, &errors).ok()) << errors.Joined();
  ASSERT_EQ(cfg.limits.max_request_body_size, 10000u);
  host_.ready_ = true;
  Start(cfg);
  const std::string small(8000, 'x');  // above the 4 KiB default, within the configured bound
  EXPECT_EQ(Get(ext_->port(), "/", &small).code, 200);
  const std::string large(12000, 'x');
  EXPECT_EQ(Get(ext_->port(), "/", &large).code, 413);
}

TEST_F(HealthCheckTest, ConfiguredPathsAndLivenessWinsWhenTheyAreTheSame) {
  Config cfg;
  cfg.path = "/ready";
  cfg.liveness_path = "/ready";
  Start(cfg);
  auto a = Get(ext_->port(), "/ready");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body, R"({"status":"Server alive"})");
  EXPECT_EQ(Get(ext_->port(), "/").code, 404);
}

TEST_F(HealthCheckTest, ResponseBodyReplacesTheAnswersOfPath) {
  Config cfg;
  cfg.response_body = ResponseBody{true, "I'm OK", "I'm not well"};
  Start(cfg);
  auto a = Get(ext_->port(), "/");
  EXPECT_EQ(a.code, 503);
  EXPECT_EQ(a.body, "I'm not well");
  host_.ready_ = true;
  a = Get(ext_->port(), "/");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body, "I'm OK");
  EXPECT_EQ(Get(ext_->port(), "/live").body, R"({"status":"Server alive"})");  // liveness keeps its answer
}

// check_collector_pipeline: unhealthy (500) while the exporters' failed sends in the last
// interval exceed the threshold, healthy again once they are older than the interval.
TEST_F(HealthCheckTest, CollectorPipelineCheckFollowsExporterFailuresInTheInterval) {
  Config cfg;
  cfg.check_collector_pipeline.enabled = true;
  cfg.check_collector_pipeline.interval = absl::Seconds(2);
  cfg.check_collector_pipeline.exporter_failure_threshold = 5;
  host_.ready_ = true;
  ExporterMeter before_start = telemetry_.ForExporter(ComponentId::Parse("otlp").value());
  before_start.Failed(Signal::kTraces, 50);  // before the extension started: not counted
  Start(cfg);
  EXPECT_EQ(Get(ext_->port(), "/").code, 200);
  ExporterMeter otlp = telemetry_.ForExporter(ComponentId::Parse("otlp/backend").value());
  ExporterMeter file = telemetry_.ForExporter(ComponentId::Parse("file").value());
  otlp.Failed(Signal::kTraces, 3);
  file.Failed(Signal::kLogs, 2);  // 5: not above the threshold
  EXPECT_EQ(Get(ext_->port(), "/").code, 200);
  otlp.Failed(Signal::kMetrics, 1);  // 6 in the interval
  auto a = Get(ext_->port(), "/");
  EXPECT_EQ(a.code, 500);
  EXPECT_NE(a.body.find(R"("exporter_failures":6)"), std::string::npos) << a.body;
  // Once the failures are older than the interval, healthy again.
  EXPECT_TRUE(testutil::WaitFor([&] { return Get(ext_->port(), "/").code == 200; }));
  EXPECT_EQ(Get(ext_->port(), "/live").code, 200);  // liveness is never affected
}

TEST_F(HealthCheckTest, CollectorPipelineCheckOffIgnoresFailures) {
  host_.ready_ = true;
  Start(Config());
  telemetry_.ForExporter(ComponentId::Parse("otlp").value()).Failed(Signal::kTraces, 1000);
  EXPECT_EQ(Get(ext_->port(), "/").code, 200);
}

}  // namespace
}  // namespace outrigger::extensions::health_check
