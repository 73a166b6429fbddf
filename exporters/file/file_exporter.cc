#include "exporters/file/file_exporter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace outrigger::exporters::file {

FilePusher::FilePusher(const CreateSettings&, const Config& cfg)
    : path_(cfg.path), max_line_size_(static_cast<size_t>(cfg.max_line_size)) {}

FilePusher::~FilePusher() { Close(); }

absl::Status FilePusher::Start(Host&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (f_ == nullptr) f_ = std::fopen(path_.c_str(), "a");
  if (f_ == nullptr) {
    return absl::FailedPreconditionError(StrCat("cannot open \"", path_, "\" for appending: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status FilePusher::Shutdown() {
  Close();
  return absl::OkStatus();
}

absl::Status FilePusher::Write(const std::function<absl::Status(const pdata::JsonOut&)>& encode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (f_ == nullptr) return absl::FailedPreconditionError("file exporter is not started");
  // Where this line starts: a line that fails half way is cut off there.
  struct stat st;
  if (std::fflush(f_) != 0 || fstat(fileno(f_), &st) != 0) {
    return absl::UnavailableError(StrCat("cannot write to \"", path_, "\": ", std::strerror(errno)));
  }
  bool write_failed = false;
  absl::Status status = encode([&](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), f_) != chunk.size()) {
      write_failed = true;
      return absl::UnavailableError(StrCat("cannot write to \"", path_, "\": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  });
  if (status.ok() && (std::fputc('\n', f_) == EOF || std::fflush(f_) != 0)) {
    write_failed = true;
    status = absl::UnavailableError(StrCat("cannot write to \"", path_, "\": ", std::strerror(errno)));
  }
  if (status.ok()) return status;
  // Nothing of the failed line stays (what is still buffered is dropped with it).
  (void)std::fflush(f_);
  std::clearerr(f_);
  if (ftruncate(fileno(f_), st.st_size) != 0) {
    return absl::UnavailableError(
        StrCat("cannot write to \"", path_, "\", and cannot cut the partial line: ", std::strerror(errno)));
  }
  // A full disk may clear up: retryable. A line over the limit never fits: permanent.
  if (write_failed) return status;
  return absl::InvalidArgumentError(
      StrCat(status.message(), ": max_line_size of the file exporter for \"", path_, "\"; the request is dropped"));
}

void FilePusher::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (f_ != nullptr) std::fclose(f_);
  f_ = nullptr;
}

}  // namespace outrigger::exporters::file
