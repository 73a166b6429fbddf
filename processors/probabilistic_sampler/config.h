#pragma once

#include <cstdint>
#include <string>

#include "collector/component/factory.h"

namespace outrigger::processors::probabilistic_sampler {

// upstream's sampler modes (sampler_mode.go).
enum class Mode { kUnset, kHashSeed, kProportional, kEqualizing };
std::string_view ModeName(Mode m);

inline constexpr float kDefaultSamplingPercentage = 0;
inline constexpr uint32_t kDefaultHashSeed = 0;
inline constexpr bool kDefaultFailClosed = true;
inline constexpr int kDefaultSamplingPrecision = 4;
inline constexpr char kTraceIdSource[] = "traceID";
inline constexpr char kRecordSource[] = "record";

struct Config : ComponentConfig {
  // Upstream declares it float32; its value, rounded to float, enters every computation
  // (so decisions match upstream's for the same configured number).
  float sampling_percentage = kDefaultSamplingPercentage;
  uint32_t hash_seed = kDefaultHashSeed;
  Mode mode = Mode::kUnset;
  bool fail_closed = kDefaultFailClosed;
  int sampling_precision = kDefaultSamplingPrecision;  // hex digits of `th`, 1..14
  // logs only
  std::string attribute_source = kTraceIdSource;  // traceID | record
  std::string from_attribute;
  std::string sampling_priority;

  // The mode used for `signal` (upstream's makeSampler): unset means hash_seed.
  Mode EffectiveMode() const { return mode == Mode::kUnset ? Mode::kHashSeed : mode; }
  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::processors::probabilistic_sampler
