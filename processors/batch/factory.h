#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::batch {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::batch
