#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::connectors::forward {

std::unique_ptr<ConnectorFactory> NewFactory();

}  // namespace outrigger::connectors::forward
