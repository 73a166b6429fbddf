#include "exporters/file/file_exporter.h"

#include <cerrno>
#include <cstring>

namespace outrigger::exporters::file {

FilePusher::FilePusher(const CreateSettings&, const Config& cfg) : path_(cfg.path) {}

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

absl::Status FilePusher::Write(std::string line) {
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  if (f_ == nullptr) return absl::FailedPreconditionError("file exporter is not started");
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0) {
    // A full disk may clear up: retryable.
    return absl::UnavailableError(StrCat("cannot write to \"", path_, "\": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void FilePusher::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (f_ != nullptr) std::fclose(f_);
  f_ = nullptr;
}

}  // namespace outrigger::exporters::file
