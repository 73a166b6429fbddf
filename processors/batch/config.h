#pragma once

#include <cstdint>

#include "collector/component/factory.h"

namespace outrigger::processors::batch {

inline constexpr uint64_t kDefaultSendBatchSize = 8192;
inline constexpr absl::Duration kDefaultTimeout = absl::Milliseconds(200);
inline constexpr uint64_t kPendingBatchesFactor = 2;
// Ours (upstream bounds batches in items only, and 8192 log records of 1 MiB are 8 GiB):
// encoded (OTLP protobuf) bytes held before new data is refused.
inline constexpr uint64_t kDefaultMaxPendingBytes = 64ull << 20;  // 64 MiB

struct Config : ComponentConfig {
  // Items (spans, data points, log records) that trigger a send.
  uint64_t send_batch_size = kDefaultSendBatchSize;
  // Upper bound of a batch; larger input is split. 0: no bound.
  uint64_t send_batch_max_size = 0;
  // A batch is sent at the latest this long after its first item arrived. 0: at once.
  absl::Duration timeout = kDefaultTimeout;
  // Items held before new data is refused (backpressure, not loss). 0: 2 batches.
  uint64_t max_pending_items = 0;
  // Ours: bytes (OTLP protobuf encoding) held before new data is refused, as for
  // max_pending_items; a batch is sent as soon as half of it is held. A request larger
  // than the whole is still taken when nothing else is held. 0: no limit.
  uint64_t max_pending_bytes = kDefaultMaxPendingBytes;

  uint64_t PendingLimit() const {
    if (max_pending_items > 0) return max_pending_items;
    uint64_t b = send_batch_max_size > 0 ? send_batch_max_size : send_batch_size;
    return kPendingBatchesFactor * (b > 0 ? b : kDefaultSendBatchSize);
  }
  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::processors::batch
