#pragma once
// The one exponential backoff of the collector, as the OpenTelemetry Collector's
// retry_on_failure: the n-th delay is initial_interval * multiplier^n, capped at
// max_interval, randomized by +-randomization_factor; none once max_elapsed_time would
// pass (0: never gives up). With randomization_factor 0 the delays are exact, so tests
// (and callers that want a plain doubling) can rely on them.
//
// Used by the exporter helper's retry loop, the Elasticsearch exporter's in-push resends,
// and the filelog receiver (refused batches, failed checkpoint writes).

#include <cstdint>
#include <optional>
#include <random>

#include "absl/time/time.h"

namespace outrigger::exporterhelper {

inline constexpr absl::Duration kDefaultInitialInterval = absl::Seconds(5);
inline constexpr double kDefaultRandomizationFactor = 0.5;
inline constexpr double kDefaultMultiplier = 1.5;
inline constexpr absl::Duration kDefaultMaxInterval = absl::Seconds(30);
inline constexpr absl::Duration kDefaultMaxElapsedTime = absl::Minutes(5);

// retry_on_failure; the defaults are the OpenTelemetry Collector's.
struct RetryConfig {
  bool enabled = true;  // read by the callers; the backoff itself ignores it
  absl::Duration initial_interval = kDefaultInitialInterval;
  double randomization_factor = kDefaultRandomizationFactor;
  double multiplier = kDefaultMultiplier;
  absl::Duration max_interval = kDefaultMaxInterval;
  absl::Duration max_elapsed_time = kDefaultMaxElapsedTime;  // 0: retry until shutdown

  // Exact delays that double from `initial` up to `max`, without end (no randomization,
  // no max_elapsed_time).
  static RetryConfig Doubling(absl::Duration initial, absl::Duration max);
};

// Not thread-safe: one per retry sequence (or per owner thread).
class Backoff {
 public:
  // Without `seed`, the generator is seeded from std::random_device at the first
  // randomized delay, not here: a Backoff is made per export request, and most never
  // retry (a random_device costs a kernel call or an RDRAND per construction).
  explicit Backoff(const RetryConfig& cfg, std::optional<uint64_t> seed = std::nullopt);

  // The delay before the next attempt, or nullopt once max_elapsed_time would pass.
  // `elapsed` is the time since the first attempt; `server_delay` (a positive one) is
  // returned instead of the computed delay and does not advance the sequence.
  std::optional<absl::Duration> Next(absl::Duration elapsed, std::optional<absl::Duration> server_delay = std::nullopt);
  // The next delay when max_elapsed_time is 0 (the sequence never ends).
  absl::Duration NextDelay() { return *Next(absl::ZeroDuration()); }

  // Starts again from initial_interval (after a success).
  void Reset() { current_ = cfg_.initial_interval; }

  // The interval the next delay is made from (before randomization).
  absl::Duration current() const { return current_; }
  const RetryConfig& config() const { return cfg_; }

 private:
  RetryConfig cfg_;
  absl::Duration current_;
  std::optional<uint64_t> seed_;
  std::optional<std::mt19937_64> rng_;  // made at the first randomized delay
};

}  // namespace outrigger::exporterhelper
