// The file exporter: OTLP/JSON lines, one line per request, appended and flushed.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "exporters/file/config.h"
#include "exporters/file/factory.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::file {
namespace {

class FilePusher : public exporterhelper::SignalPusher<FilePusher> {
 public:
  FilePusher(const CreateSettings&, const Config& cfg) : path_(cfg.path) {}
  ~FilePusher() override { Close(); }

  absl::Status Start(Host&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (f_ == nullptr) f_ = std::fopen(path_.c_str(), "a");
    if (f_ == nullptr) {
      return absl::FailedPreconditionError(StrCat("cannot open \"", path_, "\" for appending: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status Shutdown() override {
    Close();
    return absl::OkStatus();
  }
  template <typename D>
  absl::Status Send(Signal, const D& d, absl::Time) {
    return Write(d.ToJson());
  }

 private:
  absl::Status Write(std::string line) {
    line.push_back('\n');
    std::lock_guard<std::mutex> lock(mu_);
    if (f_ == nullptr) return absl::FailedPreconditionError("file exporter is not started");
    if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0) {
      // A full disk may clear up: retryable.
      return absl::UnavailableError(StrCat("cannot write to \"", path_, "\": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    if (f_ != nullptr) std::fclose(f_);
    f_ = nullptr;
  }
  std::string path_;
  std::mutex mu_;
  FILE* f_ = nullptr;
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, FilePusher>>(
      "file", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs});
}

}  // namespace outrigger::exporters::file
