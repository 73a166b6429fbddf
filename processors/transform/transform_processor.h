#pragma once
// The transform processor: runs the configured OTTL statement groups, in order, on every
// record of their context, then passes the data on. See README.md.

#include <memory>

#include "collector/component/component.h"
#include "processors/transform/config.h"

namespace outrigger::processors::transform {

std::unique_ptr<Processor> NewTransformProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                                 Consumer* next);

}  // namespace outrigger::processors::transform
