#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::memory_limiter {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::memory_limiter
