#pragma once
// health_check: readiness (`path`, default "/") is 200 only while every pipeline is
// started (and, with check_collector_pipeline, while the exporters' failed sends in the
// last interval do not exceed the threshold); liveness (`liveness_path`, default
// "/live") is 200 while the event loop runs.

#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "collector/common/loop_ticker.h"
#include "collector/component/factory.h"
#include "collector/http/server.h"
#include "extensions/health_check/config.h"

namespace outrigger::extensions::health_check {

class HealthCheck : public Extension {
 public:
  HealthCheck(const CreateSettings& settings, const Config& cfg);
  ~HealthCheck() override;

  // Listens on `endpoint` (on the host's event loop); fails if it cannot. With
  // check_collector_pipeline, samples the exporters' failure count on the loop.
  absl::Status Start(Host& host) override;
  // Stops listening; idempotent, safe without Start.
  absl::Status Shutdown(absl::Time deadline) override;

  // The port listened on (0 before Start): for tests, with `endpoint` port 0.
  uint16_t port() const { return server_ ? server_->port() : 0; }

  // Failed sends (items of failed send attempts) of every exporter in the last interval,
  // to within a tenth of it.
  double RecentExporterFailures(absl::Time now);
  // Takes a sample of the failure count (the sampling timer calls it).
  void Sample(absl::Time now);

 private:
  http::Response Answer(const http::Request& req, const Host& host);
  // The exporters' failed sends since the process started: the counter families
  // outrigger_exporter_send_failed_* in the collector's registry (otelcol_exporter_
  // send_failed_* if ours are not there).
  double TotalExporterFailures() const;
  void DropOld(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CreateSettings settings_;
  Config cfg_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  // (time, total failures) samples; the first is the newest one at least `interval` old
  // (or the one taken at Start).
  std::deque<std::pair<absl::Time, double>> samples_ ABSL_GUARDED_BY(mu_);
  common::LoopTicker ticker_;  // last: stopped before the members its sampling uses go
};

}  // namespace outrigger::extensions::health_check
