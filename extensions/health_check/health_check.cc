#include "extensions/health_check/health_check.h"

#include "spdlog/spdlog.h"

namespace outrigger::extensions::health_check {

HealthCheck::HealthCheck(const CreateSettings& settings, const Config& cfg) : settings_(settings), cfg_(cfg) {}

http::Response HealthCheck::Answer(const http::Request& req, const Host& host) const {
  http::Response r;
  r.content_type = "application/json";
  if (req.path == cfg_.liveness_path) {
    r.body = R"({"status":"Server alive"})";
  } else if (req.path == cfg_.path) {
    bool ready = host.Ready();
    r.status = ready ? 200 : 503;
    r.body = ready ? R"({"status":"Server available"})" : R"({"status":"Server not available"})";
  } else {
    r.status = 404;
    r.body = R"({"status":"not found"})";
  }
  return r;
}

absl::Status HealthCheck::Start(Host& host) {
  Host* h = &host;
  auto opts = http::MakeServerOptions(&host, cfg_.limits, cfg_.tls, cfg_.auth, settings_.telemetry,
                                      "extension/" + settings_.id.String(), settings_.logger);
  if (!opts.ok()) return opts.status();
  opts->max_body_bytes = 4096;
  auto srv = http::Server::Listen(host.IoContext(), cfg_.endpoint, std::move(*opts),
                                  [this, h](http::Request& req) { return Answer(req, *h); });
  if (!srv.ok()) return srv.status();
  server_ = std::move(*srv);
  settings_.logger->info("health check on {}{} (port {})", cfg_.endpoint, cfg_.tls.enabled() ? " (TLS)" : "",
                         server_->port());
  return absl::OkStatus();
}

absl::Status HealthCheck::Shutdown(absl::Time) {
  if (server_) server_->Stop();
  server_.reset();
  return absl::OkStatus();
}

}  // namespace outrigger::extensions::health_check
