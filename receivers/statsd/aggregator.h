#pragma once
// Aggregation of StatsD values per interval, keyed by type + name + container + tags.
// Counters sum value / sample_rate; gauges keep the last value (or apply +/- deltas);
// sets count distinct members; timings, histograms and distributions keep their samples
// with weight 1 / sample_rate (so counts, sums, quantiles and bucket counts scale with
// the sample rate, and the values themselves do not).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/pdata/builders.h"
#include "receivers/statsd/config.h"
#include "receivers/statsd/parser.h"

namespace outrigger::receivers::statsd {

class Aggregator {
 public:
  explicit Aggregator(const Config& cfg);

  // False if the line would add a series beyond max_series_per_metric (then dropped).
  bool Add(const MetricLine& line, uint64_t now_ns);
  // Emits what the interval gathered; resets per temporality.
  void Flush(pdata::MetricsBuilder& b, uint64_t now_ns);
  size_t series() const { return series_.size(); }

  // Exposed for tests.
  static pdata::ExponentialHistogramPoint ExponentialFrom(const std::vector<std::pair<double, double>>& samples,
                                                          int max_size);

 private:
  struct Series {
    MetricType type;
    std::string name;
    pdata::Attributes attrs;
    uint64_t start_ns = 0;
    bool touched = false;
    int idle_flushes = 0;
    double value = 0;  // counter sum, gauge value
    absl::flat_hash_set<std::string> members;
    std::vector<std::pair<double, double>> samples;  // (value, weight)
  };
  void Emit(pdata::MetricsBuilder& b, Series& s, uint64_t start_ns, uint64_t now_ns);

  const Config& cfg_;
  absl::flat_hash_map<std::string, Series> series_;
  absl::flat_hash_map<std::string, int64_t> per_name_;
  uint64_t interval_start_ns_ = 0;
  std::string key_;
  std::vector<Tag> sorted_;
};

}  // namespace outrigger::receivers::statsd
