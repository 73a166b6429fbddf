#include "extensions/health_check/config.h"

#include "collector/http/server.h"

namespace outrigger::extensions::health_check {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("path", &path);
  node.Read("liveness_path", &liveness_path);
  limits.Decode(node);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
}

absl::Status Config::Validate() const {
  if (auto hp = http::ParseEndpoint(endpoint); !hp.ok()) return hp.status();
  if (auto s = limits.Validate(""); !s.ok()) return s;
  if (auto s = tls.Validate("tls"); !s.ok()) return s;
  if (path.empty() || path[0] != '/' || liveness_path.empty() || liveness_path[0] != '/') {
    return absl::InvalidArgumentError("path and liveness_path must start with '/'");
  }
  return absl::OkStatus();
}

}  // namespace outrigger::extensions::health_check
