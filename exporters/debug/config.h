#pragma once

#include <string>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::debug {

struct Config : ComponentConfig {
  std::string verbosity = "basic";  // basic | normal | detailed
  // Synchronous by default (no queue): the log line is written before the call returns.
  exporterhelper::HelperConfig helper = [] {
    exporterhelper::HelperConfig h;
    h.sending_queue.enabled = false;
    h.retry_on_failure.enabled = false;
    return h;
  }();
  void Decode(config::Node& node) override {
    node.ReadEnum("verbosity", &verbosity, {"basic", "normal", "detailed"});
    helper.Decode(node);
  }
  absl::Status Validate() const override { return helper.Validate(); }
};

}  // namespace outrigger::exporters::debug
