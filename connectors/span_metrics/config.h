#pragma once
// The span_metrics connector's config: upstream's spanmetrics connector options
// (contrib connector/spanmetricsconnector), their names and defaults. README.md lists
// each one.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "collector/component/factory.h"

namespace outrigger::connectors::span_metrics {

inline constexpr char kDefaultNamespace[] = "traces.span.metrics";
inline constexpr absl::Duration kDefaultFlushInterval = absl::Seconds(60);
inline constexpr absl::Duration kMinFlushInterval = absl::Milliseconds(10);
inline constexpr int kDefaultDimensionsCacheSize = 1000;
inline constexpr int kDefaultResourceMetricsCacheSize = 1000;
inline constexpr int kDefaultTimestampCacheSize = 1000;
inline constexpr int kDefaultExponentialMaxSize = 160;
inline constexpr char kCumulative[] = "AGGREGATION_TEMPORALITY_CUMULATIVE";
inline constexpr char kDelta[] = "AGGREGATION_TEMPORALITY_DELTA";
// Upstream's default explicit buckets, in milliseconds: 2ms … 15s.
inline const std::vector<double> kDefaultBucketsMs = {2,   4,   6,    8,    10,   50,   100,   200,
                                                      400, 800, 1000, 1400, 2000, 5000, 10000, 15000};

// One configured dimension: an attribute `name` (with an optional `default` when a span
// has none), or every attribute whose key matches `glob` (`*`, `?`).
struct Dimension {
  std::string name;
  std::optional<std::string> default_value;
  std::string glob;
};

struct Config : ComponentConfig {
  std::vector<Dimension> dimensions;
  std::vector<Dimension> calls_dimensions;  // only on `calls`
  std::vector<std::string> exclude_dimensions;
  int dimensions_cache_size = kDefaultDimensionsCacheSize;  // deprecated upstream; no effect here
  int resource_metrics_cache_size = kDefaultResourceMetricsCacheSize;
  std::vector<std::string> resource_metrics_key_attributes;
  std::string aggregation_temporality = kCumulative;

  struct Histogram {
    bool disable = false;
    std::string unit = "ms";   // "ms" or "s"
    bool exponential = false;  // `exponential:` given
    bool explicit_given = false;
    std::optional<std::vector<absl::Duration>> buckets;  // explicit.buckets
    int max_size = kDefaultExponentialMaxSize;           // exponential.max_size
    std::vector<Dimension> dimensions;                   // only on `duration`
  } histogram;

  absl::Duration metrics_flush_interval = kDefaultFlushInterval;
  absl::Duration metrics_expiration = absl::ZeroDuration();
  absl::Duration series_expiration = absl::ZeroDuration();
  int metric_timestamp_cache_size = kDefaultTimestampCacheSize;
  std::string name_space = kDefaultNamespace;  // `namespace`

  struct Exemplars {
    bool enabled = false;
    int max_per_data_point = 0;  // 0: no limit (upstream's unset)
  } exemplars;

  struct Events {
    bool enabled = false;
    std::vector<Dimension> dimensions;
  } events;

  std::vector<std::string> include_instrumentation_scope;
  int aggregation_cardinality_limit = 0;  // 0: no limit
  bool add_resource_attributes = false;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;

  bool delta() const { return aggregation_temporality == kDelta; }
  // Per-series expiration: series_expiration, else metrics_expiration (0: never).
  absl::Duration expiration() const {
    return series_expiration > absl::ZeroDuration() ? series_expiration : metrics_expiration;
  }
  // Explicit bounds in the configured unit.
  std::vector<double> Bounds() const;
};

}  // namespace outrigger::connectors::span_metrics
