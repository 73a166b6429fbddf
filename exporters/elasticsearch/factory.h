#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::exporters::elasticsearch {

std::unique_ptr<ExporterFactory> NewFactory();

}  // namespace outrigger::exporters::elasticsearch
