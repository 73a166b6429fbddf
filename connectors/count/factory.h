#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::connectors::count {

// `count`: traces, metrics or logs in, metrics out (upstream's countconnector).
std::unique_ptr<ConnectorFactory> NewFactory();

}  // namespace outrigger::connectors::count
