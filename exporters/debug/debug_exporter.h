#pragma once
// The debug exporter: writes what it receives (describe.h) to the collector's log,
// sampled per second as upstream's zap sampler does, or directly to stdout, stderr or
// files (use_internal_logger: false). Queueing, retries and timeouts come from
// exporterhelper; this is the push.

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/debug/config.h"
#include "exporters/debug/describe.h"

namespace outrigger::exporters::debug {

// zap's sampler: per key (here the signal) and per one-second tick, the first `initial`
// calls pass, then every `thereafter`-th (0: none).
class Sampler {
 public:
  Sampler(int64_t initial, int64_t thereafter) : initial_(initial), thereafter_(thereafter) {}
  bool Allow(Signal s, absl::Time now);

 private:
  const int64_t initial_, thereafter_;
  std::mutex mu_;
  std::array<int64_t, 3> tick_ ABSL_GUARDED_BY(mu_){};   // the second of the count
  std::array<int64_t, 3> count_ ABSL_GUARDED_BY(mu_){};  // calls in that second
};

class DebugPusher : public exporterhelper::SignalPusher<DebugPusher> {
 public:
  DebugPusher(const CreateSettings& settings, const Config& cfg);
  ~DebugPusher() override;

  // Opens the output_paths files (use_internal_logger: false); FailedPrecondition naming
  // the one that cannot be opened.
  absl::Status Start(Host& host) override;
  // Closes them; idempotent, safe without Start.
  absl::Status Shutdown() override;

  template <typename D>
  absl::Status Send(Signal signal, const D& d, absl::Time deadline);

 private:
  absl::Status Output(const std::vector<std::string>& lines);

  std::shared_ptr<spdlog::logger> logger_;
  Verbosity verbosity_;
  const bool internal_;
  const std::vector<std::string> paths_;
  Sampler sampler_;
  std::mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> owned_ ABSL_GUARDED_BY(mu_);  // opened by us (files), closed at Shutdown
};

}  // namespace outrigger::exporters::debug
