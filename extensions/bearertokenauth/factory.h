#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::extensions::bearertokenauth {

std::unique_ptr<ExtensionFactory> NewFactory();

}  // namespace outrigger::extensions::bearertokenauth
