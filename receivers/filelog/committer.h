#pragma once
// Acknowledgement and checkpoints for the filelog receiver. The committer
//  - holds the records made but not yet accepted by the pipeline, built into pdata as they
//    are made (one builder per resource), and sends them: what the pipeline refuses with
//    UNAVAILABLE or RESOURCE_EXHAUSTED stays, to be offered again first after a backoff
//    (reading pauses meanwhile); a permanent error drops the batch (counted as refused);
//  - moves each file's committed offset once everything made before it was accepted (and
//    the operator chain holds nothing from before it);
//  - remembers the contents read before (from the checkpoint, truncated, or closed files)
//    so that a file found again (restart, copytruncate's copy) continues where it was;
//  - writes the checkpoint: at most every checkpoint_interval, backing off while writes
//    fail.
//
// Used only by the receiver's reading thread.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "collector/component/component.h"
#include "collector/exporterhelper/backoff.h"
#include "collector/pdata/builders.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/filelog/checkpoint.h"
#include "receivers/filelog/config.h"
#include "receivers/filelog/operators/operators.h"
#include "receivers/filelog/reader.h"
#include "receivers/filelog/stats.h"
#include "receivers/filelog/wire_logs.h"

namespace outrigger::receivers::filelog {

// A file content read before (from the checkpoint, truncated, or closed).
struct Known {
  FileCheckpoint cp;    // cp.offset: durable (everything before it was accepted); the only one checkpointed
  uint64_t resume = 0;  // where reading goes on in this process (entries before it were made; >= cp.offset)
  absl::Time expires;
  // Whether a file of another inode with the same (whole) fingerprint continues it: the
  // copy of a copytruncated file, or a file checkpointed before a restart. A file that was
  // renamed away or deleted continues only under its own inode.
  bool cross_inode = false;
};

class Committer {
 public:
  static constexpr absl::Duration kKnownTtl = absl::Seconds(60);  // remembered contents of truncated/closed files
  static constexpr size_t kMaxKnown = 4096;
  static constexpr absl::Duration kCheckpointMaxBackoff = absl::Seconds(30);  // retries of a failed checkpoint write

  // `checkpoint_path`: "" without storage. `resource`: the receiver's own resource (its
  // builder is kept between sends; those of resources set by operators are not).
  Committer(const Config& cfg, std::string checkpoint_path, pdata::ValueMap resource, operators::Chain& chain,
            ReceiverMeter& meter, Stats& stats);

  // Where checkpoints go, when known only at start (a storage extension's directory).
  void set_checkpoint_path(std::string path) { checkpoint_path_ = std::move(path); }

  // ---- records and their acknowledgement --------------------------------------------
  // The builder of the next record of resource `res` (counted as pending).
  WireLogsBuilder& Builder(const pdata::ValueMap& res) {
    if (last_group_ >= groups_.size() || groups_[last_group_].resource != res) FindGroup(res);
    Group& g = groups_[last_group_];
    if (g.builder->records() == 0) g.first = seq_;
    ++seq_;
    ++pending_;
    return *g.builder;
  }
  // Records made and not accepted yet.
  size_t pending() const { return pending_; }
  // Bytes of the records made since the last send (their bodies): what bounds a batch's
  // memory (max_batch_size_bytes).
  void AddBytes(size_t n) { pending_bytes_ += n; }
  size_t pending_bytes() const { return pending_bytes_; }
  // Bytes of all the records built into batches so far.
  uint64_t built_bytes() const { return built_bytes_; }
  // Sends what was made to `logs` (nullptr: nothing to send to, it is dropped), then
  // commits. On a retryable refusal keeps what was not accepted and returns false:
  // refused() until a Send() succeeds, to be called again from retry_at().
  bool Send(Consumer* logs, Readers& readers);
  bool refused() const { return refused_; }
  absl::Time retry_at() const { return retry_at_; }

  // ---- offsets --------------------------------------------------------------------
  // Everything made was accepted: offsets move up to what is still unemitted in a reader
  // or held by the chain.
  void Commit(Readers& readers);
  // Where the oldest entry the chain holds for `r` began, under its name or a former one.
  std::optional<uint64_t> HeldStart(FileReader& r);
  // The checkpoint no longer says what is true (a file renamed, truncated, opened, closed).
  void MarkDirty() { dirty_ = true; }
  bool dirty() const { return dirty_; }

  // ---- remembered contents ----------------------------------------------------------
  // Loads the checkpoint (at Start). NotFound is no error; a damaged one reads every file
  // from its beginning (duplicates rather than loss).
  absl::Status Load();
  bool had_checkpoint() const { return had_checkpoint_; }
  // Remembers the content `r` had: `resume` is where reading it goes on in this process
  // (everything before was made into entries); its durable offset stays r.committed until
  // Commit() raises it.
  void Remember(const FileReader& r, uint64_t resume, bool cross_inode);
  // The remembered content `head` (the first bytes of a file with dev/ino) continues, or
  // -1. A file of another inode matches only on a whole fingerprint (fingerprint_size
  // bytes), so short common prefixes never make us skip data.
  int FindKnown(const std::string& head, uint64_t dev, uint64_t ino) const;
  // Takes the remembered content `i` (the file continuing it was opened).
  Known Take(int i);
  bool KnowsInode(uint64_t dev, uint64_t ino) const;
  const std::vector<Known>& known() const { return known_; }
  void ExpireKnown(absl::Time now);

  // ---- checkpoints ------------------------------------------------------------------
  // Writes the checkpoint if something changed and it is time (or `force`).
  void Checkpoint(const Readers& readers, bool force);
  // When a pending checkpoint may be written (only meaningful while dirty()).
  absl::Time next_checkpoint() const { return next_checkpoint_; }
  const std::string& checkpoint_path() const { return checkpoint_path_; }

 private:
  struct Group {
    pdata::ValueMap resource;
    std::unique_ptr<WireLogsBuilder> builder;
    uint64_t first = 0;  // sequence number of its first record since the last send
  };
  void FindGroup(const pdata::ValueMap& res);
  // Builds what the groups hold into `unsent_`, in order of each resource's first record.
  void BuildUnsent();

  const Config& cfg_;
  std::string checkpoint_path_;
  const pdata::ValueMap resource_;
  operators::Chain& chain_;
  ReceiverMeter& meter_;
  Stats& stats_;

  // Records made but not yet accepted, one builder per resource; a send builds them into
  // `unsent_`, offered to the pipeline in order. What the pipeline refuses stays there (it
  // is offered a clone) and is offered again first.
  std::vector<Group> groups_;
  size_t last_group_ = 0;
  uint64_t seq_ = 0;
  std::deque<std::pair<pdata::Logs, size_t>> unsent_;  // built, with their record counts
  size_t pending_ = 0;                                 // records in `groups_` and `unsent_`
  size_t pending_bytes_ = 0;                           // bytes of the records in `groups_`
  uint64_t built_bytes_ = 0;
  bool refused_ = false;  // the last send was refused
  exporterhelper::Backoff send_backoff_;
  absl::Time retry_at_;

  std::vector<Known> known_;
  bool had_checkpoint_ = false;
  bool dirty_ = false;
  absl::Time next_checkpoint_ = absl::InfinitePast();  // earliest next write (interval, or backoff after a failure)
  exporterhelper::Backoff checkpoint_backoff_;         // after failed writes
};

}  // namespace outrigger::receivers::filelog
