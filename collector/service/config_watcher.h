#pragma once
// Watches the configuration files and says when their content changed, so the service
// can reload without a SIGHUP. It watches each file's directory (and the directory of
// what a symlink points at) with inotify, because files are rarely written in place:
// editors write a new file and rename it over the old one, and Kubernetes updates a
// ConfigMap volume by swapping a symlink (`config.yaml -> ..data/config.yaml`,
// `..data -> ..2026_12_07_...`, the new `..data` renamed over the old one). Any event in
// those directories makes it read the files again (through the symlinks) once they have
// been quiet for `debounce`; only bytes that differ from what was last loaded (`Loaded`)
// call `on_change`, once per new content. A burst of events (the ConfigMap swap is
// several) is one call; a file edited and then SIGHUPed is loaded once.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace outrigger {

inline constexpr absl::Duration kConfigWatchDebounce = absl::Milliseconds(200);

class ConfigWatcher {
 public:
  // Starts the watching thread. `on_change` is called from it.
  static absl::StatusOr<std::unique_ptr<ConfigWatcher>> Start(std::vector<std::string> files, absl::Duration debounce,
                                                              std::function<void()> on_change);
  ~ConfigWatcher();  // stops and joins the thread
  // The content of the files (in order) a reload just read, valid or not.
  void Loaded(const std::vector<std::string>& contents);
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

 private:
  ConfigWatcher() = default;
  void Run();
  void WatchDirectories();      // (re)adds the directories of the files and their targets
  std::string ReadAll() const;  // the files' bytes, in order ("" for one unreadable)
  static std::string Joined(const std::vector<std::string>& contents);

  std::vector<std::string> files_;
  absl::Duration debounce_;
  std::function<void()> on_change_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: written to stop
  std::mutex mu_;
  std::string loaded_;  // guarded by mu_
  std::string last_;    // what on_change was last called for
  std::thread thread_;
};

}  // namespace outrigger
