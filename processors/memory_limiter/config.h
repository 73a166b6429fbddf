#pragma once
// memory_limiter: upstream's options. check_interval and one of limit_mib /
// limit_percentage are required (upstream has no default for them either).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "collector/component/factory.h"
#include "collector/memory/memory_limiter.h"

namespace outrigger::processors::memory_limiter {

// Upstream's garbage-collector options: accepted (a duration each) and ignored with a
// warning: we give memory back with malloc_trim instead (see memory_limiter.h).
inline constexpr const char* kIgnoredGcOptions[] = {
    "min_gc_interval_when_soft_limited",
    "min_gc_interval_when_hard_limited",
    "max_gc_interval_when_soft_limited",
    "max_gc_interval_when_hard_limited",
};

struct Config : ComponentConfig {
  // How often memory usage is read. Required (> 0).
  absl::Duration check_interval = absl::ZeroDuration();
  // Hard limit in MiB; wins over limit_percentage.
  uint64_t limit_mib = 0;
  // Headroom below the hard limit: soft limit = limit - spike. 0: 20% of the limit.
  uint64_t spike_limit_mib = 0;
  // Hard limit and spike as percentages of the memory available (cgroup limit, or
  // physical memory when smaller or unlimited).
  uint64_t limit_percentage = 0;
  uint64_t spike_limit_percentage = 0;
  // The GC options that were set (ignored), for the warning at creation.
  std::vector<std::string> ignored;
  // Upstream's min_gc_interval_when_{soft,hard}_limited (defaults 10s and 0s): ignored,
  // but checked as upstream does (soft must not be below hard).
  absl::Duration min_gc_soft = absl::Seconds(10);
  absl::Duration min_gc_hard = absl::ZeroDuration();

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // The limits in bytes; `available` is asked only for limit_percentage.
  absl::StatusOr<memory::Limits> Resolve(const std::function<absl::StatusOr<uint64_t>()>& available) const;
};

}  // namespace outrigger::processors::memory_limiter
