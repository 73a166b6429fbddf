#pragma once
// Checkpoints of the filelog receiver: for each file, where reading resumes, with what
// identifies the file (its first bytes and its device/inode). Written atomically (a
// temporary file, fsync, rename, fsync of the directory), so a crash leaves the old or
// the new checkpoint, never a torn one.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace outrigger::receivers::filelog {

struct FileCheckpoint {
  std::string path;         // as matched (for people reading the file; not used to match)
  std::string fingerprint;  // the file's first bytes (up to fingerprint_size)
  uint64_t dev = 0, ino = 0;
  uint64_t offset = 0;  // everything before it reached the pipeline
  bool operator==(const FileCheckpoint&) const = default;
};

// Writes `files` to `path` atomically.
absl::Status WriteCheckpoint(const std::string& path, const std::vector<FileCheckpoint>& files);
// Reads a checkpoint; NotFound if there is none, DataLoss if it is damaged.
absl::StatusOr<std::vector<FileCheckpoint>> ReadCheckpoint(const std::string& path);

}  // namespace outrigger::receivers::filelog
