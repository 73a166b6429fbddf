#include "receivers/statsd/aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace outrigger::receivers::statsd {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using Req = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

class AggregatorTest : public ::testing::Test {
 protected:
  void Send(Aggregator& a, std::string_view line) {
    MetricLine m;
    EventLine e;
    ServiceCheckLine c;
    std::string err;
    ASSERT_EQ(ParseLine(line, &m, &e, &c, &err), LineKind::kMetric) << err;
    last_add_ = a.Add(m, 1000);
  }
  // Flushes and returns the metrics by name.
  std::map<std::string, mpb::Metric> Flush(Aggregator& a) {
    pdata::MetricsBuilder b({}, "test", "");
    a.Flush(b, 2000);
    std::map<std::string, mpb::Metric> out;
    b.Build().ForEachRequest([&](const Req& r) {
      for (const auto& rm : r.resource_metrics())
        for (const auto& sm : rm.scope_metrics())
          for (const auto& m : sm.metrics()) out[m.name()] = m;
    });
    return out;
  }
  Config cfg_;
  AddResult last_add_ = AddResult::kAdded;
};

TEST_F(AggregatorTest, CountersScaleBySampleRate) {
  Aggregator a(cfg_);
  Send(a, "hits:1|c|@0.1");
  Send(a, "hits:2|c");
  Send(a, "hits:1:1|c|@0.5");
  auto m = Flush(a);
  ASSERT_TRUE(m.count("hits"));
  const auto& sum = m["hits"].sum();
  EXPECT_EQ(sum.aggregation_temporality(), mpb::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_FALSE(sum.is_monotonic());
  ASSERT_EQ(sum.data_points_size(), 1);
  EXPECT_DOUBLE_EQ(sum.data_points(0).as_double(), 10 + 2 + 4);
  // Delta: nothing new, nothing emitted.
  EXPECT_EQ(Flush(a).count("hits"), 0u);
}

TEST_F(AggregatorTest, DisabledTypesAreIgnored) {
  TimerMapping timing;
  timing.statsd_type = "timing";
  timing.observer_type = "gauge";
  TimerMapping histogram;
  histogram.statsd_type = "histogram";
  histogram.observer_type = "disabled";
  cfg_.timer_histogram_mapping = {timing, histogram};  // distribution unnamed: disabled too
  Aggregator a(cfg_);
  Send(a, "latency:12|ms");
  EXPECT_EQ(last_add_, AddResult::kAdded);
  Send(a, "size:3|h");
  EXPECT_EQ(last_add_, AddResult::kDisabled);
  Send(a, "payload:7|d");
  EXPECT_EQ(last_add_, AddResult::kDisabled);
  auto m = Flush(a);
  EXPECT_EQ(m.size(), 1u);
  ASSERT_TRUE(m.count("latency"));
  EXPECT_DOUBLE_EQ(m["latency"].gauge().data_points(0).as_double(), 12);
}

TEST_F(AggregatorTest, CumulativeMonotonicCountersKeepCounting) {
  cfg_.aggregation_temporality = "cumulative";
  cfg_.is_monotonic_counter = true;
  Aggregator a(cfg_);
  Send(a, "hits:3|c");
  EXPECT_DOUBLE_EQ(Flush(a)["hits"].sum().data_points(0).as_double(), 3);
  Send(a, "hits:2|c");
  auto m = Flush(a);
  EXPECT_TRUE(m["hits"].sum().is_monotonic());
  EXPECT_DOUBLE_EQ(m["hits"].sum().data_points(0).as_double(), 5);
  EXPECT_DOUBLE_EQ(Flush(a)["hits"].sum().data_points(0).as_double(), 5);  // reported while known
}

TEST_F(AggregatorTest, GaugesAndDeltas) {
  Aggregator a(cfg_);
  Send(a, "temp:20|g");
  Send(a, "temp:+5|g");
  Send(a, "temp:-1.5|g");
  EXPECT_DOUBLE_EQ(Flush(a)["temp"].gauge().data_points(0).as_double(), 23.5);
  Send(a, "temp:+1|g");  // deltas apply to the value kept across intervals
  EXPECT_DOUBLE_EQ(Flush(a)["temp"].gauge().data_points(0).as_double(), 24.5);
}

TEST_F(AggregatorTest, SetsCountDistinctMembersPerInterval) {
  Aggregator a(cfg_);
  for (auto u : {"a", "b", "a", "c", "b"}) Send(a, std::string("users:") + u + "|s");
  EXPECT_DOUBLE_EQ(Flush(a)["users"].gauge().data_points(0).as_double(), 3);
  Send(a, "users:a|s");
  EXPECT_DOUBLE_EQ(Flush(a)["users"].gauge().data_points(0).as_double(), 1);
}

TEST_F(AggregatorTest, TagsMakeSeriesWhateverTheirOrder) {
  cfg_.enable_metric_type = true;
  Aggregator a(cfg_);
  Send(a, "req:1|c|#b:2,a:1");
  Send(a, "req:1|c|#a:1,b:2");
  Send(a, "req:1|c|#a:1,b:3|c:cid");
  auto m = Flush(a);
  ASSERT_EQ(m["req"].sum().data_points_size(), 2);
  double total = 0;
  for (const auto& p : m["req"].sum().data_points()) {
    total += p.as_double();
    bool has_type = false;
    for (const auto& kv : p.attributes())
      has_type |= kv.key() == "metric_type" && kv.value().string_value() == "counter";
    EXPECT_TRUE(has_type);
  }
  EXPECT_DOUBLE_EQ(total, 3);
}

TEST_F(AggregatorTest, RepeatedTagKeysBecomeOneAttribute) {
  Aggregator a(cfg_);
  Send(a, "req:1|c|#a:2,a:1,b:x");
  auto m = Flush(a);
  const auto& p = m["req"].sum().data_points(0);
  ASSERT_EQ(p.attributes_size(), 2);
  EXPECT_EQ(p.attributes(0).key(), "a");
  EXPECT_EQ(p.attributes(0).value().string_value(), "1");
}

TEST_F(AggregatorTest, TimerSampleRateScalesCountsNotValues) {
  TimerMapping t;
  t.statsd_type = "timing";
  t.observer_type = "summary";
  t.percentiles = {0, 50, 90, 100};
  cfg_.timer_histogram_mapping = {t};
  Aggregator a(cfg_);
  for (int i = 0; i < 5; ++i) Send(a, "lat:100|ms|@0.1");
  Send(a, "lat:300|ms");
  auto flushed = Flush(a);
  const auto& p = flushed["lat"].summary().data_points(0);
  EXPECT_EQ(p.count(), 51u);
  EXPECT_DOUBLE_EQ(p.sum(), 100 * 50 + 300);
  ASSERT_EQ(p.quantile_values_size(), 4);
  EXPECT_DOUBLE_EQ(p.quantile_values(0).value(), 100);  // min
  EXPECT_DOUBLE_EQ(p.quantile_values(1).value(), 100);  // median: 50 of 51 weight is 100
  EXPECT_DOUBLE_EQ(p.quantile_values(2).value(), 100);
  EXPECT_DOUBLE_EQ(p.quantile_values(3).value(), 300);  // max
  EXPECT_DOUBLE_EQ(p.quantile_values(2).quantile(), 0.9);
}

TEST_F(AggregatorTest, ExplicitBucketsAreHonoured) {
  TimerMapping h;
  h.statsd_type = "histogram";
  h.observer_type = "histogram";
  h.explicit_buckets = {10, 100};
  cfg_.timer_histogram_mapping = {h};
  Aggregator a(cfg_);
  Send(a, "size:5|h");
  Send(a, "size:10|h|@0.5");  // upper bound inclusive
  Send(a, "size:50:150|h");
  auto flushed = Flush(a);
  const auto& p = flushed["size"].histogram().data_points(0);
  EXPECT_EQ(p.count(), 5u);
  EXPECT_EQ(std::vector<double>(p.explicit_bounds().begin(), p.explicit_bounds().end()),
            (std::vector<double>{10, 100}));
  EXPECT_EQ(std::vector<uint64_t>(p.bucket_counts().begin(), p.bucket_counts().end()),
            (std::vector<uint64_t>{3, 1, 1}));
  EXPECT_DOUBLE_EQ(p.sum(), 5 + 20 + 50 + 150);
  EXPECT_DOUBLE_EQ(p.min(), 5);
  EXPECT_DOUBLE_EQ(p.max(), 150);
}

TEST_F(AggregatorTest, DefaultMappingIsLastValueGauge) {
  Aggregator a(cfg_);
  Send(a, "d:1|d");
  Send(a, "d:7|d");
  auto m = Flush(a);
  EXPECT_DOUBLE_EQ(m["d"].gauge().data_points(0).as_double(), 7);
  // The last of a multi-value line, whatever its sample rate; an idle interval emits nothing.
  Send(a, "t:3:9:4|ms|@0.5");
  EXPECT_DOUBLE_EQ(Flush(a)["t"].gauge().data_points(0).as_double(), 4);
  EXPECT_EQ(Flush(a).count("t"), 0u);
}

TEST(ExponentialHistogram, BucketsHoldEveryValueWithinMaxSize) {
  TimerMapping m;
  m.observer_type = "histogram";
  Distribution d;
  std::mt19937_64 rng;
  for (int i = 1; i <= 1000; ++i) d.Add(i, 1, m, rng);
  d.Add(0, 2, m, rng);
  d.Add(-4, 1, m, rng);
  auto p = d.Exponential(20);
  EXPECT_EQ(p.count, 1003u);
  EXPECT_EQ(p.zero_count, 2u);
  EXPECT_LE(p.positive.size(), 20u);
  uint64_t in_buckets = p.zero_count;
  for (auto c : p.positive) in_buckets += c;
  for (auto c : p.negative) in_buckets += c;
  EXPECT_EQ(in_buckets, p.count);
  // The first and last buckets hold the smallest and largest values.
  const double base = std::pow(2.0, std::pow(2.0, -p.scale));
  EXPECT_LT(std::pow(base, p.positive_offset), 1.0 + 1e-9);
  EXPECT_GE(std::pow(base, p.positive_offset + static_cast<int>(p.positive.size())), 1000 - 1e-6);
  EXPECT_DOUBLE_EQ(p.min, -4);
  EXPECT_DOUBLE_EQ(p.max, 1000);
}

TEST(SummaryReservoir, MemoryIsBoundedAndCountsStayExact) {
  TimerMapping m;
  m.observer_type = "summary";
  Distribution d;
  std::mt19937_64 rng;
  for (int i = 0; i < 200000; ++i) d.Add(i % 1000, 2, m, rng);
  EXPECT_EQ(d.samples.size(), Distribution::kMaxSummarySamples);
  EXPECT_DOUBLE_EQ(d.count, 400000);
  EXPECT_DOUBLE_EQ(d.min, 0);
  EXPECT_DOUBLE_EQ(d.max, 999);
  // The reservoir is a fair sample: its median is near the true median (499.5).
  auto s = d.samples;
  std::nth_element(s.begin(), s.begin() + s.size() / 2, s.end());
  EXPECT_NEAR(s[s.size() / 2].first, 500, 25);
}

TEST_F(AggregatorTest, CardinalityLimitPerName) {
  cfg_.max_series_per_metric = 3;
  Aggregator a(cfg_);
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    Send(a, "req:1|c|#user:" + std::to_string(i));
    refused += last_add_ == AddResult::kPerMetricLimit;
  }
  Send(a, "other:1|c");
  EXPECT_EQ(last_add_, AddResult::kAdded);
  EXPECT_EQ(refused, 7);
  EXPECT_EQ(Flush(a)["req"].sum().data_points_size(), 3);
  // Idle series are forgotten after a few intervals, which frees their places.
  for (int i = 0; i < 6; ++i) Flush(a);
  EXPECT_EQ(a.series(), 0u);
  Send(a, "req:1|c|#user:new");
  EXPECT_EQ(last_add_, AddResult::kAdded);
}

// Issue 15: a million distinct names (one line each) took the receiver to 2.1 GB;
// max_series_per_metric bounds tags per name, nothing bounded names.
TEST_F(AggregatorTest, MaxSeriesBoundsAllNamesTogether) {
  cfg_.max_series = 1000;
  Aggregator a(cfg_);
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    Send(a, "name" + std::to_string(i) + ":1|c");
    refused += last_add_ == AddResult::kSeriesLimit;
  }
  EXPECT_EQ(refused, 4000);
  EXPECT_EQ(a.series(), 1000u);
  // Existing series keep aggregating.
  Send(a, "name7:2|c");
  EXPECT_EQ(last_add_, AddResult::kAdded);
  auto flushed = Flush(a);
  EXPECT_EQ(flushed.size(), 1000u);
  EXPECT_EQ(flushed["name7"].sum().data_points(0).as_double(), 3);
  EXPECT_EQ(flushed.count("name1000"), 0u);
  // Still full: new names are refused, and the limit being reached makes the next flush
  // forget what was idle in the interval (not after 5 flushes).
  Send(a, "late:1|c");
  EXPECT_EQ(last_add_, AddResult::kSeriesLimit);
  Send(a, "name7:1|c");
  EXPECT_EQ(last_add_, AddResult::kAdded);
  Flush(a);
  EXPECT_EQ(a.series(), 1u);  // name7, touched
  Send(a, "late:1|c");
  EXPECT_EQ(last_add_, AddResult::kAdded);
}

TEST_F(AggregatorTest, MaxSeriesCountsTagSetsAndTypes) {
  cfg_.max_series = 3;
  Aggregator a(cfg_);
  Send(a, "x:1|c|#a:1");
  Send(a, "x:1|c|#a:2");
  Send(a, "x:1|g");
  EXPECT_EQ(last_add_, AddResult::kAdded);
  Send(a, "x:1|ms");
  EXPECT_EQ(last_add_, AddResult::kSeriesLimit);
}

TEST_F(AggregatorTest, MemoryOfForgottenSeriesIsGivenBack) {
  cfg_.max_series = 0;
  cfg_.max_series_per_metric = 0;
  Aggregator a(cfg_);
  for (int i = 0; i < 100000; ++i) Send(a, "burst" + std::to_string(i) + ":1|c");
  const size_t burst_capacity = a.capacity();
  EXPECT_GE(burst_capacity, 100000u);
  for (int i = 0; i < 6; ++i) Flush(a);
  EXPECT_EQ(a.series(), 0u);
  // The map is rebuilt small, not left with 100,000 empty slots.
  EXPECT_LT(a.capacity(), 2048u);
}

// A line's series is found again by the line as sent (no tag parsing): while series come
// and go around it (a new one, others forgotten, the map rebuilt smaller), each line
// still counts in its own series, split tag fields and repeated lines included.
TEST_F(AggregatorTest, SeriesFoundByTheLineAsSentStayRight) {
  cfg_.max_series = 0;
  cfg_.max_series_per_metric = 0;
  Aggregator a(cfg_);
  Send(a, "req:1|c|#a:1,b:2");
  Send(a, "req:2|c|#a:1,b:2");                                                   // found as sent
  Send(a, "req:4|c|#b:2|#a:1");                                                  // the same series, sent otherwise
  Send(a, "req:8|c|#a:1|c:cid");                                                 // another series
  for (int i = 0; i < 3000; ++i) Send(a, "other" + std::to_string(i) + ":1|c");  // series_ grows
  Send(a, "req:16|c|#a:1,b:2");
  auto m = Flush(a);
  ASSERT_EQ(m["req"].sum().data_points_size(), 2);
  double with_b = 0, with_cid = 0;
  for (const auto& p : m["req"].sum().data_points())
    (p.attributes(1).key() == "b" ? with_b : with_cid) += p.as_double();
  EXPECT_DOUBLE_EQ(with_b, 1 + 2 + 4 + 16);
  EXPECT_DOUBLE_EQ(with_cid, 8);
  // Idle for 5 flushes: every series is forgotten and the map rebuilt; then the lines again.
  for (int i = 0; i < 5; ++i) Flush(a);
  EXPECT_EQ(a.series(), 0u);
  Send(a, "req:32|c|#a:1,b:2");
  Send(a, "req:64|c|#a:1,b:2");
  m = Flush(a);
  ASSERT_EQ(m["req"].sum().data_points_size(), 1);
  EXPECT_DOUBLE_EQ(m["req"].sum().data_points(0).as_double(), 96);
}

// Names, containers and tags may hold any byte: lines of different series never share a
// key (with separator bytes, a container could spell out a tag).
TEST_F(AggregatorTest, KeysOfDifferentSeriesNeverCollide) {
  Aggregator a(cfg_);
  Send(a, "a:1|c|#k:v");
  Send(a, "a:2|c|c:\x1f\x1f\x1fk\x1ev");
  Send(a, "a:4|c|c:\x1fk\x1ev");
  auto m = Flush(a);
  EXPECT_EQ(m["a"].sum().data_points_size(), 3);
}

}  // namespace
}  // namespace outrigger::receivers::statsd
