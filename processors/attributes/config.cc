#include "processors/attributes/config.h"

namespace outrigger::processors::attributes {

void Config::Decode(config::Node& node) {
  match.Decode(node);
  actions = attraction::DecodeActions(node, "actions");
}

absl::Status Config::Validate() const {
  if (actions.empty()) {
    return absl::InvalidArgumentError(
        "missing required field \"actions\": list what to do (insert, update, upsert, delete, hash, extract, "
        "convert)");
  }
  auto p = attraction::AttrProc::Create(actions);
  if (!p.ok()) return p.status();
  for (const auto* side : {&match.include, &match.exclude}) {
    if (*side && (*side)->match_type != "strict" && (*side)->match_type != "regexp") {
      return absl::InvalidArgumentError(StrCat(side == &match.include ? "include" : "exclude",
                                               ": unrecognized match_type: '", (*side)->match_type,
                                               "', valid types are: [regexp strict]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace outrigger::processors::attributes
