#pragma once
// Aggregation of StatsD values per interval, keyed by type + name + container + tags.
// Counters sum value / sample_rate; gauges keep the last value (or apply +/- deltas);
// sets count distinct members; timings, histograms and distributions weigh each value by
// 1 / sample_rate (so counts, sums, quantiles and bucket counts scale with the sample
// rate, and the values themselves do not). Memory per series is bounded whatever the
// rate: histograms are accumulated into buckets as values arrive, and summaries keep a
// bounded reservoir of values (count, sum, min and max stay exact). The number of series
// is bounded too: max_series_per_metric per name, max_series in all (see Add).

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/pdata/builders.h"
#include "receivers/statsd/config.h"
#include "receivers/statsd/parser.h"

namespace outrigger::receivers::statsd {

// What a timing / histogram / distribution series keeps: TimerMapping::observer_type,
// read once instead of compared per value.
enum class Observer : uint8_t { kGauge, kSummary, kHistogram, kDisabled };
Observer ObserverOf(const TimerMapping& m);

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

  void Add(double v, double w, const TimerMapping& m, Observer o, std::mt19937_64& rng);
  void Add(double v, double w, const TimerMapping& m, std::mt19937_64& rng) { Add(v, w, m, ObserverOf(m), rng); }
  void Clear();
  // An exponential histogram with at most max_size buckets per sign.
  pdata::ExponentialHistogramPoint Exponential(int max_size) const;
};

enum class AddResult {
  kAdded,
  kPerMetricLimit,  // a new series beyond max_series_per_metric: dropped
  kSeriesLimit,     // a new series beyond max_series: dropped
  kDisabled,        // a timing/histogram/distribution whose observer_type is disabled: ignored
};

class Aggregator {
 public:
  explicit Aggregator(const Config& cfg);

  // Aggregates the line into its series. A line of a series that exists always counts; a
  // new series beyond max_series_per_metric or max_series is dropped (nothing is kept).
  AddResult Add(const MetricLine& line, uint64_t now_ns);
  // Emits what the interval gathered; resets per temporality. Series idle for 5 flushes
  // are forgotten, and if the interval reached max_series, every series idle in it is
  // (room for new ones at once). Containers left mostly empty are rebuilt smaller.
  // Returns how many series were forgotten.
  size_t Flush(pdata::MetricsBuilder& b, uint64_t now_ns);
  size_t series() const { return series_.size(); }
  // Slots allocated for series (tests: memory is given back after a burst).
  size_t capacity() const { return series_.capacity(); }

 private:
  struct Series {
    MetricType type;
    std::string name;
    pdata::Attributes attrs;
    uint64_t start_ns = 0;
    bool touched = false;
    int idle_flushes = 0;
    double value = 0;  // counter sum, gauge value; last value of a timing etc. observed as a gauge
    // Only for the types that need them (most series are counters and gauges: a
    // million of them should not each carry a set and a distribution).
    std::unique_ptr<absl::flat_hash_set<std::string>> members;  // sets
    // Timings, histograms and distributions, unless observed as a gauge (their mapping
    // and observer are the aggregator's, by type).
    std::unique_ptr<Distribution> dist;
  };
  Series* FindOrAdd(const MetricLine& line, uint64_t now_ns, AddResult* refused);
  void Emit(pdata::MetricsBuilder& b, Series& s, uint64_t start_ns, uint64_t now_ns);
  void Forget(const Series& s);

  const Config& cfg_;
  // By MetricType: the mapping and observer of timings, histograms and distributions.
  std::array<const TimerMapping*, 6> mapping_{};
  std::array<Observer, 6> observer_{};
  absl::flat_hash_map<std::string, Series> series_;
  absl::flat_hash_map<std::string, int64_t> per_name_;
  bool limit_reached_ = false;  // max_series was reached this interval
  uint64_t interval_start_ns_ = 0;
  std::string key_;
  std::vector<Tag> sorted_;
  // A line's series by the line as sent (type, name, container, tag fields unparsed): a
  // series found here needs no tag parsing, sorting or key. Emptied whenever series_
  // gains or loses one (its pointers do not survive a rehash), and when it grows past
  // twice the series (tags sent in many orders).
  absl::flat_hash_map<std::string, Series*> sent_;
  std::string sent_key_;
  std::vector<std::string_view> parts_;  // of the canonical key being made
  std::mt19937_64 rng_{12345};
};

}  // namespace outrigger::receivers::statsd
