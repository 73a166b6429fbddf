#include "exporters/prometheus/config.h"

#include "collector/common/glob.h"
#include "collector/http/server.h"
#include "collector/prometheus/labels.h"

namespace outrigger::exporters::prometheus {

namespace {

// '*' and '?', as upstream's resourcetotelemetry patterns.
bool AnyMatches(const std::vector<std::string>& patterns, std::string_view key) {
  for (const auto& p : patterns) {
    if (common::GlobMatch(p, key)) return true;
  }
  return false;
}

}  // namespace

void Config::Decode(config::Node& node) {
  node.Read("endpoint", &endpoint);
  node.Read("namespace", &metric_namespace);
  node.Read("const_labels", &const_labels);
  node.Read("send_timestamps", &send_timestamps);
  node.Read("metric_expiration", &metric_expiration);
  config::Node& rtc = node.Child("resource_to_telemetry_conversion");
  rtc.Read("enabled", &resource_to_telemetry_conversion);
  rtc.Read("exclude_service_attributes", &exclude_service_attributes);
  config::Node& rcl = node.Child("resource_constant_labels");
  rcl.Read("included", &resource_labels_included);
  rcl.Read("excluded", &resource_labels_excluded);
  node.Read("enable_open_metrics", &enable_open_metrics);
  node.Read("add_metric_suffixes", &add_metric_suffixes);
  node.Read("translation_strategy", &translation_strategy);
  node.Read("without_scope_info", &without_scope_info);
  node.Read("keepalives_enabled", &keepalives_enabled);
  node.Unsupported("sending_queue",
                   "this exporter has no queue: consuming only updates the state scrapes read, at once; remove it");
  node.Unsupported("metrics_path", "metrics are served at /metrics only; point the scrape config's metrics_path there");
  node.Unsupported("trim_metric_suffixes",
                   "that is a prometheus receiver option; for this exporter use translation_strategy: "
                   "UnderscoreEscapingWithoutSuffixes (or NoTranslation)");
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
  if (!keepalives_enabled) {
    return absl::InvalidArgumentError(
        "keepalives_enabled: false is not supported: connections are kept alive (idle_timeout closes idle ones); "
        "remove the key or set idle_timeout");
  }
  if (!translation_strategy.empty() && !prom::ParseTranslationStrategy(translation_strategy)) {
    return absl::InvalidArgumentError(
        StrCat("invalid translation_strategy: ", translation_strategy,
               " (one of UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, "
               "NoUTF8EscapingWithSuffixes, NoTranslation)"));
  }
  for (const auto& [k, v] : const_labels) {
    if (k.empty()) return absl::InvalidArgumentError("const_labels: a label name is empty");
    if (k.rfind("__", 0) == 0) {
      return absl::InvalidArgumentError(StrCat("const_labels: \"", k, "\": names starting with \"__\" are reserved"));
    }
  }
  return absl::OkStatus();
}

prom::TranslationStrategy Config::Strategy() const {
  if (auto s = prom::ParseTranslationStrategy(translation_strategy)) return *s;
  return add_metric_suffixes ? prom::TranslationStrategy::kUnderscoreEscapingWithSuffixes
                             : prom::TranslationStrategy::kUnderscoreEscapingWithoutSuffixes;
}

bool Config::ResourceLabelsWanted() const {
  return resource_to_telemetry_conversion || !resource_labels_included.empty() || !resource_labels_excluded.empty();
}

bool Config::ResourceLabelWanted(std::string_view key) const {
  if (!resource_labels_included.empty() || !resource_labels_excluded.empty()) {
    if (!resource_labels_included.empty() && !AnyMatches(resource_labels_included, key)) return false;
    return !AnyMatches(resource_labels_excluded, key);
  }
  if (!resource_to_telemetry_conversion) return false;
  return !(exclude_service_attributes &&
           (key == "service.name" || key == "service.namespace" || key == "service.instance.id"));
}

}  // namespace outrigger::exporters::prometheus
