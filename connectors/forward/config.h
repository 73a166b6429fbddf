#pragma once

#include "collector/component/factory.h"

namespace outrigger::connectors::forward {

// The forward connector has no options: it is declared with an empty value, and any key
// under it is an error (unknown key).
struct Config : ComponentConfig {
  void Decode(config::Node& node) override;
};

}  // namespace outrigger::connectors::forward
