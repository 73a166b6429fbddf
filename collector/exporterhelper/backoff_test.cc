#include "collector/exporterhelper/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace outrigger::exporterhelper {
namespace {

TEST(Backoff, ExponentialCappedAndBoundedByElapsed) {
  RetryConfig c;
  c.initial_interval = absl::Seconds(5);
  c.multiplier = 1.5;
  c.max_interval = absl::Seconds(30);
  c.randomization_factor = 0;
  c.max_elapsed_time = absl::Seconds(100);
  Backoff b(c);
  std::vector<absl::Duration> got;
  absl::Duration elapsed;
  while (auto d = b.Next(elapsed)) {
    got.push_back(*d);
    elapsed += *d;
  }
  std::vector<absl::Duration> want = {absl::Seconds(5),      absl::Seconds(7.5),     absl::Seconds(11.25),
                                      absl::Seconds(16.875), absl::Seconds(25.3125), absl::Seconds(30)};
  EXPECT_EQ(got, want);  // the next 30 s would pass 100 s in total
}

TEST(Backoff, JitterStaysWithinTheFactor) {
  RetryConfig c;
  c.initial_interval = absl::Seconds(10);
  c.randomization_factor = 0.5;
  c.multiplier = 1;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Backoff b(c, seed);
    auto d = b.Next(absl::ZeroDuration());
    ASSERT_TRUE(d.has_value());
    EXPECT_GE(*d, absl::Seconds(5));
    EXPECT_LE(*d, absl::Seconds(15));
  }
}

TEST(Backoff, ServerDelayWins) {
  RetryConfig c;
  Backoff b(c);
  EXPECT_EQ(b.Next(absl::ZeroDuration(), absl::Seconds(2)), absl::Seconds(2));
}

// Without randomization the sequence is exact: callers (and their tests) rely on it.
TEST(Backoff, DeterministicWithoutRandomization) {
  RetryConfig c;
  c.initial_interval = absl::Milliseconds(100);
  c.multiplier = 3;
  c.max_interval = absl::Seconds(2);
  c.randomization_factor = 0;
  c.max_elapsed_time = absl::ZeroDuration();
  for (uint64_t seed : {1u, 2u, 99u}) {
    Backoff b(c, seed);
    std::vector<absl::Duration> got;
    for (int i = 0; i < 5; ++i) got.push_back(b.NextDelay());
    EXPECT_EQ(got, (std::vector<absl::Duration>{absl::Milliseconds(100), absl::Milliseconds(300),
                                                absl::Milliseconds(900), absl::Seconds(2), absl::Seconds(2)}))
        << seed;
  }
}

// max_elapsed_time 0: the sequence never ends, whatever the elapsed time.
TEST(Backoff, ZeroMaxElapsedTimeNeverGivesUp) {
  RetryConfig c;
  c.max_elapsed_time = absl::ZeroDuration();
  Backoff b(c, 7);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(b.Next(absl::Hours(24 * 365)).has_value());
}

// A server's delay is used as it is and leaves the sequence where it was.
TEST(Backoff, ServerDelayDoesNotAdvanceTheSequence) {
  RetryConfig c = RetryConfig::Doubling(absl::Seconds(1), absl::Seconds(60));
  Backoff b(c);
  EXPECT_EQ(b.NextDelay(), absl::Seconds(1));
  EXPECT_EQ(b.Next(absl::ZeroDuration(), absl::Seconds(10)), absl::Seconds(10));
  EXPECT_EQ(b.Next(absl::ZeroDuration(), absl::ZeroDuration()), absl::Seconds(2));  // 0: not a delay
  EXPECT_EQ(b.current(), absl::Seconds(4));
}

TEST(Backoff, ResetStartsAgainFromTheInitialInterval) {
  Backoff b(RetryConfig::Doubling(absl::Milliseconds(20), absl::Milliseconds(100)));
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(20));
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(40));
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(80));
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(100));  // capped
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(100));
  b.Reset();
  EXPECT_EQ(b.current(), absl::Milliseconds(20));
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(20));
}

// Doubling() is exact, endless, and keeps a max_interval below the initial one as given
// (the first delay is the initial one, the next ones the cap), as the callers did before.
TEST(Backoff, DoublingConfig) {
  RetryConfig c = RetryConfig::Doubling(absl::Milliseconds(300), absl::Milliseconds(100));
  EXPECT_EQ(c.randomization_factor, 0);
  EXPECT_EQ(c.multiplier, 2);
  EXPECT_EQ(c.max_elapsed_time, absl::ZeroDuration());
  Backoff b(c);
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(300));
  EXPECT_EQ(b.NextDelay(), absl::Milliseconds(100));
}

TEST(Backoff, DefaultsAreTheOpenTelemetryCollectors) {
  RetryConfig c;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.initial_interval, absl::Seconds(5));
  EXPECT_EQ(c.randomization_factor, 0.5);
  EXPECT_EQ(c.multiplier, 1.5);
  EXPECT_EQ(c.max_interval, absl::Seconds(30));
  EXPECT_EQ(c.max_elapsed_time, absl::Minutes(5));
}

}  // namespace
}  // namespace outrigger::exporterhelper
