#pragma once

#include <string>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::debug {

inline constexpr char kDefaultVerbosity[] = "basic";

struct Config : ComponentConfig {
  // basic: one line per request; normal: and one per item; detailed: and the OTLP/JSON.
  std::string verbosity = kDefaultVerbosity;
  // Synchronous by default (no queue, no retries): the log line is written before the
  // call returns.
  exporterhelper::HelperConfig helper = DefaultHelper();

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;

  static exporterhelper::HelperConfig DefaultHelper();
};

}  // namespace outrigger::exporters::debug
