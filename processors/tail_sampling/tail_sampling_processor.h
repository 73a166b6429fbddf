#pragma once
// Tail sampling: spans are grouped by trace id as they arrive (in any number of
// requests), held encoded (OTLP protobuf, one ResourceSpans per arrival) while the
// policies' state is folded span by span (policy.h). A timer on the host's event loop
// decides every trace whose decision_wait (or decision_wait_after_root_received after
// its root span) has passed; sampled traces go downstream together, in requests of at
// most ~1 MiB. Memory is bounded in traces (num_traces) and in bytes (max_memory_mib):
// past either, the oldest traces are decided early, and counted. Decisions are
// remembered (decision_cache), so spans arriving later follow them. A retryable refusal
// downstream keeps the output and retries it (with backoff); a permanent one is counted
// as dropped. At shutdown the traces held are decided and sent, until the deadline.

#include <memory>

#include "collector/component/component.h"
#include "processors/tail_sampling/config.h"

namespace outrigger::processors::tail_sampling {

absl::StatusOr<std::unique_ptr<Processor>> NewTailSamplingProcessor(const CreateSettings& settings, const Config& cfg,
                                                                    Consumer* next);

}  // namespace outrigger::processors::tail_sampling
