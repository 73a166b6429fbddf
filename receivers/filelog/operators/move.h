#pragma once
// move and copy: move (or copy) the value at `from` to `to`.

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeMove(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
