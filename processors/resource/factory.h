#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::resource {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::resource
