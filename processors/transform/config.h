#pragma once

#include <optional>
#include <vector>

#include "collector/component/factory.h"
#include "collector/ottl/config.h"
#include "collector/ottl/ottl.h"

namespace outrigger::processors::transform {

// As upstream since its processor.transform.defaultErrorModeIgnore feature gate went beta
// (on by default): a failing statement is logged and skipped.
inline constexpr ottl::ErrorMode kDefaultErrorMode = ottl::ErrorMode::kIgnore;

// Statements that run together in one context, in order, on the records where one of
// `conditions` holds (all records when there are none).
struct Group {
  ottl::ContextKind context = ottl::ContextKind::kResource;
  std::vector<ottl::Condition> conditions;
  std::vector<ottl::Statement> statements;
  std::optional<ottl::ErrorMode> error_mode;  // the group's own, else the processor's
};

struct Config : ComponentConfig {
  ottl::ErrorMode error_mode = kDefaultErrorMode;
  std::vector<Group> trace_statements;
  std::vector<Group> metric_statements;
  std::vector<Group> log_statements;

  const std::vector<Group>& For(Signal s) const {
    return s == Signal::kTraces ? trace_statements : s == Signal::kMetrics ? metric_statements : log_statements;
  }
  void Decode(config::Node& node) override;
};

}  // namespace outrigger::processors::transform
