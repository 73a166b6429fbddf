#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::receivers::filelog {

std::unique_ptr<ReceiverFactory> NewFactory();

}  // namespace outrigger::receivers::filelog
