#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "collector/component/factory.h"
#include "collector/http/config.h"
#include "collector/prometheus/naming.h"
#include "collector/tls/config.h"

namespace outrigger::exporters::prometheus {

inline constexpr char kDefaultEndpoint[] = "127.0.0.1:9464";
inline constexpr absl::Duration kDefaultMetricExpiration = absl::Minutes(5);

struct Config : ComponentConfig {
  // Where /metrics is served.
  std::string endpoint = kDefaultEndpoint;
  // Prefix of every metric name ("<namespace>_<name>"); characters Prometheus does not
  // allow are replaced as upstream does (prom::NamespaceFor).
  std::string metric_namespace;
  // Labels added to every series (they win over data point attributes of the same name).
  // Names Prometheus does not allow are escaped like attribute names.
  std::map<std::string, std::string> const_labels;
  // Write each sample's data point time as its timestamp.
  bool send_timestamps = false;
  // A series that no data point updated for this long leaves /metrics.
  absl::Duration metric_expiration = kDefaultMetricExpiration;
  // Every resource attribute becomes a label of every series of that resource
  // (resource_to_telemetry_conversion.enabled) ...
  bool resource_to_telemetry_conversion = false;
  // ... except service.name, service.namespace and service.instance.id (already job and
  // instance) with resource_to_telemetry_conversion.exclude_service_attributes.
  bool exclude_service_attributes = false;
  // resource_constant_labels: the resource attributes whose keys match `included` ('*' and
  // '?' wildcards; empty with a non-empty `excluded`: all) and no pattern of `excluded`
  // become labels. Set (either list non-empty), it takes precedence over
  // resource_to_telemetry_conversion.
  std::vector<std::string> resource_labels_included;
  std::vector<std::string> resource_labels_excluded;
  // Answer OpenMetrics 1.0 to scrapers that ask for it.
  bool enable_open_metrics = false;
  // Deprecated upstream (translation_strategy wins when set): false is
  // UnderscoreEscapingWithoutSuffixes.
  bool add_metric_suffixes = true;
  // translation_strategy as written ("" when absent).
  std::string translation_strategy;
  // No otel_scope_* labels.
  bool without_scope_info = false;
  // Upstream confighttp's; only true (the default) is supported.
  bool keepalives_enabled = true;
  // read_timeout, read_header_timeout, write_timeout, idle_timeout, max_connections.
  http::ServerLimits limits;
  tls::ServerConfig tls;  // `tls:`; off unless cert_file is set
  tls::ServerAuth auth;   // `auth: {authenticator: ...}`

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // The strategy in effect: translation_strategy when set, else from add_metric_suffixes.
  prom::TranslationStrategy Strategy() const;
  // Whether resource attributes become labels, and which.
  bool ResourceLabelsWanted() const;
  bool ResourceLabelWanted(std::string_view key) const;
};

}  // namespace outrigger::exporters::prometheus
