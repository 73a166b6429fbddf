#include "exporters/prometheusremotewrite/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "exporters/prometheusremotewrite/prw_exporter.h"
#include "tests/testutil/config_util.h"

namespace outrigger::exporters::prometheusremotewrite {
namespace {

TEST(PrometheusRemoteWriteConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.endpoint, "");
  EXPECT_TRUE(c.headers.empty());
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_EQ(c.tls.ca_file, "");
  EXPECT_EQ(c.metric_namespace, "");
  EXPECT_TRUE(c.external_labels.empty());
  EXPECT_FALSE(c.resource_to_telemetry_conversion);
  EXPECT_TRUE(c.add_metric_suffixes);
  EXPECT_FALSE(c.send_metadata);
  EXPECT_FALSE(c.exclude_service_attributes);
  EXPECT_EQ(c.translation_strategy, "");
  EXPECT_EQ(c.Strategy(), prom::TranslationStrategy::kUnderscoreEscapingWithSuffixes);
  EXPECT_FALSE(c.disable_scope_info);
  EXPECT_TRUE(c.target_info);
  EXPECT_FALSE(c.export_created_metric);
  EXPECT_EQ(c.max_batch_request_parallelism, 5);
  EXPECT_EQ(c.protobuf_message, "prometheus.WriteRequest");
  EXPECT_FALSE(c.remote_write_queue_set);
  EXPECT_EQ(c.max_samples_per_request, 2000);
  EXPECT_EQ(c.max_batch_size_bytes, 3000000u);
  EXPECT_TRUE(c.helper.sending_queue.enabled);
  EXPECT_TRUE(c.helper.retry_on_failure.enabled);
  EXPECT_EQ(c.helper.timeout, exporterhelper::kDefaultTimeout);
  // The endpoint is required.
  EXPECT_FALSE(c.Validate().ok());
  c.endpoint = "http://127.0.0.1:9090/api/v1/write";
  EXPECT_TRUE(c.Validate().ok());
}

TEST(PrometheusRemoteWriteConfig, Testdata) {
  unsetenv("REMOTE_WRITE_TOKEN");
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig("exporters/prometheusremotewrite/testdata/config.yaml", "exporters",
                                              "prometheusremotewrite", &c, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.endpoint, "https://prometheus.example.com/api/v1/write");
  EXPECT_EQ(c.headers,
            (std::map<std::string, std::string>{{"Authorization", "Bearer changeme"}, {"X-Scope-OrgID", "team-a"}}));
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_EQ(c.tls.ca_file, "/etc/outrigger/tls/ca.pem");
  EXPECT_EQ(c.tls.cert_file, "/etc/outrigger/tls/client.pem");
  EXPECT_EQ(c.tls.key_file, "/etc/outrigger/tls/client-key.pem");
  EXPECT_EQ(c.metric_namespace, "shop");
  EXPECT_EQ(c.external_labels, (std::map<std::string, std::string>{{"cluster", "eu-west-1"}, {"replica", "a"}}));
  EXPECT_TRUE(c.resource_to_telemetry_conversion);
  EXPECT_FALSE(c.add_metric_suffixes);
  EXPECT_TRUE(c.exclude_service_attributes);
  EXPECT_EQ(c.translation_strategy, "UnderscoreEscapingWithoutSuffixes");
  EXPECT_TRUE(c.disable_scope_info);
  EXPECT_FALSE(c.target_info);
  EXPECT_TRUE(c.export_created_metric);
  EXPECT_EQ(c.max_batch_request_parallelism, 2);
  EXPECT_EQ(c.protobuf_message, kProtobufMessageV1);
  EXPECT_TRUE(c.send_metadata);
  EXPECT_EQ(c.max_samples_per_request, 500);
  EXPECT_EQ(c.max_batch_size_bytes, 1024u * 1024u);
  EXPECT_EQ(c.helper.timeout, absl::Seconds(15));
  EXPECT_EQ(c.helper.sending_queue.num_consumers, 1);
  EXPECT_EQ(c.helper.sending_queue.queue_size, 100000);
  EXPECT_EQ(c.helper.retry_on_failure.initial_interval, absl::Milliseconds(500));
  EXPECT_EQ(c.helper.retry_on_failure.max_interval, absl::Seconds(10));
  EXPECT_EQ(c.helper.retry_on_failure.max_elapsed_time, absl::Minutes(10));
}

TEST(PrometheusRemoteWriteConfig, RetryableStatuses) {
  for (long code : {429L, 500L, 502L, 503L, 504L, 599L}) EXPECT_TRUE(Retryable(code)) << code;
  for (long code : {200L, 204L, 400L, 401L, 404L, 413L}) EXPECT_FALSE(Retryable(code)) << code;
}

}  // namespace
}  // namespace outrigger::exporters::prometheusremotewrite
