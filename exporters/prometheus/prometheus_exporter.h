#pragma once
// The prometheus exporter: a pull exporter. Metrics it consumes are translated and kept
// (accumulator.h); Prometheus scrapes them from `endpoint` at /metrics.

#include <memory>

#include "collector/component/component.h"
#include "collector/http/server.h"
#include "collector/telemetry/telemetry.h"
#include "exporters/prometheus/accumulator.h"
#include "exporters/prometheus/config.h"

namespace outrigger::exporters::prometheus {

inline constexpr char kMetricsPath[] = "/metrics";

class PrometheusExporter : public Exporter {
 public:
  PrometheusExporter(const CreateSettings& settings, const Config& cfg, Accumulator::Clock clock = &absl::Now);
  ~PrometheusExporter() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;
  absl::Status ConsumeMetrics(pdata::Metrics&& data) override;

  // The port /metrics is served on, once started.
  uint16_t port() const { return server_ ? server_->port() : 0; }
  // One scrape (what the HTTP server calls).
  http::Response Handle(const http::Request& req);
  Accumulator& accumulator() { return accumulator_; }

 private:
  CreateSettings settings_;
  Config cfg_;
  ExporterMeter meter_;
  Accumulator accumulator_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace outrigger::exporters::prometheus
