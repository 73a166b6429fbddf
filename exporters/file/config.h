#pragma once

#include <string>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::file {

inline constexpr char kDefaultFormat[] = "json";

struct Config : ComponentConfig {
  Config();

  // Required: the file appended to, one OTLP/JSON request per line.
  std::string path;
  // The only format: "json" (OTLP/JSON lines).
  std::string format = kDefaultFormat;
  // sending_queue, retry_on_failure, timeout. The queue is off by default: each line is
  // written synchronously, so it is on disk (flushed) when the call returns.
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::file
