#pragma once
// The debug exporter: writes what it receives to the collector's log (describe.h).
// Queueing, retries and timeouts come from exporterhelper; this is the push.

#include <memory>

#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/debug/config.h"
#include "exporters/debug/describe.h"

namespace outrigger::exporters::debug {

class DebugPusher : public exporterhelper::SignalPusher<DebugPusher> {
 public:
  DebugPusher(const CreateSettings& settings, const Config& cfg);

  template <typename D>
  absl::Status Send(Signal signal, const D& d, absl::Time deadline);

 private:
  std::shared_ptr<spdlog::logger> logger_;
  Verbosity verbosity_;
};

}  // namespace outrigger::exporters::debug
