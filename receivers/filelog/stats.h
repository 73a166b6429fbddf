#pragma once
// What the parts of the filelog receiver (watcher, readers, committer) count and log:
// counters (also exported as outrigger_filelog_* metrics) and a rate-limited error log.
// Used from the receiver's reading thread; the counters may be read from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog {

struct Counters {
  std::atomic<uint64_t> files_opened{0}, files_rotated{0}, files_truncated{0}, files_deleted{0};
  std::atomic<uint64_t> lines_truncated{0}, decode_errors{0}, read_errors{0}, checkpoints_written{0};
  std::atomic<uint64_t> checkpoint_errors{0}, records_sent{0}, send_refusals{0};
  std::atomic<uint64_t> records_dropped{0};    // permanently refused by the pipeline (not retried)
  std::atomic<uint64_t> wakeups{0}, scans{0};  // passes of the reading loop, scans started (not exported; for tests)
};

// The receiver's own metrics (null when not registered, as in unit tests of the parts).
struct Metrics {
  prometheus::Counter *opened = nullptr, *rotated = nullptr, *truncated = nullptr, *deleted = nullptr,
                      *lines_truncated = nullptr, *decode_errors = nullptr, *read_errors = nullptr,
                      *checkpoint_errors = nullptr;
  prometheus::Gauge* open_files = nullptr;
};

class Stats {
 public:
  explicit Stats(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  Counters counters;
  Metrics metrics;

  // Adds `n` to a counter and to its metric.
  static void Count(std::atomic<uint64_t>& c, prometheus::Counter* m, uint64_t n = 1) {
    c += n;
    if (m != nullptr) m->Increment(static_cast<double>(n));
  }
  void OpenFiles(size_t n) {
    if (metrics.open_files != nullptr) metrics.open_files->Set(static_cast<double>(n));
  }

  // Logs an error at most every kErrorLogEvery, with the number of errors since.
  void Error(const std::string& msg) {
    ++errors_since_log_;
    absl::Time now = absl::Now();
    if (now - last_error_log_ < kErrorLogEvery) return;
    logger_->error("{} ({} errors since the last report)", msg, errors_since_log_);
    errors_since_log_ = 0;
    last_error_log_ = now;
  }
  spdlog::logger& log() { return *logger_; }

 private:
  static constexpr absl::Duration kErrorLogEvery = absl::Seconds(10);
  std::shared_ptr<spdlog::logger> logger_;
  absl::Time last_error_log_ = absl::InfinitePast();
  uint64_t errors_since_log_ = 0;
};

}  // namespace outrigger::receivers::filelog
