#include "exporters/otlp/config.h"

#include "collector/tls/config.h"

namespace outrigger::exporters::otlp {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.ReadEnum("compression", &compression, {"gzip", "none"});
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  helper.Decode(node);
}

absl::Status Config::Validate() const {
  if (endpoint.empty()) return absl::InvalidArgumentError("endpoint is required (e.g. 127.0.0.1:4317)");
  if (auto st = tls.Validate(); !st.ok()) return st;
  if (auto st = tls::GrpcFixedVersions("tls", tls.min_version, tls.max_version); !st.ok()) return st;
  return helper.Validate();
}

}  // namespace outrigger::exporters::otlp
