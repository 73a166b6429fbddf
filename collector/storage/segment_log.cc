#include "collector/storage/segment_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "collector/common/strings.h"

namespace outrigger::storage {

namespace {

constexpr char kSegmentHeader[kSegmentHeaderSize + 1] = "ORSEG001";
constexpr uint32_t kRecordMagic = 0x5d1ec3a7;
constexpr uint32_t kCursorMagic = 0x43525352;  // "RSRC"
constexpr size_t kCursorSlot = 32;

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

uint32_t RecordCrc(const uint8_t* len4, const void* payload, size_t n) {
  uLong c = crc32_z(0L, len4, 4);
  return static_cast<uint32_t>(crc32_z(c, static_cast<const Bytef*>(payload), n));
}

// Reads exactly n bytes at off; false on a short read or an error.
bool PreadFull(int fd, void* buf, size_t n, uint64_t off) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return true;
}

// Writes every byte of the iovecs at off; the errno of the failure, or 0.
int PwritevFull(int fd, struct iovec* iov, int cnt, uint64_t off) {
  while (cnt > 0) {
    ssize_t w = pwritev(fd, iov, cnt, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return ENOSPC;
    off += static_cast<uint64_t>(w);
    auto left = static_cast<size_t>(w);
    while (cnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --cnt;
    }
    if (cnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

bool IsSegmentName(const char* name, uint64_t* id) {
  size_t n = std::strlen(name);
  if (n != 24 || std::strcmp(name + 20, ".seg") != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *id = v;
  return true;
}

absl::Status WriteError(const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return absl::ResourceExhaustedError(StrCat(what, ": the disk is full (", std::strerror(err), ")"));
  }
  return absl::UnavailableError(StrCat(what, ": ", std::strerror(err)));
}

void FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

}  // namespace

bool ByteBudget::TryReserve(int64_t n) {
  int64_t cur = used_.load();
  while (true) {
    if (cur + n > limit_) return false;
    if (used_.compare_exchange_weak(cur, cur + n)) return true;
  }
}

SegmentLog::SegmentLog(LogOptions opts) : opts_(std::move(opts)) {}

SegmentLog::~SegmentLog() {
  {
    std::lock_guard<std::mutex> wl(write_mu_);
    if (write_fd_ >= 0) {
      if (opts_.fsync || opts_.fsync_interval > absl::ZeroDuration()) (void)fdatasync(write_fd_);
      close(write_fd_);
      write_fd_ = -1;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, s] : segments_) {
    if (s.read_fd >= 0) close(s.read_fd);
  }
  if (cursor_fd_ >= 0) close(cursor_fd_);
}

std::string SegmentLog::SegmentPath(uint64_t id) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(id));
  return StrCat(opts_.directory, "/", name);
}

absl::StatusOr<std::unique_ptr<SegmentLog>> SegmentLog::Open(LogOptions opts,
                                                             const std::function<void(std::string_view)>& visit) {
  if (opts.segment_size < kMinSegmentSize) opts.segment_size = kMinSegmentSize;
  std::unique_ptr<SegmentLog> log(new SegmentLog(std::move(opts)));
  if (absl::Status st = log->Recover(visit); !st.ok()) return st;
  return log;
}

absl::Status SegmentLog::Recover(const std::function<void(std::string_view)>& visit) {
  const std::string& dir = opts_.directory;
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(StrCat("cannot create the directory ", dir, ": ", std::strerror(errno)));
  }
  cursor_fd_ = open(StrCat(dir, "/cursor").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (cursor_fd_ < 0) {
    return absl::FailedPreconditionError(StrCat("cannot open ", dir, "/cursor: ", std::strerror(errno)));
  }
  std::lock_guard<std::mutex> wl(write_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  // The acknowledged position: the valid slot with the higher sequence number.
  Position acked;
  uint8_t slots[2 * kCursorSlot] = {};
  ssize_t got = pread(cursor_fd_, slots, sizeof(slots), 0);
  for (size_t i = 0; got > 0 && i < 2; ++i) {
    const uint8_t* s = slots + i * kCursorSlot;
    if (static_cast<size_t>(got) < (i + 1) * kCursorSlot) break;
    if (Get32(s + 28) != kCursorMagic || Get32(s + 24) != static_cast<uint32_t>(crc32_z(0L, s, 24))) continue;
    uint64_t seq = Get64(s);
    if (seq >= cursor_seq_) {
      cursor_seq_ = seq;
      acked = {Get64(s + 8), Get64(s + 16)};
    }
  }

  std::vector<uint64_t> ids;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::FailedPreconditionError(StrCat("cannot list ", dir, ": ", std::strerror(errno)));
  while (dirent* e = readdir(d)) {
    uint64_t id;
    if (IsSegmentName(e->d_name, &id)) ids.push_back(id);
  }
  closedir(d);
  std::sort(ids.begin(), ids.end());

  int64_t on_disk = 0;
  bool first = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint64_t id = ids[i];
    const std::string path = SegmentPath(id);
    if (id < acked.segment) {  // wholly acknowledged; its deletion did not happen before a crash
      unlink(path.c_str());
      continue;
    }
    const bool last = i + 1 == ids.size();
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      if (fd >= 0) close(fd);
      return absl::FailedPreconditionError(StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    int64_t size = st.st_size;
    char header[kSegmentHeaderSize];
    bool header_ok = size >= static_cast<int64_t>(kSegmentHeaderSize) && PreadFull(fd, header, kSegmentHeaderSize, 0) &&
                     std::memcmp(header, kSegmentHeader, kSegmentHeaderSize) == 0;
    if (!header_ok) {
      // A segment created just before a crash (no header yet), or one damaged beyond use:
      // nothing in it can be trusted. It is counted and deleted.
      close(fd);
      if (size > 0) ++counters_.corrupt_records;
      unlink(path.c_str());
      continue;
    }
    uint64_t off = kSegmentHeaderSize;
    if (id == acked.segment && acked.offset > off) off = acked.offset;
    if (first) {
      read_pos_ = {id, off};
      first = false;
    }
    std::string payload;
    while (off < static_cast<uint64_t>(size)) {
      uint64_t next;
      if (ReadRecord(fd, off, size, &payload, &next)) {
        if (visit) visit(payload);
        ++unread_;
        off = next;
        continue;
      }
      uint64_t r = Resync(fd, off + 1, size);
      if (r >= static_cast<uint64_t>(size) && last) {
        // A torn end: the record being appended when the process died. Cut it off so
        // that appends go on after the last whole record.
        if (truncate(path.c_str(), static_cast<off_t>(off)) == 0) {
          ++counters_.torn_tails;
          size = static_cast<int64_t>(off);
        }
        break;
      }
      off = r;  // damaged in the middle: the reader skips it (and counts it) later
    }
    on_disk += size;
    segments_[id] = Segment{size, fd};
  }
  if (opts_.budget) opts_.budget->ForceReserve(on_disk);

  if (segments_.empty()) {
    uint64_t id = std::max<uint64_t>(acked.segment, ids.empty() ? 0 : ids.back()) + 1;
    mu_.unlock();  // StartSegment publishes under mu_
    absl::Status st = StartSegment(id);
    mu_.lock();
    if (!st.ok()) return st;
    read_pos_ = {id, kSegmentHeaderSize};
  } else {
    auto& [id, seg] = *segments_.rbegin();
    write_fd_ = open(SegmentPath(id).c_str(), O_WRONLY | O_CLOEXEC);
    if (write_fd_ < 0) {
      return absl::FailedPreconditionError(StrCat("cannot write ", SegmentPath(id), ": ", std::strerror(errno)));
    }
    write_id_ = id;
    write_end_ = seg.size;
  }
  WriteCursor(read_pos_);
  return absl::OkStatus();
}

absl::Status SegmentLog::StartSegment(uint64_t id) {
  const std::string path = SegmentPath(id);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return WriteError(StrCat("cannot create ", path), errno);
  struct iovec iov {
    const_cast<char*>(kSegmentHeader), kSegmentHeaderSize
  };
  if (int err = PwritevFull(fd, &iov, 1, 0); err != 0) {
    close(fd);
    unlink(path.c_str());
    return WriteError(StrCat("cannot write ", path), err);
  }
  if (opts_.fsync) {
    (void)fdatasync(fd);
    FsyncDir(opts_.directory);
  }
  if (write_fd_ >= 0) {
    if (opts_.fsync_interval > absl::ZeroDuration()) (void)fdatasync(write_fd_);
    close(write_fd_);
  }
  write_fd_ = fd;
  write_id_ = id;
  write_end_ = kSegmentHeaderSize;
  if (opts_.budget) opts_.budget->ForceReserve(kSegmentHeaderSize);
  std::lock_guard<std::mutex> lock(mu_);
  segments_[id] = Segment{static_cast<int64_t>(kSegmentHeaderSize), -1};
  return absl::OkStatus();
}

absl::Status SegmentLog::Append(std::string_view payload) {
  if (payload.size() > kMaxRecordSize) {
    return absl::InvalidArgumentError(
        StrCat("a record of ", payload.size(), " bytes is larger than the storage takes"));
  }
  const auto n = static_cast<int64_t>(kRecordOverhead + payload.size());
  std::lock_guard<std::mutex> wl(write_mu_);
  if (opts_.budget && !opts_.budget->TryReserve(n)) {
    return absl::ResourceExhaustedError(StrCat("storage is full: its max_size of ", opts_.budget->limit(),
                                               " bytes is used up (", opts_.budget->used(), " bytes)"));
  }
  auto fail = [&](absl::Status st) {
    if (opts_.budget) opts_.budget->Release(n);
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.write_errors;
    return st;
  };
  if (write_end_ > static_cast<int64_t>(kSegmentHeaderSize) && write_end_ + n > opts_.segment_size) {
    if (absl::Status st = StartSegment(write_id_ + 1); !st.ok()) return fail(st);
  }
  uint8_t header[kRecordOverhead];
  Put32(header, kRecordMagic);
  Put32(header + 4, static_cast<uint32_t>(payload.size()));
  Put32(header + 8, RecordCrc(header + 4, payload.data(), payload.size()));
  struct iovec iov[2] = {{header, kRecordOverhead}, {const_cast<char*>(payload.data()), payload.size()}};
  int err = PwritevFull(write_fd_, iov, 2, static_cast<uint64_t>(write_end_));
  if (err == 0) {
    const absl::Time now = absl::Now();
    if (opts_.fsync || (opts_.fsync_interval > absl::ZeroDuration() && now - last_sync_ >= opts_.fsync_interval)) {
      if (fdatasync(write_fd_) != 0) err = errno;
      last_sync_ = now;
    }
  }
  if (err != 0) {
    // Nothing of it may stay: a partial record would be read as damage.
    (void)ftruncate(write_fd_, static_cast<off_t>(write_end_));
    return fail(WriteError(StrCat("cannot append to ", SegmentPath(write_id_)), err));
  }
  write_end_ += n;
  std::lock_guard<std::mutex> lock(mu_);
  segments_[write_id_].size = write_end_;
  ++unread_;
  return absl::OkStatus();
}

bool SegmentLog::ReadRecord(int fd, uint64_t off, int64_t size, std::string* payload, uint64_t* next) const {
  const auto end = static_cast<uint64_t>(size);
  if (off + kRecordOverhead > end) return false;
  uint8_t h[kRecordOverhead];
  if (!PreadFull(fd, h, kRecordOverhead, off)) return false;
  const uint32_t len = Get32(h + 4);
  if (Get32(h) != kRecordMagic || len > kMaxRecordSize || off + kRecordOverhead + len > end) return false;
  payload->resize(len);
  if (len > 0 && !PreadFull(fd, payload->data(), len, off + kRecordOverhead)) return false;
  if (RecordCrc(h + 4, payload->data(), len) != Get32(h + 8)) return false;
  *next = off + kRecordOverhead + len;
  return true;
}

uint64_t SegmentLog::Resync(int fd, uint64_t from, int64_t size) const {
  const auto end = static_cast<uint64_t>(size);
  uint8_t magic[4];
  Put32(magic, kRecordMagic);
  std::vector<uint8_t> buf(64 * 1024);
  std::string scratch;
  uint64_t base = from;
  while (base + kRecordOverhead <= end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - base));
    if (!PreadFull(fd, buf.data(), n, base)) return end;
    for (size_t i = 0; i + 4 <= n; ++i) {
      if (std::memcmp(buf.data() + i, magic, 4) != 0) continue;
      uint64_t next;
      if (ReadRecord(fd, base + i, size, &scratch, &next)) return base + i;
    }
    if (n < 4) break;
    base += n - 3;  // a magic split across two chunks is found in the next one
  }
  return end;
}

int SegmentLog::ReadFd(uint64_t id) {
  Segment& s = segments_[id];
  if (s.read_fd < 0) s.read_fd = open(SegmentPath(id).c_str(), O_RDONLY | O_CLOEXEC);
  return s.read_fd;
}

bool SegmentLog::Next(std::string* payload, Position* pos) {
  std::lock_guard<std::mutex> lock(mu_);
  while (true) {
    auto it = segments_.lower_bound(read_pos_.segment);
    if (it == segments_.end()) break;
    if (it->first != read_pos_.segment) read_pos_ = {it->first, kSegmentHeaderSize};
    if (read_pos_.offset >= static_cast<uint64_t>(it->second.size)) {
      if (std::next(it) == segments_.end()) break;
      read_pos_ = {std::next(it)->first, kSegmentHeaderSize};
      continue;
    }
    const int64_t size = it->second.size;
    int fd = ReadFd(it->first);
    uint64_t next;
    if (fd >= 0 && ReadRecord(fd, read_pos_.offset, size, payload, &next)) {
      *pos = read_pos_;
      outstanding_.emplace(read_pos_, false);
      read_pos_.offset = next;
      if (unread_ > 0) --unread_;
      return true;
    }
    ++counters_.corrupt_records;
    read_pos_.offset = fd >= 0 ? Resync(fd, read_pos_.offset + 1, size) : static_cast<uint64_t>(size);
  }
  unread_ = 0;
  return false;
}

void SegmentLog::Ack(Position pos) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = outstanding_.find(pos);
  if (it == outstanding_.end()) return;
  it->second = true;
  while (!outstanding_.empty() && outstanding_.begin()->second) outstanding_.erase(outstanding_.begin());
  const Position w = outstanding_.empty() ? read_pos_ : outstanding_.begin()->first;
  if (w > acked_) {
    WriteCursor(w);
    DeleteBefore(w.segment);
  }
}

void SegmentLog::WriteCursor(Position p) {
  uint8_t s[kCursorSlot] = {};
  ++cursor_seq_;
  Put64(s, cursor_seq_);
  Put64(s + 8, p.segment);
  Put64(s + 16, p.offset);
  Put32(s + 24, static_cast<uint32_t>(crc32_z(0L, s, 24)));
  Put32(s + 28, kCursorMagic);
  // A failed write leaves the older position: records are delivered again, not lost.
  (void)pwrite(cursor_fd_, s, kCursorSlot, static_cast<off_t>((cursor_seq_ % 2) * kCursorSlot));
  acked_ = p;
}

void SegmentLog::DeleteBefore(uint64_t id) {
  while (!segments_.empty() && segments_.begin()->first < id) {
    auto it = segments_.begin();
    if (it->second.read_fd >= 0) close(it->second.read_fd);
    unlink(SegmentPath(it->first).c_str());
    if (opts_.budget) opts_.budget->Release(it->second.size);
    segments_.erase(it);
  }
}

LogStats SegmentLog::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  LogStats s = counters_;
  s.unread = unread_;
  s.unacked = outstanding_.size();
  s.segments = segments_.size();
  for (const auto& [id, seg] : segments_) s.bytes += seg.size;
  return s;
}

}  // namespace outrigger::storage
