// The otlp receiver's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "receivers/otlp/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::receivers::otlp {
namespace {

constexpr char kTestdata[] = "receivers/otlp/testdata/config.yaml";

TEST(OtlpReceiverConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_FALSE(cfg.grpc.enabled);
  EXPECT_EQ(cfg.grpc.endpoint, "127.0.0.1:4317");
  EXPECT_EQ(cfg.grpc.max_recv_msg_size_mib, 4);
  EXPECT_EQ(cfg.grpc.max_concurrent_streams, 0);
  EXPECT_EQ(cfg.grpc.read_buffer_size, 0u);
  EXPECT_EQ(cfg.grpc.keepalive.max_connection_idle, absl::Minutes(10));
  EXPECT_EQ(cfg.grpc.keepalive.max_connection_age, absl::ZeroDuration());
  EXPECT_EQ(cfg.grpc.keepalive.time, absl::Hours(2));
  EXPECT_EQ(cfg.grpc.keepalive.timeout, absl::Seconds(20));
  EXPECT_EQ(cfg.grpc.keepalive.min_time, absl::Minutes(5));
  EXPECT_FALSE(cfg.grpc.keepalive.permit_without_stream);
  EXPECT_FALSE(cfg.grpc.include_metadata);
  EXPECT_FALSE(cfg.http.include_metadata);
  EXPECT_FALSE(cfg.http.enabled);
  EXPECT_EQ(cfg.http.endpoint, "127.0.0.1:4318");
  EXPECT_EQ(cfg.http.max_request_body_size, 20971520u);
  EXPECT_EQ(cfg.http.traces_url_path, "/v1/traces");
  EXPECT_EQ(cfg.http.metrics_url_path, "/v1/metrics");
  EXPECT_EQ(cfg.http.logs_url_path, "/v1/logs");
  EXPECT_EQ(cfg.http.limits.read_header_timeout, absl::Seconds(10));
  EXPECT_EQ(cfg.http.limits.read_timeout, absl::Seconds(30));
  EXPECT_EQ(cfg.http.limits.write_timeout, absl::Seconds(30));
  EXPECT_EQ(cfg.http.limits.idle_timeout, absl::Seconds(60));
  EXPECT_EQ(cfg.http.limits.max_connections, 1000);
  EXPECT_EQ(cfg.retry_after_seconds, 1);
  EXPECT_FALSE(cfg.protocols_given);
  // At least one protocol is required.
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(OtlpReceiverConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "otlp", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(cfg.protocols_given);
  EXPECT_TRUE(cfg.grpc.enabled);
  EXPECT_EQ(cfg.grpc.endpoint, "0.0.0.0:14317");
  EXPECT_EQ(cfg.grpc.max_recv_msg_size_mib, 16);
  EXPECT_EQ(cfg.grpc.max_concurrent_streams, 64);
  EXPECT_EQ(cfg.grpc.read_buffer_size, 256u << 10);
  EXPECT_EQ(cfg.grpc.keepalive.max_connection_idle, absl::Minutes(1));
  EXPECT_EQ(cfg.grpc.keepalive.max_connection_age, absl::Minutes(30));
  EXPECT_EQ(cfg.grpc.keepalive.max_connection_age_grace, absl::Seconds(10));
  EXPECT_EQ(cfg.grpc.keepalive.time, absl::Hours(1));
  EXPECT_EQ(cfg.grpc.keepalive.timeout, absl::Seconds(10));
  EXPECT_EQ(cfg.grpc.keepalive.min_time, absl::Seconds(30));
  EXPECT_TRUE(cfg.grpc.keepalive.permit_without_stream);
  EXPECT_TRUE(cfg.grpc.include_metadata);
  EXPECT_TRUE(cfg.http.include_metadata);
  EXPECT_TRUE(cfg.http.enabled);
  EXPECT_EQ(cfg.http.endpoint, "[::1]:14318");
  EXPECT_EQ(cfg.http.max_request_body_size, 8u << 20);
  EXPECT_EQ(cfg.http.traces_url_path, "/otlp/v1/traces");
  EXPECT_EQ(cfg.http.metrics_url_path, "/otlp/v1/metrics");
  EXPECT_EQ(cfg.http.logs_url_path, "/otlp/v1/logs");
  EXPECT_EQ(cfg.http.limits.read_header_timeout, absl::Seconds(5));
  EXPECT_EQ(cfg.http.limits.read_timeout, absl::Minutes(1));
  EXPECT_EQ(cfg.http.limits.write_timeout, absl::Seconds(20));
  EXPECT_EQ(cfg.http.limits.idle_timeout, absl::Minutes(2));
  EXPECT_EQ(cfg.http.limits.max_connections, 100);
  EXPECT_EQ(cfg.http.limits.cors.allowed_origins,
            (std::vector<std::string>{"https://*.example.com", "https://example.com"}));
  EXPECT_EQ(cfg.http.limits.cors.allowed_headers, (std::vector<std::string>{"Content-Type", "X-Tenant"}));
  EXPECT_EQ(cfg.http.limits.cors.max_age, 7200);
  EXPECT_EQ(cfg.http.limits.response_headers, (std::map<std::string, std::string>{{"X-Frame-Options", "DENY"}}));
  EXPECT_EQ(cfg.http.compression_algorithms, (std::vector<std::string>{"", "gzip"}));
  EXPECT_EQ(cfg.retry_after_seconds, 5);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(OtlpReceiverConfig, TestdataHttpOnlyKeepsTheOtherDefaults) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "otlp/http_only", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_FALSE(cfg.grpc.enabled);
  EXPECT_TRUE(cfg.http.enabled);
  EXPECT_EQ(cfg.http.endpoint, "127.0.0.1:0");
  EXPECT_EQ(cfg.http.max_request_body_size, 20971520u);
  EXPECT_EQ(cfg.http.traces_url_path, "/v1/traces");
  EXPECT_EQ(cfg.retry_after_seconds, 1);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(OtlpReceiverConfig, AnEmptyProtocolKeyEnablesItWithItsDefaults) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "receivers", "otlp/grpc_defaults", &cfg, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(cfg.grpc.enabled);
  EXPECT_EQ(cfg.grpc.endpoint, "127.0.0.1:4317");
  EXPECT_EQ(cfg.grpc.max_recv_msg_size_mib, 4);
  EXPECT_EQ(cfg.grpc.max_concurrent_streams, 0);
  EXPECT_FALSE(cfg.http.enabled);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(OtlpReceiverConfig, GrpcTlsAndAuthDecodeAndUnsupportedVersionsAreRefused) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("protocols:\n"
                                   "  grpc:\n"
                                   "    tls: {cert_file: s.crt, key_file: s.key, client_ca_file: ca.crt, "
                                   "reload_interval: 30s}\n"
                                   "    auth: {authenticator: bearertokenauth/in}\n",
                                   &cfg, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_EQ(cfg.grpc.tls.cert_file, "s.crt");
  EXPECT_EQ(cfg.grpc.tls.client_ca_file, "ca.crt");
  EXPECT_TRUE(cfg.grpc.tls.mutual());
  EXPECT_EQ(cfg.grpc.tls.reload_interval, absl::Seconds(30));
  EXPECT_EQ(cfg.grpc.auth.authenticator, "bearertokenauth/in");
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate().message();
  // gRPC has no TLS version or cipher settings: refused with what to do instead.
  cfg.grpc.tls.min_version = "1.3";
  EXPECT_NE(cfg.Validate().message().find("protocols.grpc.tls.min_version \"1.3\" is not supported"),
            std::string_view::npos)
      << cfg.Validate().message();
  cfg.grpc.tls.min_version = "1.2";
  cfg.grpc.tls.max_version = "1.2";
  EXPECT_NE(cfg.Validate().message().find("max_version"), std::string_view::npos);
  cfg.grpc.tls.max_version = "1.3";
  EXPECT_TRUE(cfg.Validate().ok());
  cfg.grpc.tls.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"};
  EXPECT_NE(cfg.Validate().message().find("cipher_suites is not supported"), std::string_view::npos);
}

TEST(OtlpReceiverConfig, GrpcWriteBufferSizeIsRefusedWithWhatToDo) {
  Config cfg;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("protocols:\n  grpc:\n    write_buffer_size: 512KiB\n", &cfg, &errors).ok());
  EXPECT_NE(errors.Joined().find("write_buffer_size is not supported"), std::string::npos) << errors.Joined();
}

}  // namespace
}  // namespace outrigger::receivers::otlp
