#pragma once
// The filelog receiver: tails files matched by globs, on its own reading thread woken by
// inotify (on the directories) and a poll_interval timer. Lines (or multiline records)
// become log records, go through the operator chain and are sent in batches. A file's
// offset is committed (and checkpointed to `storage`) only once the pipeline accepted
// everything before it; batches refused with UNAVAILABLE or RESOURCE_EXHAUSTED are kept
// and retried with backoff while reading pauses (backpressure); a permanent error drops
// the batch (counted as refused) and reading goes on.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "collector/component/component.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/filelog/config.h"
#include "receivers/filelog/operators/operators.h"

namespace outrigger::receivers::filelog {

class FilelogReceiver : public Receiver {
 public:
  FilelogReceiver(const CreateSettings& settings, const Config& cfg, std::unique_ptr<operators::Chain> chain);
  ~FilelogReceiver() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  // Where checkpoints go ("" without `storage`).
  const std::string& checkpoint_path() const { return checkpoint_path_; }

  // Counters, also exported as outrigger_filelog_* metrics.
  struct Counters {
    std::atomic<uint64_t> files_opened{0}, files_rotated{0}, files_truncated{0}, files_deleted{0};
    std::atomic<uint64_t> lines_truncated{0}, decode_errors{0}, read_errors{0}, checkpoints_written{0};
    std::atomic<uint64_t> checkpoint_errors{0}, records_sent{0}, send_refusals{0};
    std::atomic<uint64_t> records_dropped{0};  // permanently refused by the pipeline (not retried)
    std::atomic<uint64_t> wakeups{0}, scans{0};  // passes of the reading loop, scans started (not exported; for tests)
  };
  const Counters& counters() const { return counters_; }

  struct State;

 private:
  void Run();

  CreateSettings settings_;
  Config cfg_;
  ReceiverMeter meter_;
  std::string checkpoint_path_;
  Counters counters_;
  std::unique_ptr<State> state_;
  std::thread thread_;
  bool started_ = false;
};

}  // namespace outrigger::receivers::filelog
