#include "receivers/filelog/filelog_receiver.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "collector/common/thread_name.h"
#include "collector/storage/storage.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "receivers/filelog/committer.h"
#include "receivers/filelog/reader.h"
#include "receivers/filelog/watcher.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog {
namespace {

// Built batches of this many bytes since the last time: free memory goes back to the system.
constexpr uint64_t kTrimAfterBytes = 64ull << 20;

constexpr absl::Duration kRotatedDrainGrace = absl::Seconds(2);  // keep a rotated-out file this long after EOF
// Above the memory limit, reading pauses this long before admission is asked again.
constexpr absl::Duration kAdmissionRetry = absl::Milliseconds(200);
// While files keep being written, inotify's news waits this long (poll_interval if
// shorter) after a pass that read something: see Run.
constexpr absl::Duration kMaxNewsHold = absl::Milliseconds(200);

uint64_t ToNs(absl::Time t) { return static_cast<uint64_t>(absl::ToUnixNanos(t)); }

using FileKey = std::pair<uint64_t, uint64_t>;  // device, inode

}  // namespace

// The reading thread's state: the three parts, the open files, and what ties them.
struct FilelogReceiver::State : ReaderSink {
  FilelogReceiver* self;
  const Config& cfg;
  const Tuning& tuning;
  Stats& stats;
  std::unique_ptr<operators::Chain> chain;
  Framing framing;
  pdata::ValueMap resource;
  Watcher watcher;
  Committer committer;

  int wake_fd = -1;
  std::atomic<bool> stop{false};
  absl::Time deadline = absl::InfiniteFuture();
  absl::Time admission_retry_at = absl::InfiniteFuture();  // reading paused by the memory limit until then
  prometheus::Counter* admission_pauses = nullptr;

  Readers readers;
  uint64_t next_id = 0;
  std::map<FileKey, absl::Time> deferred;  // new files not opened yet, since
  bool first_scan = true;
  bool slot_wait = false;             // a matched file waits for max_concurrent_files
  bool want_scan = false;             // scan again soon (a truncation: its copy may be found now)
  std::vector<operators::Entry> out;  // scratch for the chain
  const bool direct;                  // the chain encodes records itself (EncodeDirect)
  operators::DirectRecord direct_record;
  uint64_t now_ns = 0;

  State(FilelogReceiver* s, std::unique_ptr<operators::Chain> ch, pdata::ValueMap res)
      : self(s),
        cfg(s->cfg_),
        tuning(s->tuning_),
        stats(s->stats_),
        chain(std::move(ch)),
        framing(cfg),
        resource(res),
        watcher(cfg, stats),
        committer(cfg, s->checkpoint_path_, std::move(res), *chain, s->meter_, stats),
        direct(chain->direct() && framing.dec.kind() != Decoder::Kind::kNop) {}

  // ---- ReaderSink -------------------------------------------------------------------
  std::string* NewLine(FileReader& r) override {
    return committer.Builder(resource).AddLine(now_ns, r.attrs_wire, framing.dec.kind() == Decoder::Kind::kNop);
  }
  void Filled(size_t bytes) override { committer.AddBytes(bytes); }
  void Emit(FileReader& r, std::string&& text, uint64_t start, uint64_t end) override {
    committer.AddBytes(text.size());  // what operators make of it is about as large
    // A chain that encodes its record itself (json_parser to the body): no Entry, no
    // values; `text` is left to the reader to reuse. Lines it does not take go the
    // general way below.
    if (direct && text.capacity() < text.size() + 64) text.reserve(text.size() + 64);  // the JSON parser's padding
    if (direct && chain->EncodeDirect(text, text.capacity(), &direct_record)) {
      committer.Builder(resource).AddEncoded(now_ns, r.attrs_wire, direct_record);
      return;
    }
    operators::Entry e;
    if (framing.dec.kind() == Decoder::Kind::kNop) {
      e.record.body = pdata::Value(pdata::Bytes{std::move(text)});
    } else {
      e.record.body = pdata::Value(std::move(text));
    }
    e.record.observed_time_ns = now_ns;
    e.resource = resource;
    e.offset_start = start;
    e.offset_end = end;
    e.record.attributes = r.attrs;
    e.file_path = r.path;
    out.clear();
    chain->Process(std::move(e), &out);
    for (auto& o : out) Push(std::move(o));
  }
  bool Full() const override {
    return committer.pending() >= static_cast<size_t>(cfg.max_batch_size) ||
           committer.pending_bytes() >= cfg.max_batch_size_bytes;
  }
  void Truncated(FileReader& r, std::string new_head) override {
    // What is buffered is all there will ever be of the old content.
    r.FlushPartial();
    committer.Remember(r, r.read_offset, /*cross_inode=*/true);
    stats.log().info("\"{}\" was truncated at offset {}; reading it again from the start", r.path, r.read_offset);
    r.Restart(std::move(new_head));
    committer.MarkDirty();  // the checkpoint must not pair the new fingerprint with the old offset
    want_scan = true;       // its copy (copytruncate) may be continued now
    Stats::Count(stats.counters.files_truncated, stats.metrics.truncated);
  }

  void Push(operators::Entry&& e) { committer.Builder(e.resource).Add(std::move(e.record)); }
  bool Send() { return committer.Send(self->consumers_.logs, readers); }

  // ---- discovery ------------------------------------------------------------------
  void SetPath(FileReader* r, const std::string& path) {
    if (!r->path.empty() && r->path != path) {
      // Renamed: entries the chain holds stay keyed by the old name until released.
      if (chain->PendingStart(r->path)) r->old_paths.push_back(r->path);
      committer.MarkDirty();  // the checkpoint names the file
    }
    r->SetPath(path);
    watcher.WatchParent(r->resolved);
  }

  // When to scan next after one now (see Watcher::ScanInterval).
  absl::Duration ScanInterval() const {
    bool quiet = !slot_wait && deferred.empty();
    for (const auto& [id, r] : readers) {
      // A file renamed away may be written to where no watch sees it until its grace
      // period ends: polled meanwhile.
      quiet &= r->matched;
    }
    return watcher.ScanInterval(quiet);
  }

  // Whether a new file whose first bytes are `head` may be a copy still being written
  // (logrotate's copytruncate copies, then truncates): its bytes so far are the start of
  // a file we read.
  bool MaybeCopyInProgress(const std::string& head) const {
    if (head.size() >= cfg.fingerprint_size) return false;
    for (const auto& [id, r] : readers) {
      if (r->fp.size() >= head.size() && r->fp.compare(0, head.size(), head) == 0) return true;
    }
    for (const auto& k : committer.known()) {
      const auto& fp = k.cp.fingerprint;
      if (k.cross_inode && fp.size() >= head.size() && fp.compare(0, head.size(), head) == 0) return true;
    }
    return false;
  }

  void Scan();
  void Open(const std::string& path, const struct stat& st0);
  void Close(uint64_t id, bool remember);
  void Housekeep();
  // Until when the loop may sleep, pass `now` having started at `now`.
  absl::Time WakeTime(absl::Time now, absl::Time next_scan) const;
  // Whether inotify has events waiting (without reading them).
  bool WatcherHasNews() const {
    if (watcher.fd() < 0) return false;
    pollfd p{watcher.fd(), POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }
  void Finish();
};

void FilelogReceiver::State::Scan() {
  stats.counters.scans += 1;
  slot_wait = false;
  const std::vector<std::string> paths = watcher.Expand();
  std::set<FileKey> seen;
  std::map<FileKey, FileReader*> by_id;
  for (auto& [id, r] : readers) by_id[{r->dev, r->ino}] = r.get();
  std::vector<std::pair<std::string, struct stat>> fresh;
  for (const auto& p : paths) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    FileKey key{st.st_dev, st.st_ino};
    if (!seen.insert(key).second) continue;  // a link and its target both matched
    auto it = by_id.find(key);
    if (it == by_id.end()) {
      fresh.emplace_back(p, st);
      continue;
    }
    FileReader* r = it->second;
    if (!r->matched) r->matched = true;  // back again (e.g. renamed into the include set)
    if (r->path != p) {
      SetPath(r, p);
    } else {
      watcher.WatchParent(r->resolved);  // still watched? (its directory may have been replaced)
    }
    r->CheckIdentity(st);
  }
  for (auto& [id, r] : readers) {
    if (r->matched && seen.count({r->dev, r->ino}) == 0) {
      r->matched = false;  // renamed away, deleted, or the link now points elsewhere
      Stats::Count(stats.counters.files_rotated, stats.metrics.rotated);
      stats.log().debug("\"{}\" is no longer matched; reading it to its end", r->path);
    }
  }
  // Files that a remembered entry names by inode first, so that a copy with the same
  // fingerprint does not take the original's entry.
  std::stable_partition(fresh.begin(), fresh.end(), [&](const auto& f) {
    return committer.KnowsInode(static_cast<uint64_t>(f.second.st_dev), static_cast<uint64_t>(f.second.st_ino));
  });
  for (auto& [p, st] : fresh) Open(p, st);
  for (auto it = deferred.begin(); it != deferred.end();) {
    it = seen.count(it->first) > 0 ? std::next(it) : deferred.erase(it);
  }
  first_scan = false;
  committer.ExpireKnown(absl::Now());
  stats.OpenFiles(readers.size());
}

void FilelogReceiver::State::Open(const std::string& path, const struct stat& st0) {
  if (readers.size() >= static_cast<size_t>(cfg.max_concurrent_files)) {
    // Waits for a slot (polled), not for identification: its copy wait starts again.
    deferred.erase({static_cast<uint64_t>(st0.st_dev), static_cast<uint64_t>(st0.st_ino)});
    slot_wait = true;
    stats.Error(StrCat("max_concurrent_files (", cfg.max_concurrent_files, ") files are open; \"", path,
                       "\" waits for one of them to finish"));
    return;
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Stats::Count(stats.counters.read_errors, stats.metrics.read_errors);
    stats.Error(StrCat("cannot open \"", path, "\": ", std::strerror(errno)));
    return;
  }
  auto r = std::make_unique<FileReader>(framing, stats, *this, fd);  // closes fd unless kept
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != st0.st_dev || st.st_ino != st0.st_ino) {
    return;  // replaced between stat and open: the next scan sees the new one
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const FileKey key{st.st_dev, st.st_ino};
  r->path = path;  // for Head's error message
  std::optional<std::string> head_or = r->Head(size);
  if (!head_or) return;  // tried again at the next scan
  std::string head = std::move(*head_or);
  // A copy of a file we are reading (copytruncate's copy before the truncation): wait
  // until the original is truncated (then the copy continues where the original was).
  if (head.size() >= cfg.fingerprint_size) {
    for (auto& [id, o] : readers) {
      if (o->fp.size() >= cfg.fingerprint_size && head.compare(0, o->fp.size(), o->fp) == 0) {
        deferred.erase(key);  // identified: it waits for the truncation, not for the copy wait
        return;
      }
    }
  }
  // Not identifiable yet (a copy being written?): wait a little, then it is a file of
  // its own, read from its start.
  int ki = committer.FindKnown(head, st.st_dev, st.st_ino);
  if (MaybeCopyInProgress(head) || (ki >= 0 && committer.known()[ki].resume > size)) {
    absl::Time now = absl::Now();
    auto [it, inserted] = deferred.try_emplace(key, now);
    if (now - it->second < tuning.copy_wait) return;
  }
  deferred.erase(key);
  uint64_t offset = 0;
  bool adopted = false;
  uint64_t committed = 0;
  if (ki >= 0) {
    const Known k = committer.Take(ki);
    offset = k.resume <= size ? k.resume : 0;
    // What entries before `resume` not yet accepted would lose if checkpointed: the
    // durable offset is kept until they are (Committer::Commit()).
    committed = std::min(k.cp.offset, offset);
    adopted = true;
    if (k.cp.dev != static_cast<uint64_t>(st.st_dev) || k.cp.ino != static_cast<uint64_t>(st.st_ino)) {
      Stats::Count(stats.counters.files_rotated, stats.metrics.rotated);
      stats.log().info("\"{}\" continues \"{}\" (same fingerprint); reading from offset {}", path, k.cp.path, offset);
    }
  } else if (first_scan && !committer.had_checkpoint() && cfg.start_at == "end") {
    offset = committed = size;
  }
  r->dev = st.st_dev;
  r->ino = st.st_ino;
  r->fp = std::move(head);
  r->read_offset = r->buf_offset = offset;
  r->committed = committed;
  r->last_size = size;
  r->last_mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  r->path.clear();  // named by SetPath
  SetPath(r.get(), path);
  if (!adopted && offset > 0) committer.MarkDirty();
  stats.log().debug("reading \"{}\" from offset {}", path, offset);
  readers[next_id++] = std::move(r);
  Stats::Count(stats.counters.files_opened, stats.metrics.opened);
}

void FilelogReceiver::State::Close(uint64_t id, bool remember) {
  auto it = readers.find(id);
  FileReader* r = it->second.get();
  if (remember) committer.Remember(*r, r->read_offset, /*cross_inode=*/false);
  std::vector<std::string> paths = std::move(r->old_paths);
  paths.push_back(r->path);
  readers.erase(it);  // closes the file
  for (const auto& path : paths) {
    bool shared = false;
    for (auto& [i, o] : readers) shared |= o->path == path;
    if (!shared && !chain->PendingStart(path)) chain->Forget(path);
  }
  committer.MarkDirty();
}

// Partial lines after force_flush_period; rotated-out files finished; delete_after_read.
void FilelogReceiver::State::Housekeep() {
  absl::Time now = absl::Now();
  now_ns = ToNs(now);
  if (cfg.force_flush_period > absl::ZeroDuration()) {
    for (auto& [id, r] : readers) {
      if (r->at_eof && !r->IsIdle() && now - r->last_data >= cfg.force_flush_period) r->FlushPartial();
    }
    out.clear();
    chain->Flush(now_ns, static_cast<uint64_t>(absl::ToInt64Nanoseconds(cfg.force_flush_period)), &out);
    for (auto& o : out) Push(std::move(o));
  }
  if (committer.pending() > 0 && !Send()) return;
  std::vector<uint64_t> finished;
  for (auto& [id, r] : readers) {
    if (!r->at_eof) continue;
    if (!r->matched && now - r->eof_since >= kRotatedDrainGrace) {
      r->FlushPartial();
      finished.push_back(id);
    } else if (cfg.delete_after_read && r->matched && r->IsIdle() && r->committed == r->read_offset &&
               !committer.HeldStart(*r)) {
      struct stat st;
      if (stat(r->path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == r->dev &&
          static_cast<uint64_t>(st.st_ino) == r->ino && static_cast<uint64_t>(st.st_size) == r->read_offset) {
        if (unlink(r->path.c_str()) == 0) {
          Stats::Count(stats.counters.files_deleted, stats.metrics.deleted);
          finished.push_back(id);
        } else {
          stats.Error(StrCat("delete_after_read: cannot delete \"", r->path, "\": ", std::strerror(errno)));
        }
      }
    }
  }
  if (!finished.empty()) {
    if (committer.pending() > 0 && !Send()) return;  // the partial lines go out before the files are forgotten
    for (uint64_t id : finished) {
      bool deleted = cfg.delete_after_read && readers[id]->matched;
      Close(id, !deleted);
    }
    stats.OpenFiles(readers.size());
  }
}

// Sleep until an inotify event, the next scan, a partial line's flush or a retry. While a
// batch is refused, only the retry (and the checkpoint) is waited for: nothing else runs
// meanwhile, so other times would be in the past and make it spin.
absl::Time FilelogReceiver::State::WakeTime(absl::Time now, absl::Time next_scan) const {
  absl::Time wake = committer.refused() ? committer.retry_at() : next_scan;
  if (committer.dirty() && !committer.checkpoint_path().empty()) wake = std::min(wake, committer.next_checkpoint());
  if (committer.refused()) return wake;
  wake = std::min(wake, admission_retry_at);
  // A time from before this pass was looked at by it (housekeeping, the scan) and is
  // still pending for a reason of its own: looked at again a poll_interval later, not in
  // a loop.
  const absl::Time stale = absl::Now() + cfg.poll_interval;
  auto at = [&](absl::Time t) { wake = std::min(wake, t < now ? stale : t); };
  for (const auto& [id, r] : readers) {
    if (!r->IsIdle() && cfg.force_flush_period > absl::ZeroDuration()) at(r->last_data + cfg.force_flush_period);
    if (!r->matched && r->at_eof) at(r->eof_since + kRotatedDrainGrace);
  }
  for (const auto& [key, since] : deferred) at(since + tuning.copy_wait);
  return wake;
}

// Shutdown: send what is made (retrying until the deadline), then the chain's held
// entries, commit and checkpoint. Partial lines stay unsent and uncommitted: they are
// read again (whole) after a restart.
void FilelogReceiver::State::Finish() {
  now_ns = ToNs(absl::Now());
  out.clear();
  chain->Flush(now_ns, 0, &out);
  for (auto& o : out) Push(std::move(o));
  while (!Send()) {
    absl::Time t = std::min(committer.retry_at(), deadline);
    if (absl::Now() >= deadline) {
      stats.log().warn(
          "shutting down with {} log records not accepted by the pipeline; they are not "
          "committed and will be read again after a restart",
          committer.pending());
      break;
    }
    absl::SleepFor(t - absl::Now());
  }
  committer.Checkpoint(readers, /*force=*/true);
}

FilelogReceiver::FilelogReceiver(const CreateSettings& settings, const Config& cfg,
                                 std::unique_ptr<operators::Chain> chain, const Tuning& tuning)
    : settings_(settings),
      cfg_(cfg),
      tuning_(tuning),
      meter_(settings.telemetry->ForReceiver(settings.id, "file")),
      stats_(settings.logger) {
  if (!cfg_.storage.empty() && cfg_.storage[0] == '/') {  // a directory; an extension id is resolved by Start
    checkpoint_path_ = CheckpointPath(cfg_.storage);
  }
  pdata::ValueMap resource;
  for (const auto& [k, v] : cfg_.resource) resource.emplace_back(k, pdata::Value(v));
  state_ = std::make_unique<State>(this, std::move(chain), std::move(resource));
  auto& reg = settings.telemetry->registry();
  prometheus::Labels labels{{"receiver", settings.id.String()}};
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(reg).Add(labels);
  };
  Metrics& m = stats_.metrics;
  m.opened = counter("outrigger_filelog_files_opened_total", "Files the filelog receiver opened");
  m.rotated = counter("outrigger_filelog_files_rotated_total",
                      "Files rotated away (renamed, deleted, link swapped) or continued under another name");
  m.truncated = counter("outrigger_filelog_files_truncated_total", "Files found truncated (copytruncate)");
  m.deleted = counter("outrigger_filelog_files_deleted_total", "Files deleted after reading (delete_after_read)");
  m.lines_truncated = counter("outrigger_filelog_lines_truncated_total",
                              "Entries longer than max_log_size, split into several records");
  m.decode_errors = counter("outrigger_filelog_decode_errors_total", "Invalid byte sequences replaced with U+FFFD");
  m.read_errors = counter("outrigger_filelog_read_errors_total", "Files that could not be opened or read");
  m.checkpoint_errors = counter("outrigger_filelog_checkpoint_errors_total", "Checkpoints that could not be written");
  state_->admission_pauses = &settings.telemetry->AddCounter(
      "outrigger_filelog_memory_limit_pauses_total",
      "Times reading paused because the memory limit refused a batch's worth of memory (retried after 200ms)", labels);
  m.open_files = &prometheus::BuildGauge()
                      .Name("outrigger_filelog_open_files")
                      .Help("Files the filelog receiver holds open")
                      .Register(reg)
                      .Add(labels);
}

FilelogReceiver::~FilelogReceiver() { (void)Shutdown(absl::Now()); }

std::string FilelogReceiver::CheckpointPath(const std::string& dir) const {
  std::string name = settings_.id.String();
  std::replace(name.begin(), name.end(), '/', '_');
  return StrCat(dir, "/", name, ".checkpoint");
}

absl::Status FilelogReceiver::Start(Host& host) {
  if (started_) return absl::OkStatus();
  State& s = *state_;
  std::string dir = cfg_.storage;
  if (!cfg_.storage.empty() && cfg_.storage[0] != '/') {
    // Upstream's form: the id of a storage extension, which gives this receiver a directory.
    auto* ext = dynamic_cast<storage::StorageExtension*>(host.GetExtension(cfg_.storage));
    if (ext == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("storage \"", cfg_.storage,
                 "\" is not a storage extension (such as file_storage) listed in service.extensions, nor an "
                 "absolute directory path"));
    }
    auto d = ext->Directory("receiver", settings_.id.String());
    if (!d.ok())
      return absl::Status(d.status().code(), StrCat("storage \"", cfg_.storage, "\": ", d.status().message()));
    dir = *d;
    checkpoint_path_ = CheckpointPath(dir);
    s.committer.set_checkpoint_path(checkpoint_path_);
  }
  if (!checkpoint_path_.empty()) {
    if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          StrCat("storage \"", dir, "\": cannot create the directory: ", std::strerror(errno)));
    }
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          StrCat("storage \"", dir, "\" is not a writable directory: ", std::strerror(errno)));
    }
    if (absl::Status st = s.committer.Load(); !st.ok()) return st;
  }
  s.watcher.Open();
  s.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.wake_fd < 0) return absl::InternalError(StrCat("eventfd: ", std::strerror(errno)));
  started_ = true;
  thread_ = NamedThread("filelog", [this] { Run(); });
  return absl::OkStatus();
}

absl::Status FilelogReceiver::Shutdown(absl::Time deadline) {
  if (!started_) return absl::OkStatus();
  started_ = false;
  State& s = *state_;
  s.deadline = deadline;
  s.stop = true;
  uint64_t one = 1;
  (void)!write(s.wake_fd, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  s.readers.clear();  // closes the files
  s.watcher.Close();
  if (s.wake_fd >= 0) close(s.wake_fd);
  s.wake_fd = -1;
  return absl::OkStatus();
}

void FilelogReceiver::Run() {
  State& s = *state_;
  Committer& c = s.committer;
  absl::Time next_scan = absl::InfinitePast();
  bool look = true;  // read every file now
  // While files keep being written, inotify's news waits until poll_interval (at most
  // kMaxNewsHold) after the last pass that read something: a writer that writes line by
  // line (most loggers flush each line) wakes this thread about once per poll_interval,
  // as upstream's polling does, not once per line. News after a quiet period is read at
  // once.
  absl::Time news_after = absl::InfinitePast();
  uint64_t trimmed_at_bytes = 0;
  while (!s.stop) {
    stats_.counters.wakeups += 1;
    absl::Time now = absl::Now();
    s.now_ns = ToNs(now);
    if (c.refused()) {
      if (now >= c.retry_at() && s.Send()) {
        look = true;  // accepted: a whole pass at once (reads what waited meanwhile, housekeeping)
        continue;
      }
    } else {
      if (now >= next_scan) {
        s.want_scan = false;
        s.Scan();
        next_scan = now + s.ScanInterval();
        look = true;
      }
      // Admission (a memory_limiter in a pipeline of this receiver): a batch's worth of
      // memory is asked for before a burst is read; refused, reading pauses and asks again.
      if (now >= s.admission_retry_at) {
        s.admission_retry_at = absl::InfiniteFuture();
        look = true;
      }
      Admission::Ticket admitted;
      if (look && !admission_.empty()) {
        auto t = admission_.Admit(cfg_.max_batch_size_bytes);
        if (t.ok()) {
          admitted = std::move(*t);
        } else {
          s.admission_pauses->Increment();
          s.admission_retry_at = now + kAdmissionRetry;
          look = false;
        }
      }
      // Read bursts: round-robin over the files until none has more (or the pipeline refuses).
      // A long burst (a big file) yields when a scan is due or inotify has news, and goes
      // on right after: files created or written meanwhile are read in the next rounds,
      // not after the big file (issue 15).
      bool progress = look;
      bool yielded = false;
      const absl::Time burst_start = absl::Now();
      while (progress && !s.stop && !c.refused()) {
        progress = false;
        for (auto& [id, r] : s.readers) {
          s.now_ns = ToNs(absl::Now());
          if (r->ReadSome()) progress = true;
          if (s.Full() && !s.Send()) break;
        }
        if (progress) news_after = burst_start + std::min(cfg_.poll_interval, kMaxNewsHold);
        // (inotify is looked at after a poll_interval of reading: files being written send
        // news all the time, and each yield sends what the rounds made so far.)
        const absl::Time t = absl::Now();
        if (progress && (t >= next_scan || (t - burst_start >= cfg_.poll_interval && s.WatcherHasNews()))) {
          yielded = true;
          break;
        }
      }
      look = yielded;
      if (!c.refused()) s.Send();
#if defined(__GLIBC__)
      // After a burst, what the batches took goes back to the system: glibc keeps freed
      // blocks (up to max_log_size each, above its adaptive mmap threshold) in its heaps.
      if (c.built_bytes() - trimmed_at_bytes >= kTrimAfterBytes) {
        malloc_trim(0);
        trimmed_at_bytes = c.built_bytes();
      }
#endif
      if (!c.refused()) s.Housekeep();
    }
    if (s.want_scan && !c.refused()) {
      s.want_scan = false;
      next_scan = absl::Now();
    }
    c.Checkpoint(s.readers, /*force=*/false);
    absl::Time wake = s.WakeTime(now, next_scan);
    const bool hold_news = !look && absl::Now() < news_after;
    if (hold_news) wake = std::min(wake, news_after);
    int timeout_ms =
        look ? 0
             : static_cast<int>(std::clamp<int64_t>(
                   absl::ToInt64Milliseconds(absl::Ceil(wake - absl::Now(), absl::Milliseconds(1))), 0, 60000));
    pollfd fds[2] = {{s.wake_fd, POLLIN, 0}, {s.watcher.fd(), POLLIN, 0}};
    int nfds = s.watcher.fd() >= 0 && !hold_news ? 2 : 1;
    if ((timeout_ms > 0 || look) && poll(fds, nfds, timeout_ms) > 0 && (fds[1].revents & POLLIN)) {
      bool names_changed = false;
      if (s.watcher.Drain(&names_changed) && !c.refused()) {
        look = true;
        // Rescan now: names changed, or a file waits to be identifiable (a copy being written).
        if (names_changed || !s.deferred.empty()) next_scan = std::min(next_scan, absl::Now());
      }
    }
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      (void)!read(s.wake_fd, &v, sizeof(v));
    }
  }
  s.Finish();
}

}  // namespace outrigger::receivers::filelog
