#pragma once
// retain: keeps only the listed fields of each root named among them.

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeRetain(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
