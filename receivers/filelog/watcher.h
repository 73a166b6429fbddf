#pragma once
// Discovery for the filelog receiver: which files the include globs match now (excluded
// ones left out), and inotify watches on every directory where a match can appear or
// change, so that files are looked for again on inotify's events instead of every
// poll_interval. What inotify cannot report (a directory it cannot watch, one on a
// network file system, more than kMaxWatches) is polled: covered() is false then.
//
// Used only by the receiver's reading thread.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "receivers/filelog/config.h"
#include "receivers/filelog/glob.h"
#include "receivers/filelog/stats.h"

namespace outrigger::receivers::filelog {

class Watcher {
 public:
  static constexpr size_t kMaxWatches = 4096;
  // With everything covered, files are looked for again only on events, plus a safety
  // rescan: it catches what inotify cannot report (a directory created between our
  // listing and its watch being added) at the cost of a few stat calls. Every
  // max(kQuietRescanFactor * poll_interval, kQuietRescanMin): 2 s with the default
  // poll_interval, 1/10 of the wakeups.
  static constexpr int kQuietRescanFactor = 10;
  static constexpr absl::Duration kQuietRescanMin = absl::Seconds(2);

  Watcher(const Config& cfg, Stats& stats);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Opens the inotify instance; without one (false) everything is polled.
  bool Open();
  void Close();
  // The inotify descriptor to poll for events (-1 without inotify).
  int fd() const { return inotify_fd_; }

  // Starts a scan: the paths the include globs match now, excluded ones left out, sorted,
  // each once. Every directory they depend on is watched; covered() says whether inotify
  // reports every change this scan (and the Watch() calls until the next) depended on.
  std::vector<std::string> Expand();
  // Watches `dir`; false if it is not (then it is covered by polling).
  bool Watch(const std::string& dir);
  // Watches the directory of a file (a link's target may be elsewhere).
  void WatchParent(const std::string& path);
  bool covered() const { return covered_; }

  // When to scan next after one now: on events only (and the slow safety rescan) while
  // they report every change the scan depends on and `quiet_ok` (the caller has nothing
  // that needs polling), else every poll_interval.
  absl::Duration ScanInterval(bool quiet_ok) const;

  // Drains inotify's events; true if any arrived. Sets *names_changed if a name may have
  // appeared, gone or moved (or events were lost): then a scan is due.
  bool Drain(bool* names_changed);

  bool Excluded(const std::string& path) const;
  size_t watched() const { return watches_.size(); }  // directories with a watch (or -1: unwatchable)

 private:
  bool NotCovered() {
    covered_ = false;
    return false;
  }

  const Config& cfg_;
  Stats& stats_;
  std::vector<Glob> include_, exclude_;
  int inotify_fd_ = -1;
  std::map<std::string, int> watches_;  // directory -> watch descriptor (-1: cannot be watched)
  std::set<std::string> remote_dirs_;   // watched, but on a network file system
  bool watch_limit_logged_ = false;
  bool covered_ = false;
};

}  // namespace outrigger::receivers::filelog
