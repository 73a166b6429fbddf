#pragma once
// The service: builds the component graph from a configuration, starts it (exporters,
// processors, receivers; extensions first) and shuts it down in reverse. A reload builds
// the next service beside the running one, carrying over every component whose config
// and wiring did not change (`Build(..., previous)`), then `TakeOver` replaces only the
// rest (see ARCHITECTURE.md "Reload").

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
  // service.telemetry.metrics.naming and the pull reader's without_* options.
  ExpositionOptions metrics_exposition;
  absl::Duration shutdown_timeout = kDefaultShutdownTimeout;
};

// What a reload keeps and replaces, by component ("exporter file", "pipeline traces").
struct ReloadPlan {
  // False if the whole graph must be restarted (no previous service, or the extensions
  // changed: components hold what they found with GetExtension): nothing is carried.
  bool partial = false;
  std::string why_full;  // why not partial
  std::vector<std::string> kept, replaced, added, removed;
  std::string Summary() const;
};

class Service : public Host {
 public:
  // Decodes, validates and wires the whole configuration; nothing listens yet. Every
  // problem found is added to `errors` (and the result is an error). With `previous`
  // (the running service), the instances whose config and wiring are unchanged are
  // shared with it instead of created (`plan()` says which); `previous` is not touched.
  static absl::StatusOr<std::unique_ptr<Service>> Build(const YAML::Node& root, const Registry& registry,
                                                        Telemetry& telemetry, config::Errors* errors,
                                                        const Service* previous = nullptr);
  ~Service() override;

  absl::Status Start(boost::asio::io_context& io);
  // Stops receivers first and flushes everything downstream by the deadline. Nothing if
  // never started: a service built for a reload shares running instances until TakeOver.
  void Shutdown();

  // Reload step 2, for a service built with `previous` and a partial plan: starts what
  // is new (exporters, pipelines), points the carried receivers at the new pipelines,
  // replaces the changed receivers (the old one stops, then the new one starts: they
  // may share a port), then stops what is no longer used, flushing it first. `previous`
  // is left holding nothing that runs. On an error before any receiver was touched, what
  // was started is stopped again and `previous` still runs unchanged (*untouched = true);
  // later errors leave a mixed state, to be shut down by the caller.
  absl::Status TakeOver(Service& previous, boost::asio::io_context& io, bool* untouched);
  const ReloadPlan& plan() const { return plan_; }
  // SHA-256 (first 16 hex digits) of the canonical form of the whole configuration.
  const std::string& config_hash() const { return config_hash_; }

  const ServiceSettings& settings() const { return settings_; }
  // The port the telemetry server listens on (0 if off or not started).
  uint16_t telemetry_port() const { return telemetry_server_ ? telemetry_server_->port() : 0; }

  boost::asio::io_context& IoContext() override { return *io_; }
  bool Ready() const override { return ready_.load(); }
  Extension* GetExtension(const std::string& id) override;

  struct Graph;
  class StableHost;

 private:
  Service();
  // The last step of Build: creates every component instance (or shares it with
  // `previous`) and wires the consumers.
  absl::Status Instantiate(const Registry& registry, Telemetry& telemetry, config::Errors* errors,
                           const Service* previous);
  absl::Status StartTelemetryServer(boost::asio::io_context& io);
  ServiceSettings settings_;
  std::string telemetry_canon_;  // the settings of the telemetry server, canonical
  std::string config_hash_;
  ReloadPlan plan_;
  // The Host every component is started with: it outlives a service whose components
  // are carried into the next one, and answers for the service running now.
  std::shared_ptr<StableHost> host_;
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
