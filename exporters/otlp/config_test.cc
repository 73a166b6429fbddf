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

// Endpoints as upstream's configgrpc reads them: what gRPC can dial is accepted (and
// turned into its target), what it cannot is refused at validate time with what to write.
TEST(OtlpExporterConfig, EndpointForms) {
  using outrigger::otlp::GrpcTarget;
  using outrigger::otlp::ParseGrpcEndpoint;
  struct Good {
    const char* endpoint;
    const char* target;
    GrpcTarget::Tls tls;
  };
  const Good good[] = {
      {"collector:4317", "collector:4317", GrpcTarget::Tls::kConfig},
      {"127.0.0.1:4317", "127.0.0.1:4317", GrpcTarget::Tls::kConfig},
      {"[::1]:4317", "[::1]:4317", GrpcTarget::Tls::kConfig},
      {"http://collector:4317", "collector:4317", GrpcTarget::Tls::kOff},
      {"http://collector:4317/", "collector:4317", GrpcTarget::Tls::kOff},
      {"https://collector.example.com:443", "collector.example.com:443", GrpcTarget::Tls::kOn},
      {"dns:///collector:4317", "dns:///collector:4317", GrpcTarget::Tls::kConfig},
      {"dns:collector:4317", "dns:///collector:4317", GrpcTarget::Tls::kConfig},
      {"unix:///run/otel.sock", "unix:/run/otel.sock", GrpcTarget::Tls::kConfig},
      {"unix:otel.sock", "unix:otel.sock", GrpcTarget::Tls::kConfig},
  };
  for (const auto& g : good) {
    auto t = ParseGrpcEndpoint(g.endpoint);
    ASSERT_TRUE(t.ok()) << g.endpoint << ": " << t.status();
    EXPECT_EQ(t->target, g.target) << g.endpoint;
    EXPECT_EQ(t->tls, g.tls) << g.endpoint;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"collector", "no port: give host:port (e.g. collector:4317)"},
      {"http://collector", "no port"},
      {"http://collector:4317/v1/traces", "a gRPC endpoint has no path (\"/v1/traces\")"},
      {"collector:4317/v1/traces", "a gRPC endpoint has no path"},
      {"collector:http", "invalid port \"http\""},
      {"collector:70000", "invalid port \"70000\""},
      {"::1:4317", "an IPv6 address must be in brackets"},
      {"grpc://collector:4317", "the scheme \"grpc\" is not supported"},
      {"passthrough:///collector:4317", "the scheme \"passthrough\" is not supported"},
      {"dns://8.8.8.8/collector:4317", "a DNS server in the target"},
      {"dns:///collector", "no port"},
      {"unix://run/otel.sock", "unix:// takes an absolute path"},
      {"unix://", "unix:// takes an absolute path"},
  };
  for (const auto& [endpoint, want] : bad) {
    Config c;
    c.endpoint = endpoint;
    const std::string msg(c.Validate().message());
    EXPECT_NE(msg.find(want), std::string::npos) << endpoint << ": " << msg;
    EXPECT_NE(msg.find(StrCat("endpoint \"", endpoint, "\"")), std::string::npos) << msg;
  }
}

TEST(OtlpExporterConfig, UpstreamClientOptions) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("endpoint: a:1\nkeepalive: {time: 10s, timeout: 2s, permit_without_stream: true}\n"
                                   "read_buffer_size: 64KiB\nwait_for_ready: true\nbalancer_name: round_robin\n"
                                   "authority: b.example\n",
                                   &c, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  EXPECT_EQ(c.keepalive.time, absl::Seconds(10));
  EXPECT_EQ(c.keepalive.timeout, absl::Seconds(2));
  EXPECT_TRUE(c.keepalive.permit_without_stream);
  EXPECT_EQ(c.read_buffer_size, 64u << 10);
  EXPECT_TRUE(c.wait_for_ready);
  EXPECT_EQ(c.balancer_name, "round_robin");
  EXPECT_EQ(c.authority, "b.example");
  c.balancer_name = "grpclb";
  EXPECT_NE(c.Validate().message().find("balancer_name \"grpclb\" is not supported"), std::string_view::npos);
  c.balancer_name = "";
  c.compression = "zstd";
  EXPECT_NE(c.Validate().message().find("compression \"zstd\" is not supported"), std::string_view::npos);

  Config d;
  config::Errors refused;
  EXPECT_FALSE(
      testutil::DecodeYaml("endpoint: a:1\nwrite_buffer_size: 1024\nmiddlewares: []\nbatcher: {}\n", &d, &refused)
          .ok());
  for (const char* key : {"write_buffer_size is not supported", "middlewares is not supported",
                          "batcher is not supported: use sending_queue.batch"}) {
    EXPECT_NE(refused.Joined().find(key), std::string::npos) << refused.Joined();
  }
}

}  // namespace
}  // namespace outrigger::exporters::otlp
