#include "exporters/otlphttp/config.h"

namespace outrigger::exporters::otlphttp {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.ReadEnum("compression", &compression, {"gzip", "none"});
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  helper.Decode(node);
  node.Read("traces_endpoint", &traces_endpoint);
  node.Read("metrics_endpoint", &metrics_endpoint);
  node.Read("logs_endpoint", &logs_endpoint);
  node.ReadEnum("encoding", &encoding, {"proto", "json"});
}

absl::Status Config::Validate() const {
  if (endpoint.empty() && (traces_endpoint.empty() || metrics_endpoint.empty() || logs_endpoint.empty())) {
    return absl::InvalidArgumentError("endpoint is required (e.g. http://127.0.0.1:4318)");
  }
  if (auto st = tls.Validate(); !st.ok()) return st;
  return helper.Validate();
}

}  // namespace outrigger::exporters::otlphttp
