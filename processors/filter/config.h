#pragma once

#include <vector>

#include "collector/component/factory.h"
#include "collector/filterset/filterset.h"
#include "collector/ottl/config.h"
#include "collector/ottl/ottl.h"

namespace outrigger::processors::filter {

// As upstream since its processor.filter.defaultErrorModeIgnore feature gate (beta in
// v0.153, then stable): a condition that fails on a record counts as false, logged.
inline constexpr ottl::ErrorMode kDefaultErrorMode = ottl::ErrorMode::kIgnore;

struct Config : ComponentConfig {
  ottl::ErrorMode error_mode = kDefaultErrorMode;
  // OTTL conditions: a record for which any is true is dropped.
  std::vector<ottl::Condition> span;        // traces.span
  std::vector<ottl::Condition> spanevent;   // traces.spanevent
  std::vector<ottl::Condition> metric;      // metrics.metric
  std::vector<ottl::Condition> datapoint;   // metrics.datapoint
  std::vector<ottl::Condition> log_record;  // logs.log_record
  // upstream's older form: include/exclude match properties (collector/filterset); a
  // record the include does not match, or the exclude matches, is dropped.
  filterset::MatchConfig spans;    // spans.include / spans.exclude
  filterset::MatchConfig metrics;  // metrics.include / metrics.exclude (whole metrics)
  filterset::MatchConfig logs;     // logs.include / logs.exclude

  bool Empty(Signal s) const {
    switch (s) {
      case Signal::kTraces:
        return span.empty() && spanevent.empty() && spans.empty();
      case Signal::kMetrics:
        return metric.empty() && datapoint.empty() && metrics.empty();
      case Signal::kLogs:
        return log_record.empty() && logs.empty();
    }
    return true;
  }
  const filterset::MatchConfig& Legacy(Signal s) const {
    return s == Signal::kTraces ? spans : s == Signal::kMetrics ? metrics : logs;
  }
  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::processors::filter
