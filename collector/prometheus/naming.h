#pragma once
// OTLP -> Prometheus names, after the OpenTelemetry specification "Prometheus and
// OpenMetrics Compatibility" (and the OpenTelemetry Collector's translator).

#include <optional>
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

// ---- Translation strategies and UTF-8 names --------------------------------------

// How OTLP names become Prometheus names (upstream's `translation_strategy`, after
// prometheus/otlptranslator).
enum class TranslationStrategy {
  kUnderscoreEscapingWithSuffixes,     // legacy names ([a-zA-Z0-9_:]), unit and type suffixes
  kUnderscoreEscapingWithoutSuffixes,  // legacy names, no suffixes
  kNoUTF8EscapingWithSuffixes,         // names kept as they are (UTF-8), with suffixes
  kNoTranslation,                      // names kept as they are, no suffixes
};
// The strategy named as upstream spells it; nullopt for anything else.
std::optional<TranslationStrategy> ParseTranslationStrategy(std::string_view name);
bool AllowsUtf8(TranslationStrategy s);
bool AddsSuffixes(TranslationStrategy s);

// The metric name under a UTF-8 strategy (otlptranslator's buildMetricName): the OTLP name
// as it is, "<ns>_" in front, and with `add_suffixes` the unit ("ms" -> "milliseconds",
// unknown units as they are), "_per_<unit>", "_total" on counters and "_ratio" on unit-"1"
// gauges, each only once.
std::string Utf8MetricName(std::string_view name, std::string_view unit, NameKind kind, std::string_view ns,
                           bool add_suffixes);

// The name under `strategy`: MetricName (legacy) or Utf8MetricName.
std::string MetricNameFor(TranslationStrategy strategy, std::string_view name, std::string_view unit, NameKind kind,
                          std::string_view ns);

// A label name under `strategy`: SanitizeLabelName for the escaping strategies; the key as
// it is for the UTF-8 ones (empty when it is made only of '_', which Prometheus refuses).
std::string LabelNameFor(TranslationStrategy strategy, std::string_view key);

// The `namespace` option as upstream's exporters end up writing it: for the escaping
// strategies every character outside [a-zA-Z0-9_:] becomes '_' ("test-space" ->
// "test_space"; a name then starting with a digit gets '_' in front, MetricName); UTF-8
// strategies keep it as it is.
std::string NamespaceFor(TranslationStrategy strategy, std::string_view ns);

// [a-zA-Z_:][a-zA-Z0-9_:]*, non-empty.
bool IsLegacyMetricName(std::string_view s);
// [a-zA-Z_][a-zA-Z0-9_]*, non-empty.
bool IsLegacyLabelName(std::string_view s);

// How names outside the legacy character set are written in an exposition, as the scraper
// negotiates it (`escaping=` in Accept; Prometheus "UTF-8 escaping schemes").
enum class Escaping {
  kAllowUtf8,    // "allow-utf-8": names as they are, quoted where not legacy
  kUnderscores,  // "underscores": every character outside the legacy set becomes '_' (the default)
  kDots,         // "dots": '.' -> "_dot_", '_' -> "__", others -> "__"
  kValues,       // "values": "U__" + legacy characters, '_' -> "__", others "_<hex code point>_"
};
std::optional<Escaping> ParseEscaping(std::string_view name);
std::string_view EscapingName(Escaping e);
// `name` escaped for a scraper that asked for `e`; a name that is already legacy is
// returned as it is (for kAllowUtf8 always). `label`: the label character set (no ':').
std::string EscapeName(std::string_view name, Escaping e, bool label);

}  // namespace outrigger::prom
