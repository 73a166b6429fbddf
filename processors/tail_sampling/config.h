#pragma once
// tail_sampling: upstream's tailsamplingprocessor options (decision_wait, num_traces,
// policies, decision_cache, ...) and ours (max_memory_mib). Policies decode into a tree
// of PolicyCfg; policy.h compiles them.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/component/factory.h"
#include "collector/ottl/config.h"
#include "collector/ottl/ottl.h"

namespace outrigger::processors::tail_sampling {

inline constexpr absl::Duration kDefaultDecisionWait = absl::Seconds(30);
inline constexpr uint64_t kDefaultNumTraces = 50000;
// Ours: upstream's decision caches are off by default (size 0), so spans arriving after
// the decision start a new trace and get a decision of their own. Here they follow the
// first one.
inline constexpr uint64_t kDefaultSampledCacheSize = 100000;
inline constexpr uint64_t kDefaultNonSampledCacheSize = 100000;
// Ours: the span data held, in MiB (upstream bounds only the number of traces and runs
// out of memory with large ones, contrib#29762).
inline constexpr uint64_t kDefaultMaxMemoryMib = 256;

// One policy (or sub-policy) of any type.
struct PolicyCfg {
  std::string name;
  std::string type;
  // latency
  int64_t threshold_ms = 0;
  int64_t upper_threshold_ms = 0;
  // string_attribute, numeric_attribute, boolean_attribute, trace_state
  std::string key;
  std::vector<std::string> values;
  bool enabled_regex_matching = false;
  int64_t cache_max_size = 0;
  bool invert_match = false;
  int64_t min_value = 0;  // 0: no lower bound (upstream's reading)
  int64_t max_value = 0;  // 0: no upper bound
  bool bool_value = false;
  // probabilistic
  std::string hash_salt;
  double sampling_percentage = 0;
  // status_code
  std::vector<std::string> status_codes;
  // rate_limiting / bytes_limiting
  int64_t spans_per_second = 0;
  int64_t bytes_per_second = 0;
  int64_t burst_capacity = 0;  // 0: twice the rate
  // span_count
  int64_t min_spans = 0;
  int64_t max_spans = 0;
  // ottl_condition
  ottl::ErrorMode error_mode = ottl::ErrorMode::kPropagate;
  std::vector<ottl::Condition> span_conditions;
  std::vector<ottl::Condition> spanevent_conditions;
  // and / drop / composite / not
  std::vector<PolicyCfg> sub;
  // composite
  int64_t max_total_spans_per_second = 0;
  std::vector<std::string> policy_order;
  struct Allocation {
    std::string policy;
    int64_t percent = 0;
  };
  std::vector<Allocation> rate_allocation;
};

struct Config : ComponentConfig {
  absl::Duration decision_wait = kDefaultDecisionWait;
  absl::Duration decision_wait_after_root_received = absl::ZeroDuration();  // 0: off
  uint64_t num_traces = kDefaultNumTraces;
  uint64_t expected_new_traces_per_sec = 0;
  bool sample_on_first_match = false;
  bool drop_pending_traces_on_shutdown = false;
  bool block_on_overflow = false;
  uint64_t maximum_trace_size_bytes = 0;  // 0: no limit
  uint64_t sampled_cache_size = kDefaultSampledCacheSize;
  uint64_t non_sampled_cache_size = kDefaultNonSampledCacheSize;
  uint64_t max_memory_mib = kDefaultMaxMemoryMib;  // 0: no limit
  std::vector<PolicyCfg> policies;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::processors::tail_sampling
