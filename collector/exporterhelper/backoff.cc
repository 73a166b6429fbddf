#include "collector/exporterhelper/backoff.h"

#include <algorithm>

namespace outrigger::exporterhelper {

RetryConfig RetryConfig::Doubling(absl::Duration initial, absl::Duration max) {
  RetryConfig c;
  c.initial_interval = initial;
  c.randomization_factor = 0;
  c.multiplier = 2;
  c.max_interval = max;
  c.max_elapsed_time = absl::ZeroDuration();
  return c;
}

Backoff::Backoff(const RetryConfig& cfg, std::optional<uint64_t> seed)
    : cfg_(cfg), current_(cfg.initial_interval), seed_(seed) {}

std::optional<absl::Duration> Backoff::Next(absl::Duration elapsed, std::optional<absl::Duration> server_delay) {
  absl::Duration d;
  if (server_delay && *server_delay > absl::ZeroDuration()) {
    d = *server_delay;
  } else {
    double f = cfg_.randomization_factor;
    std::uniform_real_distribution<double> u(1 - f, 1 + f);
    if (f > 0 && !rng_) rng_.emplace(seed_ ? *seed_ : std::random_device{}());
    d = current_ * (f > 0 ? u(*rng_) : 1.0);
    current_ = std::min(current_ * cfg_.multiplier, cfg_.max_interval);
  }
  if (cfg_.max_elapsed_time > absl::ZeroDuration() && elapsed + d > cfg_.max_elapsed_time) {
    return std::nullopt;
  }
  return d;
}

}  // namespace outrigger::exporterhelper
