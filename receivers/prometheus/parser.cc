#include "receivers/prometheus/parser.h"

#include "collector/common/strings.h"
#include "receivers/prometheus/lexer.h"

namespace outrigger::receivers::prometheus {

std::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      return "untyped";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateSet:
      return "stateset";
  }
  return "untyped";
}

namespace {
template <typename L>
std::string_view LabelValueOf(const L& labels, std::string_view name) {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}
}  // namespace

std::string_view LabelValue(const Labels& labels, std::string_view name) { return LabelValueOf(labels, name); }
std::string_view LabelValue(const LabelViews& labels, std::string_view name) { return LabelValueOf(labels, name); }

absl::StatusOr<std::vector<Family>> Parse(std::string_view text, Format format) {
  return format == Format::kOpenMetricsText ? ParseOpenMetrics(text) : Parse(text);
}

std::optional<Format> KnownFormatOf(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && lexer::IsBlank(media.front())) media.remove_prefix(1);
  while (!media.empty() && lexer::IsBlank(media.back())) media.remove_suffix(1);
  if (lexer::EqualsLower(media, "application/openmetrics-text")) return Format::kOpenMetricsText;
  if (lexer::EqualsLower(media, "text/plain")) return Format::kPrometheusText;
  return std::nullopt;
}

Format FormatOf(std::string_view content_type) { return KnownFormatOf(content_type).value_or(Format::kPrometheusText); }

std::string OtelUnit(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"days", "d"},          {"hours", "h"},         {"minutes", "min"},    {"seconds", "s"},
      {"milliseconds", "ms"}, {"microseconds", "us"}, {"nanoseconds", "ns"}, {"bytes", "By"},
      {"kibibytes", "KiBy"},  {"mebibytes", "MiBy"},  {"gibibytes", "GiBy"}, {"tebibytes", "TiBy"},
      {"kilobytes", "KBy"},   {"megabytes", "MBy"},   {"gigabytes", "GBy"},  {"terabytes", "TBy"},
      {"meters", "m"},        {"volts", "V"},         {"amperes", "A"},      {"joules", "J"},
      {"watts", "W"},         {"grams", "g"},         {"celsius", "Cel"},    {"hertz", "Hz"},
      {"percent", "%"},       {"ratio", "1"}};
  static constexpr std::pair<std::string_view, std::string_view> kPer[] = {
      {"second", "s"}, {"minute", "min"}, {"hour", "h"}, {"day", "d"}, {"week", "w"}, {"month", "mo"}, {"year", "y"}};
  auto word = [](std::string_view w, const auto& table) {
    for (const auto& [from, to] : table) {
      if (w == from) return std::string(to);
    }
    return std::string(w);
  };
  size_t per = unit.find("_per_");
  if (per == std::string_view::npos) return word(unit, kWords);
  return StrCat(word(unit.substr(0, per), kWords), "/", word(unit.substr(per + 5), kPer));
}

}  // namespace outrigger::receivers::prometheus
