#include "connectors/count/config.h"

#include "collector/common/strings.h"
#include "collector/ottl/config.h"

namespace outrigger::connectors::count {
namespace {

MetricInfo Default(std::string name, std::string description) {
  MetricInfo m;
  m.name = std::move(name);
  m.description = std::move(description);
  return m;
}

std::vector<MetricInfo> DefaultSpans() { return {Default("trace.span.count", "The number of spans observed.")}; }
std::vector<MetricInfo> DefaultSpanEvents() {
  return {Default("trace.span.event.count", "The number of span events observed.")};
}
std::vector<MetricInfo> DefaultMetrics() { return {Default("metric.count", "The number of metrics observed.")}; }
std::vector<MetricInfo> DefaultDataPoints() {
  return {Default("metric.datapoint.count", "The number of data points observed.")};
}
std::vector<MetricInfo> DefaultLogs() { return {Default("log.record.count", "The number of log records observed.")}; }

// `key`: a map of metric name → {description, conditions, attributes}. Left as it is
// (the default) when absent or empty.
void ReadMetrics(config::Node& node, std::string_view key, ottl::ContextKind ctx, bool attributes_allowed,
                 std::vector<MetricInfo>* out) {
  config::Node& map = node.Child(key);
  if (map.IsNull()) return;
  if (!map.IsMap()) {
    map.Error("must be a map of metric name to {description, conditions, attributes}");
    return;
  }
  auto entries = map.Entries();
  if (entries.empty()) return;
  out->clear();
  for (auto& [name, info] : entries) {
    MetricInfo m;
    m.name = name;
    if (name.empty()) {
      info->Error("metric name missing");
      continue;
    }
    if (!info->IsNull()) {
      info->Read("description", &m.description);
      config::Node& conds = info->Value("conditions");
      if (!conds.IsNull()) {
        for (config::Node* item : conds.Items()) {
          if (auto c = ottl::CompileConditionAt(*item, ctx)) m.conditions.push_back(std::move(*c));
        }
      }
      if (!attributes_allowed && info->Has("attributes")) {
        info->ErrorAt("attributes", StrCat("not supported on ", key,
                                           " (upstream refuses them too); count by "
                                           "datapoints to split by attributes"));
        info->Accept("attributes");
      } else {
        for (config::Node* a : info->ReadMappings("attributes")) {
          AttributeConfig ac;
          a->Read("key", &ac.key);
          if (ac.key.empty()) a->Error("attribute key missing");
          if (a->Has("default_value")) {
            std::string v;
            a->Read("default_value", &v);
            ac.default_value = std::move(v);
          }
          a->Unsupported("any_depth", "not implemented: name the attribute's key at its level");
          m.attributes.push_back(std::move(ac));
        }
      }
    }
    out->push_back(std::move(m));
  }
}

}  // namespace

Config::Config()
    : spans(DefaultSpans()),
      spanevents(DefaultSpanEvents()),
      metrics(DefaultMetrics()),
      datapoints(DefaultDataPoints()),
      logs(DefaultLogs()) {}

void Config::Decode(config::Node& node) {
  ReadMetrics(node, "spans", ottl::ContextKind::kSpan, true, &spans);
  ReadMetrics(node, "spanevents", ottl::ContextKind::kSpanEvent, true, &spanevents);
  ReadMetrics(node, "metrics", ottl::ContextKind::kMetric, false, &metrics);
  ReadMetrics(node, "datapoints", ottl::ContextKind::kDataPoint, true, &datapoints);
  ReadMetrics(node, "logs", ottl::ContextKind::kLog, true, &logs);
  node.Unsupported("profiles", "profiles are not a signal of this collector");
}

absl::Status Config::Validate() const { return absl::OkStatus(); }

}  // namespace outrigger::connectors::count
