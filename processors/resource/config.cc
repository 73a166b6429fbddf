#include "processors/resource/config.h"

namespace outrigger::processors::resource {

void Config::Decode(config::Node& node) { attributes = attraction::DecodeActions(node, "attributes"); }

absl::Status Config::Validate() const {
  if (attributes.empty()) {
    return absl::InvalidArgumentError(
        "missing required field \"attributes\": list the actions on resource attributes (insert, update, upsert, "
        "delete, hash, extract, convert)");
  }
  auto p = attraction::AttrProc::Create(attributes);
  return p.ok() ? absl::OkStatus() : p.status();
}

}  // namespace outrigger::processors::resource
