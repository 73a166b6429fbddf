#pragma once
// Aggregation of StatsD values per interval, keyed by type + name + container + tags.
// Counters sum value / sample_rate; gauges keep the last value (or apply +/- deltas);
// sets count distinct members; timings, histograms and distributions weigh each value by
// 1 / sample_rate (so counts, sums, quantiles and bucket counts scale with the sample
// rate, and the values themselves do not). Memory per series is bounded whatever the
// rate: histograms are accumulated into buckets as values arrive, and summaries keep a
// bounded reservoir of values (count, sum, min and max stay exact).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/pdata/builders.h"
#include "receivers/statsd/config.h"
#include "receivers/statsd/parser.h"

namespace outrigger::receivers::statsd {

// A timing / histogram / distribution series over one interval.
struct Distribution {
  static constexpr int kCollectScale = 8;  // exponential buckets: 0.27% relative width
  static constexpr size_t kMaxSummarySamples = 16384;

  double count = 0, sum = 0, last = 0;
  double min = 0, max = 0;
  std::vector<double> buckets;                              // explicit histogram
  absl::flat_hash_map<int32_t, double> positive, negative;  // exponential, at kCollectScale
  double zero = 0;
  std::vector<std::pair<double, double>> samples;  // summary: (value, weight)
  uint64_t offered = 0;                            // summary: values seen

  void Add(double v, double w, const TimerMapping& m, std::mt19937_64& rng);
  void Clear();
  // An exponential histogram with at most max_size buckets per sign.
  pdata::ExponentialHistogramPoint Exponential(int max_size) const;
};

class Aggregator {
 public:
  explicit Aggregator(const Config& cfg);

  // False if the line would add a series beyond max_series_per_metric (then dropped).
  bool Add(const MetricLine& line, uint64_t now_ns);
  // Emits what the interval gathered; resets per temporality.
  void Flush(pdata::MetricsBuilder& b, uint64_t now_ns);
  size_t series() const { return series_.size(); }

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
    const TimerMapping* mapping = nullptr;  // timings, histograms, distributions
    Distribution dist;
  };
  void Emit(pdata::MetricsBuilder& b, Series& s, uint64_t start_ns, uint64_t now_ns);

  const Config& cfg_;
  absl::flat_hash_map<std::string, Series> series_;
  absl::flat_hash_map<std::string, int64_t> per_name_;
  uint64_t interval_start_ns_ = 0;
  std::string key_;
  std::vector<Tag> sorted_;
  std::mt19937_64 rng_{12345};
};

}  // namespace outrigger::receivers::statsd
