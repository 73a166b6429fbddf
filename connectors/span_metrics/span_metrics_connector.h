#pragma once
// The span_metrics connector (traces → metrics): R.E.D. metrics from spans, as upstream's
// spanmetrics connector makes them. Per resource (keyed by its attributes, or by
// `resource_metrics_key_attributes`) and per series (service.name, span.name,
// span.kind, status.code and the configured dimensions) it counts `calls` and records
// `duration` in a histogram; `events` counts span events when enabled.
//
// ConsumeTraces aggregates under a mutex and never refuses. Every
// `metrics_flush_interval` a timer on the host's event loop builds one Metrics of what
// is held and hands it to the metrics pipelines (cumulative: every live series, with
// the time it was first seen as start; delta: the series seen since the last flush,
// then reset). Shutdown flushes once more. Per-series expiration, the cardinality
// limit (an `otel.metric.overflow` series takes the rest) and the resource LRU bound
// memory.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "collector/common/loop_ticker.h"
#include "collector/component/factory.h"
#include "collector/pdata/builders.h"
#include "connectors/span_metrics/config.h"
#include "connectors/span_metrics/exponential_histogram.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace opentelemetry::proto::common::v1 {
class AnyValue;
class KeyValue;
}  // namespace opentelemetry::proto::common::v1

namespace outrigger::connectors::span_metrics {

class SpanMetricsConnector : public Connector {
 public:
  SpanMetricsConnector(const CreateSettings& settings, const Config& cfg, Consumer* next);
  ~SpanMetricsConnector() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;
  absl::Status ConsumeTraces(pdata::Traces&& d) override;

  // What ConsumeTraces and the timer do, with the clock given (tests, benchmarks).
  void Aggregate(const pdata::Traces& d, uint64_t now_ns);
  // Builds what is held as of `now_ns` and hands it on; the downstream answer.
  absl::Status Flush(uint64_t now_ns);
  // Series held (every metric, every resource).
  size_t SeriesCount() const;

  // One series: its attributes and what was recorded.
  struct Series {
    pdata::Attributes attrs;
    uint64_t start_ns = 0;      // cumulative: first seen; delta: last flush (or first seen)
    uint64_t last_seen_ns = 0;  // for expiration
    bool dirty = false;         // recorded since the last flush
    uint64_t calls = 0;
    uint64_t count = 0;
    double sum = 0, min = 0, max = 0;
    std::vector<uint64_t> buckets;               // explicit histogram
    std::unique_ptr<ExponentialHistogram> expo;  // exponential histogram
    std::vector<pdata::Exemplar> exemplars;      // since the last flush
  };
  using SeriesMap = absl::flat_hash_map<std::string, std::unique_ptr<Series>>;

  // A dimension as compiled: where its value is looked for, and which metrics have it.
  struct Dim {
    std::string name;  // empty for a glob
    std::optional<std::string> default_value;
    std::string glob;
  };

 private:
  struct Resource {
    pdata::Attributes attrs;
    uint64_t last_seen_ns = 0;
    SeriesMap calls;      // calls, and duration too when they share their dimensions
    SeriesMap durations;  // duration, when histogram.dimensions or calls_dimensions are set
    SeriesMap events;
  };
  // The series of `key` in `map`; a new one (attributes from make_attrs(), called only
  // then) or, past aggregation_cardinality_limit, the overflow series.
  template <typename MakeAttrs>
  Series* FindOrCreate(SeriesMap& map, const std::string& key, uint64_t now_ns, MakeAttrs&& make_attrs);
  void Record(Series* s, double value, uint64_t now_ns, bool histogram, const std::string& trace_id,
              const std::string& span_id, uint64_t time_ns);
  void Expire(uint64_t now_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictIdleDelta() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  pdata::Metrics Build(uint64_t now_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateSeriesGauge() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CreateSettings settings_;
  Config cfg_;
  Consumer* next_;
  // Compiled config.
  bool keep_[4];  // service.name, span.name, span.kind, status.code (not excluded)
  std::vector<Dim> common_, calls_only_, hist_only_, event_dims_;
  bool split_;  // calls and duration have different dimensions: two maps
  std::vector<double> bounds_;
  double ns_per_unit_;
  absl::flat_hash_set<std::string> key_attrs_;
  absl::flat_hash_set<std::string> scopes_;
  std::string calls_name_, duration_name_, events_name_;
  pdata::Temporality temporality_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Resource>> resources_ ABSL_GUARDED_BY(mu_);
  size_t series_ ABSL_GUARDED_BY(mu_) = 0;

  // Flushes one at a time (timer, Shutdown); a delta flush refused is kept for the next.
  std::mutex flush_mu_;
  std::optional<pdata::Metrics> pending_;
  common::LoopTicker ticker_;  // after what its flush uses: destroyed (stopped) before them
  bool shut_down_ = false;

  prometheus::Gauge* series_gauge_;
  prometheus::Counter* spans_;
  prometheus::Counter* no_service_;
  prometheus::Counter* overflow_;
  prometheus::Counter* expired_;
  prometheus::Counter* evicted_;
  prometheus::Counter* refused_;
};

}  // namespace outrigger::connectors::span_metrics
