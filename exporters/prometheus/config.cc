#include "exporters/prometheus/config.h"

#include "collector/http/server.h"
#include "collector/prometheus/labels.h"

namespace outrigger::exporters::prometheus {

using prom::IsLabelName;
using prom::IsNamespace;

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("namespace", &metric_namespace);
  node.Read("const_labels", &const_labels);
  node.Read("send_timestamps", &send_timestamps);
  node.Read("metric_expiration", &metric_expiration);
  node.Child("resource_to_telemetry_conversion").Read("enabled", &resource_to_telemetry_conversion);
  node.Read("enable_open_metrics", &enable_open_metrics);
  node.Read("add_metric_suffixes", &add_metric_suffixes);
  limits.Decode(node);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
}

absl::Status Config::Validate() const {
  if (auto hp = http::ParseEndpoint(endpoint); !hp.ok()) return hp.status();
  if (auto s = limits.Validate(""); !s.ok()) return s;
  if (auto s = tls.Validate("tls"); !s.ok()) return s;
  if (metric_expiration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("metric_expiration must be positive");
  }
  if (!IsNamespace(metric_namespace)) {
    return absl::InvalidArgumentError(StrCat("namespace \"", metric_namespace,
                                             "\" is not a valid metric name prefix: use letters, digits, '_' and "
                                             "':', not starting with a digit"));
  }
  for (const auto& [k, v] : const_labels) {
    if (!IsLabelName(k)) {
      return absl::InvalidArgumentError(StrCat("const_labels: \"", k,
                                               "\" is not a valid label name: use letters, digits and '_', not "
                                               "starting with a digit"));
    }
    if (k.rfind("__", 0) == 0) {
      return absl::InvalidArgumentError(StrCat("const_labels: \"", k, "\": names starting with \"__\" are reserved"));
    }
  }
  return absl::OkStatus();
}

}  // namespace outrigger::exporters::prometheus
