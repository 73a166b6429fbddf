#include "processors/filter/config.h"

namespace outrigger::processors::filter {
namespace {

void ReadConditions(config::Node& node, std::string_view key, ottl::ContextKind ctx,
                    std::vector<ottl::Condition>* out) {
  config::Node& list = node.Value(key);
  if (list.IsNull()) return;
  for (config::Node* item : list.Items()) {
    if (auto c = ottl::CompileConditionAt(*item, ctx)) out->push_back(std::move(*c));
  }
}

constexpr std::string_view kLegacy =
    "the include/exclude match properties are not supported yet: write OTTL conditions instead "
    "(traces.span, metrics.metric, logs.log_record; see the filter processor's README)";

}  // namespace

void Config::Decode(config::Node& node) {
  ottl::ReadErrorMode(node, "error_mode", &error_mode);
  config::Node& traces = node.Child("traces");
  ReadConditions(traces, "span", ottl::ContextKind::kSpan, &span);
  ReadConditions(traces, "spanevent", ottl::ContextKind::kSpanEvent, &spanevent);
  config::Node& metrics = node.Child("metrics");
  ReadConditions(metrics, "metric", ottl::ContextKind::kMetric, &metric);
  ReadConditions(metrics, "datapoint", ottl::ContextKind::kDataPoint, &datapoint);
  metrics.Unsupported("include", kLegacy);
  metrics.Unsupported("exclude", kLegacy);
  config::Node& logs = node.Child("logs");
  ReadConditions(logs, "log_record", ottl::ContextKind::kLog, &log_record);
  logs.Unsupported("include", kLegacy);
  logs.Unsupported("exclude", kLegacy);
  node.Unsupported("spans", kLegacy);
  node.Unsupported("trace_conditions", "use traces.span and traces.spanevent");
  node.Unsupported("metric_conditions", "use metrics.metric and metrics.datapoint");
  node.Unsupported("log_conditions", "use logs.log_record");
  node.Unsupported("profile_conditions", "profiles are not a signal of this collector");
  node.Unsupported("profiles", "profiles are not a signal of this collector");
}

}  // namespace outrigger::processors::filter
