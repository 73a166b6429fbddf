#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::file {

inline constexpr char kDefaultFormat[] = "json";
// Ours (upstream has none): one request's encoding at most. The OTLP/JSON line is streamed
// to the file (memory does not grow with it); the bound keeps one request from filling the
// disk, and anything reading the file line by line from having to hold more.
inline constexpr uint64_t kDefaultMaxLineSize = 64ull << 20;  // 64 MiB
// Upstream's rotation defaults (lumberjack's), used once `rotation` is given.
inline constexpr int64_t kDefaultMaxMegabytes = 100;
inline constexpr int64_t kDefaultMaxBackups = 100;
// Ours: 0 writes (and flushes) each request before the call returns; upstream's default
// is 1s of buffering.
inline constexpr absl::Duration kDefaultFlushInterval = absl::ZeroDuration();
// Ours: append (upstream's default, false, truncates the file at start: a restart would
// lose the archive).
inline constexpr bool kDefaultAppend = true;

// `rotation`: lumberjack's semantics, as upstream. Given at all, it is on.
struct Rotation {
  bool enabled = false;
  // The file is rotated before a write would take it past this many MiB (1 MiB = 2^20
  // bytes, as lumberjack counts).
  int64_t max_megabytes = kDefaultMaxMegabytes;
  // Rotated files older than this many days (24 h) by their name's timestamp are
  // removed; 0: kept whatever their age.
  int64_t max_days = 0;
  // At most this many rotated files are kept (the newest); 0: all.
  int64_t max_backups = kDefaultMaxBackups;
  // The timestamp in rotated files' names in local time instead of UTC.
  bool localtime = false;
};

struct Config : ComponentConfig {
  Config();

  // Required: the file written.
  std::string path;
  // "json": one OTLP/JSON request per line; "proto": each request as OTLP protobuf,
  // preceded by its length (4 bytes, big-endian), as upstream writes it.
  std::string format = kDefaultFormat;
  // "" (none) or "zstd": each request compressed as one zstd frame, preceded by the
  // frame's length (4 bytes, big-endian), whatever the format (upstream's layout).
  std::string compression;
  // 0: each request is written and flushed before the call returns. Otherwise writes are
  // buffered (64 KiB) and flushed at least this often.
  absl::Duration flush_interval = kDefaultFlushInterval;
  // Append to an existing file; false truncates it when the exporter starts.
  bool append = kDefaultAppend;
  Rotation rotation;
  // Create the file's directory (and its parents) at start, with directory_permissions
  // (an octal string, minus the umask; "0755" when not given). directory_permissions
  // without create_directory is an error, as upstream.
  bool create_directory = false;
  std::string directory_permissions;
  // A request whose encoding would be longer is refused (a permanent error: dropped and
  // counted by the exporter) and nothing of it stays in the file. 0: no limit.
  uint64_t max_line_size = kDefaultMaxLineSize;
  // sending_queue, retry_on_failure, timeout. The queue is off by default: each request
  // is written synchronously.
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // directory_permissions as a mode (0755 when empty); only after Validate.
  unsigned DirectoryMode() const;
};

}  // namespace outrigger::exporters::file
