#pragma once

#include <vector>

#include "collector/attraction/attraction.h"
#include "collector/component/factory.h"
#include "collector/filterset/filterset.h"

namespace outrigger::processors::attributes {

struct Config : ComponentConfig {
  // include / exclude: which spans, log records or data points the actions apply to
  // (collector/filterset: upstream's match properties). Neither: all of them.
  filterset::MatchConfig match;
  // The actions, in order (collector/attraction). Required.
  std::vector<attraction::ActionConfig> actions;

  void Decode(config::Node& node) override;
  // Checks the actions (the include/exclude checks depend on the signal and are made
  // when the processor is created).
  absl::Status Validate() const override;
};

}  // namespace outrigger::processors::attributes
