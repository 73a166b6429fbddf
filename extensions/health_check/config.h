#pragma once

#include <string>

#include "absl/time/time.h"
#include "collector/component/factory.h"
#include "collector/http/config.h"
#include "collector/tls/config.h"

namespace outrigger::extensions::health_check {

inline constexpr char kDefaultEndpoint[] = "127.0.0.1:13133";
inline constexpr char kDefaultPath[] = "/";
inline constexpr char kDefaultLivenessPath[] = "/live";
// Upstream's check_collector_pipeline defaults.
inline constexpr absl::Duration kDefaultCheckInterval = absl::Minutes(5);
inline constexpr int64_t kDefaultExporterFailureThreshold = 5;

// `response_body`: given (`set`), its strings replace the default JSON answers of `path`.
struct ResponseBody {
  bool set = false;
  std::string healthy;
  std::string unhealthy;
};

// `check_collector_pipeline`: readiness also fails (500) while the exporters' failed
// sends in the last `interval` exceed `exporter_failure_threshold`.
struct CheckCollectorPipeline {
  bool enabled = false;
  absl::Duration interval = kDefaultCheckInterval;
  int64_t exporter_failure_threshold = kDefaultExporterFailureThreshold;
};

struct Config : ComponentConfig {
  // Where to listen (host:port; an empty host is 127.0.0.1).
  std::string endpoint = kDefaultEndpoint;
  // Readiness: 200 while every pipeline is started. Must start with '/'.
  std::string path = kDefaultPath;
  // Liveness: 200 while the event loop runs. Must start with '/'.
  std::string liveness_path = kDefaultLivenessPath;
  ResponseBody response_body;
  CheckCollectorPipeline check_collector_pipeline;
  // read_timeout, read_header_timeout, write_timeout, idle_timeout, max_connections.
  http::ServerLimits limits;
  tls::ServerConfig tls;  // `tls:`; off unless cert_file is set
  tls::ServerAuth auth;   // `auth: {authenticator: ...}`

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::extensions::health_check
