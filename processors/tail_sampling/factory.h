#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::tail_sampling {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::tail_sampling
