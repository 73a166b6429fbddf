#pragma once
// add: sets a field to a constant value (a scalar, list or map from the config).

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeAdd(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
