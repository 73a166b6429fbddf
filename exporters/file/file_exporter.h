#pragma once
// The file exporter: each request appended to a file as one OTLP/JSON line, or (format:
// proto, or with compression: zstd) as one length-prefixed record, as upstream writes
// them; rotation, buffering and truncation through FileWriter. Plain JSON is streamed
// into the file (pdata::EncodeJson): memory does not grow with the request's size; the
// other layouts need the record's length first and hold its encoding once.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "collector/common/loop_ticker.h"
#include "collector/exporterhelper/exporterhelper.h"
#include "collector/pdata/json_encode.h"
#include "exporters/file/config.h"
#include "exporters/file/file_writer.h"

namespace outrigger::exporters::file {

class FilePusher : public exporterhelper::SignalPusher<FilePusher> {
 public:
  FilePusher(const CreateSettings& settings, const Config& cfg);
  ~FilePusher() override;

  // Opens the file (created if missing; truncated with append: false) and, with a
  // flush_interval, starts the flush timer on the host's event loop; FailedPrecondition
  // if the file cannot be opened.
  absl::Status Start(Host& host) override;
  // Stops the timer, flushes and closes the file; idempotent, safe without Start.
  absl::Status Shutdown() override;
  // Writes `d` as one record; Unavailable (retryable) if the write fails, InvalidArgument
  // (permanent) past max_line_size or a rotation's max size. Nothing of a failed record
  // stays in the file.
  template <typename D>
  absl::Status Send(Signal, const D& d, absl::Time) {
    return Write([&](const pdata::JsonOut& out) { return pdata::EncodeJson(d, max_line_size_, out); },
                 [&]() -> absl::StatusOr<std::string> {
                   if (max_line_size_ > 0 && d.ByteSize() > max_line_size_) {
                     return absl::InvalidArgumentError(StrCat("the request's protobuf encoding is ", d.ByteSize(),
                                                              " bytes, more than max_line_size"));
                   }
                   return d.ToProto();
                 });
  }

  // Flushes what is buffered (the flush timer calls it).
  void FlushBuffered();

 private:
  using Encode = std::function<absl::Status(const pdata::JsonOut&)>;
  using Proto = std::function<absl::StatusOr<std::string>()>;
  absl::Status Write(const Encode& json, const Proto& proto);
  // The record of one request, whole, in the configured layout.
  absl::StatusOr<std::string> Record(const Encode& json, const Proto& proto);

  const std::string path_;
  const size_t max_line_size_;
  const bool proto_;
  const bool zstd_;
  const bool buffered_;
  const absl::Duration flush_interval_;
  const bool create_directory_;
  const unsigned directory_mode_;
  std::mutex mu_;
  FileWriter writer_ ABSL_GUARDED_BY(mu_);
  common::LoopTicker ticker_;  // last: stopped before the members its flush uses go
};

}  // namespace outrigger::exporters::file
