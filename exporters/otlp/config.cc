#include "exporters/otlp/config.h"

namespace outrigger::exporters::otlp {

void TlsConfig::Decode(config::Node& node) {
  node.Read("insecure", &insecure);
  node.Read("ca_file", &ca_file);
  node.Read("cert_file", &cert_file);
  node.Read("key_file", &key_file);
}

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.ReadEnum("compression", &compression, {"gzip", "none"});
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  helper.Decode(node);
  if (http) {
    node.Read("traces_endpoint", &traces_endpoint);
    node.Read("metrics_endpoint", &metrics_endpoint);
    node.Read("logs_endpoint", &logs_endpoint);
    node.ReadEnum("encoding", &encoding, {"proto", "json"});
  }
}

absl::Status Config::Validate() const {
  if (endpoint.empty() &&
      !(http && !traces_endpoint.empty() && !metrics_endpoint.empty() && !logs_endpoint.empty())) {
    return absl::InvalidArgumentError(http ? "endpoint is required (e.g. http://127.0.0.1:4318)"
                                           : "endpoint is required (e.g. 127.0.0.1:4317)");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("tls.cert_file and tls.key_file go together");
  }
  return helper.Validate();
}

}  // namespace outrigger::exporters::otlp
