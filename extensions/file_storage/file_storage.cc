#include "extensions/file_storage/file_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "collector/common/strings.h"
#include "spdlog/spdlog.h"

namespace outrigger::extensions::file_storage {

namespace {
// mkdir -p with `mode` for every directory it creates.
absl::Status MakeDirs(const std::string& path, unsigned mode) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(StrCat("cannot create the directory ", cur, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}
}  // namespace

FileStorage::FileStorage(const CreateSettings& settings, const Config& cfg)
    : settings_(settings),
      cfg_(cfg),
      budget_(std::make_shared<storage::ByteBudget>(static_cast<int64_t>(cfg.max_size))) {}

FileStorage::~FileStorage() { (void)Shutdown(absl::Now()); }

absl::Status FileStorage::Start(Host&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lock_fd_ >= 0) return absl::OkStatus();
  const std::string& dir = cfg_.directory;
  if (cfg_.create_directory) {
    if (absl::Status st = MakeDirs(dir, cfg_.Mode()); !st.ok()) return st;
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("directory \"", dir, "\" does not exist",
               cfg_.create_directory ? "" : " (create it, or set create_directory: true)"));
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(StrCat("directory \"", dir, "\" is not writable: ", std::strerror(errno)));
  }
  const std::string lock_path = StrCat(dir, "/outrigger.lock");
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return absl::FailedPreconditionError(StrCat("cannot open ", lock_path, ": ", std::strerror(errno)));
  const absl::Time until = absl::Now() + cfg_.timeout;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      close(fd);
      return absl::FailedPreconditionError(StrCat("cannot lock ", lock_path, ": ", std::strerror(errno)));
    }
    if (absl::Now() >= until) {
      close(fd);
      return absl::FailedPreconditionError(StrCat("directory \"", dir, "\" is in use by another process (", lock_path,
                                                  " stayed locked for ", absl::FormatDuration(cfg_.timeout), ")"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  lock_fd_ = fd;
  if (cfg_.compaction_requested) {
    settings_.logger->info(
        "compaction is not needed and not done: acknowledged segments are deleted whole, the files never grow past "
        "max_size");
  }
  return absl::OkStatus();
}

absl::Status FileStorage::Shutdown(absl::Time) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lock_fd_ >= 0) {
    close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
  return absl::OkStatus();
}

absl::Status FileStorage::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (lock_fd_ < 0) return absl::FailedPreconditionError(StrCat(settings_.id.String(), " is not started"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<storage::SegmentLog>> FileStorage::OpenLog(
    std::string_view kind, std::string_view id, const std::function<void(std::string_view)>& visit) {
  if (absl::Status st = Ready(); !st.ok()) return st;
  storage::LogOptions o;
  o.directory = StrCat(cfg_.directory, "/", storage::StoreName(kind, id));
  o.segment_size = static_cast<int64_t>(cfg_.segment_size);
  o.fsync = cfg_.fsync;
  o.fsync_interval = cfg_.fsync_interval;
  o.budget = budget_;
  return storage::SegmentLog::Open(std::move(o), visit);
}

absl::StatusOr<std::string> FileStorage::Directory(std::string_view kind, std::string_view id) {
  if (absl::Status st = Ready(); !st.ok()) return st;
  std::string dir = StrCat(cfg_.directory, "/", storage::StoreName(kind, id));
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(StrCat("cannot create the directory ", dir, ": ", std::strerror(errno)));
  }
  return dir;
}

}  // namespace outrigger::extensions::file_storage
