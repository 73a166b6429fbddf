#pragma once
// health_check: readiness (`path`, default "/") is 200 only while every pipeline is
// started; liveness (`liveness_path`, default "/live") is 200 while the event loop runs.

#include <memory>

#include "collector/component/factory.h"
#include "collector/http/server.h"
#include "extensions/health_check/config.h"

namespace outrigger::extensions::health_check {

class HealthCheck : public Extension {
 public:
  HealthCheck(const CreateSettings& settings, const Config& cfg);

  // Listens on `endpoint` (on the host's event loop); fails if it cannot.
  absl::Status Start(Host& host) override;
  // Stops listening; idempotent, safe without Start.
  absl::Status Shutdown(absl::Time deadline) override;

  // The port listened on (0 before Start): for tests, with `endpoint` port 0.
  uint16_t port() const { return server_ ? server_->port() : 0; }

 private:
  http::Response Answer(const http::Request& req, const Host& host) const;

  CreateSettings settings_;
  Config cfg_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace outrigger::extensions::health_check
