#include "extensions/health_check/config.h"

#include "collector/http/server.h"

namespace outrigger::extensions::health_check {

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("path", &path);
  node.Read("liveness_path", &liveness_path);
  if (node.Has("response_body")) {
    config::Node& r = node.Child("response_body");
    if (!r.IsNull() && !r.IsMap()) {
      node.ErrorAt("response_body", "expected a mapping with healthy and unhealthy strings");
    } else {
      response_body.set = true;
      r.Read("healthy", &response_body.healthy);
      r.Read("unhealthy", &response_body.unhealthy);
    }
  }
  config::Node& check = node.Child("check_collector_pipeline");
  check.Read("enabled", &check_collector_pipeline.enabled);
  check.Read("interval", &check_collector_pipeline.interval);
  check.Read("exporter_failure_threshold", &check_collector_pipeline.exporter_failure_threshold);
  // The health check v2 settings (upstream's healthcheckv2 and the component-status mode).
  bool use_v2 = false;
  node.Read("use_v2", &use_v2);
  if (use_v2) {
    node.ErrorAt("use_v2",
                 "use_v2 is not supported: the v2 health check (component status over http and grpc) is not "
                 "implemented; use endpoint, path and liveness_path (and check_collector_pipeline)");
  }
  node.Unsupported("http",
                   "the v2 http settings (http.endpoint, http.status, http.config) are not implemented; use endpoint, "
                   "path and liveness_path");
  node.Unsupported("grpc",
                   "the v2 gRPC health service is not implemented; probe the HTTP endpoint (Kubernetes httpGet)");
  node.Unsupported("component_health",
                   "component status is not tracked; use check_collector_pipeline for exporter failures");
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
  if (check_collector_pipeline.exporter_failure_threshold <= 0) {
    return absl::InvalidArgumentError("check_collector_pipeline.exporter_failure_threshold expects a positive number");
  }
  if (check_collector_pipeline.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("check_collector_pipeline.interval must be positive");
  }
  return absl::OkStatus();
}

}  // namespace outrigger::extensions::health_check
