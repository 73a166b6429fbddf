#include "connectors/forward/config.h"

namespace outrigger::connectors::forward {

// Reads nothing, so the service reports every key as unknown.
void Config::Decode(config::Node&) {}

}  // namespace outrigger::connectors::forward
