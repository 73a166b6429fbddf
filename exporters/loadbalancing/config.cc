#include "exporters/loadbalancing/config.h"

#include "absl/strings/numbers.h"

namespace outrigger::exporters::loadbalancing {
namespace {

// A DNS-1123 label: what Service names and namespaces are.
bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

void DecodeK8s(config::Node& k, K8sResolverConfig* out) {
  k.Read("service", &out->service);
  if (!out->service.empty()) {
    // As upstream: the first dot separates the name from the namespace.
    auto dot = out->service.find('.');
    out->name = out->service.substr(0, dot);
    out->ns = dot == std::string::npos ? "" : out->service.substr(dot + 1);
    if (!IsDnsLabel(out->name) || (dot != std::string::npos && !IsDnsLabel(out->ns))) {
      k.Value("service").Error(
          "must be a Service's \"name\" or \"name.namespace\" (lowercase letters, digits and '-')");
    }
  }
  auto& ports = k.Value("ports");
  if (!ports.IsNull()) {
    out->ports.clear();
    for (config::Node* item : ports.Items()) {
      int64_t p = 0;
      if (!item->As(&p)) continue;
      if (p < 1 || p > 65535) {
        item->Error("must be a port number (1-65535)");
        continue;
      }
      out->ports.push_back(static_cast<int>(p));
    }
  }
  k.Read("timeout", &out->timeout);
  k.Read("return_hostnames", &out->return_hostnames);
}

}  // namespace

void Config::Decode(config::Node& node) {
  node.ReadEnum("routing_key", &routing_key, {"traceID", "service", "resource", "metric", "streamID"});
  node.Unsupported("routing_attributes", "use routing_key (traceID, service, resource, metric or streamID)");
  for (const char* key : {"sending_queue", "retry_on_failure", "timeout"}) {
    node.Unsupported(key,
                     "set it under protocol.otlp: every backend has its own queue and retries, and the data of a "
                     "backend that goes away is routed again to the others");
  }
  auto& protocol = node.Child("protocol");
  auto& otlp_node = protocol.Child("otlp");
  otlp_node.Unsupported("endpoint", "the endpoints come from the resolver");
  otlp.DecodeClient(otlp_node, /*read_endpoint=*/false);
  helper.Decode(otlp_node);

  auto& resolver = node.Child("resolver");
  if (resolver.Has("static")) {
    has_static = true;
    resolver.Child("static").Read("hostnames", &static_resolver.hostnames);
  }
  if (resolver.Has("dns")) {
    has_dns = true;
    auto& d = resolver.Child("dns");
    d.Read("hostname", &dns.hostname);
    // Upstream reads the port as a string; a number is taken too.
    auto& port = d.Value("port");
    if (!port.IsNull()) {
      std::string s;
      int64_t p = 0;
      if (port.As(&s) && !(absl::SimpleAtoi(s, &p) && p > 0 && p < 65536)) {
        port.Error("must be a port number (1-65535)");
      } else {
        dns.port = static_cast<int>(p);
      }
    }
    d.Read("interval", &dns.interval);
    d.Read("timeout", &dns.timeout);
    d.Read("nameservers", &dns.nameservers);
  }
  if (resolver.Has("k8s")) {
    has_k8s = true;
    DecodeK8s(resolver.Child("k8s"), &k8s);
  }
  resolver.Unsupported("aws_cloud_map", "use resolver.dns or resolver.static");
}

absl::Status Config::Validate() const {
  if (has_static + has_dns + has_k8s == 0) {
    return absl::InvalidArgumentError("resolver: one of static, dns or k8s is required");
  }
  if (has_static + has_dns + has_k8s > 1) {
    return absl::InvalidArgumentError("resolver: only one of static, dns or k8s may be set");
  }
  if (has_static) {
    if (static_resolver.hostnames.empty()) {
      return absl::InvalidArgumentError("resolver.static.hostnames: at least one backend is required");
    }
    for (const auto& h : static_resolver.hostnames) {
      if (h.empty()) return absl::InvalidArgumentError("resolver.static.hostnames: an empty hostname");
      // Each backend is dialled as the otlp exporter's endpoint would be.
      if (auto t = otlp::ParseGrpcEndpoint(WithDefaultPort(h)); !t.ok()) {
        return absl::InvalidArgumentError(StrCat("resolver.static.hostnames: ", t.status().message()));
      }
    }
  }
  if (has_dns) {
    if (dns.hostname.empty()) return absl::InvalidArgumentError("resolver.dns.hostname is required");
    if (dns.interval <= absl::ZeroDuration())
      return absl::InvalidArgumentError("resolver.dns.interval must be positive");
    if (dns.timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("resolver.dns.timeout must be positive");
  }
  if (has_k8s) {
    if (k8s.service.empty()) return absl::InvalidArgumentError("resolver.k8s.service is required");
    if (k8s.ports.empty()) return absl::InvalidArgumentError("resolver.k8s.ports: at least one port is required");
    if (k8s.timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("resolver.k8s.timeout must be positive");
  }
  if (auto st = otlp.ValidateClient(); !st.ok()) {
    return absl::InvalidArgumentError(StrCat("protocol.otlp.", st.message()));
  }
  if (auto st = helper.Validate(); !st.ok()) {
    return absl::InvalidArgumentError(StrCat("protocol.otlp.", st.message()));
  }
  return absl::OkStatus();
}

std::string WithDefaultPort(const std::string& hostname) {
  std::string_view h = hostname;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (h.substr(0, scheme.size()) == scheme) h.remove_prefix(scheme.size());
  }
  bool has_port = false;
  if (!h.empty() && h[0] == '[') {
    auto close = h.find(']');
    has_port = close != std::string_view::npos && close + 1 < h.size() && h[close + 1] == ':';
  } else {
    auto colon = h.rfind(':');
    // More than one colon and no brackets: a bare IPv6 address, no port.
    has_port = colon != std::string_view::npos && h.find(':') == colon;
  }
  if (has_port) return hostname;
  if (!h.empty() && h[0] != '[' && h.find(':') != std::string_view::npos)
    return StrCat(hostname.substr(0, hostname.size() - h.size()), "[", h, "]:", kDefaultPort);
  return StrCat(hostname, ":", kDefaultPort);
}

}  // namespace outrigger::exporters::loadbalancing
