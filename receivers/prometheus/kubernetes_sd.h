#pragma once
// Prometheus's kubernetes_sd_configs: the API server's Pods, Nodes, Services or Endpoints, kept in
// step by the shared Kubernetes client's informers (collector/k8s/client.h: list + watch
// on their own threads), made into target groups with Prometheus's __meta_kubernetes_*
// labels (discovery/kubernetes/{pod,node,service,endpoints}.go). The receiver's worker polls the
// groups like the other discoveries; a watch event wakes it (TargetDiscovery::Start).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/k8s/client.h"
#include "nlohmann/json.hpp"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/discovery.h"
#include "spdlog/logger.h"

namespace outrigger::receivers::prometheus {

// Objects (of all watched namespaces together) beyond this are refused: a list that
// large fails and is retried, an ADDED event is skipped, both logged and counted.
// Selectors or namespaces keep a large cluster's job under it.
inline constexpr int64_t kMaxKubernetesSdObjects = 50000;
// One object with more targets than this (ports × containers, addresses × ports) is
// refused as a whole (logged and counted as an object that is not one).
inline constexpr size_t kMaxKubernetesSdTargetsPerObject = 10000;

// The target groups of one API object of `role` ("pod", "node", "service"), each a
// group's labels merged with one target's, as Prometheus builds them: a Pod without an
// IP, or a Node without an address, has none. An error for what is no such object (not a
// JSON object, no metadata.name); fields missing or of the wrong type are left out.
absl::StatusOr<std::vector<LabelSet>> KubernetesGroups(std::string_view role, const nlohmann::json& object);

// The target groups of an Endpoints object (role: endpoints), as Prometheus's
// buildEndpoints: one per address (ready and not ready) and port, with the Service of the
// same name's labels (`service`, may be null) and, for an address whose targetRef is a
// Pod that `pod_of` knows, the Pod's labels and matching container port; then one per
// container port of those Pods that no endpoint port covered. An error past
// kMaxKubernetesSdTargetsPerObject targets.
absl::StatusOr<std::vector<LabelSet>> EndpointsGroups(
    const nlohmann::json& endpoints, const nlohmann::json* service,
    const std::function<const nlohmann::json*(std::string_view ns, std::string_view name)>& pod_of);

// The client configuration of a kubernetes_sd_config: api_server with its HTTP client
// options, a kubeconfig file, or in-cluster.
absl::StatusOr<k8s::ClusterConfig> KubernetesClusterConfig(const KubernetesSdConfig& cfg);

class KubernetesSdDiscovery : public TargetDiscovery {
 public:
  struct Watch {
    std::string resource;  // "pods", "nodes", "services", "endpoints"
    std::string path;      // "/api/v1/pods", "/api/v1/namespaces/ns/pods"
    std::string label_selector, field_selector;
  };
  struct Options {
    std::string role;
    std::vector<Watch> watches;  // one informer each
    int64_t max_objects = kMaxKubernetesSdObjects;
    absl::Duration initial_backoff = absl::Seconds(1);
    // Called (from an informer's thread) for each refusal: reason "request" (a failed
    // request or a bad watch line), "object" (an object that is no Pod/Node/Service/Endpoints),
    // "limit" (max_objects).
    std::function<void(std::string_view reason)> count_error;
  };
  // The informers of `cfg` (namespaces, selectors): not started yet.
  static absl::StatusOr<std::unique_ptr<KubernetesSdDiscovery>> Create(
      const KubernetesSdConfig& cfg, std::shared_ptr<spdlog::logger> logger,
      std::function<void(std::string_view)> count_error);
  KubernetesSdDiscovery(std::shared_ptr<const k8s::Client> client, Options opts,
                        std::shared_ptr<spdlog::logger> logger);
  ~KubernetesSdDiscovery() override;

  Result Poll() override;
  const std::vector<LabelSet>& groups() const override { return groups_; }
  std::string_view kind() const override { return kind_; }
  void Start(std::function<void()> changed) override;
  void Stop() override;
  void Release() override;
  // For tests: every informer has handed over its first list.
  bool WaitSynced(absl::Duration timeout);

 private:
  // One informer's objects, "namespace/name" -> the object trimmed to what the groups are
  // made of; Poll() makes the groups (joining endpoints, services and pods for role
  // endpoints). Far smaller than the groups, which repeat a Pod's labels per target.
  class Store : public k8s::Handler {
   public:
    Store(KubernetesSdDiscovery* d, std::string resource) : resource(std::move(resource)), d_(d) {}
    void Replace(std::vector<nlohmann::json>&& items) override;
    void Apply(k8s::EventType type, nlohmann::json&& object) override;
    size_t size() const { return objects.size(); }
    const std::string resource;
    std::map<std::string, nlohmann::json> objects;  // guarded by d_->mu_

   private:
    // The object as kept; an error for what is no such object (not a JSON object, no
    // metadata.name).
    absl::Status Take(const nlohmann::json& obj, nlohmann::json* kept) const;
    KubernetesSdDiscovery* d_;
  };
  // Role endpoints: the groups of every Endpoints object (under mu_).
  std::vector<LabelSet> JoinEndpointsLocked() const;
  void Changed();
  size_t CountLocked() const;
  void Refuse(std::string_view reason, const std::string& message);

  std::shared_ptr<const k8s::Client> client_;
  Options opts_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string kind_;
  std::vector<std::unique_ptr<Store>> stores_;
  std::vector<std::unique_ptr<k8s::Informer>> informers_;
  mutable std::mutex mu_;
  uint64_t version_ = 0;  // under mu_: bumped by every change of a store
  bool limit_logged_ = false;
  std::function<void()> changed_;  // set by Start
  uint64_t polled_version_ = 0;    // the worker's
  std::vector<LabelSet> groups_;   // the worker's
};

}  // namespace outrigger::receivers::prometheus
