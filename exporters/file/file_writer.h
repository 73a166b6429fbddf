#pragma once
// The file exporter's file: a buffered append-only writer that can cut off a record that
// failed half way, and rotate the file as lumberjack (upstream's rotation library) does:
// before a write would take the file past max_bytes, the file is renamed to
// <stem>-<UTC or local timestamp 2006-01-02T15-04-05.000><ext> beside it and a new one is
// started; rotated files beyond max_backups (newest kept) or older than max_days are
// removed. Not thread-safe: the exporter holds its own mutex around every call.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace outrigger::exporters::file {

class FileWriter {
 public:
  struct Options {
    std::string path;
    bool truncate = false;   // at Open: start empty
    uint64_t max_bytes = 0;  // rotation: 0 = never
    int64_t max_days = 0;
    int64_t max_backups = 0;
    bool localtime = false;
  };
  // Written through to the file once this much is buffered.
  static constexpr size_t kBufferBytes = 64 * 1024;

  explicit FileWriter(Options opts) : opts_(std::move(opts)) {}
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Opens (creates) the file; FailedPrecondition naming it if it cannot.
  absl::Status Open();
  bool is_open() const { return fd_ >= 0; }
  bool rotates() const { return opts_.max_bytes > 0; }
  // Where the next byte goes: what is on disk plus what is buffered.
  uint64_t size() const { return disk_size_ + buf_.size(); }

  // With rotation: rotates first if `n` more bytes would take a non-empty file past
  // max_bytes. A record longer than max_bytes on its own is refused (InvalidArgument), as
  // lumberjack refuses it.
  absl::Status Reserve(uint64_t n);
  // Appends bytes (writing the buffer through once it is full). Unavailable on a write
  // error; the caller then Cut()s back to where its record started.
  absl::Status Append(std::string_view bytes);
  // Writes what is buffered to the file.
  absl::Status Flush();
  // Removes everything from `offset` on (a record that failed half way).
  absl::Status Cut(uint64_t offset);
  // Flushes (best effort) and closes; idempotent.
  void Close();

  // The name a rotation at `t` gives the file (without the collision suffix).
  static std::string BackupName(const std::string& path, absl::Time t, bool localtime);
  // Removes rotated files beyond max_backups or older than max_days (as of `now`).
  void Prune(absl::Time now);

 private:
  absl::Status Rotate();
  absl::Status WriteOut(std::string_view bytes);

  const Options opts_;
  int fd_ = -1;
  uint64_t disk_size_ = 0;
  std::string buf_;
  absl::Time last_backup_ = absl::InfinitePast();
};

}  // namespace outrigger::exporters::file
