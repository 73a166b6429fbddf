#pragma once
// Watches the configuration files and says when their content changed, so the service
// can reload without a SIGHUP. It watches each file's directory (and the directory of
// what a symlink points at) with inotify, because files are rarely written in place:
// editors write a new file and rename it over the old one, and Kubernetes updates a
// ConfigMap volume by swapping a symlink (`config.yaml -> ..data/config.yaml`,
// `..data -> ..2026_12_07_...`, the new `..data` renamed over the old one). An event of
// one of the files, of a symlink on their way or of a watched directory itself makes it
// read the files again (through the symlinks) once they have been quiet for `debounce`;
// events of other files in those directories are ignored. Only bytes that differ from
// what was last loaded (`Loaded`) call `on_change`, once per new content. A burst of
// events (the ConfigMap swap is several) is one call; a file edited and then SIGHUPed is
// loaded once.
// It runs on the event loop (the inotify descriptor and a debounce timer), not on a
// thread of its own.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace boost::asio {
class io_context;
}

namespace outrigger {

inline constexpr absl::Duration kConfigWatchDebounce = absl::Milliseconds(200);

class ConfigWatcher {
 public:
  // Starts watching on `io`'s event loop. `on_change` is called there.
  static absl::StatusOr<std::unique_ptr<ConfigWatcher>> Start(boost::asio::io_context& io,
                                                              std::vector<std::string> files, absl::Duration debounce,
                                                              std::function<void()> on_change);
  ~ConfigWatcher();  // stops watching (waits for the event loop, which must still run)
  // The content of the files (in order) a reload just read, valid or not.
  void Loaded(const std::vector<std::string>& contents);
  // How many times events made it read the files again.
  uint64_t reads() const;
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  struct State;  // on the event loop, kept by its pending handlers

 private:
  ConfigWatcher() = default;
  std::shared_ptr<State> state_;
};

}  // namespace outrigger
