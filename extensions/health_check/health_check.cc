#include "extensions/health_check/health_check.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::extensions::health_check {
namespace asio = boost::asio;

HealthCheck::HealthCheck(const CreateSettings& settings, const Config& cfg) : settings_(settings), cfg_(cfg) {}

HealthCheck::~HealthCheck() { (void)Shutdown(absl::Now()); }

double HealthCheck::TotalExporterFailures() const {
  if (settings_.telemetry == nullptr) return 0;
  // Our names, or upstream's (service.telemetry.metrics naming), never both added up.
  double ours = 0, otelcol = 0;
  bool have_ours = false;
  for (const auto& family : settings_.telemetry->registry().Collect()) {
    const bool is_ours = family.name.starts_with("outrigger_exporter_send_failed_");
    if (!is_ours && !family.name.starts_with("otelcol_exporter_send_failed_")) continue;
    double sum = 0;
    for (const auto& m : family.metric) sum += m.counter.value;
    (is_ours ? ours : otelcol) += sum;
    have_ours = have_ours || is_ours;
  }
  return have_ours ? ours : otelcol;
}

void HealthCheck::Sample(absl::Time now) {
  double total = TotalExporterFailures();
  std::lock_guard<std::mutex> lock(mu_);
  samples_.emplace_back(now, total);
  DropOld(now);
}

void HealthCheck::DropOld(absl::Time now) {
  // Keep one sample at least `interval` old: the baseline.
  const absl::Time edge = now - cfg_.check_collector_pipeline.interval;
  while (samples_.size() > 1 && samples_[1].first <= edge) samples_.pop_front();
}

double HealthCheck::RecentExporterFailures(absl::Time now) {
  // Only the timer stores samples (about ten per interval, whatever the probe rate).
  const double total = TotalExporterFailures();
  std::lock_guard<std::mutex> lock(mu_);
  DropOld(now);
  return samples_.empty() ? 0 : total - samples_.front().second;
}

http::Response HealthCheck::Answer(const http::Request& req, const Host& host) {
  http::Response r;
  r.content_type = "application/json";
  if (req.path == cfg_.liveness_path) {
    r.body = R"({"status":"Server alive"})";
    return r;
  }
  if (req.path != cfg_.path) {
    r.status = 404;
    r.body = R"({"status":"not found"})";
    return r;
  }
  bool ready = host.Ready();
  r.status = ready ? 200 : 503;
  r.body = ready ? R"({"status":"Server available"})" : R"({"status":"Server not available"})";
  if (ready && cfg_.check_collector_pipeline.enabled) {
    const double failures = RecentExporterFailures(absl::Now());
    if (failures > static_cast<double>(cfg_.check_collector_pipeline.exporter_failure_threshold)) {
      // Upstream answers 500 when the pipeline check fails.
      r.status = 500;
      r.body = StrCat(R"({"status":"Server not available","exporter_failures":)", static_cast<int64_t>(failures),
                      R"(,"exporter_failure_threshold":)", cfg_.check_collector_pipeline.exporter_failure_threshold,
                      R"(,"interval":")", absl::FormatDuration(cfg_.check_collector_pipeline.interval), R"("})");
    }
  }
  if (cfg_.response_body.set) {
    r.content_type = "text/plain; charset=utf-8";
    r.body = r.status == 200 ? cfg_.response_body.healthy : cfg_.response_body.unhealthy;
  }
  return r;
}

absl::Status HealthCheck::Start(Host& host) {
  Host* h = &host;
  auto opts = http::MakeServerOptions(&host, cfg_.limits, cfg_.tls, cfg_.auth, settings_.telemetry,
                                      "extension/" + settings_.id.String(), settings_.logger);
  if (!opts.ok()) return opts.status();
  if (cfg_.limits.max_request_body_size == 0) opts->max_body_bytes = 4096;
  auto srv = http::Server::Listen(host.IoContext(), cfg_.endpoint, std::move(*opts),
                                  [this, h](http::Request& req) { return Answer(req, *h); });
  if (!srv.ok()) return srv.status();
  server_ = std::move(*srv);
  if (cfg_.check_collector_pipeline.enabled && !ticker_.running()) {
    Sample(absl::Now());
    const absl::Duration every = std::max(cfg_.check_collector_pipeline.interval / 10, absl::Milliseconds(10));
    ticker_.Start(host.IoContext(), every, [this] { Sample(absl::Now()); });
  }
  settings_.logger->info("health check on {}{} (port {})", cfg_.endpoint, cfg_.tls.enabled() ? " (TLS)" : "",
                         server_->port());
  return absl::OkStatus();
}

absl::Status HealthCheck::Shutdown(absl::Time) {
  ticker_.Stop();
  if (server_) server_->Stop();
  server_.reset();
  return absl::OkStatus();
}

}  // namespace outrigger::extensions::health_check
