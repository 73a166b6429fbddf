#include "receivers/filelog/filelog_receiver.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <set>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "re2/re2.h"
#include "receivers/filelog/checkpoint.h"
#include "receivers/filelog/decoder.h"
#include "receivers/filelog/glob.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog {
namespace {

constexpr size_t kReadChunk = 256 * 1024;           // bytes per read(2)
constexpr size_t kReadBudgetPerFile = 1024 * 1024;  // per file and pass, for fairness
constexpr absl::Duration kRotatedDrainGrace = absl::Seconds(2);  // keep a rotated-out file this long after EOF
constexpr absl::Duration kKnownTtl = absl::Seconds(60);          // fingerprints of truncated/closed files
constexpr size_t kMaxKnown = 4096;
constexpr absl::Duration kCopyWait = absl::Seconds(5);  // longest wait for a possible copy to be identifiable
constexpr absl::Duration kErrorLogEvery = absl::Seconds(10);
constexpr absl::Duration kCheckpointMaxBackoff = absl::Seconds(30);  // retries of a failed checkpoint write
constexpr size_t kMaxWatches = 4096;
// With inotify watching every directory where a match can appear or change, files are
// looked for again only on its events, plus this safety rescan: it catches what inotify
// cannot report (a directory created between our listing and its watch being added) at
// the cost of a few stat calls. Every max(kQuietRescanFactor * poll_interval,
// kQuietRescanMin): 2 s with the default poll_interval, 1/10 of the wakeups.
constexpr int kQuietRescanFactor = 10;
constexpr absl::Duration kQuietRescanMin = absl::Seconds(2);

// File systems whose changes made elsewhere inotify does not see (network, FUSE,
// cluster file systems): directories on them are polled.
bool RemoteFileSystem(const std::string& dir) {
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) return false;
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x65735546:  // FUSE (sshfs, s3fs, gcsfuse, ...)
    case 0x00C36400:  // Ceph
    case 0x01021997:  // 9p (also WSL and VM shares)
    case 0x5346414F:  // AFS
    case 0x6B414653:  // kAFS
    case 0x73757245:  // Coda
    case 0x01161970:  // GFS2
    case 0x7461636F:  // OCFS2
    case 0x0BD00BD0:  // Lustre
    case 0x47504653:  // GPFS
    case 0x786F4256:  // VirtualBox shared folders
      return true;
    default:
      return false;
  }
}

uint64_t ToNs(absl::Time t) { return static_cast<uint64_t>(absl::ToUnixNanos(t)); }

std::string BaseName(const std::string& p) {
  size_t i = p.rfind('/');
  return i == std::string::npos ? p : p.substr(i + 1);
}

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  if (realpath(p.c_str(), buf) == nullptr) return p;
  return buf;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// A growable byte buffer that is not zero-filled when it grows.
struct Buffer {
  std::unique_ptr<char[]> data;
  size_t cap = 0, len = 0;
  void Reserve(size_t want) {
    if (want <= cap) return;
    size_t n = std::max(want, cap * 2);
    auto d = std::make_unique<char[]>(n);
    if (len > 0) std::memcpy(d.get(), data.get(), len);
    data = std::move(d);
    cap = n;
  }
  void Release() {
    data.reset();
    cap = len = 0;
  }
};

ssize_t PreadAll(int fd, char* buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

struct Reader {
  int fd = -1;
  uint64_t dev = 0, ino = 0;
  std::string path;       // as matched
  std::string resolved;   // symbolic links resolved
  std::string fp;         // first bytes, up to fingerprint_size
  uint64_t read_offset = 0;  // next byte to read
  Buffer buf;                // bytes [buf_offset, read_offset) not yet made into entries
  uint64_t buf_offset = 0;
  size_t scan_from = 0;      // in buf: bytes before it hold no newline
  // Multiline record being built (decoded text).
  bool acc_active = false;
  std::string acc;
  uint64_t acc_start = 0, acc_end = 0;
  uint64_t last_size = 0;
  int64_t last_mtime_ns = 0;
  absl::Time last_data = absl::InfinitePast();  // last time bytes arrived
  bool at_eof = false;
  bool matched = true;      // found by the last scan
  absl::Time eof_since = absl::InfiniteFuture();
  uint64_t committed = 0;   // everything before it was accepted by the pipeline
  // Names the file had before renames while the chain still held entries under them
  // (held entries are keyed by the path they were read under).
  std::vector<std::string> old_paths;
  pdata::ValueMap attrs;    // per record: config attributes + log.file.*
  bool IsIdle() const { return buf.len == 0 && !acc_active; }
  // The first byte not yet handed to the chain.
  uint64_t Unemitted() const { return acc_active ? acc_start : buf_offset; }
};

struct Known {  // a file we read before (checkpoint, truncated, or closed)
  FileCheckpoint cp;  // cp.offset: durable (everything before it was accepted); the only one checkpointed
  uint64_t resume = 0;  // where reading goes on in this process (entries before it were made; >= cp.offset)
  absl::Time expires;
  // Whether a file of another inode with the same (whole) fingerprint continues it: the
  // copy of a copytruncated file, or a file checkpointed before a restart. A file that was
  // renamed away or deleted continues only under its own inode.
  bool cross_inode = false;
};

struct FilelogReceiver::State {
  FilelogReceiver* self;
  const Config& cfg;
  std::unique_ptr<operators::Chain> chain;
  Decoder dec;
  std::vector<Glob> include, exclude;
  std::unique_ptr<RE2> start_re, end_re;
  pdata::ValueMap resource;
  std::vector<std::pair<std::string, pdata::Value>> config_attrs;

  int inotify_fd = -1, wake_fd = -1;
  std::map<std::string, int> watches;  // directory -> watch descriptor (-1: cannot be watched)
  bool watch_limit_logged = false;
  // Whether inotify reported every change the last scan depended on (every directory
  // watched, none on a network file system): then the scan is repeated only on events.
  bool scan_covered = false;
  std::set<std::string> remote_dirs;  // watched, but on a network file system
  bool slot_wait = false;  // a matched file waits for max_concurrent_files
  bool want_scan = false;  // scan again soon (a truncation: its copy may be found now)
  std::atomic<bool> stop{false};
  absl::Time deadline = absl::InfiniteFuture();

  std::map<uint64_t, std::unique_ptr<Reader>> readers;  // by open order
  uint64_t next_id = 0;
  std::vector<Known> known;
  std::map<std::pair<uint64_t, uint64_t>, absl::Time> deferred;  // new files not opened yet, since
  bool first_scan = true;
  bool had_checkpoint = false;

  // Records made but not yet accepted by the pipeline. They are built into pdata as they
  // are made (a line without operators is copied once: from the read buffer into its
  // record), one builder per resource; a send builds them, in order of each resource's
  // first record, into `unsent`, offered to the pipeline in order. What the pipeline
  // refuses stays there (it is offered a clone) and is offered again first.
  struct Group {
    pdata::ValueMap resource;
    std::unique_ptr<pdata::LogsBuilder> builder;
    uint64_t first = 0;  // sequence number of its first record since the last send
  };
  std::vector<Group> groups;
  size_t last_group = 0;
  uint64_t seq = 0;
  std::deque<std::pair<pdata::Logs, size_t>> unsent;  // built, with their record counts
  size_t pending = 0;        // records in `groups` and `unsent`
  bool passthrough = false;  // no operators: lines go straight into pdata
  std::vector<operators::Entry> out;  // scratch for the chain
  bool refused = false;               // the last send was refused: reading pauses
  absl::Duration backoff;
  absl::Time retry_at;
  bool commit_dirty = false;
  absl::Time next_checkpoint = absl::InfinitePast();  // earliest next write (interval, or backoff after a failure)
  absl::Duration checkpoint_backoff;                   // after failed writes

  // Rate-limited error logging.
  absl::Time last_error_log = absl::InfinitePast();
  uint64_t errors_since_log = 0;

  // Own metrics.
  prometheus::Counter *m_opened, *m_rotated, *m_truncated, *m_deleted, *m_lines_truncated, *m_decode_errors,
      *m_read_errors, *m_checkpoint_errors;
  prometheus::Gauge* m_open_files;

  State(FilelogReceiver* s, const Config& c, std::unique_ptr<operators::Chain> ch)
      : self(s), cfg(c), chain(std::move(ch)), dec(c.encoding), backoff(c.retry_initial_interval) {}

  void Error(const std::string& msg) {
    ++errors_since_log;
    absl::Time now = absl::Now();
    if (now - last_error_log < kErrorLogEvery) return;
    self->settings_.logger->error("{} ({} errors since the last report)", msg, errors_since_log);
    errors_since_log = 0;
    last_error_log = now;
  }
  void Count(std::atomic<uint64_t>& c, prometheus::Counter* m, uint64_t n = 1) {
    c += n;
    m->Increment(static_cast<double>(n));
  }

  // ---- watching -------------------------------------------------------------------
  // Watches `dir`; false if it is not (then the scan covers it by polling).
  bool Watch(const std::string& dir) {
    if (inotify_fd < 0) return NotCovered();
    if (auto it = watches.find(dir); it != watches.end()) {
      return (it->second >= 0 && remote_dirs.count(dir) == 0) || NotCovered();
    }
    if (watches.size() >= kMaxWatches) {
      if (!watch_limit_logged) {
        self->settings_.logger->warn("more than {} directories to watch; the others are polled every {}",
                                     kMaxWatches, absl::FormatDuration(cfg.poll_interval));
        watch_limit_logged = true;
      }
      return NotCovered();
    }
    int wd = inotify_add_watch(inotify_fd, dir.c_str(),
                               IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
                                   IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
    if (wd < 0) {
      // Gone meanwhile (or not a directory): not remembered, the next scan sees what is there.
      if (errno == ENOENT || errno == ENOTDIR) return NotCovered();
      if (!watch_limit_logged) {
        self->settings_.logger->warn("cannot watch \"{}\" with inotify ({}); polling every {}", dir,
                                     std::strerror(errno), absl::FormatDuration(cfg.poll_interval));
        watch_limit_logged = true;
      }
      watches[dir] = -1;
      return NotCovered();
    }
    watches[dir] = wd;
    if (RemoteFileSystem(dir)) {
      // Watched (local changes come at once), but changes made by other hosts are not
      // reported: polled too.
      self->settings_.logger->debug("\"{}\" is on a network file system; polling it every {}", dir,
                                    absl::FormatDuration(cfg.poll_interval));
      remote_dirs.insert(dir);
      return NotCovered();
    }
    return true;
  }
  bool NotCovered() {
    scan_covered = false;
    return false;
  }

  // When to scan next after one now: on inotify's events only (and a slow safety rescan)
  // while they report every change the scan depends on, else every poll_interval.
  absl::Duration ScanInterval() const {
    bool quiet = scan_covered && !slot_wait && deferred.empty();
    for (const auto& [id, r] : readers) {
      // A file renamed away may be written to where no watch sees it until its grace
      // period ends: polled meanwhile.
      quiet &= r->matched;
    }
    return quiet ? std::max(cfg.poll_interval * kQuietRescanFactor, kQuietRescanMin) : cfg.poll_interval;
  }

  // Drains inotify events. Returns true if any arrived (then everything is looked at).
  bool DrainInotify(bool* names_changed) {
    if (inotify_fd < 0) return false;
    alignas(inotify_event) char buf[16384];
    bool any = false;
    for (;;) {
      ssize_t n = read(inotify_fd, buf, sizeof(buf));
      if (n <= 0) break;
      any = true;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |
                        IN_MOVE_SELF | IN_IGNORED | IN_Q_OVERFLOW)) {
          *names_changed = true;
        }
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
          for (auto it = watches.begin(); it != watches.end(); ++it) {
            if (it->second == ev->wd) {
              if (!(ev->mask & IN_IGNORED)) inotify_rm_watch(inotify_fd, ev->wd);
              watches.erase(it);
              break;
            }
          }
        }
        p += sizeof(inotify_event) + ev->len;
      }
    }
    return any;
  }

  // ---- scanning -------------------------------------------------------------------
  bool Excluded(const std::string& p) const {
    for (const auto& g : exclude) {
      if (g.Match(p)) return true;
    }
    return false;
  }

  // The first bytes of a file (up to fingerprint_size); nullopt on a read error (not the
  // same as an empty file: an error must never look like a truncation).
  std::optional<std::string> Head(const std::string& path, int fd, uint64_t size) {
    std::string h(std::min<uint64_t>(size, cfg.fingerprint_size), '\0');
    ssize_t n = PreadAll(fd, h.data(), h.size(), 0);
    if (n < 0) {
      Count(self->counters_.read_errors, m_read_errors);
      Error(StrCat("cannot read the start of \"", path, "\": ", std::strerror(errno)));
      return std::nullopt;
    }
    h.resize(static_cast<size_t>(n));
    return h;
  }

  void SetPath(Reader* r, const std::string& path) {
    if (!r->path.empty() && r->path != path) {
      // Renamed: entries the chain holds stay keyed by the old name until released.
      if (chain->PendingStart(r->path)) r->old_paths.push_back(r->path);
      commit_dirty = true;  // the checkpoint names the file
    }
    r->path = path;
    r->resolved = RealPath(path);
    r->attrs.clear();
    for (const auto& a : config_attrs) r->attrs.push_back(a);
    if (cfg.include_file_name) r->attrs.emplace_back("log.file.name", BaseName(path));
    if (cfg.include_file_path) r->attrs.emplace_back("log.file.path", path);
    if (cfg.include_file_name_resolved) r->attrs.emplace_back("log.file.name_resolved", BaseName(r->resolved));
    if (cfg.include_file_path_resolved) r->attrs.emplace_back("log.file.path_resolved", r->resolved);
    WatchParent(r->resolved);
  }

  // Watches the directory of a file (a link's target may be elsewhere).
  void WatchParent(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) Watch(path.substr(0, slash));
  }

  // `resume`: where reading this content goes on in this process (everything before it
  // was made into entries); r.committed: what may be checkpointed (accepted), raised to
  // `resume` by Commit() once the entries made before are accepted.
  void Remember(const Reader& r, uint64_t resume, bool cross_inode) {
    if (r.fp.empty()) return;
    const uint64_t durable = std::min(r.committed, resume);
    known.push_back(
        {FileCheckpoint{r.path, r.fp, r.dev, r.ino, durable}, resume, absl::Now() + kKnownTtl, cross_inode});
    if (known.size() > kMaxKnown) known.erase(known.begin());
    if (durable != resume) commit_dirty = true;
  }

  // Where the oldest entry the chain holds for `r` began, under its name or a former one.
  std::optional<uint64_t> HeldStart(Reader* r) {
    std::optional<uint64_t> p = chain->PendingStart(r->path);
    for (auto it = r->old_paths.begin(); it != r->old_paths.end();) {
      if (auto q = chain->PendingStart(*it)) {
        if (!p || *q < *p) p = q;
        ++it;
      } else {
        it = r->old_paths.erase(it);  // released meanwhile
      }
    }
    return p;
  }

  // The remembered file `head` (with dev/ino) continues, if any. A file of another inode
  // matches only on a whole fingerprint, so short common prefixes never make us skip data.
  int FindKnown(const std::string& head, uint64_t dev, uint64_t ino) const {
    int best = -1;
    for (size_t i = 0; i < known.size(); ++i) {
      const auto& k = known[i].cp;
      bool fp_ok = !k.fingerprint.empty() && head.size() >= k.fingerprint.size() &&
                   head.compare(0, k.fingerprint.size(), k.fingerprint) == 0;
      bool same = k.dev == dev && k.ino == ino;
      if (same && (fp_ok || (k.fingerprint.empty() && known[i].resume == 0))) {
        best = static_cast<int>(i);
        break;
      }
      if (fp_ok && known[i].cross_inode && k.fingerprint.size() >= cfg.fingerprint_size && best < 0) {
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  // Whether a new file whose first bytes are `head` may be a copy still being written
  // (logrotate's copytruncate copies, then truncates): its bytes so far are the start of
  // a file we read.
  bool MaybeCopyInProgress(const std::string& head) const {
    if (head.size() >= cfg.fingerprint_size) return false;
    for (const auto& [id, r] : readers) {
      if (r->fp.size() >= head.size() && r->fp.compare(0, head.size(), head) == 0) return true;
    }
    for (const auto& k : known) {
      const auto& fp = k.cp.fingerprint;
      if (k.cross_inode && fp.size() >= head.size() && fp.compare(0, head.size(), head) == 0) return true;
    }
    return false;
  }

  void Truncated(Reader* r, const std::string& new_head) {
    // What is buffered is all there will ever be of the old content.
    FlushPartial(r);
    Remember(*r, r->read_offset, /*cross_inode=*/true);
    self->settings_.logger->info("\"{}\" was truncated at offset {}; reading it again from the start", r->path,
                                 r->read_offset);
    r->read_offset = r->buf_offset = 0;
    r->committed = 0;     // the new content: nothing of it was accepted yet
    commit_dirty = true;  // the checkpoint must not pair the new fingerprint with the old offset
    r->buf.len = 0;
    r->scan_from = 0;
    r->fp = new_head;
    r->at_eof = false;
    want_scan = true;  // its copy (copytruncate) may be continued now
    Count(self->counters_.files_truncated, m_truncated);
  }

  // Whether `r` still holds the content we were reading (else: truncated).
  void CheckIdentity(Reader* r, const struct stat& st) {
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (size < r->read_offset) {
      // Truncated (the size says so); a new head that cannot be read grows as it is read.
      Truncated(r, Head(r->path, r->fd, size).value_or(std::string()));
    } else if (size != r->last_size || mtime != r->last_mtime_ns || r->fp.size() < cfg.fingerprint_size) {
      if (size > r->fp.size() || size != r->last_size || mtime != r->last_mtime_ns) {
        std::optional<std::string> head = Head(r->path, r->fd, size);
        if (!head) return;  // unknown: checked again at the next scan (size and mtime not taken)
        if (head->size() < r->fp.size() || head->compare(0, r->fp.size(), r->fp) != 0) {
          Truncated(r, *head);
        } else {
          r->fp = std::move(*head);
        }
      }
    }
    r->last_size = size;
    r->last_mtime_ns = mtime;
  }

  void Scan() {
    self->counters_.scans += 1;
    scan_covered = inotify_fd >= 0;
    slot_wait = false;
    std::vector<std::string> paths;
    for (const auto& g : include) g.Expand(&paths, [&](const std::string& d) { Watch(d); });
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    std::set<std::pair<uint64_t, uint64_t>> seen;
    std::map<std::pair<uint64_t, uint64_t>, Reader*> by_id;
    for (auto& [id, r] : readers) by_id[{r->dev, r->ino}] = r.get();
    std::vector<std::pair<std::string, struct stat>> fresh;
    for (const auto& p : paths) {
      if (Excluded(p)) continue;
      struct stat st;
      if (stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      std::pair<uint64_t, uint64_t> key{st.st_dev, st.st_ino};
      if (!seen.insert(key).second) continue;  // a link and its target both matched
      auto it = by_id.find(key);
      if (it == by_id.end()) {
        fresh.emplace_back(p, st);
        continue;
      }
      Reader* r = it->second;
      if (!r->matched) r->matched = true;  // back again (e.g. renamed into the include set)
      if (r->path != p) {
        SetPath(r, p);
      } else {
        WatchParent(r->resolved);  // still watched? (its directory may have been replaced)
      }
      CheckIdentity(r, st);
    }
    for (auto& [id, r] : readers) {
      if (r->matched && seen.count({r->dev, r->ino}) == 0) {
        r->matched = false;  // renamed away, deleted, or the link now points elsewhere
        Count(self->counters_.files_rotated, m_rotated);
        self->settings_.logger->debug("\"{}\" is no longer matched; reading it to its end", r->path);
      }
    }
    // Files that a remembered entry names by inode first, so that a copy with the same
    // fingerprint does not take the original's entry.
    std::stable_partition(fresh.begin(), fresh.end(), [&](const auto& f) {
      for (const auto& k : known) {
        if (k.cp.dev == static_cast<uint64_t>(f.second.st_dev) && k.cp.ino == static_cast<uint64_t>(f.second.st_ino)) {
          return true;
        }
      }
      return false;
    });
    for (auto& [p, st] : fresh) Open(p, st);
    for (auto it = deferred.begin(); it != deferred.end();) {
      it = seen.count(it->first) > 0 ? std::next(it) : deferred.erase(it);
    }
    first_scan = false;
    absl::Time now = absl::Now();
    known.erase(std::remove_if(known.begin(), known.end(), [&](const Known& k) { return k.expires < now; }),
                known.end());
    m_open_files->Set(static_cast<double>(readers.size()));
  }

  void Open(const std::string& path, const struct stat& st0) {
    if (readers.size() >= static_cast<size_t>(cfg.max_concurrent_files)) {
      // Waits for a slot (polled), not for identification: its copy wait starts again.
      deferred.erase({static_cast<uint64_t>(st0.st_dev), static_cast<uint64_t>(st0.st_ino)});
      slot_wait = true;
      Error(StrCat("max_concurrent_files (", cfg.max_concurrent_files, ") files are open; \"", path,
                   "\" waits for one of them to finish"));
      return;
    }
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Count(self->counters_.read_errors, m_read_errors);
      Error(StrCat("cannot open \"", path, "\": ", std::strerror(errno)));
      return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_dev != st0.st_dev || st.st_ino != st0.st_ino) {
      close(fd);  // replaced between stat and open: the next scan sees the new one
      return;
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    const std::pair<uint64_t, uint64_t> key{st.st_dev, st.st_ino};
    std::optional<std::string> head_or = Head(path, fd, size);
    if (!head_or) {
      close(fd);  // tried again at the next scan
      return;
    }
    std::string head = std::move(*head_or);
    // A copy of a file we are reading (copytruncate's copy before the truncation): wait
    // until the original is truncated (then the copy continues where the original was).
    if (head.size() >= cfg.fingerprint_size) {
      for (auto& [id, r] : readers) {
        if (r->fp.size() >= cfg.fingerprint_size && head.compare(0, r->fp.size(), r->fp) == 0) {
          deferred.erase(key);  // identified: it waits for the truncation, not for kCopyWait
          close(fd);
          return;
        }
      }
    }
    // Not identifiable yet (a copy being written?): wait a little, then it is a file of
    // its own, read from its start.
    int ki = FindKnown(head, st.st_dev, st.st_ino);
    if (MaybeCopyInProgress(head) || (ki >= 0 && known[ki].resume > size)) {
      absl::Time now = absl::Now();
      auto [it, inserted] = deferred.try_emplace(key, now);
      if (now - it->second < kCopyWait) {
        close(fd);
        return;
      }
    }
    deferred.erase(key);
    uint64_t offset = 0;
    bool adopted = false;
    uint64_t committed = 0;
    std::optional<FileCheckpoint> k;
    uint64_t resume = 0;
    if (ki >= 0) {
      k = known[ki].cp;
      resume = known[ki].resume;
      known.erase(known.begin() + ki);
    }
    if (k) {
      offset = resume <= size ? resume : 0;
      // What entries before `resume` not yet accepted would lose if checkpointed: the
      // durable offset is kept until they are (Commit()).
      committed = std::min(k->offset, offset);
      adopted = true;
      if (k->dev != static_cast<uint64_t>(st.st_dev) || k->ino != static_cast<uint64_t>(st.st_ino)) {
        Count(self->counters_.files_rotated, m_rotated);
        self->settings_.logger->info("\"{}\" continues \"{}\" (same fingerprint); reading from offset {}", path,
                                     k->path, offset);
      }
    } else if (first_scan && !had_checkpoint && cfg.start_at == "end") {
      offset = committed = size;
    }
    auto r = std::make_unique<Reader>();
    r->fd = fd;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    r->fp = std::move(head);
    r->read_offset = r->buf_offset = offset;
    r->committed = committed;
    r->last_size = size;
    r->last_mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    SetPath(r.get(), path);
    if (!adopted && offset > 0) commit_dirty = true;
    self->settings_.logger->debug("reading \"{}\" from offset {}", path, offset);
    readers[next_id++] = std::move(r);
    Count(self->counters_.files_opened, m_opened);
  }

  void Close(uint64_t id, bool remember) {
    auto it = readers.find(id);
    Reader* r = it->second.get();
    if (remember) Remember(*r, r->read_offset, /*cross_inode=*/false);
    close(r->fd);
    std::vector<std::string> paths = std::move(r->old_paths);
    paths.push_back(r->path);
    readers.erase(it);
    for (const auto& path : paths) {
      bool shared = false;
      for (auto& [i, o] : readers) shared |= o->path == path;
      if (!shared && !chain->PendingStart(path)) chain->Forget(path);
    }
    commit_dirty = true;
  }

  // ---- reading --------------------------------------------------------------------
  // Trims whitespace as configured.
  void Trim(std::string* text) const {
    if (!cfg.preserve_trailing_whitespaces) {
      size_t n = text->size();
      while (n > 0 && IsSpace((*text)[n - 1])) --n;
      text->resize(n);
    }
    if (!cfg.preserve_leading_whitespaces) {
      size_t i = 0;
      while (i < text->size() && IsSpace((*text)[i])) ++i;
      if (i > 0) text->erase(0, i);
    }
  }

  void Emit(Reader* r, std::string&& text, uint64_t start, uint64_t end) {
    Trim(&text);
    if (passthrough) {
      *NewLine(r) = std::move(text);
      return;
    }
    operators::Entry e;
    if (dec.kind() == Decoder::Kind::kNop) {
      e.record.body = pdata::Value(pdata::Bytes{std::move(text)});
    } else {
      e.record.body = pdata::Value(std::move(text));
    }
    e.record.observed_time_ns = now_ns;
    e.resource = resource;
    e.offset_start = start;
    e.offset_end = end;
    e.record.attributes = r->attrs;
    e.file_path = r->path;
    out.clear();
    chain->Process(std::move(e), &out);
    for (auto& o : out) Push(std::move(o));
  }

  // The builder of the records of `res`.
  pdata::LogsBuilder& Builder(const pdata::ValueMap& res) {
    if (last_group >= groups.size() || groups[last_group].resource != res) {
      last_group = groups.size();
      for (size_t i = 0; i < groups.size(); ++i) {
        if (groups[i].resource == res) {
          last_group = i;
          break;
        }
      }
      if (last_group == groups.size()) {
        groups.push_back({res, std::make_unique<pdata::LogsBuilder>(res, "outrigger/filelog"), 0});
      }
    }
    Group& g = groups[last_group];
    if (g.builder->records() == 0) g.first = seq;
    ++seq;
    ++pending;
    return *g.builder;
  }

  // A new record without operators (resource, file attributes, observed time): its body,
  // to be filled.
  std::string* NewLine(Reader* r) {
    return Builder(resource).AddLine(now_ns, r->attrs, dec.kind() == Decoder::Kind::kNop);
  }

  void Push(operators::Entry&& e) { Builder(e.resource).Add(std::move(e.record)); }

  void Decode(std::string_view bytes, std::string* text) {
    size_t bad = dec.Decode(bytes, text);
    if (bad > 0) Count(self->counters_.decode_errors, m_decode_errors, bad);
  }

  bool Matches(const RE2& re, const std::string& s, re2::StringPiece* m) {
    return re.Match(s, 0, s.size(), RE2::UNANCHORED, m, 1);
  }

  void EmitAcc(Reader* r) {
    if (!r->acc_active) return;
    r->acc_active = false;
    Emit(r, std::move(r->acc), r->acc_start, r->acc_end);
    r->acc = std::string();
  }

  // One line (without its newline) at file offsets [start, end).
  void Line(Reader* r, std::string_view bytes, uint64_t start, uint64_t end) {
    if (!start_re && !end_re) {
      if (dec.unit() == 1) {
        // Trim before copying (the same as after: one-byte encodings decode ASCII
        // whitespace to itself and nothing else to it).
        if (!cfg.preserve_trailing_whitespaces) {
          while (!bytes.empty() && IsSpace(bytes.back())) bytes.remove_suffix(1);
        }
        if (!cfg.preserve_leading_whitespaces) {
          while (!bytes.empty() && IsSpace(bytes.front())) bytes.remove_prefix(1);
        }
        if (passthrough) {
          // The common case: the line is copied once, from the read buffer into its record.
          Decode(bytes, NewLine(r));
          return;
        }
      }
      std::string text;
      Decode(bytes, &text);
      Emit(r, std::move(text), start, end);
      return;
    }
    std::string line;
    Decode(bytes, &line);
    re2::StringPiece m;
    if (start_re) {
      if (Matches(*start_re, line, &m)) {
        EmitAcc(r);
        if (cfg.multiline.omit_pattern) line.erase(m.data() - line.data(), m.size());
        r->acc = std::move(line);
        r->acc_active = true;
        r->acc_start = start;
        r->acc_end = end;
      } else if (r->acc_active) {
        r->acc.push_back('\n');
        r->acc.append(line);
        r->acc_end = end;
      } else {
        r->acc = std::move(line);
        r->acc_active = true;
        r->acc_start = start;
        r->acc_end = end;
      }
    } else {
      bool is_end = Matches(*end_re, line, &m);
      if (is_end && cfg.multiline.omit_pattern) line.erase(m.data() - line.data(), m.size());
      if (r->acc_active) {
        r->acc.push_back('\n');
        r->acc.append(line);
        r->acc_end = end;
      } else {
        r->acc = std::move(line);
        r->acc_active = true;
        r->acc_start = start;
        r->acc_end = end;
      }
      if (is_end) EmitAcc(r);
    }
    if (r->acc_active && r->acc.size() >= cfg.max_log_size) {
      Count(self->counters_.lines_truncated, m_lines_truncated);
      EmitAcc(r);
    }
  }

  // Where to cut a piece of at most max_log_size bytes out of data[pos, ...).
  size_t Cut(const char* data, size_t pos, size_t limit) {
    size_t n = cfg.max_log_size;
    n -= n % dec.unit();
    if (n == 0) n = dec.unit();
    if (dec.kind() == Decoder::Kind::kUtf8) {
      // Not inside a UTF-8 sequence.
      size_t k = n;
      for (int i = 0; i < 3 && k > 1 && (static_cast<unsigned char>(data[pos + k]) & 0xC0) == 0x80; ++i) --k;
      if (pos + k < limit && (static_cast<unsigned char>(data[pos + k]) & 0xC0) != 0x80) n = k;
    }
    return n;
  }

  // Makes entries of the whole lines in r->buf.
  void Extract(Reader* r) {
    char* data = r->buf.data.get();
    const size_t len = r->buf.len;
    const size_t unit = dec.unit();
    size_t pos = 0;
    for (;;) {
      size_t nl = dec.FindNewline(data, r->scan_from, len);
      size_t line_end = nl == std::string_view::npos ? len - (len - pos) % unit : nl;
      // Overlong: cut into pieces of max_log_size.
      while (line_end - pos > cfg.max_log_size) {
        size_t n = Cut(data, pos, len);
        Line(r, std::string_view(data + pos, n), r->buf_offset + pos, r->buf_offset + pos + n);
        Count(self->counters_.lines_truncated, m_lines_truncated);
        pos += n;
      }
      if (nl == std::string_view::npos) {
        r->scan_from = line_end;
        break;
      }
      Line(r, std::string_view(data + pos, nl - pos), r->buf_offset + pos, r->buf_offset + nl + unit);
      pos = nl + unit;
      r->scan_from = pos;
    }
    if (pos > 0) {
      std::memmove(data, data + pos, len - pos);
      r->buf.len = len - pos;
      r->buf_offset += pos;
      r->scan_from -= pos;
    }
  }

  // The last partial line and the multiline record being built become entries.
  void FlushPartial(Reader* r) {
    if (r->buf.len > 0) {
      size_t n = r->buf.len;
      if (start_re || end_re) {
        Line(r, std::string_view(r->buf.data.get(), n), r->buf_offset, r->buf_offset + n);
      } else {
        Line(r, std::string_view(r->buf.data.get(), n), r->buf_offset, r->buf_offset + n);
      }
      r->buf_offset += n;
      r->buf.len = 0;
      r->scan_from = 0;
    }
    EmitAcc(r);
  }

  // Reads what `r` has (up to the per-pass budget). Returns true if bytes came.
  bool ReadSome(Reader* r) {
    bool got = false;
    size_t budget = kReadBudgetPerFile;
    while (budget > 0 && pending < static_cast<size_t>(cfg.max_batch_size)) {
      r->buf.Reserve(r->buf.len + kReadChunk);
      ssize_t n = pread(r->fd, r->buf.data.get() + r->buf.len, r->buf.cap - r->buf.len,
                        static_cast<off_t>(r->read_offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Count(self->counters_.read_errors, m_read_errors);
        Error(StrCat("cannot read \"", r->path, "\": ", std::strerror(errno)));
        if (!r->at_eof) {
          // Like an end of file: a file rotated away whose reads keep failing is closed
          // after its grace period (not held open forever).
          r->at_eof = true;
          r->eof_since = absl::Now();
        }
        break;
      }
      if (n == 0) {
        if (!r->at_eof) {
          r->at_eof = true;
          r->eof_since = absl::Now();
        }
        struct stat st;
        if (fstat(r->fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < r->read_offset) {
          Truncated(r, Head(r->path, r->fd, static_cast<uint64_t>(st.st_size)).value_or(std::string()));
          continue;
        }
        break;
      }
      got = true;
      r->at_eof = false;
      r->eof_since = absl::InfiniteFuture();
      size_t skip = r->read_offset == 0 && r->buf.len == 0 ? BomSize(r, static_cast<size_t>(n)) : 0;
      if (skip > 0) {
        std::memmove(r->buf.data.get(), r->buf.data.get() + skip, static_cast<size_t>(n) - skip);
        r->buf_offset += skip;
      }
      r->buf.len += static_cast<size_t>(n) - skip;
      r->read_offset += static_cast<uint64_t>(n);
      r->last_data = absl::Now();
      if (r->fp.size() < cfg.fingerprint_size && r->fp.size() < r->read_offset) {
        // The fingerprint grows with what we read, so that a truncation or a copy found
        // before the next scan is still recognised.
        std::optional<std::string> head =
            Head(r->path, r->fd, std::min<uint64_t>(r->read_offset, cfg.fingerprint_size));
        if (head && head->compare(0, r->fp.size(), r->fp) == 0) r->fp = std::move(*head);
      }
      budget -= std::min(budget, static_cast<size_t>(n));
      Extract(r);
    }
    if (r->at_eof && r->buf.len == 0 && r->buf.cap > 0) r->buf.Release();  // idle files hold no buffer
    return got;
  }

  // Bytes of a byte order mark at the start of a file, skipped.
  size_t BomSize(Reader* r, size_t n) const {
    const auto* p = reinterpret_cast<const unsigned char*>(r->buf.data.get());
    if (dec.kind() == Decoder::Kind::kUtf8 && n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) return 3;
    if (dec.kind() == Decoder::Kind::kUtf16Le && n >= 2 && p[0] == 0xFF && p[1] == 0xFE) return 2;
    if (dec.kind() == Decoder::Kind::kUtf16Be && n >= 2 && p[0] == 0xFE && p[1] == 0xFF) return 2;
    return 0;
  }

  // ---- sending and committing -------------------------------------------------------
  // Sends what was made; on refusal keeps what was not accepted. True if nothing is left.
  bool Send() {
    if (self->consumers_.logs == nullptr) {
      groups.clear();
      unsent.clear();
      pending = 0;
    }
    // Build, in order of each resource's first record (one ConsumeLogs per resource).
    std::vector<Group*> order;
    for (auto& g : groups) {
      if (g.builder->records() > 0) order.push_back(&g);
    }
    std::sort(order.begin(), order.end(), [](const Group* a, const Group* b) { return a->first < b->first; });
    for (Group* g : order) {
      size_t n = g->builder->records();
      unsent.emplace_back(g->builder->Build(), n);
    }
    if (groups.size() > 1) {  // resources set by operators: do not keep a builder for each forever
      std::erase_if(groups, [&](const Group& g) { return g.resource != resource; });
      last_group = 0;
    }
    if (unsent.empty()) {
      refused = false;
      Commit();
      return true;
    }
    while (!unsent.empty()) {
      auto& [logs, n] = unsent.front();
      // A clone (parts are shared, not copied): what is refused is kept to be offered again.
      absl::Status st = self->consumers_.logs->ConsumeLogs(logs.Clone());
      if (!st.ok() && !absl::IsUnavailable(st) && !absl::IsResourceExhausted(st)) {
        // A permanent error (component contract: only UNAVAILABLE and RESOURCE_EXHAUSTED
        // mean "try again later"): retrying would stop reading forever. Counted as
        // refused, and passed: the offsets move on.
        self->meter_.Refused(Signal::kLogs, n);
        self->counters_.send_refusals += 1;
        self->counters_.records_dropped += n;
        Error(StrCat("the pipeline permanently refused ", n, " log records (", st.ToString(),
                     "); they are dropped"));
        pending -= n;
        unsent.pop_front();
        continue;
      }
      if (!st.ok()) {
        self->meter_.Refused(Signal::kLogs, n);
        self->counters_.send_refusals += 1;
        Error(StrCat("the pipeline refused ", n, " log records (", st.ToString(), "); reading pauses and they are retried in ",
                     absl::FormatDuration(backoff)));
        refused = true;
        retry_at = absl::Now() + backoff;
        backoff = std::min(backoff * 2, cfg.retry_max_interval);
        return false;
      }
      self->meter_.Accepted(Signal::kLogs, n);
      self->counters_.records_sent += n;
      pending -= n;
      unsent.pop_front();
    }
    refused = false;
    backoff = cfg.retry_initial_interval;
    Commit();
    return true;
  }

  // Everything made into entries was accepted: offsets move up to what is still buffered
  // here or held by the chain.
  void Commit() {
    for (auto& [id, r] : readers) {
      uint64_t c = r->Unemitted();
      if (auto p = HeldStart(r.get())) c = std::min(c, *p);
      if (c != r->committed) {
        r->committed = c;
        commit_dirty = true;
      }
    }
    // Remembered contents (truncated, closed): what was made of them is accepted too.
    for (auto& k : known) {
      if (k.cp.offset >= k.resume) continue;
      uint64_t c = k.resume;
      if (auto p = chain->PendingStart(k.cp.path)) c = std::min(c, std::max(k.cp.offset, *p));
      if (c != k.cp.offset) {
        k.cp.offset = c;
        commit_dirty = true;
      }
    }
  }

  void Checkpoint(bool force) {
    if (self->checkpoint_path_.empty() || !commit_dirty) return;
    absl::Time now = absl::Now();
    if (!force && now < next_checkpoint) return;
    std::vector<FileCheckpoint> files;
    for (auto& [id, r] : readers) files.push_back({r->path, r->fp, r->dev, r->ino, r->committed});
    for (const auto& k : known) files.push_back(k.cp);
    absl::Status st = WriteCheckpoint(self->checkpoint_path_, files);
    if (!st.ok()) {
      // Backs off (doubling from checkpoint_interval) while the storage keeps failing.
      checkpoint_backoff = std::min(std::max(checkpoint_backoff * 2, cfg.checkpoint_interval),
                                    std::max(kCheckpointMaxBackoff, cfg.checkpoint_interval));
      next_checkpoint = now + checkpoint_backoff;
      Count(self->counters_.checkpoint_errors, m_checkpoint_errors);
      Error(StrCat("cannot write the checkpoint (next attempt in ", absl::FormatDuration(checkpoint_backoff),
                   "): ", st.ToString()));
      return;
    }
    checkpoint_backoff = absl::ZeroDuration();
    next_checkpoint = now + cfg.checkpoint_interval;
    commit_dirty = false;
    self->counters_.checkpoints_written += 1;
  }

  // ---- housekeeping ---------------------------------------------------------------
  // Partial lines after force_flush_period; rotated-out files finished; delete_after_read.
  void Housekeep() {
    absl::Time now = absl::Now();
    now_ns = ToNs(now);
    if (cfg.force_flush_period > absl::ZeroDuration()) {
      for (auto& [id, r] : readers) {
        if (r->at_eof && !r->IsIdle() && now - r->last_data >= cfg.force_flush_period) FlushPartial(r.get());
      }
      out.clear();
      chain->Flush(now_ns, static_cast<uint64_t>(absl::ToInt64Nanoseconds(cfg.force_flush_period)), &out);
      for (auto& o : out) Push(std::move(o));
    }
    if (pending > 0 && !Send()) return;
    std::vector<uint64_t> finished;
    for (auto& [id, r] : readers) {
      if (!r->at_eof) continue;
      if (!r->matched && now - r->eof_since >= kRotatedDrainGrace) {
        FlushPartial(r.get());
        finished.push_back(id);
      } else if (cfg.delete_after_read && r->matched && r->IsIdle() && r->committed == r->read_offset &&
                 !HeldStart(r.get())) {
        struct stat st;
        if (stat(r->path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == r->dev &&
            static_cast<uint64_t>(st.st_ino) == r->ino && static_cast<uint64_t>(st.st_size) == r->read_offset) {
          if (unlink(r->path.c_str()) == 0) {
            Count(self->counters_.files_deleted, m_deleted);
            finished.push_back(id);
          } else {
            Error(StrCat("delete_after_read: cannot delete \"", r->path, "\": ", std::strerror(errno)));
          }
        }
      }
    }
    if (!finished.empty()) {
      if (pending > 0 && !Send()) return;  // the partial lines go out before the files are forgotten
      for (uint64_t id : finished) {
        bool deleted = cfg.delete_after_read && readers[id]->matched;
        Close(id, !deleted);
      }
      m_open_files->Set(static_cast<double>(readers.size()));
    }
  }

  uint64_t now_ns = 0;
};

FilelogReceiver::FilelogReceiver(const CreateSettings& settings, const Config& cfg,
                                 std::unique_ptr<operators::Chain> chain)
    : settings_(settings), cfg_(cfg), meter_(settings.telemetry->ForReceiver(settings.id, "file")) {
  state_ = std::make_unique<State>(this, cfg_, std::move(chain));
  State& s = *state_;
  for (const auto& g : cfg_.include) s.include.emplace_back(g);
  for (const auto& g : cfg_.exclude) s.exclude.emplace_back(g);
  if (!cfg_.multiline.line_start_pattern.empty()) s.start_re = std::make_unique<RE2>(cfg_.multiline.line_start_pattern);
  if (!cfg_.multiline.line_end_pattern.empty()) s.end_re = std::make_unique<RE2>(cfg_.multiline.line_end_pattern);
  for (const auto& [k, v] : cfg_.resource) s.resource.emplace_back(k, pdata::Value(v));
  for (const auto& [k, v] : cfg_.attributes) s.config_attrs.emplace_back(k, pdata::Value(v));
  s.passthrough = cfg_.operators.ops.empty();
  if (!cfg_.storage.empty()) {
    std::string name = settings.id.String();
    std::replace(name.begin(), name.end(), '/', '_');
    checkpoint_path_ = StrCat(cfg_.storage, "/", name, ".checkpoint");
  }
  auto& reg = settings.telemetry->registry();
  prometheus::Labels labels{{"receiver", settings.id.String()}};
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(reg).Add(labels);
  };
  s.m_opened = counter("outrigger_filelog_files_opened_total", "Files the filelog receiver opened");
  s.m_rotated = counter("outrigger_filelog_files_rotated_total",
                        "Files rotated away (renamed, deleted, link swapped) or continued under another name");
  s.m_truncated = counter("outrigger_filelog_files_truncated_total", "Files found truncated (copytruncate)");
  s.m_deleted = counter("outrigger_filelog_files_deleted_total", "Files deleted after reading (delete_after_read)");
  s.m_lines_truncated = counter("outrigger_filelog_lines_truncated_total",
                                "Entries longer than max_log_size, split into several records");
  s.m_decode_errors = counter("outrigger_filelog_decode_errors_total",
                              "Invalid byte sequences replaced with U+FFFD");
  s.m_read_errors = counter("outrigger_filelog_read_errors_total", "Files that could not be opened or read");
  s.m_checkpoint_errors = counter("outrigger_filelog_checkpoint_errors_total", "Checkpoints that could not be written");
  s.m_open_files = &prometheus::BuildGauge()
                        .Name("outrigger_filelog_open_files")
                        .Help("Files the filelog receiver holds open")
                        .Register(reg)
                        .Add(labels);
}

FilelogReceiver::~FilelogReceiver() { (void)Shutdown(absl::Now()); }

absl::Status FilelogReceiver::Start(Host&) {
  if (started_) return absl::OkStatus();
  State& s = *state_;
  if (!checkpoint_path_.empty()) {
    if (mkdir(cfg_.storage.c_str(), 0750) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          StrCat("storage \"", cfg_.storage, "\": cannot create the directory: ", std::strerror(errno)));
    }
    if (access(cfg_.storage.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          StrCat("storage \"", cfg_.storage, "\" is not a writable directory: ", std::strerror(errno)));
    }
    auto cps = ReadCheckpoint(checkpoint_path_);
    if (cps.ok()) {
      s.had_checkpoint = true;
      for (auto& cp : *cps) {
        const uint64_t offset = cp.offset;
        s.known.push_back({std::move(cp), offset, absl::Now() + kKnownTtl, /*cross_inode=*/true});
      }
      settings_.logger->info("resuming {} files from the checkpoint \"{}\"", s.known.size(), checkpoint_path_);
    } else if (absl::IsDataLoss(cps.status())) {
      // Never skip: every file is read from its beginning (duplicates rather than loss).
      s.had_checkpoint = true;
      settings_.logger->error("{}; reading every file from its beginning", cps.status().ToString());
    } else if (!absl::IsNotFound(cps.status())) {
      return cps.status();
    }
  }
  s.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (s.inotify_fd < 0) {
    settings_.logger->warn("inotify is not available ({}); polling every {}", std::strerror(errno),
                           absl::FormatDuration(cfg_.poll_interval));
  }
  s.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.wake_fd < 0) return absl::InternalError(StrCat("eventfd: ", std::strerror(errno)));
  started_ = true;
  thread_ = std::thread([this] { Run(); });
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
  for (auto& [id, r] : s.readers) close(r->fd);
  s.readers.clear();
  if (s.inotify_fd >= 0) close(s.inotify_fd);
  if (s.wake_fd >= 0) close(s.wake_fd);
  s.inotify_fd = s.wake_fd = -1;
  return absl::OkStatus();
}

void FilelogReceiver::Run() {
  State& s = *state_;
  absl::Time next_scan = absl::InfinitePast();
  bool look = true;  // read every file now
  while (!s.stop) {
    counters_.wakeups += 1;
    absl::Time now = absl::Now();
    s.now_ns = ToNs(now);
    if (s.refused) {
      if (now >= s.retry_at && s.Send()) {
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
      // Read bursts: round-robin over the files until none has more (or the pipeline refuses).
      bool progress = look;
      while (progress && !s.stop && !s.refused) {
        progress = false;
        for (auto& [id, r] : s.readers) {
          s.now_ns = ToNs(absl::Now());
          if (s.ReadSome(r.get())) progress = true;
          if (s.pending >= static_cast<size_t>(cfg_.max_batch_size) && !s.Send()) break;
        }
      }
      look = false;
      if (!s.refused) s.Send();
      if (!s.refused) s.Housekeep();
    }
    if (s.want_scan && !s.refused) {
      s.want_scan = false;
      next_scan = absl::Now();
    }
    s.Checkpoint(/*force=*/false);
    // Sleep until an inotify event, the next scan, a partial line's flush or a retry.
    // While a batch is refused, only the retry (and the checkpoint) is waited for: nothing
    // else runs meanwhile, so other times would be in the past and make it spin.
    absl::Time wake = s.refused ? s.retry_at : next_scan;
    if (s.commit_dirty && !checkpoint_path_.empty()) wake = std::min(wake, s.next_checkpoint);
    if (!s.refused) {
      // A time from before this pass was looked at by it (housekeeping, the scan) and is
      // still pending for a reason of its own: looked at again a poll_interval later, not
      // in a loop.
      const absl::Time stale = absl::Now() + cfg_.poll_interval;
      auto at = [&](absl::Time t) { wake = std::min(wake, t < now ? stale : t); };
      for (auto& [id, r] : s.readers) {
        if (!r->IsIdle() && cfg_.force_flush_period > absl::ZeroDuration()) {
          at(r->last_data + cfg_.force_flush_period);
        }
        if (!r->matched && r->at_eof) at(r->eof_since + kRotatedDrainGrace);
      }
      for (const auto& [key, since] : s.deferred) at(since + kCopyWait);
    }
    int timeout_ms = static_cast<int>(std::clamp<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(wake - absl::Now(), absl::Milliseconds(1))), 0, 60000));
    pollfd fds[2] = {{s.wake_fd, POLLIN, 0}, {s.inotify_fd, POLLIN, 0}};
    int nfds = s.inotify_fd >= 0 ? 2 : 1;
    if (timeout_ms > 0 && poll(fds, nfds, timeout_ms) > 0 && (fds[1].revents & POLLIN)) {
      bool names_changed = false;
      if (s.DrainInotify(&names_changed) && !s.refused) {
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
  // Shutdown: send what is made (retrying until the deadline), then the chain's held
  // entries, commit and checkpoint. Partial lines stay unsent and uncommitted: they are
  // read again (whole) after a restart.
  s.now_ns = ToNs(absl::Now());
  s.out.clear();
  s.chain->Flush(s.now_ns, 0, &s.out);
  for (auto& o : s.out) s.Push(std::move(o));
  while (!s.Send()) {
    absl::Time t = std::min(s.retry_at, s.deadline);
    if (absl::Now() >= s.deadline) {
      settings_.logger->warn("shutting down with {} log records not accepted by the pipeline; they are not "
                             "committed and will be read again after a restart",
                             s.pending);
      break;
    }
    absl::SleepFor(t - absl::Now());
  }
  s.Checkpoint(/*force=*/true);
}

}  // namespace outrigger::receivers::filelog
