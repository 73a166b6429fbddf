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
  EXPECT_EQ(c.translation_strategy, "");
  EXPECT_EQ(c.Strategy(), prom::TranslationStrategy::kUnderscoreEscapingWithSuffixes);
  EXPECT_FALSE(c.without_scope_info);
  EXPECT_FALSE(c.exclude_service_attributes);
  EXPECT_FALSE(c.ResourceLabelsWanted());
  EXPECT_TRUE(c.Validate().ok());
}

TEST(PrometheusExporterConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "prometheus", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.endpoint, "127.0.0.1:9464");
  EXPECT_EQ(c.metric_namespace, "test-space");
  EXPECT_EQ(c.const_labels, (std::map<std::string, std::string>{{"region", "eu-west-1"}, {"cluster", "blue"}}));
  EXPECT_TRUE(c.send_timestamps);
  EXPECT_EQ(c.metric_expiration, absl::Minutes(10));
  EXPECT_TRUE(c.resource_to_telemetry_conversion);
  EXPECT_TRUE(c.enable_open_metrics);
  EXPECT_FALSE(c.add_metric_suffixes);
  EXPECT_EQ(c.translation_strategy, "NoUTF8EscapingWithSuffixes");
  EXPECT_EQ(c.Strategy(), prom::TranslationStrategy::kNoUTF8EscapingWithSuffixes);  // wins over add_metric_suffixes
  EXPECT_TRUE(c.without_scope_info);
  EXPECT_TRUE(c.exclude_service_attributes);
  EXPECT_EQ(c.resource_labels_included, std::vector<std::string>{"k8s.*"});
  EXPECT_EQ(c.resource_labels_excluded, std::vector<std::string>{"k8s.pod.uid"});
  EXPECT_TRUE(c.ResourceLabelWanted("k8s.pod.name"));
  EXPECT_FALSE(c.ResourceLabelWanted("k8s.pod.uid"));
  EXPECT_FALSE(c.ResourceLabelWanted("host.name"));  // resource_constant_labels wins
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

TEST(PrometheusExporterConfig, UpstreamOptionsWeDoNotHaveAreRefusedByName) {
  for (const char* yaml :
       {"sending_queue: {enabled: true}", "metrics_path: /othermetrics", "trim_metric_suffixes: true"}) {
    Config c;
    config::Errors errors;
    (void)testutil::DecodeYaml(yaml, &c, &errors);
    EXPECT_NE(errors.Joined().find("is not supported"), std::string::npos) << yaml << ": " << errors.Joined();
  }
}

}  // namespace
}  // namespace outrigger::exporters::prometheus
