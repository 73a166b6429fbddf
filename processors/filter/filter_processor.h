#pragma once
// The filter processor: drops the records for which any configured OTTL condition is
// true (and the spans' events, metrics' points, scopes and resources left empty by it),
// counting them per condition. See README.md.

#include <memory>

#include "collector/component/component.h"
#include "processors/filter/config.h"

namespace outrigger::processors::filter {

std::unique_ptr<Processor> NewFilterProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                              Consumer* next);

}  // namespace outrigger::processors::filter
