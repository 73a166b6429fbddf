#pragma once
// The policies of a tail_sampling processor, compiled from PolicyCfg, evaluated the way
// upstream's internal/sampling evaluators are, but fed span by span: what upstream finds
// by walking every span of a trace at decision time ("is there a span with ...", the
// earliest start and latest end, the span count) is folded into a small TraceState as
// the spans arrive, so the spans themselves can be held encoded. Decide() then reads
// the state (and the stateful limiters) in upstream's order: drop policies first, then
// the others; a drop wins, then an inverted not-sampled, then a sampled.
// Not thread-safe: the processor calls it under its lock.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "processors/tail_sampling/config.h"
#include "processors/tail_sampling/wire.h"

namespace outrigger::ottl {
struct EvalContext;
}
namespace spdlog {
class logger;
}

namespace outrigger::processors::tail_sampling {

// upstream's samplingpolicy.Decision (Pending and Unspecified are not needed here).
enum class Decision : uint8_t { kNotSampled, kSampled, kDropped, kError, kInvertSampled, kInvertNotSampled };
std::string_view DecisionLabel(Decision d);  // "sampled", "not_sampled", "dropped", "error" (inverts folded)

// What the policies need to know of a trace, folded span by span.
struct TraceState {
  // Bit i of the first words: leaf i matched (a span or resource satisfied it); of the
  // second half: leaf i hit an OTTL error (error_mode propagate) before any match.
  absl::InlinedVector<uint64_t, 2> bits;
  uint64_t min_start = 0;  // 0: none yet (upstream's reading of the zero timestamp)
  uint64_t max_end = 0;
  uint8_t status_mask = 0;  // 1 << status code seen (UNSET 0, OK 1, ERROR 2)
};

// upstream's probabilistic policy: FNV-1a 64 of salt then trace id, sampled when at most
// the threshold (MaxUint64 × ratio, as Go's big.Float computes it). Exposed for tests.
uint64_t ProbabilisticHash(std::string_view salt, std::string_view trace_id);
uint64_t ProbabilisticThreshold(double percentage);

class Policies {
 public:
  static absl::StatusOr<std::unique_ptr<Policies>> Compile(const std::vector<PolicyCfg>& cfgs,
                                                           std::shared_ptr<spdlog::logger> logger);
  ~Policies();

  // Top-level policies, in evaluation order (drops first): their names.
  const std::vector<std::string>& names() const { return names_; }

  void Init(TraceState* st) const;
  // The leaves a resource's attributes satisfy (for the attribute policies), ORed into
  // each trace that has spans under it: `scratch` is filled with the bits.
  void MatchResource(const std::vector<AttrView>& resource_attrs, TraceState* scratch) const;
  void Merge(const TraceState& resource_bits, TraceState* st) const;
  // True when some policy runs OTTL, which needs the span decoded.
  bool needs_decoded() const { return has_ottl_; }
  // Folds one span into the trace's state. `decoded` gives the span, its resource and
  // scope decoded (called only when needs_decoded()).
  void OnSpan(const SpanView& span, TraceState* st, const std::function<ottl::EvalContext*()>& decoded);

  struct TraceInfo {
    std::string_view trace_id;  // 16 bytes
    uint64_t spans = 0;
    uint64_t bytes = 0;      // encoded size (bytes_limiting)
    int64_t now_ns = 0;      // steady clock (limiters)
    int64_t now_unix_s = 0;  // composite's per-second windows
  };
  struct Result {
    Decision decision = Decision::kNotSampled;  // kSampled, kNotSampled or kDropped
    // Per top-level policy: its decision, or -1 when it was not evaluated.
    absl::InlinedVector<int8_t, 16> per_policy;
  };
  // Evaluates every policy (upstream's makeDecision, with sample_on_first_match).
  Result Decide(const TraceState& st, const TraceInfo& info, bool sample_on_first_match);

  struct Node;

 private:
  Policies() = default;
  std::vector<std::unique_ptr<Node>> top_;
  std::vector<std::string> names_;
  std::vector<Node*> leaves_;  // every leaf with a bit, by bit index
  std::vector<Node*> resource_leaves_;
  std::vector<Node*> span_leaves_;
  std::vector<Node*> latency_leaves_;
  size_t words_ = 1;
  std::shared_ptr<spdlog::logger> logger_;
  uint64_t ottl_errors_ = 0;
  bool has_ottl_ = false;
};

}  // namespace outrigger::processors::tail_sampling
