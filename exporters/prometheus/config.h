#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"
#include "collector/component/factory.h"
#include "collector/http/config.h"
#include "collector/tls/config.h"

namespace outrigger::exporters::prometheus {

inline constexpr char kDefaultEndpoint[] = "127.0.0.1:9464";
inline constexpr absl::Duration kDefaultMetricExpiration = absl::Minutes(5);

struct Config : ComponentConfig {
  // Where /metrics is served.
  std::string endpoint = kDefaultEndpoint;
  // Prefix of every metric name ("<namespace>_<name>").
  std::string metric_namespace;
  // Labels added to every series (they win over data point attributes of the same name).
  std::map<std::string, std::string> const_labels;
  // Write each sample's data point time as its timestamp.
  bool send_timestamps = false;
  // A series that no data point updated for this long leaves /metrics.
  absl::Duration metric_expiration = kDefaultMetricExpiration;
  // Every resource attribute becomes a label of every series of that resource.
  bool resource_to_telemetry_conversion = false;
  // Answer OpenMetrics 1.0 to scrapers that ask for it.
  bool enable_open_metrics = false;
  // Unit suffixes, "_total" on counters and "_ratio" on unit-"1" gauges.
  bool add_metric_suffixes = true;
  // read_timeout, read_header_timeout, write_timeout, idle_timeout, max_connections.
  http::ServerLimits limits;
  tls::ServerConfig tls;  // `tls:`; off unless cert_file is set
  tls::ServerAuth auth;   // `auth: {authenticator: ...}`

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::prometheus
