#include "exporters/prometheusremotewrite/config.h"

#include "collector/prometheus/labels.h"

namespace outrigger::exporters::prometheusremotewrite {

using prom::IsLabelName;
using prom::IsNamespace;

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("headers", &headers);
  tls.Decode(node.Child("tls"));
  auth.Decode(node.Child("auth"));
  node.Read("namespace", &metric_namespace);
  node.Read("external_labels", &external_labels);
  node.Child("resource_to_telemetry_conversion").Read("enabled", &resource_to_telemetry_conversion);
  node.Read("add_metric_suffixes", &add_metric_suffixes);
  node.Read("send_metadata", &send_metadata);
  node.Read("max_samples_per_request", &max_samples_per_request);
  node.ReadBytes("max_batch_size_bytes", &max_batch_size_bytes);
  helper.Decode(node);
}

absl::Status Config::Validate() const {
  if (endpoint.empty()) {
    return absl::InvalidArgumentError("endpoint is required (e.g. http://127.0.0.1:9090/api/v1/write)");
  }
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return absl::InvalidArgumentError(StrCat("endpoint \"", endpoint, "\" must be an http:// or https:// URL"));
  }
  if (auto st = tls.Validate(); !st.ok()) return st;
  if (!IsNamespace(metric_namespace)) {
    return absl::InvalidArgumentError(StrCat("namespace \"", metric_namespace,
                                             "\" is not a valid metric name prefix: use letters, digits, '_' and "
                                             "':', not starting with a digit"));
  }
  for (const auto& [k, v] : external_labels) {
    if (!IsLabelName(k) || k.rfind("__", 0) == 0) {
      return absl::InvalidArgumentError(StrCat("external_labels: \"", k,
                                               "\" is not a valid label name: use letters, digits and '_', not "
                                               "starting with a digit or \"__\""));
    }
    if (v.empty()) return absl::InvalidArgumentError(StrCat("external_labels: \"", k, "\" has an empty value"));
  }
  if (max_samples_per_request < 1) return absl::InvalidArgumentError("max_samples_per_request must be at least 1");
  if (max_batch_size_bytes < 1024) return absl::InvalidArgumentError("max_batch_size_bytes must be at least 1KiB");
  return helper.Validate();
}

}  // namespace outrigger::exporters::prometheusremotewrite
