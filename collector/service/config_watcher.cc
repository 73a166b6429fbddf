#include "collector/service/config_watcher.h"

#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "collector/common/strings.h"
#include "spdlog/spdlog.h"

namespace outrigger {
namespace {

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConfigWatcher>> ConfigWatcher::Start(std::vector<std::string> files,
                                                                    absl::Duration debounce,
                                                                    std::function<void()> on_change) {
  std::unique_ptr<ConfigWatcher> w(new ConfigWatcher());
  w->files_ = std::move(files);
  w->debounce_ = debounce;
  w->on_change_ = std::move(on_change);
  w->inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->inotify_fd_ < 0) return absl::InternalError(StrCat("inotify_init1: ", std::strerror(errno)));
  w->stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->stop_fd_ < 0) return absl::InternalError(StrCat("eventfd: ", std::strerror(errno)));
  w->WatchDirectories();
  w->loaded_ = w->last_ = w->ReadAll();
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

ConfigWatcher::~ConfigWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void ConfigWatcher::WatchDirectories() {
  // Adding a directory again is harmless (inotify returns the same watch).
  // IN_MODIFY too: a file written in place (truncated, then written) is read only once
  // the writes have stopped.
  constexpr uint32_t kMask = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                             IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
  std::set<std::string> dirs;
  for (const auto& f : files_) {
    dirs.insert(DirOf(f));
    char resolved[PATH_MAX];
    if (realpath(f.c_str(), resolved) != nullptr) dirs.insert(DirOf(resolved));
  }
  for (const auto& d : dirs) {
    if (inotify_add_watch(inotify_fd_, d.c_str(), kMask) < 0) {
      spdlog::warn("cannot watch {} for config changes: {}", d, std::strerror(errno));
    }
  }
}

std::string ConfigWatcher::Joined(const std::vector<std::string>& contents) {
  std::string all;
  for (const auto& s : contents) StrAppend(&all, s.size(), ":", s);
  return all;
}

std::string ConfigWatcher::ReadAll() const {
  std::vector<std::string> contents;
  for (const auto& f : files_) {
    std::ifstream in(f);
    std::stringstream ss;
    if (in) ss << in.rdbuf();
    contents.push_back(ss.str());
  }
  return Joined(contents);
}

void ConfigWatcher::Loaded(const std::vector<std::string>& contents) {
  std::lock_guard<std::mutex> l(mu_);
  loaded_ = Joined(contents);
}

void ConfigWatcher::Run() {
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  bool pending = false;  // events seen, waiting for quiet
  absl::Time first;      // of the pending events: a directory never quiet is read anyway
  alignas(inotify_event) char buf[8192];
  while (true) {
    int timeout = -1;
    if (pending) {
      absl::Duration left = std::min(debounce_, first + 10 * debounce_ - absl::Now());
      timeout = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(left)));
    }
    int n = poll(fds, 2, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("config watcher: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (n > 0 && fds[0].revents != 0) {
      if (!pending) first = absl::Now();
      while (read(inotify_fd_, buf, sizeof(buf)) > 0) pending = true;  // what changed is read below
      if (absl::Now() - first < 10 * debounce_) continue;
    }
    if (pending) {  // quiet for `debounce` (or busy for 10 times that)
      pending = false;
      WatchDirectories();  // a symlink may point into another directory now
      std::string now = ReadAll();
      pollfd again = {inotify_fd_, POLLIN, 0};
      if (poll(&again, 1, 0) > 0 && absl::Now() - first < 10 * debounce_) {
        pending = true;  // written while we read: wait for quiet again
        continue;
      }
      bool changed;
      {
        std::lock_guard<std::mutex> l(mu_);
        changed = now != loaded_ && now != last_;
      }
      if (changed) {
        last_ = std::move(now);
        spdlog::info("config file changed: {}", files_.size() == 1 ? files_[0] : StrCat(files_.size(), " files"));
        on_change_();
      }
    }
  }
}

}  // namespace outrigger
