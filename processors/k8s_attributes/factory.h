#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::processors::k8s_attributes {

std::unique_ptr<ProcessorFactory> NewFactory();

}  // namespace outrigger::processors::k8s_attributes
