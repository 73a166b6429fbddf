#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/component/factory.h"
#include "receivers/filelog/operators/operators.h"

namespace outrigger::receivers::filelog {

inline constexpr absl::Duration kDefaultPollInterval = absl::Milliseconds(200);
inline constexpr uint64_t kDefaultFingerprintSize = 1000;  // "1kb", as upstream
inline constexpr uint64_t kMinFingerprintSize = 16;
inline constexpr uint64_t kDefaultMaxLogSize = 1024 * 1024;  // 1MiB
inline constexpr int kDefaultMaxConcurrentFiles = 1024;
inline constexpr int kDefaultMaxBatchSize = 1000;
// Ours (upstream has no byte bound): pieces of an overlong line are max_log_size each, so
// 1000 records could hold a gigabyte. 4 MiB keeps a batch near what an OTLP/gRPC peer
// accepts by default (4 MiB) and a reading round short.
inline constexpr uint64_t kDefaultMaxBatchSizeBytes = 4ull << 20;
inline constexpr absl::Duration kDefaultForceFlushPeriod = absl::Milliseconds(500);
inline constexpr absl::Duration kDefaultRetryInitialInterval = absl::Milliseconds(100);
inline constexpr absl::Duration kDefaultRetryMaxInterval = absl::Seconds(5);
inline constexpr absl::Duration kDefaultCheckpointInterval = absl::Seconds(1);
inline constexpr absl::Duration kMinCheckpointInterval = absl::Milliseconds(100);

struct MultilineConfig {
  std::string line_start_pattern;  // a record starts at a line matching it (RE2, partial match)
  std::string line_end_pattern;    // a record ends with a line matching it
  bool omit_pattern = false;       // line_end_pattern only: drop the matched text? (not supported: error)
  bool empty() const { return line_start_pattern.empty() && line_end_pattern.empty(); }
};

struct Config : ComponentConfig {
  std::vector<std::string> include;  // globs with *, ?, [..] and ** (any number of directories)
  std::vector<std::string> exclude;  // applied to the paths `include` matched
  std::string start_at = "end";      // beginning | end: for files present at the first scan without checkpoint
  absl::Duration poll_interval = kDefaultPollInterval;
  uint64_t fingerprint_size = kDefaultFingerprintSize;
  uint64_t max_log_size = kDefaultMaxLogSize;
  int max_concurrent_files = kDefaultMaxConcurrentFiles;
  int max_batch_size = kDefaultMaxBatchSize;  // ours: log records per ConsumeLogs call
  // Ours: a batch is sent once its records' bodies reach this many bytes (so it holds at
  // most this plus one record of max_log_size).
  uint64_t max_batch_size_bytes = kDefaultMaxBatchSizeBytes;
  std::string encoding = "utf-8";  // utf-8 | utf-16le | utf-16be | latin-1 (iso-8859-1) | nop | ascii
  bool include_file_name = true;
  bool include_file_path = false;
  bool include_file_name_resolved = false;
  bool include_file_path_resolved = false;
  bool preserve_leading_whitespaces = false;
  bool preserve_trailing_whitespaces = false;
  MultilineConfig multiline;
  absl::Duration force_flush_period = kDefaultForceFlushPeriod;
  bool delete_after_read = false;
  std::map<std::string, std::string> attributes;  // added to every record
  std::map<std::string, std::string> resource;    // resource attributes of every record
  std::string storage;                            // a storage extension id (upstream), or ours: an absolute directory
  absl::Duration checkpoint_interval = kDefaultCheckpointInterval;       // ours
  absl::Duration retry_initial_interval = kDefaultRetryInitialInterval;  // retry_on_failure.initial_interval
  absl::Duration retry_max_interval = kDefaultRetryMaxInterval;          // retry_on_failure.max_interval
  operators::ChainConfig operators;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::receivers::filelog
