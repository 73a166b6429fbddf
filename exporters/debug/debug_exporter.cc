#include "exporters/debug/debug_exporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collector/common/strings.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::debug {

bool Sampler::Allow(Signal s, absl::Time now) {
  const size_t i = static_cast<size_t>(s);
  const int64_t tick = absl::ToUnixSeconds(now);
  std::lock_guard<std::mutex> lock(mu_);
  if (tick_[i] != tick) {
    tick_[i] = tick;
    count_[i] = 0;
  }
  const int64_t n = ++count_[i];
  if (n <= initial_) return true;
  return thereafter_ > 0 && (n - initial_) % thereafter_ == 0;
}

DebugPusher::DebugPusher(const CreateSettings& settings, const Config& cfg)
    : logger_(settings.logger),
      verbosity_(cfg.verbosity == "detailed" ? Verbosity::kDetailed
                 : cfg.verbosity == "normal" ? Verbosity::kNormal
                                             : Verbosity::kBasic),
      internal_(cfg.use_internal_logger),
      paths_(cfg.output_paths),
      sampler_(cfg.sampling_initial, cfg.sampling_thereafter) {}

DebugPusher::~DebugPusher() { (void)Shutdown(); }

absl::Status DebugPusher::Start(Host&) {
  if (internal_) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  if (!fds_.empty()) return absl::OkStatus();
  for (const auto& p : paths_) {
    if (p == "stdout") {
      fds_.push_back(STDOUT_FILENO);
      owned_.push_back(false);
      continue;
    }
    if (p == "stderr") {
      fds_.push_back(STDERR_FILENO);
      owned_.push_back(false);
      continue;
    }
    std::string path = p.starts_with("file://") ? p.substr(7) : p;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::string err = std::strerror(errno);
      for (size_t i = 0; i < fds_.size(); ++i) {
        if (owned_[i]) ::close(fds_[i]);
      }
      fds_.clear();
      owned_.clear();
      return absl::FailedPreconditionError(StrCat("cannot open output path \"", path, "\": ", err));
    }
    fds_.push_back(fd);
    owned_.push_back(true);
  }
  return absl::OkStatus();
}

absl::Status DebugPusher::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (owned_[i]) ::close(fds_[i]);
  }
  fds_.clear();
  owned_.clear();
  return absl::OkStatus();
}

absl::Status DebugPusher::Output(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) {
    text.append(l);
    text.push_back('\n');
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (fds_.empty()) return absl::FailedPreconditionError("debug exporter is not started");
  for (int fd : fds_) {
    std::string_view rest = text;
    while (!rest.empty()) {
      ssize_t n = ::write(fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      // Output that cannot be written is not retried (a debugging aid, not a store).
      if (n <= 0) break;
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }
  return absl::OkStatus();
}

template <typename D>
absl::Status DebugPusher::Send(Signal signal, const D& d, absl::Time) {
  if (!internal_) return Output(Describe(d, verbosity_));
  if (!sampler_.Allow(signal, absl::Now())) return absl::OkStatus();
  for (const auto& line : Describe(d, verbosity_)) logger_->info("{}", line);
  return absl::OkStatus();
}

template absl::Status DebugPusher::Send(Signal, const pdata::Traces&, absl::Time);
template absl::Status DebugPusher::Send(Signal, const pdata::Metrics&, absl::Time);
template absl::Status DebugPusher::Send(Signal, const pdata::Logs&, absl::Time);

}  // namespace outrigger::exporters::debug
