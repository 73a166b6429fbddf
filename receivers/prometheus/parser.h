#pragma once
// The Prometheus text exposition format, version 0.0.4: `# HELP`, `# TYPE`, samples
// `name{label="value",...} value [timestamp_ms]`. Samples are grouped into families: a
// histogram's `_bucket`/`_sum`/`_count` and a summary's `_sum`/`_count` (and quantile
// samples) belong to the family their `# TYPE` line names; a sample without a TYPE is
// untyped. One malformed line fails the whole exposition, with its line number.
//
// OpenMetrics 1.0 (ParseOpenMetrics) has the same shape, plus `# UNIT`, a mandatory
// `# EOF`, more types (gaugehistogram, info, stateset), `_created` samples, timestamps
// in (float) seconds and exemplars; it is stricter (single spaces, no blank lines or
// other comments, families and metrics not interleaved, a `+Inf` bucket per histogram).
//
// This is the one header of the parsers. Where things are: text_parser.cc (Parse,
// ParseView), openmetrics_parser.cc (ParseOpenMetrics), lexer.{h,cc} (the tokenizing
// both share, and ParseValue), parser.cc (the rest: formats, units, label lookup).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace outrigger::receivers::prometheus {

// kUntyped is also OpenMetrics's "unknown". The last three exist only in OpenMetrics.
enum class MetricType { kCounter, kGauge, kHistogram, kSummary, kUntyped, kGaugeHistogram, kInfo, kStateSet };
std::string_view MetricTypeName(MetricType t);

using Labels = std::vector<std::pair<std::string, std::string>>;  // in exposition order

// An OpenMetrics exemplar: `# {trace_id="..",span_id=".."} value [timestamp]`.
struct Exemplar {
  Labels labels;
  double value = 0;
  std::optional<double> timestamp_s;  // Unix seconds
};

struct Sample {
  std::string name;  // the full sample name (e.g. `http_latency_bucket`)
  Labels labels;
  double value = 0;
  // OpenMetrics's float seconds are kept with millisecond precision, as Prometheus does.
  std::optional<int64_t> timestamp_ms;
  int line = 0;                      // 1-based line of the exposition
  std::optional<Exemplar> exemplar;  // OpenMetrics only
};

struct Family {
  std::string name;
  MetricType type = MetricType::kUntyped;
  std::string help;
  std::vector<Sample> samples;
  std::string unit;  // OpenMetrics `# UNIT` (Prometheus's word, e.g. `seconds`), or empty
};

// What ParseView gives: the same families and samples, with names and label values as
// views into the exposition (or, for a label value with escapes, into `storage`).
// The scraper's fast path: no copies of the exposition's strings.
using LabelViews = std::vector<std::pair<std::string_view, std::string_view>>;  // in exposition order
struct SampleView {
  std::string_view name;
  LabelViews labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  int line = 0;
  std::optional<Exemplar> exemplar;  // never set (the text format has none)
};
struct FamilyView {
  std::string name;
  MetricType type = MetricType::kUntyped;
  std::string help;
  std::vector<SampleView> samples;
  std::string unit;
};
struct ExpositionView {
  std::vector<FamilyView> families;
  std::deque<std::string> storage;  // unescaped label values (elements do not move)
};

// The exposition formats a scrape can get, chosen by the answer's Content-Type.
enum class Format { kPrometheusText, kOpenMetricsText };
// `application/openmetrics-text` (any version) is OpenMetrics; anything else,
// including no Content-Type, is the Prometheus text format 0.0.4.
Format FormatOf(std::string_view content_type);
// The format a Content-Type names: `application/openmetrics-text` or `text/plain`;
// nullopt for anything else or none (the caller's fallback_scrape_protocol decides).
std::optional<Format> KnownFormatOf(std::string_view content_type);
// What scrapes send: Prometheus's own Accept header.
inline constexpr char kScrapeAccept[] =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// Parses a whole exposition. Families come in the order of their first line.
absl::StatusOr<std::vector<Family>> Parse(std::string_view text);
// The same as Parse (Prometheus text format), as views into `text`, which must outlive
// the result.
absl::StatusOr<ExpositionView> ParseView(std::string_view text);
// Parses a whole OpenMetrics 1.0 text exposition (see above).
absl::StatusOr<std::vector<Family>> ParseOpenMetrics(std::string_view text);
absl::StatusOr<std::vector<Family>> Parse(std::string_view text, Format format);

// The OTLP unit of an OpenMetrics unit, per the OpenTelemetry compatibility spec:
// words to UCUM abbreviations (`seconds` -> `s`, `bytes` -> `By`), `ratio` -> `1`,
// `a_per_b` -> `a/b`; a unit it does not know is kept as it is.
std::string OtelUnit(std::string_view unit);

// A label's value (empty if absent).
std::string_view LabelValue(const Labels& labels, std::string_view name);
std::string_view LabelValue(const LabelViews& labels, std::string_view name);
// Parses a sample value: a float, `NaN`, `+Inf`, `-Inf` (case-insensitive `Inf`).
bool ParseValue(std::string_view s, double* out);

}  // namespace outrigger::receivers::prometheus
