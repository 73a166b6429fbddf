#pragma once

#include <string>

#include "absl/time/time.h"
#include "collector/component/factory.h"
#include "collector/storage/segment_log.h"

namespace outrigger::extensions::file_storage {

inline constexpr char kDefaultDirectory[] = "/var/lib/otelcol/file_storage";
inline constexpr char kDefaultDirectoryPermissions[] = "0750";
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(1);
inline constexpr uint64_t kDefaultMaxSize = uint64_t{1} << 30;  // 1 GiB
inline constexpr uint64_t kDefaultSegmentSize = storage::kDefaultSegmentSize;

// The OpenTelemetry Collector contrib's file_storage options, on our own store (segment
// files, not a bbolt database; see collector/storage/segment_log.h).
struct Config : ComponentConfig {
  // The directory every store of this extension lives in (one subdirectory each).
  std::string directory = kDefaultDirectory;
  // Create `directory` (and its parents) at start if missing, with directory_permissions.
  bool create_directory = false;
  std::string directory_permissions = kDefaultDirectoryPermissions;  // octal
  // How long start waits for the directory's lock (another process using it).
  absl::Duration timeout = kDefaultTimeout;
  // fdatasync every record before the append returns (survives a power loss).
  bool fsync = false;
  // Ours: without fsync, fdatasync at most this often, on an append (0: never).
  absl::Duration fsync_interval = absl::ZeroDuration();
  // Ours: the bound of all stores of this extension together, in bytes on disk.
  uint64_t max_size = kDefaultMaxSize;
  // Ours: the size at which a segment file is closed and the next one started.
  uint64_t segment_size = kDefaultSegmentSize;
  // Upstream's `compaction.on_start` / `on_rebound` were asked for (they are not needed:
  // acknowledged segments are deleted whole); the extension says so at start.
  bool compaction_requested = false;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // directory_permissions as a mode (Validate checked it).
  unsigned Mode() const;
};

}  // namespace outrigger::extensions::file_storage
