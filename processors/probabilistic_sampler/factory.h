#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::probabilistic_sampler {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::probabilistic_sampler
