#include "extensions/file_storage/config.h"

#include "collector/common/strings.h"

namespace outrigger::extensions::file_storage {

void Config::Decode(config::Node& node) {
  node.Read("directory", &directory);
  node.Read("create_directory", &create_directory);
  node.Read("directory_permissions", &directory_permissions);
  node.Read("timeout", &timeout);
  node.Read("fsync", &fsync);
  node.Read("fsync_interval", &fsync_interval);
  node.ReadBytes("max_size", &max_size);
  node.ReadBytes("segment_size", &segment_size);
  // Upstream's compaction and recreate exist for its bbolt file. Segments are deleted
  // whole once acknowledged (nothing to compact) and a damaged record is skipped (nothing
  // to recreate): the keys are accepted so an upstream config works unchanged.
  auto& c = node.Child("compaction");
  bool on_start = false, on_rebound = false;
  c.Read("on_start", &on_start);
  c.Read("on_rebound", &on_rebound);
  for (const char* key : {"directory", "max_transaction_size", "rebound_needed_threshold_mib",
                          "rebound_trigger_threshold_mib", "check_interval", "cleanup_on_start"}) {
    c.Accept(key);
  }
  compaction_requested = on_start || on_rebound;
  bool recreate = false;
  node.Read("recreate", &recreate);
}

unsigned Config::Mode() const {
  unsigned mode = 0;
  for (char ch : directory_permissions) mode = mode * 8 + static_cast<unsigned>(ch - '0');
  return mode;
}

absl::Status Config::Validate() const {
  if (directory.empty()) return absl::InvalidArgumentError("directory must not be empty");
  if (directory_permissions.empty() || directory_permissions.size() > 4) {
    return absl::InvalidArgumentError(
        StrCat("directory_permissions \"", directory_permissions, "\" must be an octal mode such as 0750"));
  }
  for (char ch : directory_permissions) {
    if (ch < '0' || ch > '7') {
      return absl::InvalidArgumentError(
          StrCat("directory_permissions \"", directory_permissions, "\" must be an octal mode such as 0750"));
    }
  }
  if (Mode() > 0777) return absl::InvalidArgumentError("directory_permissions must be at most 0777");
  if (timeout < absl::ZeroDuration()) return absl::InvalidArgumentError("timeout must not be negative");
  if (fsync_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("fsync_interval must not be negative (0 turns it off)");
  }
  if (segment_size < static_cast<uint64_t>(storage::kMinSegmentSize)) {
    return absl::InvalidArgumentError(StrCat("segment_size must be at least ", storage::kMinSegmentSize, " bytes"));
  }
  if (max_size < segment_size) {
    return absl::InvalidArgumentError(
        StrCat("max_size (", max_size, " bytes) must be at least segment_size (", segment_size, " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace outrigger::extensions::file_storage
