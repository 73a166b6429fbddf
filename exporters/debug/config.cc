#include "exporters/debug/config.h"

namespace outrigger::exporters::debug {

exporterhelper::HelperConfig Config::DefaultHelper() {
  exporterhelper::HelperConfig h;
  h.sending_queue.enabled = false;
  h.retry_on_failure.enabled = false;
  return h;
}

void Config::Decode(config::Node& node) {
  node.ReadEnum("verbosity", &verbosity, {"basic", "normal", "detailed"});
  helper.Decode(node);
}

absl::Status Config::Validate() const { return helper.Validate(); }

}  // namespace outrigger::exporters::debug
