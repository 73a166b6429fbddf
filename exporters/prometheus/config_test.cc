#include "exporters/prometheus/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::prometheus {
namespace {

constexpr char kTestdata[] = "exporters/prometheus/testdata/config.yaml";

TEST(PrometheusExporterConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.endpoint, "127.0.0.1:9464");
  EXPECT_EQ(c.metric_namespace, "");
  EXPECT_TRUE(c.const_labels.empty());
  EXPECT_FALSE(c.send_timestamps);
  EXPECT_EQ(c.metric_expiration, absl::Minutes(5));
  EXPECT_FALSE(c.resource_to_telemetry_conversion);
  EXPECT_FALSE(c.enable_open_metrics);
  EXPECT_TRUE(c.add_metric_suffixes);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(PrometheusExporterConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "prometheus", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.endpoint, "127.0.0.1:9464");
  EXPECT_EQ(c.metric_namespace, "app");
  EXPECT_EQ(c.const_labels, (std::map<std::string, std::string>{{"region", "eu-west-1"}, {"cluster", "blue"}}));
  EXPECT_TRUE(c.send_timestamps);
  EXPECT_EQ(c.metric_expiration, absl::Minutes(10));
  EXPECT_TRUE(c.resource_to_telemetry_conversion);
  EXPECT_TRUE(c.enable_open_metrics);
  EXPECT_FALSE(c.add_metric_suffixes);
  EXPECT_EQ(c.limits.read_header_timeout, absl::Seconds(2));
  EXPECT_EQ(c.limits.idle_timeout, absl::Seconds(90));
  EXPECT_EQ(c.limits.read_timeout, absl::Seconds(30));  // default kept
  EXPECT_EQ(c.limits.max_connections, 8);
  EXPECT_EQ(c.tls.cert_file, "/etc/outrigger/tls/server.pem");
  EXPECT_EQ(c.tls.cipher_suites, std::vector<std::string>{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
  EXPECT_FALSE(c.tls.mutual());

  Config d;
  config::Errors d_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "prometheus/defaults", &d, &d_errors).ok())
      << d_errors.Joined();
  EXPECT_EQ(d.endpoint, "127.0.0.1:9465");
  EXPECT_EQ(d.metric_namespace, "");
  EXPECT_TRUE(d.add_metric_suffixes);
  EXPECT_FALSE(d.tls.enabled());
  EXPECT_EQ(d.limits.max_connections, 1000);
}

}  // namespace
}  // namespace outrigger::exporters::prometheus
