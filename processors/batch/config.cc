#include "processors/batch/config.h"

namespace outrigger::processors::batch {

void Config::Decode(config::Node& node) {
  node.Read("send_batch_size", &send_batch_size);
  node.Read("send_batch_max_size", &send_batch_max_size);
  node.Read("timeout", &timeout);
  node.Read("max_pending_items", &max_pending_items);
  node.ReadBytes("max_pending_bytes", &max_pending_bytes);
  node.Unsupported("metadata_keys",
                   "batches are not split by client metadata here (each request's metadata stays with its own "
                   "records through batching); to keep tenants apart, give each its own pipeline and batch "
                   "processor, or drop metadata_keys");
  node.Unsupported("metadata_cardinality_limit", "it only bounds metadata_keys, which is not supported; remove it");
}

absl::Status Config::Validate() const {
  if (send_batch_max_size > 0 && send_batch_max_size < send_batch_size) {
    return absl::InvalidArgumentError("send_batch_max_size must be 0 or at least send_batch_size");
  }
  if (max_pending_items > 0 && max_pending_items < send_batch_size) {
    return absl::InvalidArgumentError("max_pending_items must be 0 or at least send_batch_size");
  }
  return absl::OkStatus();
}

}  // namespace outrigger::processors::batch
