#include "receivers/filelog/watcher.h"

#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace outrigger::receivers::filelog {
namespace {

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

}  // namespace

Watcher::Watcher(const Config& cfg, Stats& stats) : cfg_(cfg), stats_(stats) {
  for (const auto& g : cfg_.include) include_.emplace_back(g);
  for (const auto& g : cfg_.exclude) exclude_.emplace_back(g);
}

Watcher::~Watcher() { Close(); }

bool Watcher::Open() {
  if (inotify_fd_ >= 0) return true;
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    stats_.log().warn("inotify is not available ({}); polling every {}", std::strerror(errno),
                      absl::FormatDuration(cfg_.poll_interval));
    return false;
  }
  return true;
}

void Watcher::Close() {
  if (inotify_fd_ >= 0) close(inotify_fd_);
  inotify_fd_ = -1;
  watches_.clear();
  remote_dirs_.clear();
}

bool Watcher::Excluded(const std::string& p) const {
  for (const auto& g : exclude_) {
    if (g.Match(p)) return true;
  }
  return false;
}

std::vector<std::string> Watcher::Expand() {
  covered_ = inotify_fd_ >= 0;
  std::vector<std::string> paths;
  for (const auto& g : include_) g.Expand(&paths, [&](const std::string& d) { Watch(d); });
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::erase_if(paths, [&](const std::string& p) { return Excluded(p); });
  return paths;
}

bool Watcher::Watch(const std::string& dir) {
  if (inotify_fd_ < 0) return NotCovered();
  if (auto it = watches_.find(dir); it != watches_.end()) {
    return (it->second >= 0 && remote_dirs_.count(dir) == 0) || NotCovered();
  }
  if (watches_.size() >= kMaxWatches) {
    if (!watch_limit_logged_) {
      stats_.log().warn("more than {} directories to watch; the others are polled every {}", kMaxWatches,
                        absl::FormatDuration(cfg_.poll_interval));
      watch_limit_logged_ = true;
    }
    return NotCovered();
  }
  int wd = inotify_add_watch(inotify_fd_, dir.c_str(),
                             IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
                                 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
  if (wd < 0) {
    // Gone meanwhile (or not a directory): not remembered, the next scan sees what is there.
    if (errno == ENOENT || errno == ENOTDIR) return NotCovered();
    if (!watch_limit_logged_) {
      stats_.log().warn("cannot watch \"{}\" with inotify ({}); polling every {}", dir, std::strerror(errno),
                        absl::FormatDuration(cfg_.poll_interval));
      watch_limit_logged_ = true;
    }
    watches_[dir] = -1;
    return NotCovered();
  }
  watches_[dir] = wd;
  if (RemoteFileSystem(dir)) {
    // Watched (local changes come at once), but changes made by other hosts are not
    // reported: polled too.
    stats_.log().debug("\"{}\" is on a network file system; polling it every {}", dir,
                       absl::FormatDuration(cfg_.poll_interval));
    remote_dirs_.insert(dir);
    return NotCovered();
  }
  return true;
}

void Watcher::WatchParent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) Watch(path.substr(0, slash));
}

absl::Duration Watcher::ScanInterval(bool quiet_ok) const {
  return covered_ && quiet_ok ? std::max(cfg_.poll_interval * kQuietRescanFactor, kQuietRescanMin) : cfg_.poll_interval;
}

bool Watcher::Drain(bool* names_changed) {
  if (inotify_fd_ < 0) return false;
  alignas(inotify_event) char buf[16384];
  bool any = false;
  for (;;) {
    ssize_t n = read(inotify_fd_, buf, sizeof(buf));
    if (n <= 0) break;
    any = true;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
                      IN_IGNORED | IN_Q_OVERFLOW)) {
        *names_changed = true;
      }
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        for (auto it = watches_.begin(); it != watches_.end(); ++it) {
          if (it->second == ev->wd) {
            if (!(ev->mask & IN_IGNORED)) inotify_rm_watch(inotify_fd_, ev->wd);
            watches_.erase(it);
            break;
          }
        }
      }
      p += sizeof(inotify_event) + ev->len;
    }
  }
  return any;
}

}  // namespace outrigger::receivers::filelog
