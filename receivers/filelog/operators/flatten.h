#pragma once
// flatten: replaces a nested map by its keys, set beside it in its parent.

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeFlatten(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
