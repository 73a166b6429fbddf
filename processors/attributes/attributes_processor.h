#pragma once
// Applies the configured attribute actions to the spans, log records or metric data
// points (their own attributes) that `include` selects and `exclude` does not, in the
// caller's thread, then passes the data on. from_context reads the client of each
// request (pdata::ClientInfo), so a batch of several clients' requests gives each
// record its own client's values.

#include <memory>

#include "absl/status/statusor.h"
#include "collector/component/component.h"
#include "processors/attributes/config.h"

namespace outrigger::processors::attributes {

// Fails (upstream's messages) if the include/exclude properties do not suit `signal`.
absl::StatusOr<std::unique_ptr<Processor>> NewAttributesProcessor(const CreateSettings& settings, const Config& cfg,
                                                                  Signal signal, Consumer* next);

}  // namespace outrigger::processors::attributes
