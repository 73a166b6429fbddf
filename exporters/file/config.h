#pragma once

#include <string>

#include "collector/exporterhelper/exporterhelper.h"

namespace outrigger::exporters::file {

struct Config : ComponentConfig {
  std::string path;  // required; appended to, one OTLP/JSON request per line
  // Written synchronously by default: a line is on disk (flushed) when the call returns.
  exporterhelper::HelperConfig helper = [] {
    exporterhelper::HelperConfig h;
    h.sending_queue.enabled = false;
    return h;
  }();
  void Decode(config::Node& node) override {
    node.Read("path", &path);
    std::string format = "json";
    node.ReadEnum("format", &format, {"json"});
    helper.Decode(node);
  }
  absl::Status Validate() const override {
    if (path.empty()) return absl::InvalidArgumentError("path is required");
    return helper.Validate();
  }
};

}  // namespace outrigger::exporters::file
