#pragma once
// Adds the Kubernetes identity of the Pod that sent the data to each resource, in the
// caller's thread. Sidecar mode: the sidecar's own Pod, from the Downward API
// (SidecarIdentity). API mode: the Pod found by the pod_association rules (connection
// address from each request's pdata::ClientInfo, or resource attributes) in the
// MetadataStore an ApiWatcher keeps in step with the API server. passthrough: only
// k8s.pod.ip, for a gateway to do the lookups.

#include <memory>

#include "absl/status/statusor.h"
#include "collector/component/component.h"
#include "processors/k8s_attributes/config.h"

namespace outrigger::processors::k8s_attributes {

absl::StatusOr<std::unique_ptr<Processor>> NewK8sAttributesProcessor(const CreateSettings& settings, const Config& cfg,
                                                                     Consumer* next);

}  // namespace outrigger::processors::k8s_attributes
