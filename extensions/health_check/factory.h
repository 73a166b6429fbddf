#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::extensions::health_check {

std::unique_ptr<ExtensionFactory> NewFactory();

}  // namespace outrigger::extensions::health_check
