#pragma once
// The file exporter: OTLP/JSON lines, one line per request, appended and flushed. The
// encoding is streamed into the file (pdata::EncodeJson): memory does not grow with the
// request's size; a line over max_line_size is refused and removed from the file.

#include <cstdio>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/pdata/json_encode.h"
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
  // write fails, InvalidArgument (permanent) past max_line_size. Nothing of a failed
  // line stays in the file.
  template <typename D>
  absl::Status Send(Signal, const D& d, absl::Time) {
    return Write([&](const pdata::JsonOut& out) { return pdata::EncodeJson(d, max_line_size_, out); });
  }

 private:
  absl::Status Write(const std::function<absl::Status(const pdata::JsonOut&)>& encode);
  void Close();

  const std::string path_;
  const size_t max_line_size_;
  std::mutex mu_;
  FILE* f_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace outrigger::exporters::file
