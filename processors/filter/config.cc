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

void ReadAttrs(config::Node& n, std::string_view key, std::vector<filterset::Attribute>* out) {
  for (config::Node* item : n.ReadMappings(key)) {
    filterset::Attribute a;
    item->Read("key", &a.key);
    config::Node& v = item->Value("value");
    if (!v.IsNull()) {
      filterset::AnyValue value;
      if (filterset::DecodeValue(v, &value)) a.value = std::move(value);
    }
    out->push_back(std::move(a));
  }
}

enum class Form { kSpans, kMetrics, kLogs };

// include/exclude of `parent`, with upstream's names for each signal: the match
// properties for spans; for metrics also `resource_attributes` (filtermetric's name); for
// logs upstream's LogMatchProperties names (resource_attributes, record_attributes,
// severity_texts, severity_number, bodies) beside the match properties' own.
void ReadMatch(config::Node& parent, Form form, filterset::MatchConfig* out) {
  for (auto [key, side] : {std::pair{"include", &out->include}, std::pair{"exclude", &out->exclude}}) {
    config::Node& n = parent.Child(key);
    if (n.IsNull()) continue;
    filterset::MatchProperties mp;
    mp.Decode(n);
    if (form != Form::kSpans) ReadAttrs(n, "resource_attributes", &mp.resources);
    if (form == Form::kLogs) {
      ReadAttrs(n, "record_attributes", &mp.attributes);
      std::vector<std::string> v;
      n.Read("severity_texts", &v);
      mp.log_severity_texts.insert(mp.log_severity_texts.end(), v.begin(), v.end());
      v.clear();
      n.Read("bodies", &v);
      mp.log_bodies.insert(mp.log_bodies.end(), v.begin(), v.end());
      config::Node& sev = n.Child("severity_number");
      if (!sev.IsNull()) {
        filterset::SeverityNumber sn;
        std::string min;
        sev.Read("min", &min);
        if (auto num = filterset::SeverityFromName(min)) {
          sn.min = *num;
        } else if (!min.empty()) {
          int64_t i = 0;
          sev.Read("min", &i);
          sn.min = static_cast<int32_t>(i);
        }
        sev.Read("match_undefined", &sn.match_undefined);
        mp.log_severity_number = sn;
      }
    }
    *side = std::move(mp);
  }
}

}  // namespace

void Config::Decode(config::Node& node) {
  ottl::ReadErrorMode(node, "error_mode", &error_mode);
  config::Node& traces = node.Child("traces");
  ReadConditions(traces, "span", ottl::ContextKind::kSpan, &span);
  ReadConditions(traces, "spanevent", ottl::ContextKind::kSpanEvent, &spanevent);
  config::Node& metrics = node.Child("metrics");
  ReadConditions(metrics, "metric", ottl::ContextKind::kMetric, &metric);
  ReadConditions(metrics, "datapoint", ottl::ContextKind::kDataPoint, &datapoint);
  ReadMatch(metrics, Form::kMetrics, &this->metrics);
  config::Node& logs = node.Child("logs");
  ReadConditions(logs, "log_record", ottl::ContextKind::kLog, &log_record);
  ReadMatch(logs, Form::kLogs, &this->logs);
  ReadMatch(node.Child("spans"), Form::kSpans, &spans);
  node.Unsupported("trace_conditions", "use traces.span and traces.spanevent");
  node.Unsupported("metric_conditions", "use metrics.metric and metrics.datapoint");
  node.Unsupported("log_conditions", "use logs.log_record");
  node.Unsupported("profile_conditions", "profiles are not a signal of this collector");
  node.Unsupported("profiles", "profiles are not a signal of this collector");
}

absl::Status Config::Validate() const {
  for (Signal s : kAllSignals) {
    const filterset::MatchConfig& mc = Legacy(s);
    if (mc.empty()) continue;
    bool ottl = s == Signal::kTraces    ? !span.empty() || !spanevent.empty()
                : s == Signal::kMetrics ? !metric.empty() || !datapoint.empty()
                                        : !log_record.empty();
    if (ottl) {
      return absl::InvalidArgumentError(StrCat(s == Signal::kTraces ? "spans" : SignalName(s),
                                               ": include/exclude cannot be used together with OTTL conditions; "
                                               "write them all as conditions"));
    }
    auto m = filterset::Matcher::Compile(mc, s);
    if (!m.ok()) {
      return absl::InvalidArgumentError(
          StrCat(s == Signal::kTraces ? "spans" : SignalName(s), ": ", ToStd(m.status().message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace outrigger::processors::filter
