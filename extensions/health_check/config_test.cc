// The health_check extension's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "extensions/health_check/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::extensions::health_check {
namespace {

TEST(HealthCheckConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.endpoint, "127.0.0.1:13133");
  EXPECT_EQ(cfg.path, "/");
  EXPECT_EQ(cfg.liveness_path, "/live");
  EXPECT_EQ(cfg.limits.read_header_timeout, absl::Seconds(10));
  EXPECT_EQ(cfg.limits.read_timeout, absl::Seconds(30));
  EXPECT_EQ(cfg.limits.write_timeout, absl::Seconds(30));
  EXPECT_EQ(cfg.limits.idle_timeout, absl::Seconds(60));
  EXPECT_EQ(cfg.limits.max_connections, 1000);
  EXPECT_FALSE(cfg.tls.enabled());
  EXPECT_TRUE(cfg.auth.authenticator.empty());
  EXPECT_FALSE(cfg.response_body.set);
  EXPECT_FALSE(cfg.check_collector_pipeline.enabled);
  EXPECT_EQ(cfg.check_collector_pipeline.interval, absl::Minutes(5));
  EXPECT_EQ(cfg.check_collector_pipeline.exporter_failure_threshold, 5);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(HealthCheckConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig("extensions/health_check/testdata/config.yaml", "extensions",
                                              "health_check", &cfg, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "0.0.0.0:13134");
  EXPECT_EQ(cfg.path, "/ready");
  EXPECT_EQ(cfg.liveness_path, "/healthz");
  EXPECT_EQ(cfg.limits.read_header_timeout, absl::Seconds(2));
  EXPECT_EQ(cfg.limits.read_timeout, absl::Seconds(3));
  EXPECT_EQ(cfg.limits.write_timeout, absl::Seconds(4));
  EXPECT_EQ(cfg.limits.idle_timeout, absl::Seconds(5));
  EXPECT_EQ(cfg.limits.max_connections, 16);
  EXPECT_EQ(cfg.tls.cert_file, "/etc/outrigger/tls/server.pem");
  EXPECT_EQ(cfg.tls.key_file, "/etc/outrigger/tls/server.key");
  EXPECT_EQ(cfg.tls.client_ca_file, "/etc/outrigger/tls/ca.pem");
  EXPECT_TRUE(cfg.tls.mutual());
  EXPECT_EQ(cfg.tls.min_version, "1.3");
  EXPECT_EQ(cfg.tls.reload_interval, absl::Seconds(30));
  ASSERT_TRUE(cfg.response_body.set);
  EXPECT_EQ(cfg.response_body.healthy, "I'm OK");
  EXPECT_EQ(cfg.response_body.unhealthy, "I'm not well");
  EXPECT_TRUE(cfg.check_collector_pipeline.enabled);
  EXPECT_EQ(cfg.check_collector_pipeline.interval, absl::Minutes(1));
  EXPECT_EQ(cfg.check_collector_pipeline.exporter_failure_threshold, 100);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(HealthCheckConfig, V2SettingsAreRefusedWithWhatToDo) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("use_v2: true\nhttp:\n  endpoint: localhost:13133\n  status:\n    enabled: true\n"
                                    "grpc:\n  endpoint: localhost:13132\ncomponent_health:\n"
                                    "  include_permanent_errors: false\n",
                                    &cfg, &errors)
                   .ok());
  std::string all = errors.Joined();
  EXPECT_NE(all.find("use_v2 is not supported"), std::string::npos) << all;
  EXPECT_NE(all.find("http is not supported: the v2 http settings"), std::string::npos) << all;
  EXPECT_NE(all.find("grpc is not supported: the v2 gRPC health service is not implemented"), std::string::npos) << all;
  EXPECT_NE(all.find("component_health is not supported"), std::string::npos) << all;
  // use_v2: false is the legacy mode: accepted.
  Config legacy;
  config::Errors legacy_errors;
  EXPECT_TRUE(testutil::DecodeYaml("use_v2: false\n", &legacy, &legacy_errors).ok()) << legacy_errors.Joined();
}

TEST(HealthCheckConfig, ExporterFailureThresholdMustBePositive) {
  Config cfg;
  cfg.check_collector_pipeline.exporter_failure_threshold = 0;
  EXPECT_NE(cfg.Validate().message().find("exporter_failure_threshold expects a positive number"), std::string::npos);
}

TEST(HealthCheckConfig, UnsupportedUpstreamServerOptionsAreRefusedWithWhatToDo) {
  // cors and response_headers are the shared server options (collector/http/config.h).
  Config ok;
  config::Errors ok_errors;
  EXPECT_TRUE(
      testutil::DecodeYaml("cors: {allowed_origins: ['https://*']}\nresponse_headers: {a: b}\n", &ok, &ok_errors).ok())
      << ok_errors.Joined();
  EXPECT_EQ(ok.limits.cors.allowed_origins, std::vector<std::string>{"https://*"});
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("middlewares: []\ncompression_algorithms: [gzip]\n", &cfg, &errors).ok());
  std::string all = errors.Joined();
  EXPECT_NE(all.find("middlewares is not supported"), std::string::npos) << all;
  EXPECT_NE(all.find("compression_algorithms is not supported"), std::string::npos) << all;
}

TEST(HealthCheckConfig, NegativeTimeoutsAndHalfACertificateAreErrors) {
  Config cfg;
  cfg.limits.idle_timeout = absl::Seconds(-1);
  EXPECT_NE(cfg.Validate().message().find("idle_timeout must not be negative"), std::string::npos);
  cfg.limits.idle_timeout = absl::ZeroDuration();
  cfg.tls.cert_file = "/x.pem";
  EXPECT_NE(cfg.Validate().message().find("key_file"), std::string::npos);
}

TEST(HealthCheckConfig, PathsMustStartWithASlash) {
  Config cfg;
  cfg.path = "ready";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg.path = "/ready";
  cfg.liveness_path = "";
  EXPECT_FALSE(cfg.Validate().ok());
}

}  // namespace
}  // namespace outrigger::extensions::health_check
