#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::exporters::loadbalancing {

std::unique_ptr<ExporterFactory> NewFactory();

}  // namespace outrigger::exporters::loadbalancing
