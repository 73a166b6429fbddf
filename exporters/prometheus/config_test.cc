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

  Config d;
  config::Errors d_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "prometheus/defaults", &d, &d_errors).ok())
      << d_errors.Joined();
  EXPECT_EQ(d.endpoint, "127.0.0.1:9465");
  EXPECT_EQ(d.metric_namespace, "");
  EXPECT_TRUE(d.add_metric_suffixes);
}

}  // namespace
}  // namespace outrigger::exporters::prometheus
