#include "exporters/otlp/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::otlp {
namespace {

TEST(OtlpExporterConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.endpoint, "");
  EXPECT_EQ(c.compression, "gzip");
  EXPECT_TRUE(c.headers.empty());
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_EQ(c.tls.ca_file, "");
  EXPECT_EQ(c.tls.cert_file, "");
  EXPECT_EQ(c.tls.key_file, "");
  EXPECT_TRUE(c.helper.sending_queue.enabled);
  EXPECT_TRUE(c.helper.retry_on_failure.enabled);
  EXPECT_EQ(c.helper.timeout, exporterhelper::kDefaultTimeout);
  // The endpoint is required.
  EXPECT_FALSE(c.Validate().ok());
  c.endpoint = "127.0.0.1:4317";
  EXPECT_TRUE(c.Validate().ok());
}

TEST(OtlpExporterConfig, Testdata) {
  unsetenv("BACKEND_TOKEN");
  Config c;
  config::Errors errors;
  ASSERT_TRUE(
      testutil::DecodeComponentConfig("exporters/otlp/testdata/config.yaml", "exporters", "otlp", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.endpoint, "otel-backend.example.com:4317");
  EXPECT_EQ(c.compression, "none");
  EXPECT_EQ(c.headers,
            (std::map<std::string, std::string>{{"Authorization", "Bearer changeme"}, {"x-tenant", "team-a"}}));
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_EQ(c.tls.ca_file, "/etc/outrigger/tls/ca.pem");
  EXPECT_EQ(c.tls.cert_file, "/etc/outrigger/tls/client.pem");
  EXPECT_EQ(c.tls.key_file, "/etc/outrigger/tls/client-key.pem");
  EXPECT_EQ(c.helper.timeout, absl::Seconds(10));
  const auto& q = c.helper.sending_queue;
  EXPECT_TRUE(q.enabled);
  EXPECT_EQ(q.num_consumers, 4);
  EXPECT_EQ(q.sizer, "requests");
  EXPECT_EQ(q.queue_size, 200);
  EXPECT_FALSE(q.block_on_overflow);
  const auto& r = c.helper.retry_on_failure;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.initial_interval, absl::Seconds(1));
  EXPECT_EQ(r.randomization_factor, 0.2);
  EXPECT_EQ(r.multiplier, 2);
  EXPECT_EQ(r.max_interval, absl::Seconds(10));
  EXPECT_EQ(r.max_elapsed_time, absl::ZeroDuration());

  Config plain;
  config::Errors plain_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig("exporters/otlp/testdata/config.yaml", "exporters", "otlp/plaintext",
                                              &plain, &plain_errors)
                  .ok())
      << plain_errors.Joined();
  EXPECT_EQ(plain.endpoint, "http://outrigger-gateway.observability.svc:4317");
  EXPECT_EQ(plain.compression, "gzip");
}

TEST(OtlpExporterConfig, HttpOnlyKeysAreUnknown) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("endpoint: a:1\ntraces_endpoint: http://x/t\n", &c, &errors).ok());
}

}  // namespace
}  // namespace outrigger::exporters::otlp
