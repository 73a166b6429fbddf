#include "exporters/file/file_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "collector/common/strings.h"

namespace outrigger::exporters::file {
namespace {

// lumberjack's backupTimeFormat "2006-01-02T15-04-05.000".
constexpr char kTimeFormat[] = "%Y-%m-%dT%H-%M-%E3S";

struct NameParts {
  std::string dir, stem, ext;
};

NameParts Split(const std::string& path) {
  NameParts p;
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  p.dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  // Go's filepath.Ext: from the last dot of the last element.
  size_t dot = base.rfind('.');
  if (dot == std::string::npos) {
    p.stem = base;
  } else {
    p.stem = base.substr(0, dot);
    p.ext = base.substr(dot);
  }
  return p;
}

std::string Join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

}  // namespace

FileWriter::~FileWriter() { Close(); }

absl::Status FileWriter::Open() {
  if (fd_ >= 0) return absl::OkStatus();
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (opts_.truncate ? O_TRUNC : 0);
  fd_ = ::open(opts_.path.c_str(), flags, 0644);
  if (fd_ < 0) {
    return absl::FailedPreconditionError(StrCat("cannot open \"", opts_.path, "\" for ",
                                                opts_.truncate ? "writing" : "appending", ": ", std::strerror(errno)));
  }
  struct stat st;
  disk_size_ = fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  if (opts_.max_bytes > 0) Prune(absl::Now());
  return absl::OkStatus();
}

absl::Status FileWriter::WriteOut(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          StrCat("cannot write to \"", opts_.path, "\": ", n < 0 ? std::strerror(errno) : "nothing written"));
    }
    disk_size_ += static_cast<uint64_t>(n);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FileWriter::Flush() {
  if (fd_ < 0) return absl::FailedPreconditionError("file exporter is not started");
  if (buf_.empty()) return absl::OkStatus();
  uint64_t before = disk_size_;
  absl::Status st = WriteOut(buf_);
  // What reached the disk leaves the buffer; the rest stays for the next attempt.
  buf_.erase(0, static_cast<size_t>(disk_size_ - before));
  return st;
}

absl::Status FileWriter::Append(std::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError("file exporter is not started");
  if (buf_.empty() && bytes.size() >= kBufferBytes) return WriteOut(bytes);
  buf_.append(bytes);
  if (buf_.size() >= kBufferBytes) return Flush();
  return absl::OkStatus();
}

absl::Status FileWriter::Cut(uint64_t offset) {
  if (offset >= disk_size_) {
    buf_.resize(static_cast<size_t>(std::min<uint64_t>(buf_.size(), offset - disk_size_)));
    return absl::OkStatus();
  }
  buf_.clear();
  if (ftruncate(fd_, static_cast<off_t>(offset)) != 0) {
    return absl::UnavailableError(
        StrCat("cannot cut the partial record off \"", opts_.path, "\": ", std::strerror(errno)));
  }
  disk_size_ = offset;
  return absl::OkStatus();
}

absl::Status FileWriter::Reserve(uint64_t n) {
  if (opts_.max_bytes == 0) return absl::OkStatus();
  if (n > opts_.max_bytes) {
    return absl::InvalidArgumentError(StrCat("a request of ", n, " bytes exceeds rotation.max_megabytes (",
                                             opts_.max_bytes, " bytes) of \"", opts_.path, "\""));
  }
  if (size() > 0 && size() + n > opts_.max_bytes) return Rotate();
  return absl::OkStatus();
}

std::string FileWriter::BackupName(const std::string& path, absl::Time t, bool localtime) {
  NameParts p = Split(path);
  std::string ts = absl::FormatTime(kTimeFormat, t, localtime ? absl::LocalTimeZone() : absl::UTCTimeZone());
  return Join(p.dir, StrCat(p.stem, "-", ts, p.ext));
}

absl::Status FileWriter::Rotate() {
  if (absl::Status st = Flush(); !st.ok()) return st;
  // Later rotations get later names even within one millisecond, so the newest by name
  // is the newest by content when pruning.
  absl::Time t = std::max(absl::Now(), last_backup_ + absl::Milliseconds(1));
  std::string backup = BackupName(opts_.path, t, opts_.localtime);
  // A name already taken (by another run) is not replaced (lumberjack would replace it).
  for (int i = 0; i < 1000 && ::access(backup.c_str(), F_OK) == 0; ++i) {
    t += absl::Milliseconds(1);
    backup = BackupName(opts_.path, t, opts_.localtime);
  }
  last_backup_ = t;
  if (::rename(opts_.path.c_str(), backup.c_str()) != 0) {
    return absl::UnavailableError(
        StrCat("cannot rotate \"", opts_.path, "\" to \"", backup, "\": ", std::strerror(errno)));
  }
  ::close(fd_);
  fd_ = ::open(opts_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
  disk_size_ = 0;
  if (fd_ < 0) {
    return absl::UnavailableError(StrCat("cannot open \"", opts_.path, "\" after rotating it: ", std::strerror(errno)));
  }
  Prune(absl::Now());
  return absl::OkStatus();
}

void FileWriter::Prune(absl::Time now) {
  if (opts_.max_backups <= 0 && opts_.max_days <= 0) return;
  NameParts p = Split(opts_.path);
  const std::string prefix = p.stem + "-";
  absl::TimeZone tz = opts_.localtime ? absl::LocalTimeZone() : absl::UTCTimeZone();
  std::vector<std::pair<absl::Time, std::string>> backups;
  DIR* d = ::opendir(p.dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() <= prefix.size() + p.ext.size() || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - p.ext.size()) != p.ext) {
      continue;
    }
    std::string ts(name.substr(prefix.size(), name.size() - prefix.size() - p.ext.size()));
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(kTimeFormat, ts, tz, &t, &err)) continue;
    backups.emplace_back(t, std::string(name));
  }
  ::closedir(d);
  std::sort(backups.begin(), backups.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  const absl::Time cutoff = now - absl::Hours(24 * opts_.max_days);
  for (size_t i = 0; i < backups.size(); ++i) {
    bool too_many = opts_.max_backups > 0 && i >= static_cast<size_t>(opts_.max_backups);
    bool too_old = opts_.max_days > 0 && backups[i].first < cutoff;
    if (too_many || too_old) ::unlink(Join(p.dir, backups[i].second).c_str());
  }
}

void FileWriter::Close() {
  if (fd_ < 0) return;
  (void)Flush();
  ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

}  // namespace outrigger::exporters::file
