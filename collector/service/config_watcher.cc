#include "collector/service/config_watcher.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "absl/time/clock.h"

#include "collector/common/strings.h"
#include "spdlog/spdlog.h"

namespace outrigger {
namespace {

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

namespace asio = boost::asio;

struct ConfigWatcher::State : std::enable_shared_from_this<State> {
  State(asio::io_context& io, int fd) : io(io), inotify(io, fd), timer(io) {}
  asio::io_context& io;
  std::vector<std::string> files;
  absl::Duration debounce;
  std::function<void()> on_change;
  asio::posix::stream_descriptor inotify;  // non-blocking
  asio::steady_timer timer;                // the debounce
  bool stopped = false;                    // event loop only, as everything below but mu's
  bool pending = false;                    // events seen, waiting for quiet
  absl::Time first;                        // of the pending events: a directory never quiet is read anyway
  std::string last;                        // what on_change was last called for
  std::mutex mu;
  std::string loaded;  // guarded by mu
  // By watch (directory): the names whose events matter. Events of other files there (an
  // editor's swap file, logs written beside the config) are read and ignored.
  std::map<int, std::set<std::string, std::less<>>> names;
  std::atomic<uint64_t> reads{0};  // times the files were read again

  void WatchDirectories();      // (re)adds the directories of the files and their targets
  std::string ReadAll() const;  // the files' bytes, in order ("" for one unreadable)

  // Reads the inotify events there are; true if one of them matters (what changed is
  // read later).
  bool Drain() {
    alignas(inotify_event) char buf[8192];
    bool any = false;
    ssize_t n;
    while ((n = read(inotify.native_handle(), buf, sizeof(buf))) > 0) {
      for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        any = any || Matters(*ev);
      }
    }
    return any;
  }
  bool Matters(const inotify_event& ev) const {
    // The directory itself went (or moved), or events were lost: read the files again.
    if (ev.len == 0 || (ev.mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) return true;
    auto it = names.find(ev.wd);
    return it == names.end() || it->second.count(std::string_view(ev.name)) > 0;
  }
  void Wait() {
    inotify.async_wait(asio::posix::stream_descriptor::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                         if (ec || self->stopped) return;
                         if (self->Drain()) self->Events();
                         self->Wait();
                       });
  }
  void Events() {
    if (!pending) first = absl::Now();
    pending = true;
    // Quiet for `debounce`, or busy for 10 times that.
    const absl::Duration left = std::min(debounce, first + 10 * debounce - absl::Now());
    timer.expires_after(absl::ToChronoNanoseconds(std::max(left, absl::ZeroDuration())));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->stopped) self->Quiet();
    });
  }
  void Quiet() {
    pending = false;
    WatchDirectories();  // a symlink may point into another directory now
    reads.fetch_add(1, std::memory_order_relaxed);
    std::string now = ReadAll();
    if (Drain() && absl::Now() - first < 10 * debounce) {
      Events();  // written while we read: wait for quiet again
      return;
    }
    bool changed;
    {
      std::lock_guard<std::mutex> l(mu);
      changed = now != loaded && now != last;
    }
    if (changed) {
      last = std::move(now);
      spdlog::info("config file changed: {}", files.size() == 1 ? files[0] : StrCat(files.size(), " files"));
      on_change();
    }
  }
  void Stop() {
    stopped = true;
    boost::system::error_code ec;
    inotify.close(ec);
    timer.cancel();
  }
};

absl::StatusOr<std::unique_ptr<ConfigWatcher>> ConfigWatcher::Start(asio::io_context& io,
                                                                    std::vector<std::string> files,
                                                                    absl::Duration debounce,
                                                                    std::function<void()> on_change) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return absl::InternalError(StrCat("inotify_init1: ", std::strerror(errno)));
  std::unique_ptr<ConfigWatcher> w(new ConfigWatcher());
  auto s = std::make_shared<State>(io, fd);
  s->files = std::move(files);
  s->debounce = debounce;
  s->on_change = std::move(on_change);
  s->WatchDirectories();
  s->loaded = s->last = s->ReadAll();
  // The first wait is set on the loop, as every later use of the state.
  asio::post(io, [s] {
    if (!s->stopped) s->Wait();
  });
  w->state_ = std::move(s);
  return w;
}

ConfigWatcher::~ConfigWatcher() {
  if (!state_) return;
  if (state_->io.get_executor().running_in_this_thread() || state_->io.stopped()) {
    state_->Stop();
    return;
  }
  std::promise<void> done;
  asio::post(state_->io, [s = state_, &done] {
    s->Stop();
    done.set_value();
  });
  done.get_future().wait();
}

void ConfigWatcher::State::WatchDirectories() {
  // Adding a directory again is harmless (inotify returns the same watch).
  // IN_MODIFY too: a file written in place (truncated, then written) is read only once
  // the writes have stopped.
  constexpr uint32_t kMask = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                             IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
  // What matters in each directory: a file's own name; the first step of a relative
  // symlink's target (Kubernetes' `..data`, which its ConfigMap update renames over);
  // and the name of what the symlinks resolve to, in its own directory.
  std::map<std::string, std::set<std::string, std::less<>>> dirs;
  for (const auto& f : files) {
    auto& here = dirs[DirOf(f)];
    here.insert(BaseOf(f));
    char target[PATH_MAX];
    const ssize_t n = readlink(f.c_str(), target, sizeof(target));
    if (n > 0 && n < static_cast<ssize_t>(sizeof(target)) && target[0] != '/') {
      const std::string_view t(target, static_cast<size_t>(n));
      here.insert(std::string(t.substr(0, t.find('/'))));
    }
    char resolved[PATH_MAX];
    if (realpath(f.c_str(), resolved) != nullptr) dirs[DirOf(resolved)].insert(BaseOf(resolved));
  }
  names.clear();
  for (const auto& [d, matter] : dirs) {
    const int wd = inotify_add_watch(inotify.native_handle(), d.c_str(), kMask);
    if (wd < 0) {
      spdlog::warn("cannot watch {} for config changes: {}", d, std::strerror(errno));
      continue;
    }
    names[wd].insert(matter.begin(), matter.end());  // two paths may name one directory
  }
}

namespace {

std::string Joined(const std::vector<std::string>& contents) {
  std::string all;
  for (const auto& s : contents) StrAppend(&all, s.size(), ":", s);
  return all;
}

}  // namespace

std::string ConfigWatcher::State::ReadAll() const {
  std::vector<std::string> contents;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    if (in) ss << in.rdbuf();
    contents.push_back(ss.str());
  }
  return Joined(contents);
}

uint64_t ConfigWatcher::reads() const { return state_->reads.load(std::memory_order_relaxed); }

void ConfigWatcher::Loaded(const std::vector<std::string>& contents) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->loaded = Joined(contents);
}

}  // namespace outrigger
