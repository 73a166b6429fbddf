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
  EXPECT_FALSE(c.tls.insecure_skip_verify);
  EXPECT_EQ(c.tls.server_name_override, "");
  EXPECT_EQ(c.tls.min_version, "1.2");
  EXPECT_EQ(c.tls.max_version, "");
  EXPECT_EQ(c.auth.authenticator, "");
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

TEST(OtlpExporterConfig, TestdataTlsOptionsAndAuth) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig("exporters/otlp/testdata/config.yaml", "exporters", "otlp/tls_options",
                                              &c, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate().message();
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_TRUE(c.tls.insecure_skip_verify);
  EXPECT_EQ(c.tls.server_name_override, "gateway.internal");
  EXPECT_EQ(c.tls.min_version, "1.2");
  EXPECT_EQ(c.tls.max_version, "1.3");
  EXPECT_EQ(c.auth.authenticator, "bearertokenauth");
}

TEST(OtlpExporterConfig, TlsRefusals) {
  // gRPC has no TLS version setting: only its own range is accepted.
  Config c;
  c.endpoint = "a:1";
  c.tls.min_version = "1.3";
  EXPECT_NE(c.Validate().message().find("tls.min_version \"1.3\" is not supported"), std::string_view::npos)
      << c.Validate().message();
  c.tls.min_version = "1.2";
  c.tls.max_version = "1.2";
  EXPECT_FALSE(c.Validate().ok());
  c.tls.max_version = "1.4";
  EXPECT_NE(c.Validate().message().find("not one of"), std::string_view::npos);
  c.tls.max_version = "";
  c.tls.server_name_override = "bad name";
  EXPECT_FALSE(c.Validate().ok());
  // Upstream options without an equivalent are refused with what to do instead.
  Config d;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("endpoint: a:1\ntls: {ca_pem: x, reload_interval: 1m}\n", &d, &errors).ok());
  EXPECT_NE(errors.Joined().find("ca_pem is not supported: write the PEM to a file and set ca_file"), std::string::npos)
      << errors.Joined();
  EXPECT_NE(errors.Joined().find("reload_interval is not supported"), std::string::npos) << errors.Joined();
}

}  // namespace
}  // namespace outrigger::exporters::otlp
