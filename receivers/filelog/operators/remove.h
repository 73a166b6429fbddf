#pragma once
// remove: removes a field (a root: the whole body, attributes or resource).

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeRemove(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
