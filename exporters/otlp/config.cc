#include "exporters/otlp/config.h"

namespace outrigger::exporters::otlp {

void Config::Decode(config::Node& node) {
  DecodeClient(node);
  helper.Decode(node);
  node.Unsupported("batcher", "use sending_queue.batch (upstream deprecated batcher for it)");
}

absl::Status Config::Validate() const {
  if (endpoint.empty()) return absl::InvalidArgumentError("endpoint is required (e.g. 127.0.0.1:4317)");
  if (auto st = ValidateClient(); !st.ok()) return st;
  return helper.Validate();
}

}  // namespace outrigger::exporters::otlp
