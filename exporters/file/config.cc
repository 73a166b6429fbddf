#include "exporters/file/config.h"

namespace outrigger::exporters::file {

Config::Config() { helper.sending_queue.enabled = false; }

void Config::Decode(config::Node& node) {
  node.Read("path", &path);
  node.ReadEnum("format", &format, {"json"});
  node.ReadBytes("max_line_size", &max_line_size);
  helper.Decode(node);
}

absl::Status Config::Validate() const {
  if (path.empty()) return absl::InvalidArgumentError("path is required");
  return helper.Validate();
}

}  // namespace outrigger::exporters::file
