// The exponential histogram: upstream's bucket boundaries (upper-inclusive) and the
// downscale that keeps at most max_size buckets.
#include "connectors/span_metrics/exponential_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace outrigger::connectors::span_metrics {
namespace {

TEST(ExponentialHistogram, IndexIsUpperInclusive) {
  // Scale 0: bucket i holds (2^i, 2^(i+1)].
  EXPECT_EQ(ExponentialHistogram::Index(1.0, 0), -1);
  EXPECT_EQ(ExponentialHistogram::Index(1.5, 0), 0);
  EXPECT_EQ(ExponentialHistogram::Index(2.0, 0), 0);
  EXPECT_EQ(ExponentialHistogram::Index(2.1, 0), 1);
  EXPECT_EQ(ExponentialHistogram::Index(4.0, 0), 1);
  // Scale 1: base sqrt(2); 2 = base^2 is the top of bucket 1.
  EXPECT_EQ(ExponentialHistogram::Index(2.0, 1), 1);
  EXPECT_EQ(ExponentialHistogram::Index(2.5, 1), 2);
  // Scale -1: base 4; (1, 4] is bucket 0, (4, 16] bucket 1.
  EXPECT_EQ(ExponentialHistogram::Index(4.0, -1), 0);
  EXPECT_EQ(ExponentialHistogram::Index(5.0, -1), 1);
  EXPECT_EQ(ExponentialHistogram::Index(0.5, -1), -1);
  // Every value lies within its bucket's bounds at a high scale.
  for (double v : {0.001, 0.37, 1.0, 3.0, 17.5, 1234.5, 9.9e6}) {
    for (int s : {3, 8, 20}) {
      int32_t i = ExponentialHistogram::Index(v, s);
      double base = std::exp2(std::exp2(-s));
      EXPECT_GT(v, std::pow(base, i) * (1 - 1e-9)) << v << " scale " << s;
      EXPECT_LE(v, std::pow(base, i + 1) * (1 + 1e-9)) << v << " scale " << s;
    }
  }
}

TEST(ExponentialHistogram, DownscalesToStayWithinMaxSize) {
  ExponentialHistogram h(4);
  h.Record(1.5);
  EXPECT_EQ(h.scale(), 20);
  h.Record(0);
  h.Record(3.0);    // 2x apart: scale must come down so that both fit in 4 buckets
  h.Record(100.0);  // then down more
  EXPECT_LE(h.counts().size(), 4u);
  EXPECT_EQ(h.zero_count(), 1u);
  EXPECT_EQ(std::accumulate(h.counts().begin(), h.counts().end(), uint64_t{0}), 3u);
  // Each value sits in the bucket its index names at the final scale.
  for (double v : {1.5, 3.0, 100.0}) {
    int32_t i = ExponentialHistogram::Index(v, h.scale());
    ASSERT_GE(i, h.offset());
    ASSERT_LT(i - h.offset(), static_cast<int32_t>(h.counts().size()));
    EXPECT_GE(h.counts()[static_cast<size_t>(i - h.offset())], 1u) << v;
  }
  // 1.5 .. 100 is a ratio of 66.7: at scale 0 that is 7 buckets, at -1 four.
  EXPECT_EQ(h.scale(), -1);
  h.Reset();
  EXPECT_EQ(h.scale(), 20);
  EXPECT_TRUE(h.counts().empty());
}

}  // namespace
}  // namespace outrigger::connectors::span_metrics
