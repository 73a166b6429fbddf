#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::receivers::statsd {

std::unique_ptr<ReceiverFactory> NewFactory();

}  // namespace outrigger::receivers::statsd
