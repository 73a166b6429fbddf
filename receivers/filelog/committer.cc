#include "receivers/filelog/committer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace outrigger::receivers::filelog {

using absl::StrCat;

Committer::Committer(const Config& cfg, std::string checkpoint_path, pdata::ValueMap resource, operators::Chain& chain,
                     ReceiverMeter& meter, Stats& stats)
    : cfg_(cfg),
      checkpoint_path_(std::move(checkpoint_path)),
      resource_(std::move(resource)),
      chain_(chain),
      meter_(meter),
      stats_(stats),
      // Refused batches: doubling from retry_on_failure.initial_interval up to its max_interval.
      send_backoff_(exporterhelper::RetryConfig::Doubling(cfg.retry_initial_interval, cfg.retry_max_interval),
                    /*seed=*/0),
      // Failed checkpoint writes: doubling from checkpoint_interval up to 30 s (or checkpoint_interval).
      checkpoint_backoff_(exporterhelper::RetryConfig::Doubling(
                              cfg.checkpoint_interval, std::max(kCheckpointMaxBackoff, cfg.checkpoint_interval)),
                          /*seed=*/0) {}

void Committer::FindGroup(const pdata::ValueMap& res) {
  last_group_ = groups_.size();
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i].resource == res) {
      last_group_ = i;
      return;
    }
  }
  groups_.push_back({res, std::make_unique<WireLogsBuilder>(res, "outrigger/filelog"), 0});
}

void Committer::BuildUnsent() {
  std::vector<Group*> order;
  for (auto& g : groups_) {
    if (g.builder->records() > 0) order.push_back(&g);
  }
  std::sort(order.begin(), order.end(), [](const Group* a, const Group* b) { return a->first < b->first; });
  for (Group* g : order) {
    size_t n = g->builder->records();
    absl::StatusOr<pdata::Logs> batch = g->builder->Build();
    if (!batch.ok()) {  // an encoder bug, never input: counted and logged, not sent
      stats_.counters.records_dropped += n;
      pending_ -= n;
      stats_.Error(StrCat("dropped ", n, " log records: ", batch.status().ToString()));
      continue;
    }
    unsent_.emplace_back(std::move(*batch), n);
  }
  built_bytes_ += pending_bytes_;
  pending_bytes_ = 0;
  if (groups_.size() > 1) {  // resources set by operators: do not keep a builder for each forever
    std::erase_if(groups_, [&](const Group& g) { return g.resource != resource_; });
    last_group_ = 0;
  }
}

bool Committer::Send(Consumer* logs, Readers& readers) {
  if (logs == nullptr) {
    groups_.clear();
    unsent_.clear();
    pending_ = 0;
    pending_bytes_ = 0;
  }
  // One ConsumeLogs per resource.
  BuildUnsent();
  if (unsent_.empty()) {
    refused_ = false;
    Commit(readers);
    return true;
  }
  while (!unsent_.empty()) {
    auto& [batch, n] = unsent_.front();
    // A clone (parts are shared, not copied): what is refused is kept to be offered again.
    absl::Status st = logs->ConsumeLogs(batch.Clone());
    if (!st.ok() && !absl::IsUnavailable(st) && !absl::IsResourceExhausted(st)) {
      // A permanent error (component contract: only UNAVAILABLE and RESOURCE_EXHAUSTED
      // mean "try again later"): retrying would stop reading forever. Counted as refused,
      // and passed: the offsets move on.
      meter_.Refused(Signal::kLogs, n);
      stats_.counters.send_refusals += 1;
      stats_.counters.records_dropped += n;
      stats_.Error(
          StrCat("the pipeline permanently refused ", n, " log records (", st.ToString(), "); they are dropped"));
      pending_ -= n;
      unsent_.pop_front();
      continue;
    }
    if (!st.ok()) {
      meter_.Refused(Signal::kLogs, n);
      stats_.counters.send_refusals += 1;
      const absl::Duration delay = send_backoff_.NextDelay();
      stats_.Error(StrCat("the pipeline refused ", n, " log records (", st.ToString(),
                          "); reading pauses and they are retried in ", absl::FormatDuration(delay)));
      refused_ = true;
      retry_at_ = absl::Now() + delay;
      return false;
    }
    meter_.Accepted(Signal::kLogs, n);
    stats_.counters.records_sent += n;
    pending_ -= n;
    unsent_.pop_front();
  }
  refused_ = false;
  send_backoff_.Reset();
  Commit(readers);
  return true;
}

std::optional<uint64_t> Committer::HeldStart(FileReader& r) {
  std::optional<uint64_t> p = chain_.PendingStart(r.path);
  for (auto it = r.old_paths.begin(); it != r.old_paths.end();) {
    if (auto q = chain_.PendingStart(*it)) {
      if (!p || *q < *p) p = q;
      ++it;
    } else {
      it = r.old_paths.erase(it);  // released meanwhile
    }
  }
  return p;
}

void Committer::Commit(Readers& readers) {
  for (auto& [id, r] : readers) {
    uint64_t c = r->Unemitted();
    if (auto p = HeldStart(*r)) c = std::min(c, *p);
    if (c != r->committed) {
      r->committed = c;
      dirty_ = true;
    }
  }
  // Remembered contents (truncated, closed): what was made of them is accepted too.
  for (auto& k : known_) {
    if (k.cp.offset >= k.resume) continue;
    uint64_t c = k.resume;
    if (auto p = chain_.PendingStart(k.cp.path)) c = std::min(c, std::max(k.cp.offset, *p));
    if (c != k.cp.offset) {
      k.cp.offset = c;
      dirty_ = true;
    }
  }
}

absl::Status Committer::Load() {
  if (checkpoint_path_.empty()) return absl::OkStatus();
  auto cps = ReadCheckpoint(checkpoint_path_);
  if (cps.ok()) {
    had_checkpoint_ = true;
    for (auto& cp : *cps) {
      const uint64_t offset = cp.offset;
      known_.push_back({std::move(cp), offset, absl::Now() + kKnownTtl, /*cross_inode=*/true});
    }
    stats_.log().info("resuming {} files from the checkpoint \"{}\"", known_.size(), checkpoint_path_);
  } else if (absl::IsDataLoss(cps.status())) {
    // Never skip: every file is read from its beginning (duplicates rather than loss).
    had_checkpoint_ = true;
    stats_.log().error("{}; reading every file from its beginning", cps.status().ToString());
  } else if (!absl::IsNotFound(cps.status())) {
    return cps.status();
  }
  return absl::OkStatus();
}

void Committer::Remember(const FileReader& r, uint64_t resume, bool cross_inode) {
  if (r.fp.empty()) return;
  const uint64_t durable = std::min(r.committed, resume);
  known_.push_back({FileCheckpoint{r.path, r.fp, r.dev, r.ino, durable}, resume, absl::Now() + kKnownTtl, cross_inode});
  if (known_.size() > kMaxKnown) known_.erase(known_.begin());
  if (durable != resume) dirty_ = true;
}

int Committer::FindKnown(const std::string& head, uint64_t dev, uint64_t ino) const {
  int best = -1;
  for (size_t i = 0; i < known_.size(); ++i) {
    const auto& k = known_[i].cp;
    bool fp_ok = !k.fingerprint.empty() && head.size() >= k.fingerprint.size() &&
                 head.compare(0, k.fingerprint.size(), k.fingerprint) == 0;
    bool same = k.dev == dev && k.ino == ino;
    if (same && (fp_ok || (k.fingerprint.empty() && known_[i].resume == 0))) {
      best = static_cast<int>(i);
      break;
    }
    if (fp_ok && known_[i].cross_inode && k.fingerprint.size() >= cfg_.fingerprint_size && best < 0) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

Known Committer::Take(int i) {
  Known k = std::move(known_[static_cast<size_t>(i)]);
  known_.erase(known_.begin() + i);
  return k;
}

bool Committer::KnowsInode(uint64_t dev, uint64_t ino) const {
  for (const auto& k : known_) {
    if (k.cp.dev == dev && k.cp.ino == ino) return true;
  }
  return false;
}

void Committer::ExpireKnown(absl::Time now) {
  std::erase_if(known_, [&](const Known& k) { return k.expires < now; });
}

void Committer::Checkpoint(const Readers& readers, bool force) {
  if (checkpoint_path_.empty() || !dirty_) return;
  absl::Time now = absl::Now();
  if (!force && now < next_checkpoint_) return;
  std::vector<FileCheckpoint> files;
  for (const auto& [id, r] : readers) files.push_back({r->path, r->fp, r->dev, r->ino, r->committed});
  for (const auto& k : known_) files.push_back(k.cp);
  absl::Status st = WriteCheckpoint(checkpoint_path_, files);
  if (!st.ok()) {
    // Backs off (doubling from checkpoint_interval) while the storage keeps failing.
    const absl::Duration delay = checkpoint_backoff_.NextDelay();
    next_checkpoint_ = now + delay;
    Stats::Count(stats_.counters.checkpoint_errors, stats_.metrics.checkpoint_errors);
    stats_.Error(
        StrCat("cannot write the checkpoint (next attempt in ", absl::FormatDuration(delay), "): ", st.ToString()));
    return;
  }
  checkpoint_backoff_.Reset();
  next_checkpoint_ = now + cfg_.checkpoint_interval;
  dirty_ = false;
  stats_.counters.checkpoints_written += 1;
}

}  // namespace outrigger::receivers::filelog
