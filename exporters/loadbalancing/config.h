#pragma once
// The loadbalancing exporter's options (upstream's loadbalancingexporter): a routing key,
// the OTLP exporter's options for every backend (protocol.otlp), and where the backends
// come from (resolver.static, resolver.dns or resolver.k8s).

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "collector/component/component.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/otlp/grpc_client.h"

namespace outrigger::exporters::loadbalancing {

inline constexpr char kDefaultRoutingKey[] = "traceID";
inline constexpr int kDefaultPort = 4317;
inline constexpr absl::Duration kDefaultDnsInterval = absl::Seconds(5);
inline constexpr absl::Duration kDefaultDnsTimeout = absl::Seconds(1);
inline constexpr absl::Duration kDefaultK8sTimeout = absl::Seconds(1);

struct StaticResolverConfig {
  // host:port of each backend; a host without a port gets 4317.
  std::vector<std::string> hostnames;
};

struct DnsResolverConfig {
  std::string hostname;  // resolved to its A and AAAA records
  int port = kDefaultPort;
  absl::Duration interval = kDefaultDnsInterval;
  absl::Duration timeout = kDefaultDnsTimeout;
  // Ours: the DNS servers to ask ("127.0.0.1:5353,[::1]:53"); empty: /etc/resolv.conf's.
  std::string nameservers;
};

struct K8sResolverConfig {
  // "name" or "name.namespace" as written; `name` and `ns` are its parts (`ns` empty when
  // not given: the collector's own namespace, found at Start).
  std::string service;
  std::string name;
  std::string ns;
  std::vector<int> ports = {kDefaultPort};
  // Bounds each list request to the API server.
  absl::Duration timeout = kDefaultK8sTimeout;
  // <hostname>.<service>.<namespace> instead of the addresses (StatefulSet pods).
  bool return_hostnames = false;
};

struct Config : ComponentConfig {
  // traceID | service | resource | metric | streamID
  std::string routing_key = kDefaultRoutingKey;
  // protocol.otlp: the otlp exporter's options but the endpoint (set per backend).
  otlp::GrpcClientConfig otlp;
  // protocol.otlp's sending_queue, retry_on_failure, timeout: one queue per backend.
  exporterhelper::HelperConfig helper;
  // Exactly one of them.
  bool has_static = false;
  StaticResolverConfig static_resolver;
  bool has_dns = false;
  DnsResolverConfig dns;
  bool has_k8s = false;
  K8sResolverConfig k8s;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

// "host:port" with the default port added when there is none ("[::1]" -> "[::1]:4317").
std::string WithDefaultPort(const std::string& hostname);

}  // namespace outrigger::exporters::loadbalancing
