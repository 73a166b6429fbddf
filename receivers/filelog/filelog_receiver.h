#pragma once
// The filelog receiver: tails files matched by globs, on its own reading thread woken by
// inotify (on the directories) and a poll_interval timer. Lines (or multiline records)
// become log records, go through the operator chain and are sent in batches. A file's
// offset is committed (and checkpointed to `storage`) only once the pipeline accepted
// everything before it; batches refused with UNAVAILABLE or RESOURCE_EXHAUSTED are kept
// and retried with backoff while reading pauses (backpressure); a permanent error drops
// the batch (counted as refused) and reading goes on.

#include <memory>
#include <string>
#include <thread>

#include "collector/component/admission.h"
#include "collector/component/component.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/filelog/config.h"
#include "receivers/filelog/operators/operators.h"
#include "receivers/filelog/stats.h"

namespace outrigger::receivers::filelog {

// How long a new file that may be a copy still being written (logrotate's copytruncate
// copies, then truncates) waits to become identifiable before it is read as a file of
// its own.
inline constexpr absl::Duration kDefaultCopyWait = absl::Seconds(5);

// Internal delays, fixed in production; tests shorten them.
struct Tuning {
  absl::Duration copy_wait = kDefaultCopyWait;
};

// The receiver ties three parts together on its reading thread: the Watcher (discovery:
// globs, inotify, polling), one FileReader per open file (fingerprint, decoding,
// splitting into records) and the Committer (acknowledgement, offsets, checkpoints).
class FilelogReceiver : public Receiver, public AdmissionClient {
 public:
  FilelogReceiver(const CreateSettings& settings, const Config& cfg, std::unique_ptr<operators::Chain> chain,
                  const Tuning& tuning = {});
  ~FilelogReceiver() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  // Where checkpoints go ("" without `storage`).
  const std::string& checkpoint_path() const { return checkpoint_path_; }

  // Counters, also exported as outrigger_filelog_* metrics.
  using Counters = filelog::Counters;
  const Counters& counters() const { return stats_.counters; }

  struct State;

 private:
  void Run();
  // <dir>/<receiver id, '/' as '_'>.checkpoint
  std::string CheckpointPath(const std::string& dir) const;

  CreateSettings settings_;
  Config cfg_;
  Tuning tuning_;
  ReceiverMeter meter_;
  std::string checkpoint_path_;
  Stats stats_;
  std::unique_ptr<State> state_;
  std::thread thread_;
  bool started_ = false;
};

}  // namespace outrigger::receivers::filelog
