// The debug exporter: writes what it receives to the collector's log.
#include "exporters/debug/config.h"
#include "exporters/debug/factory.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::debug {
namespace {

class DebugPusher : public exporterhelper::Pusher {
 public:
  DebugPusher(const CreateSettings& settings, const Config& cfg)
      : logger_(settings.logger),
        verbosity_(cfg.verbosity == "detailed" ? pdata::Verbosity::kDetailed
                   : cfg.verbosity == "normal" ? pdata::Verbosity::kNormal
                                               : pdata::Verbosity::kBasic) {}
  absl::Status PushTraces(const pdata::Traces& d, absl::Time) override { return Log(d); }
  absl::Status PushMetrics(const pdata::Metrics& d, absl::Time) override { return Log(d); }
  absl::Status PushLogs(const pdata::Logs& d, absl::Time) override { return Log(d); }

 private:
  template <typename D>
  absl::Status Log(const D& d) {
    for (const auto& line : pdata::Describe(d, verbosity_)) logger_->info("{}", line);
    return absl::OkStatus();
  }
  std::shared_ptr<spdlog::logger> logger_;
  pdata::Verbosity verbosity_;
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, DebugPusher>>(
      "debug", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs});
}

}  // namespace outrigger::exporters::debug
