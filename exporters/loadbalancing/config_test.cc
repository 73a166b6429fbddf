#include "exporters/loadbalancing/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::loadbalancing {
namespace {

TEST(LoadBalancingConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.routing_key, "traceID");
  EXPECT_EQ(c.dns.port, 4317);
  EXPECT_EQ(c.dns.interval, absl::Seconds(5));
  EXPECT_EQ(c.dns.timeout, absl::Seconds(1));
  EXPECT_EQ(c.dns.nameservers, "");
  EXPECT_EQ(c.otlp.compression, "gzip");
  EXPECT_FALSE(c.otlp.tls.insecure);
  EXPECT_TRUE(c.helper.sending_queue.enabled);
  EXPECT_EQ(c.helper.timeout, exporterhelper::kDefaultTimeout);
  EXPECT_FALSE(c.Validate().ok()) << "a resolver is required";
}

TEST(LoadBalancingConfig, Testdata) {
  config::Errors errors;
  Config c;
  ASSERT_TRUE(testutil::DecodeComponentConfig("exporters/loadbalancing/testdata/config.yaml", "exporters",
                                              "loadbalancing", &c, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  EXPECT_EQ(c.routing_key, "service");
  EXPECT_EQ(c.helper.timeout, absl::Seconds(2));
  EXPECT_EQ(c.helper.sending_queue.queue_size, 4096);
  EXPECT_EQ(c.helper.retry_on_failure.initial_interval, absl::Milliseconds(100));
  EXPECT_EQ(c.otlp.compression, "none");
  EXPECT_EQ(c.otlp.headers.at("x-tier"), "sidecar");
  EXPECT_TRUE(c.otlp.tls.insecure);
  EXPECT_TRUE(c.has_static);
  EXPECT_FALSE(c.has_dns);
  EXPECT_EQ(c.static_resolver.hostnames, (std::vector<std::string>{"gateway-1:4317", "gateway-2"}));

  Config d;
  ASSERT_TRUE(testutil::DecodeComponentConfig("exporters/loadbalancing/testdata/config.yaml", "exporters",
                                              "loadbalancing/dns", &d, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(d.Validate().ok()) << d.Validate();
  EXPECT_EQ(d.routing_key, "traceID");
  EXPECT_TRUE(d.has_dns);
  EXPECT_EQ(d.dns.hostname, "outrigger-gateway-headless.observability.svc.cluster.local");
  EXPECT_EQ(d.dns.port, 55690);
  EXPECT_EQ(d.dns.interval, absl::Seconds(10));
  EXPECT_EQ(d.dns.timeout, absl::Seconds(2));
  EXPECT_EQ(d.dns.nameservers, "127.0.0.1:5353");
}

// Decodes `yaml`; returns the decode errors, or Validate's message.
std::string Problem(const std::string& yaml) {
  Config c;
  config::Errors errors;
  auto st = testutil::DecodeYaml(yaml, &c, &errors);
  if (!errors.empty()) return errors.Joined();
  auto v = c.Validate();
  return v.ok() ? "" : std::string(v.message());
}

TEST(LoadBalancingConfig, Errors) {
  EXPECT_NE(Problem("routing_key: spanID\nresolver: {static: {hostnames: [a]}}").find("routing_key"),
            std::string::npos);
  EXPECT_NE(Problem("resolver: {static: {hostnames: []}}").find("at least one"), std::string::npos);
  EXPECT_NE(Problem("resolver: {static: {hostnames: [a]}, dns: {hostname: b}}").find("only one"), std::string::npos);
  EXPECT_NE(Problem("resolver: {dns: {port: 4317}}").find("hostname is required"), std::string::npos);
  EXPECT_NE(Problem("resolver: {dns: {hostname: b, port: 70000}}").find("port"), std::string::npos);
  EXPECT_NE(Problem("resolver: {dns: {hostname: b, interval: 0s}}").find("interval"), std::string::npos);
  EXPECT_EQ(Problem("resolver: {dns: {hostname: b, port: \"4317\"}}"), "");
  // Upstream options we do not have say what to use instead.
  std::string k8s = Problem("resolver: {k8s: {service: lb-svc.ns}}");
  EXPECT_NE(k8s.find("k8s is not supported"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("resolver.dns"), std::string::npos) << k8s;
  EXPECT_NE(Problem("resolver: {aws_cloud_map: {namespace: x}}").find("not supported"), std::string::npos);
  EXPECT_NE(Problem("routing_attributes: [a]\nresolver: {static: {hostnames: [a]}}").find("not supported"),
            std::string::npos);
  EXPECT_NE(Problem("sending_queue: {enabled: false}\nresolver: {static: {hostnames: [a]}}").find("protocol.otlp"),
            std::string::npos);
  EXPECT_NE(Problem("protocol: {otlp: {endpoint: x:1}}\nresolver: {static: {hostnames: [a]}}").find("resolver"),
            std::string::npos);
  EXPECT_NE(Problem("protocol: {otlp: {compression: br}}\nresolver: {static: {hostnames: [a]}}").find("compression"),
            std::string::npos);
  EXPECT_NE(Problem("protocol: {otlp: {endpoint2: x}}\nresolver: {static: {hostnames: [a]}}").find("unknown key"),
            std::string::npos);
}

}  // namespace
}  // namespace outrigger::exporters::loadbalancing
