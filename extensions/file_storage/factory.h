#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::extensions::file_storage {

std::unique_ptr<ExtensionFactory> NewFactory();

}  // namespace outrigger::extensions::file_storage
