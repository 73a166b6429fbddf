#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::attributes {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::attributes
