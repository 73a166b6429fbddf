#include "exporters/otlphttp/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "exporters/otlphttp/otlphttp_exporter.h"
#include "tests/testutil/config_util.h"

namespace outrigger::exporters::otlphttp {
namespace {

constexpr char kTestdata[] = "exporters/otlphttp/testdata/config.yaml";

TEST(OtlpHttpExporterConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.endpoint, "");
  EXPECT_EQ(c.traces_endpoint, "");
  EXPECT_EQ(c.metrics_endpoint, "");
  EXPECT_EQ(c.logs_endpoint, "");
  EXPECT_EQ(c.encoding, "proto");
  EXPECT_EQ(c.compression, "gzip");
  EXPECT_TRUE(c.headers.empty());
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_TRUE(c.helper.sending_queue.enabled);
  EXPECT_TRUE(c.helper.retry_on_failure.enabled);
  EXPECT_EQ(c.helper.timeout, exporterhelper::kDefaultTimeout);
  // An endpoint is required, or all three per-signal URLs.
  EXPECT_FALSE(c.Validate().ok());
  c.traces_endpoint = c.metrics_endpoint = "http://127.0.0.1:1/x";
  EXPECT_FALSE(c.Validate().ok());
  c.logs_endpoint = "http://127.0.0.1:1/x";
  EXPECT_TRUE(c.Validate().ok());
}

TEST(OtlpHttpExporterConfig, Testdata) {
  unsetenv("BACKEND_TOKEN");
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "otlphttp", &c, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.endpoint, "https://otlp.example.com/ingest");
  EXPECT_EQ(c.traces_endpoint, "https://traces.example.com/api/v1/otlp/traces");
  EXPECT_EQ(c.metrics_endpoint, "");
  EXPECT_EQ(c.logs_endpoint, "");
  EXPECT_EQ(c.encoding, "json");
  EXPECT_EQ(c.compression, "none");
  EXPECT_EQ(c.headers,
            (std::map<std::string, std::string>{{"Authorization", "Bearer changeme"}, {"X-Scope-OrgID", "team-a"}}));
  EXPECT_FALSE(c.tls.insecure);
  EXPECT_TRUE(c.tls.insecure_skip_verify);
  EXPECT_EQ(c.tls.server_name_override, "otlp.internal");
  EXPECT_EQ(c.tls.min_version, "1.3");
  EXPECT_EQ(c.auth.authenticator, "bearertokenauth");
  EXPECT_EQ(c.tls.ca_file, "/etc/outrigger/tls/ca.pem");
  EXPECT_EQ(c.tls.cert_file, "/etc/outrigger/tls/client.pem");
  EXPECT_EQ(c.tls.key_file, "/etc/outrigger/tls/client-key.pem");
  EXPECT_EQ(c.helper.timeout, absl::Seconds(15));
  const auto& q = c.helper.sending_queue;
  EXPECT_EQ(q.num_consumers, 8);
  EXPECT_EQ(q.queue_size, 100000);
  EXPECT_EQ(q.sizer, "items");
  EXPECT_FALSE(q.block_on_overflow);
  const auto& r = c.helper.retry_on_failure;
  EXPECT_EQ(r.initial_interval, absl::Milliseconds(500));
  EXPECT_EQ(r.randomization_factor, 0);
  EXPECT_EQ(r.multiplier, 3);
  EXPECT_EQ(r.max_interval, absl::Minutes(1));
  EXPECT_EQ(r.max_elapsed_time, absl::Minutes(15));

  Config split;
  config::Errors split_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "otlphttp/split", &split, &split_errors).ok())
      << split_errors.Joined();
  EXPECT_TRUE(split.Validate().ok());
  EXPECT_EQ(split.endpoint, "");
  EXPECT_EQ(split.traces_endpoint, "http://127.0.0.1:9411/t");
  EXPECT_EQ(split.metrics_endpoint, "http://127.0.0.1:9411/m");
  EXPECT_EQ(split.logs_endpoint, "http://127.0.0.1:9411/l");
}

TEST(OtlpHttpExporterConfig, RetryableStatuses) {
  for (long code : {429L, 502L, 503L, 504L}) EXPECT_TRUE(Retryable(code)) << code;
  for (long code : {200L, 400L, 401L, 404L, 413L, 500L, 501L}) EXPECT_FALSE(Retryable(code)) << code;
}

TEST(OtlpHttpExporterConfig, TlsVersionsAndAuth) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("endpoint: https://backend:4318\n"
                                   "tls: {min_version: \"1.3\", server_name_override: backend.internal, "
                                   "insecure_skip_verify: true}\n"
                                   "auth: {authenticator: bearertokenauth/out}\n",
                                   &c, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate().message();
  EXPECT_EQ(c.tls.min_version, "1.3");
  EXPECT_EQ(c.tls.server_name_override, "backend.internal");
  EXPECT_TRUE(c.tls.insecure_skip_verify);
  EXPECT_EQ(c.auth.authenticator, "bearertokenauth/out");
  c.tls.max_version = "1.2";
  EXPECT_NE(c.Validate().message().find("tls.max_version is older than tls.min_version"), std::string_view::npos)
      << c.Validate().message();
  c.tls.min_version = "1.5";
  EXPECT_FALSE(c.Validate().ok());
}

TEST(OtlpHttpExporterConfig, UpstreamClientOptions) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("endpoint: https://a:4318\ncompression_params: {level: 1}\n", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  EXPECT_EQ(c.compression_level, 1);
  c.compression_level = 10;
  EXPECT_NE(c.Validate().message().find("compression_params.level must be 1"), std::string_view::npos);
  c.compression_level = 9;
  c.compression = "none";
  EXPECT_NE(c.Validate().message().find("needs compression: gzip"), std::string_view::npos);
  c.compression_level = -1;
  for (const char* algo : {"zstd", "snappy", "deflate", "lz4"}) {
    c.compression = algo;
    EXPECT_NE(c.Validate().message().find(StrCat("compression \"", algo, "\" is not supported")),
              std::string_view::npos)
        << c.Validate();
  }
  c.compression = "gzip";
  for (const char* bad : {"a:4318", "grpc://a:4318", "http://", "https:///v1/traces"}) {
    c.endpoint = bad;
    EXPECT_FALSE(c.Validate().ok()) << bad;
  }
  c.endpoint = "http://a:4318";
  c.traces_endpoint = "a:4318/v1/traces";
  EXPECT_NE(c.Validate().message().find("traces_endpoint \"a:4318/v1/traces\" must start with http://"),
            std::string_view::npos);

  Config d;
  config::Errors refused;
  EXPECT_FALSE(testutil::DecodeYaml("endpoint: http://a:1\nproxy_url: http://p:3128\nread_buffer_size: 1\n"
                                    "write_buffer_size: 1\nmax_idle_conns: 1\nmax_idle_conns_per_host: 1\n"
                                    "max_conns_per_host: 1\nidle_conn_timeout: 1s\ndisable_keep_alives: true\n"
                                    "force_attempt_http2: true\nhttp2_read_idle_timeout: 1s\nhttp2_ping_timeout: 1s\n"
                                    "cookies: {enabled: true}\nmiddlewares: []\nprofiles_endpoint: http://a/p\n"
                                    "batcher: {}\n",
                                    &d, &refused)
                   .ok());
  const std::string all = refused.Joined();
  for (const char* key :
       {"proxy_url", "read_buffer_size", "write_buffer_size", "max_idle_conns", "max_idle_conns_per_host",
        "max_conns_per_host", "idle_conn_timeout", "disable_keep_alives", "force_attempt_http2",
        "http2_read_idle_timeout", "http2_ping_timeout", "cookies", "middlewares", "profiles_endpoint", "batcher"}) {
    EXPECT_NE(all.find(StrCat(key, " is not supported: ")), std::string::npos) << key << "\n" << all;
  }
  EXPECT_EQ(all.find("unknown key"), std::string::npos) << all;
}

}  // namespace
}  // namespace outrigger::exporters::otlphttp
