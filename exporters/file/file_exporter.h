#pragma once
// The file exporter: OTLP/JSON lines, one line per request, appended and flushed.

#include <cstdio>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/file/config.h"

namespace outrigger::exporters::file {

class FilePusher : public exporterhelper::SignalPusher<FilePusher> {
 public:
  FilePusher(const CreateSettings& settings, const Config& cfg);
  ~FilePusher() override;

  // Opens the file for appending (created if missing); FailedPrecondition if it cannot.
  absl::Status Start(Host& host) override;
  // Closes the file; idempotent, safe without Start.
  absl::Status Shutdown() override;
  // Appends `d` as one OTLP/JSON line and flushes it; Unavailable (retryable) if the
  // write fails.
  template <typename D>
  absl::Status Send(Signal, const D& d, absl::Time) {
    return Write(d.ToJson());
  }

 private:
  absl::Status Write(std::string line);
  void Close();

  const std::string path_;
  std::mutex mu_;
  FILE* f_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace outrigger::exporters::file
