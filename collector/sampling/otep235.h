#pragma once
// OTEP 235 consistent probability sampling (OpenTelemetry's "tracestate probability
// sampling"): 56-bit thresholds and randomness, their hex encodings (`th`, `rv`), and
// the W3C tracestate with its `ot` section. Reproduces upstream's pkg/sampling
// (opentelemetry-collector-contrib: threshold.go, randomness.go, probability.go,
// oteltracestate.go, w3ctracestate.go) bit for bit, so decisions and encodings agree
// with upstream collectors and SDKs. Used by processors/probabilistic_sampler; meant
// for any component that samples by trace (the tail sampler's probabilistic policy).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace outrigger::sampling {

// 2^56: the number of randomness values; one more than the largest threshold that samples.
inline constexpr uint64_t kMaxAdjustedCount = uint64_t{1} << 56;
inline constexpr int kNumHexDigits = 14;  // 56 bits
inline constexpr double kMinSamplingProbability = 1.0 / static_cast<double>(kMaxAdjustedCount);

// 56 random bits, from the trace ID's last 7 bytes or an explicit `rv`.
struct Randomness {
  uint64_t unsigned_value = kMaxAdjustedCount - 1;  // default: sampled at every probability
  // The 14-digit lower-case hex encoding (leading zeros kept).
  std::string RValue() const;
  friend bool operator==(Randomness a, Randomness b) = default;
};
inline constexpr Randomness kAllProbabilitiesRandomness{kMaxAdjustedCount - 1};

// The number of randomness values (out of 2^56) that are rejected: 0 samples everything,
// 2^56 nothing. An item is sampled when threshold <= randomness.
struct Threshold {
  uint64_t unsigned_value = 0;
  bool ShouldSample(Randomness r) const { return unsigned_value <= r.unsigned_value; }
  // The `th` encoding: up to 14 hex digits with trailing zeros removed; "0" for always,
  // "" for never.
  std::string TValue() const;
  double Probability() const {
    return static_cast<double>(kMaxAdjustedCount - unsigned_value) / static_cast<double>(kMaxAdjustedCount);
  }
  // 1/probability; 0 for the never-sample threshold.
  double AdjustedCount() const;
  friend bool operator==(Threshold a, Threshold b) = default;
  friend auto operator<=>(Threshold a, Threshold b) = default;  // smaller = more probable
};
inline constexpr Threshold kAlwaysSampleThreshold{0};
inline constexpr Threshold kNeverSampleThreshold{kMaxAdjustedCount};

// `th` → threshold: 1..14 hex digits (either case), padded with trailing zeros.
absl::Status TValueToThreshold(std::string_view s, Threshold* out);
// `rv` → randomness: exactly 14 hex digits.
absl::Status RValueToRandomness(std::string_view s, Randomness* out);
// The W3C randomness of a trace ID (its last 7 bytes, big endian). `id` has 16 bytes.
Randomness TraceIdToRandomness(std::string_view id);
// True for a 16-byte id that is all zeros (W3C's invalid trace ID) or of the wrong size.
bool TraceIdEmpty(std::string_view id);

// Probability in [2^-56, 1] → threshold, rounded to `precision` significant hex digits
// (0 means 14), with more digits kept near 0 and 1 as upstream does. nullopt when the
// probability is out of range.
std::optional<Threshold> ProbabilityToThreshold(double probability, int precision);

// The `ot` section of a tracestate: `rv`, `th` and the other members, kept in order.
struct OTelTraceState {
  std::string rvalue;  // as received or set (empty: none)
  Randomness randomness;
  std::string tvalue;  // empty: none
  Threshold threshold;
  std::vector<std::pair<std::string, std::string>> extra;

  bool HasAny() const { return !rvalue.empty() || !tvalue.empty() || !extra.empty(); }
  // Lowers the sampling probability to `t`. Refuses (false, nothing changed) to raise an
  // existing threshold's probability: that would lose adjusted count.
  bool UpdateThreshold(Threshold t);
  void ClearThreshold() {
    tvalue.clear();
    threshold = Threshold{};
  }
  void SetRandomness(Randomness r) {
    randomness = r;
    rvalue = r.RValue();
  }
};

// A W3C tracestate (`key=value,...`): the `ot` member parsed, the others kept in order.
struct W3CTraceState {
  OTelTraceState ot;
  std::vector<std::pair<std::string, std::string>> members;  // other than `ot`

  // Parses `input`. On a syntax error, returns it (and `out` is unspecified). An invalid
  // `rv` or `th` inside a well-formed `ot` is returned too, the rest still parsed (as
  // upstream: the field is then absent).
  static absl::Status Parse(std::string_view input, W3CTraceState* out);
  // `ot=` first (when it has any field: `rv`, `th`, then the others), then the other
  // members in order.
  std::string Serialize() const;
};

}  // namespace outrigger::sampling
