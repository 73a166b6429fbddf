// The debug exporter: writes what it receives to the collector's log.
#include "exporters/debug/config.h"
#include "exporters/debug/factory.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::debug {
namespace {

class DebugPusher : public exporterhelper::SignalPusher<DebugPusher> {
 public:
  DebugPusher(const CreateSettings& settings, const Config& cfg)
      : logger_(settings.logger),
        verbosity_(cfg.verbosity == "detailed" ? pdata::Verbosity::kDetailed
                   : cfg.verbosity == "normal" ? pdata::Verbosity::kNormal
                                               : pdata::Verbosity::kBasic) {}
  template <typename D>
  absl::Status Send(Signal, const D& d, absl::Time) {
    for (const auto& line : pdata::Describe(d, verbosity_)) logger_->info("{}", line);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  pdata::Verbosity verbosity_;
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, DebugPusher>>(
      "debug", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs});
}

}  // namespace outrigger::exporters::debug
