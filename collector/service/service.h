#pragma once
// The service: builds the component graph from a configuration, starts it (exporters,
// processors, receivers; extensions first) and shuts it down in reverse.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/component/component.h"
#include "collector/component/registry.h"
#include "collector/config/node.h"
#include "collector/http/server.h"
#include "collector/telemetry/telemetry.h"
#include "collector/tls/config.h"

namespace outrigger {

inline constexpr char kDefaultTelemetryAddress[] = "127.0.0.1:8888";
inline constexpr absl::Duration kDefaultShutdownTimeout = absl::Seconds(25);

struct ServiceSettings {
  std::string log_level = "info";                          // debug, info, warn, error
  std::string log_encoding = "console";                    // console, json
  std::string metrics_address = kDefaultTelemetryAddress;  // "" or level none: off
  // service.telemetry.metrics.tls (ours: upstream has no TLS for its own metrics).
  tls::ServerConfig metrics_tls;
  absl::Duration shutdown_timeout = kDefaultShutdownTimeout;
};

class Service : public Host {
 public:
  // Decodes, validates and wires the whole configuration; nothing listens yet. Every
  // problem found is added to `errors` (and the result is an error).
  static absl::StatusOr<std::unique_ptr<Service>> Build(const YAML::Node& root, const Registry& registry,
                                                        Telemetry& telemetry, config::Errors* errors);
  ~Service() override;

  absl::Status Start(boost::asio::io_context& io);
  // Stops receivers first and flushes everything downstream by the deadline.
  void Shutdown();

  const ServiceSettings& settings() const { return settings_; }
  // The port the telemetry server listens on (0 if off or not started).
  uint16_t telemetry_port() const { return telemetry_server_ ? telemetry_server_->port() : 0; }

  boost::asio::io_context& IoContext() override { return *io_; }
  bool Ready() const override { return ready_.load(); }
  Extension* GetExtension(const std::string& id) override;

  struct Graph;

 private:
  Service();
  // The last step of Build: creates every component instance and wires the consumers.
  absl::Status Instantiate(const Registry& registry, Telemetry& telemetry, config::Errors* errors);
  ServiceSettings settings_;
  Telemetry* telemetry_ = nullptr;
  boost::asio::io_context* io_ = nullptr;
  std::unique_ptr<Graph> graph_;
  std::unique_ptr<http::Server> telemetry_server_;
  std::atomic<bool> ready_{false};
  bool started_ = false;
  bool shut_down_ = false;
};

// Applies service.telemetry.logs to spdlog's default logger.
void ConfigureLogging(const std::string& level, const std::string& encoding);
std::shared_ptr<spdlog::logger> ComponentLogger(const std::string& name);

}  // namespace outrigger
