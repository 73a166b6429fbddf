#pragma once

#include <cstdint>
#include <string>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::file {

inline constexpr char kDefaultFormat[] = "json";
// Ours (upstream has none): one request's OTLP/JSON line at most. The line is streamed to
// the file (memory does not grow with it); the bound keeps one request from filling the
// disk, and anything reading the file line by line from having to hold more.
inline constexpr uint64_t kDefaultMaxLineSize = 64ull << 20;  // 64 MiB

struct Config : ComponentConfig {
  Config();

  // Required: the file appended to, one OTLP/JSON request per line.
  std::string path;
  // The only format: "json" (OTLP/JSON lines).
  std::string format = kDefaultFormat;
  // A request whose line would be longer is refused (a permanent error: dropped and
  // counted by the exporter) and nothing of it stays in the file. 0: no limit.
  uint64_t max_line_size = kDefaultMaxLineSize;
  // sending_queue, retry_on_failure, timeout. The queue is off by default: each line is
  // written synchronously, so it is on disk (flushed) when the call returns.
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::file
