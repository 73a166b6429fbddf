#pragma once

#include <vector>

#include "collector/attraction/attraction.h"
#include "collector/component/factory.h"

namespace outrigger::processors::resource {

struct Config : ComponentConfig {
  // The actions on each resource's attributes, in order (collector/attraction; the same
  // as the attributes processor's `actions`). Required.
  std::vector<attraction::ActionConfig> attributes;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::processors::resource
