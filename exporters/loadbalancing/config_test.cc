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

  Config k;
  ASSERT_TRUE(testutil::DecodeComponentConfig("exporters/loadbalancing/testdata/config.yaml", "exporters",
                                              "loadbalancing/k8s", &k, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_TRUE(k.Validate().ok()) << k.Validate();
  EXPECT_TRUE(k.has_k8s);
  EXPECT_FALSE(k.has_dns || k.has_static);
  EXPECT_EQ(k.k8s.service, "outrigger-gateway.observability");
  EXPECT_EQ(k.k8s.name, "outrigger-gateway");
  EXPECT_EQ(k.k8s.ns, "observability");
  EXPECT_EQ(k.k8s.ports, (std::vector<int>{4317, 55690}));
  EXPECT_EQ(k.k8s.timeout, absl::Seconds(3));
  EXPECT_TRUE(k.k8s.return_hostnames);
}

TEST(LoadBalancingConfig, K8sDefaultsAndService) {
  K8sResolverConfig d;
  EXPECT_EQ(d.ports, std::vector<int>{4317});
  EXPECT_EQ(d.timeout, absl::Seconds(1));
  EXPECT_FALSE(d.return_hostnames);

  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("resolver: {k8s: {service: lb-svc}}", &c, &errors).ok()) << errors.Joined();
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  EXPECT_EQ(c.k8s.name, "lb-svc");
  EXPECT_EQ(c.k8s.ns, "") << "the collector's own namespace, found at Start";
  EXPECT_EQ(c.k8s.ports, std::vector<int>{4317});
  EXPECT_EQ(c.k8s.timeout, absl::Seconds(1));
  EXPECT_FALSE(c.k8s.return_hostnames);
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
  // resolver.k8s: bad values are named by their path.
  EXPECT_EQ(Problem("resolver: {k8s: {service: lb-svc.ns, ports: [4317, 55690], timeout: 2s}}"), "");
  EXPECT_NE(Problem("resolver: {k8s: {ports: [4317]}}").find("resolver.k8s.service is required"), std::string::npos);
  std::string bad = Problem("resolver: {k8s: {service: Lb_Svc}}");
  EXPECT_NE(bad.find("resolver.k8s.service"), std::string::npos) << bad;
  bad = Problem("resolver: {k8s: {service: lb.ns.svc.cluster.local}}");
  EXPECT_NE(bad.find("resolver.k8s.service"), std::string::npos) << bad;
  bad = Problem("resolver: {k8s: {service: lb, ports: [4317, 70000]}}");
  EXPECT_NE(bad.find("resolver.k8s.ports[1]"), std::string::npos) << bad;
  bad = Problem("resolver: {k8s: {service: lb, ports: [otlp]}}");
  EXPECT_NE(bad.find("resolver.k8s.ports[0]"), std::string::npos) << bad;
  EXPECT_NE(Problem("resolver: {k8s: {service: lb, ports: []}}").find("resolver.k8s.ports"), std::string::npos);
  EXPECT_NE(Problem("resolver: {k8s: {service: lb, timeout: 0s}}").find("resolver.k8s.timeout"), std::string::npos);
  bad = Problem("resolver: {k8s: {service: lb, timeout: soon}}");
  EXPECT_NE(bad.find("resolver.k8s.timeout"), std::string::npos) << bad;
  bad = Problem("resolver: {k8s: {service: lb, return_hostnames: maybe}}");
  EXPECT_NE(bad.find("resolver.k8s.return_hostnames"), std::string::npos) << bad;
  EXPECT_NE(Problem("resolver: {k8s: {service: lb, namespace: x}}").find("unknown key"), std::string::npos);
  EXPECT_NE(Problem("resolver: {k8s: {service: lb}, dns: {hostname: b}}").find("only one"), std::string::npos);
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
