#pragma once
// Batches items per signal: sends when send_batch_size items are pending or `timeout`
// after the first pending item, split at send_batch_max_size. A downstream refusal
// that is retryable keeps the batch and tries again (nothing is dropped for
// backpressure); while max_pending_items are held, new data is refused with
// RESOURCE_EXHAUSTED so receivers push back. Shutdown flushes by its deadline.

#include <memory>

#include "collector/component/component.h"
#include "processors/batch/config.h"

namespace outrigger::processors::batch {

std::unique_ptr<Processor> NewBatchProcessor(const CreateSettings& settings, const Config& cfg, Signal signal,
                                             Consumer* next);

}  // namespace outrigger::processors::batch
