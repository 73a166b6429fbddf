#include "exporters/otlp/config.h"

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
  // gRPC (1.51) always negotiates TLS 1.2 or 1.3 and has no setting for it.
  if (tls.min_version != "1.2") {
    return absl::InvalidArgumentError(StrCat("tls.min_version \"", tls.min_version,
                                             "\" is not supported: gRPC always uses TLS 1.2 or 1.3; remove it or set "
                                             "\"1.2\""));
  }
  if (!tls.max_version.empty() && tls.max_version != "1.3") {
    return absl::InvalidArgumentError(StrCat("tls.max_version \"", tls.max_version,
                                             "\" is not supported: gRPC always uses TLS 1.2 or 1.3; remove it or set "
                                             "\"1.3\""));
  }
  return helper.Validate();
}

}  // namespace outrigger::exporters::otlp
