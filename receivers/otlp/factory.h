#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::receivers::otlp {

std::unique_ptr<ReceiverFactory> NewFactory();

}  // namespace outrigger::receivers::otlp
