#pragma once
// SegmentLog: a persistent FIFO of records on disk, the store behind the persistent
// sending queue (`sending_queue.storage`). Not a B-tree: records are appended to segment
// files, read in order, acknowledged when handled, and a segment is deleted whole once
// every record in it is acknowledged. Nothing is ever rewritten, so nothing needs
// compaction, and a crash can only leave a torn record at the very end.
//
// On disk, in its own directory:
//   <20-digit id>.seg   an 8-byte header ("ORSEG001"), then records:
//                       magic u32 | length u32 | crc32(length, payload) u32 | payload
//                       (little-endian; 12 bytes of framing per record)
//   cursor              the acknowledged position (everything before it was handled), in
//                       two checksummed slots written alternately: a torn write of one
//                       leaves the other.
//
// Crash safety: an append is a single pwritev into the page cache, so a killed process
// (kill -9, OOM) loses nothing that Append answered OK for. With `fsync` each append is
// also fdatasync'd before Append returns (a power loss loses nothing either). The cursor
// is never fsync'd: after a power loss it may be older, which re-delivers (at least once),
// never skips.
//
// Damage is never fatal: Open checks every record not yet acknowledged; a torn record at
// the end of the last segment is cut off; a record whose checksum or framing is wrong is
// skipped (the reader looks for the next valid record in the segment) and counted in
// Stats().corrupt_records. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace outrigger::storage {

inline constexpr int64_t kDefaultSegmentSize = 8 << 20;
inline constexpr int64_t kMinSegmentSize = 4096;
// Bytes of framing per record (magic, length, checksum).
inline constexpr size_t kRecordOverhead = 12;
// Bytes at the start of every segment file.
inline constexpr size_t kSegmentHeaderSize = 8;
// Largest record (what a length field can say, with room to spare).
inline constexpr size_t kMaxRecordSize = size_t{1} << 30;

// Where a record starts: segment id and byte offset in it. Ordered like the log.
struct Position {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const Position&) const = default;
};

// A bound in bytes shared by several logs (every store of one file_storage extension):
// segment files count from their creation until they are deleted.
class ByteBudget {
 public:
  explicit ByteBudget(int64_t limit) : limit_(limit) {}
  // Takes n bytes if they fit under the limit.
  bool TryReserve(int64_t n);
  // Takes n bytes whether they fit or not (what is already on disk at Open).
  void ForceReserve(int64_t n) { used_.fetch_add(n); }
  void Release(int64_t n) { used_.fetch_sub(n); }
  int64_t used() const { return used_.load(); }
  int64_t limit() const { return limit_; }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

struct LogOptions {
  std::string directory;  // created (mode 0750) if missing
  int64_t segment_size = kDefaultSegmentSize;
  // fdatasync every append before it returns: survives a power loss, costs a disk flush
  // per append.
  bool fsync = false;
  // Without `fsync`: fdatasync at most once per interval, on an append (0: never; a
  // killed process loses nothing anyway, this only bounds what a power loss takes).
  absl::Duration fsync_interval = absl::ZeroDuration();
  std::shared_ptr<ByteBudget> budget;  // null: no bound
};

struct LogStats {
  uint64_t unread = 0;           // records appended and not yet read
  uint64_t unacked = 0;          // records read and not yet acknowledged
  int64_t bytes = 0;             // size of the segment files
  uint64_t segments = 0;         // segment files
  uint64_t corrupt_records = 0;  // damaged records skipped (Open and reads)
  uint64_t torn_tails = 0;       // torn ends cut off at Open
  uint64_t write_errors = 0;     // appends refused for I/O (disk full, ...)
};

class SegmentLog {
 public:
  // Opens the log in `opts.directory` (creating it) and recovers it: deletes the
  // segments before the acknowledged position, checks every record after it, cuts a torn
  // tail off the last segment. `visit`, if given, sees every record recovered, in order
  // (the exporter counts their items). Fails only if the directory cannot be used.
  static absl::StatusOr<std::unique_ptr<SegmentLog>> Open(LogOptions opts,
                                                          const std::function<void(std::string_view)>& visit = {});
  ~SegmentLog();
  SegmentLog(const SegmentLog&) = delete;
  SegmentLog& operator=(const SegmentLog&) = delete;

  // Appends one record; OK once it is in the file (and flushed, with `fsync`).
  // RESOURCE_EXHAUSTED when the budget is used up or the disk is full, UNAVAILABLE for
  // another I/O error; either way nothing of it stays in the log.
  absl::Status Append(std::string_view payload);

  // The oldest record not yet read; false when every record was read. Damaged records
  // are skipped and counted.
  bool Next(std::string* payload, Position* pos);

  // The record read at `pos` was handled (sent, or dropped for good): the acknowledged
  // position moves past every record before the oldest unacknowledged one, and the
  // segments wholly before it are deleted. A record read and never acknowledged is read
  // again after a restart.
  void Ack(Position pos);

  LogStats Stats() const;
  const std::string& directory() const { return opts_.directory; }

 private:
  explicit SegmentLog(LogOptions opts);
  struct Segment {
    int64_t size = 0;  // bytes written and published
    int read_fd = -1;
  };
  absl::Status Recover(const std::function<void(std::string_view)>& visit);
  // Creates segment `id` (header written) and makes it the one appended to.
  absl::Status StartSegment(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Reads the record at `off` of segment `id` whose file has `size` bytes; false if it is
  // not a valid record. On success `*next` is the offset after it.
  bool ReadRecord(int fd, uint64_t off, int64_t size, std::string* payload, uint64_t* next) const;
  // The offset of the next valid record after `from` in the segment, or `size`.
  uint64_t Resync(int fd, uint64_t from, int64_t size) const;
  int ReadFd(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteCursor(Position p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeleteBefore(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SegmentPath(uint64_t id) const;

  LogOptions opts_;
  int cursor_fd_ = -1;

  // Appends: one at a time; they publish what they wrote under mu_.
  std::mutex write_mu_;
  int write_fd_ ABSL_GUARDED_BY(write_mu_) = -1;
  uint64_t write_id_ ABSL_GUARDED_BY(write_mu_) = 0;
  int64_t write_end_ ABSL_GUARDED_BY(write_mu_) = 0;
  absl::Time last_sync_ ABSL_GUARDED_BY(write_mu_) = absl::Now();

  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_ ABSL_GUARDED_BY(mu_);
  Position read_pos_ ABSL_GUARDED_BY(mu_);
  // Read and not yet acknowledged, in log order; true once acknowledged.
  std::map<Position, bool> outstanding_ ABSL_GUARDED_BY(mu_);
  Position acked_ ABSL_GUARDED_BY(mu_);  // as written to the cursor
  uint64_t cursor_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unread_ ABSL_GUARDED_BY(mu_) = 0;
  LogStats counters_ ABSL_GUARDED_BY(mu_);  // corrupt_records, torn_tails, write_errors
};

}  // namespace outrigger::storage
