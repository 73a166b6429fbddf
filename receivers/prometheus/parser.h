#pragma once
// The Prometheus text exposition format, version 0.0.4: `# HELP`, `# TYPE`, samples
// `name{label="value",...} value [timestamp_ms]`. Samples are grouped into families: a
// histogram's `_bucket`/`_sum`/`_count` and a summary's `_sum`/`_count` (and quantile
// samples) belong to the family their `# TYPE` line names; a sample without a TYPE is
// untyped. One malformed line fails the whole exposition, with its line number.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace outrigger::receivers::prometheus {

enum class MetricType { kCounter, kGauge, kHistogram, kSummary, kUntyped };
std::string_view MetricTypeName(MetricType t);

using Labels = std::vector<std::pair<std::string, std::string>>;  // in exposition order

struct Sample {
  std::string name;  // the full sample name (e.g. `http_latency_bucket`)
  Labels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  int line = 0;  // 1-based line of the exposition
};

struct Family {
  std::string name;
  MetricType type = MetricType::kUntyped;
  std::string help;
  std::vector<Sample> samples;
};

// Parses a whole exposition. Families come in the order of their first line.
absl::StatusOr<std::vector<Family>> Parse(std::string_view text);

// A label's value (empty if absent).
std::string_view LabelValue(const Labels& labels, std::string_view name);
// Parses a sample value: a float, `NaN`, `+Inf`, `-Inf` (case-insensitive `Inf`).
bool ParseValue(std::string_view s, double* out);

}  // namespace outrigger::receivers::prometheus
