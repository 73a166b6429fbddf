#pragma once
// OTLP -> Prometheus names, after the OpenTelemetry specification "Prometheus and
// OpenMetrics Compatibility" (and the OpenTelemetry Collector's translator).

#include <string>
#include <string_view>

namespace outrigger::prom {

// What decides a name's suffixes.
enum class NameKind {
  kGauge,    // an OTLP gauge: "_ratio" when the unit is "1"
  kCounter,  // a monotonic sum: "_total"
  kOther,    // non-monotonic sums, histograms, summaries
};

// Replaces every character outside [a-zA-Z0-9_:] with '_' and runs of '_' with one.
std::string SanitizeMetricName(std::string_view name);

// The name suffix for an OTLP unit (UCUM): "ms" -> "milliseconds", "By/s" ->
// "bytes_per_second", "{request}" -> "", "1" -> "". Unknown units are sanitized.
std::string UnitSuffix(std::string_view unit);

// The Prometheus metric (family) name: sanitized, with the unit suffix, "_ratio" and
// "_total" when `add_suffixes`, prefixed with "<ns>_" when `ns` is set, and with "_" in
// front when it would start with a digit.
std::string MetricName(std::string_view name, std::string_view unit, NameKind kind, std::string_view ns,
                       bool add_suffixes);

// A label name: characters outside [a-zA-Z0-9_] become '_'; "key_" in front of a leading
// digit, "key" in front of a leading '_'. Empty stays empty (the attribute is dropped).
std::string SanitizeLabelName(std::string_view key);

}  // namespace outrigger::prom
