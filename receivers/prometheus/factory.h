#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::receivers::prometheus {

std::unique_ptr<ReceiverFactory> NewFactory();

}  // namespace outrigger::receivers::prometheus
