#pragma once
// container: parses the lines container runtimes write (Docker json-file, CRI-O and
// containerd), joins partial lines (held until their last part, or a Flush), and adds
// the Kubernetes metadata of /var/log/pods/... paths to the resource.

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeContainer(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
