#pragma once
// The memory_limiter processor: refuses data (RESOURCE_EXHAUSTED, which every receiver
// turns into its backpressure) while the process's memory is above the soft limit, and
// exposes its limiter as the AdmissionControl of its pipelines, so that their receivers
// refuse requests by size before reading or decoding them. The processors of one id
// share one memory::MemoryLimiter (one check thread), in every pipeline and signal.

#include <memory>

#include "collector/component/admission.h"
#include "collector/component/component.h"
#include "collector/memory/memory_limiter.h"
#include "processors/memory_limiter/config.h"

namespace outrigger::processors::memory_limiter {

// The limiter of `settings.id` with `cfg` (shared with the processors created before with
// the same id, telemetry and limits; `read_usage` null: the RSS).
absl::StatusOr<std::shared_ptr<memory::MemoryLimiter>> SharedLimiter(const CreateSettings& settings, const Config& cfg,
                                                                     std::function<uint64_t()> read_usage = nullptr);

std::unique_ptr<Processor> NewMemoryLimiterProcessor(const CreateSettings& settings,
                                                     std::shared_ptr<memory::MemoryLimiter> limiter, Signal signal,
                                                     Consumer* next);

}  // namespace outrigger::processors::memory_limiter
