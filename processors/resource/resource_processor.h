#pragma once
// Applies the configured actions to the attributes of every resource (traces, metrics,
// logs), in the caller's thread, then passes the data on. from_context reads the client
// of each request (pdata::ClientInfo).

#include <memory>

#include "absl/status/statusor.h"
#include "collector/component/component.h"
#include "processors/resource/config.h"

namespace outrigger::processors::resource {

absl::StatusOr<std::unique_ptr<Processor>> NewResourceProcessor(const CreateSettings& settings, const Config& cfg,
                                                                Signal signal, Consumer* next);

}  // namespace outrigger::processors::resource
