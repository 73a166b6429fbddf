#pragma once

#include <memory>

#include "collector/component/factory.h"

namespace outrigger::connectors::span_metrics {

// `span_metrics` (and upstream's older name `spanmetrics`): traces in, metrics out.
std::unique_ptr<ConnectorFactory> NewFactory();

}  // namespace outrigger::connectors::span_metrics
