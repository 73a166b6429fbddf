#pragma once

#include <vector>

#include "collector/component/factory.h"
#include "collector/ottl/config.h"
#include "collector/ottl/ottl.h"

namespace outrigger::processors::filter {

inline constexpr ottl::ErrorMode kDefaultErrorMode = ottl::ErrorMode::kPropagate;

struct Config : ComponentConfig {
  ottl::ErrorMode error_mode = kDefaultErrorMode;
  // OTTL conditions: a record for which any is true is dropped.
  std::vector<ottl::Condition> span;        // traces.span
  std::vector<ottl::Condition> spanevent;   // traces.spanevent
  std::vector<ottl::Condition> metric;      // metrics.metric
  std::vector<ottl::Condition> datapoint;   // metrics.datapoint
  std::vector<ottl::Condition> log_record;  // logs.log_record

  bool Empty(Signal s) const {
    switch (s) {
      case Signal::kTraces:
        return span.empty() && spanevent.empty();
      case Signal::kMetrics:
        return metric.empty() && datapoint.empty();
      case Signal::kLogs:
        return log_record.empty();
    }
    return true;
  }
  void Decode(config::Node& node) override;
};

}  // namespace outrigger::processors::filter
