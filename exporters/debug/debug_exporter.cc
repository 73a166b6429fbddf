#include "exporters/debug/debug_exporter.h"

#include "spdlog/spdlog.h"

namespace outrigger::exporters::debug {

DebugPusher::DebugPusher(const CreateSettings& settings, const Config& cfg)
    : logger_(settings.logger),
      verbosity_(cfg.verbosity == "detailed" ? Verbosity::kDetailed
                 : cfg.verbosity == "normal" ? Verbosity::kNormal
                                             : Verbosity::kBasic) {}

template <typename D>
absl::Status DebugPusher::Send(Signal, const D& d, absl::Time) {
  for (const auto& line : Describe(d, verbosity_)) logger_->info("{}", line);
  return absl::OkStatus();
}

template absl::Status DebugPusher::Send(Signal, const pdata::Traces&, absl::Time);
template absl::Status DebugPusher::Send(Signal, const pdata::Metrics&, absl::Time);
template absl::Status DebugPusher::Send(Signal, const pdata::Logs&, absl::Time);

}  // namespace outrigger::exporters::debug
