#pragma once
// API mode: what is kept of the watched objects, and the lookups. Only the fields the
// configuration needs are kept per Pod (identity, owner, IPs, the attributes its label
// and annotation rules give, its containers when container attributes are asked for);
// the JSON objects are dropped as soon as they are read. A deleted Pod stays findable
// for pod_delete_grace (telemetry sent just before the deletion still arrives), then is
// forgotten; a new Pod with the same IP takes the IP at once (contrib#42978).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"
#include "collector/k8s/client.h"
#include "processors/k8s_attributes/config.h"
#include "processors/k8s_attributes/metadata.h"

namespace re2 {
class RE2;
}

namespace outrigger::processors::k8s_attributes {

struct ContainerInfo {
  std::string name, id, image_name, image_tag;
};

struct PodRecord {
  std::string uid, name, ns, node, start_time, hostname, service_account;
  std::vector<std::string> ips;                   // status.podIPs (none for hostNetwork Pods)
  std::string owner_kind, owner_name, owner_uid;  // the controller
  Attrs attrs;                                    // from the Pod's labels/annotations rules
  std::vector<ContainerInfo> containers;          // only when container attributes are asked for
  absl::Time deleted_at = absl::InfiniteFuture();
  size_t ApproxBytes() const;
};

class MetadataStore {
 public:
  MetadataStore(const Config& cfg, absl::Duration delete_grace);
  ~MetadataStore();

  k8s::Handler* pods() { return &pods_; }
  k8s::Handler* replicasets() { return &replicasets_; }
  k8s::Handler* namespaces() { return &namespaces_; }
  k8s::Handler* nodes() { return &nodes_; }

  // Lookups (any thread). Null when unknown.
  std::shared_ptr<const PodRecord> ByIp(std::string_view ip) const;
  std::shared_ptr<const PodRecord> ByUid(std::string_view uid) const;
  std::shared_ptr<const PodRecord> ByContainerId(std::string_view id) const;
  std::shared_ptr<const PodRecord> ByName(std::string_view ns, std::string_view name) const;

  // The attributes of `pod` for the resource whose attributes are `resource`
  // (container.id / k8s.container.name pick the container).
  template <typename KVs>
  Attrs AttributesFor(const PodRecord& pod, const KVs& resource) const {
    std::string_view container_id, container_name;
    for (const auto& kv : resource) {
      if (kv.key() == "container.id") container_id = kv.value().string_value();
      if (kv.key() == "k8s.container.name") container_name = kv.value().string_value();
    }
    return AttributesFor(pod, container_id, container_name);
  }
  Attrs AttributesFor(const PodRecord& pod, std::string_view container_id, std::string_view container_name) const;

  // Forgets Pods deleted more than the grace ago.
  void Purge(absl::Time now);
  size_t pod_count() const;
  size_t ApproxBytes() const;  // what the Pods hold (strings and vectors), for the memory figure
  // Set by every processor sharing this store (several pipelines, a reload) while the
  // informers' threads may call it: guarded.
  void NotifyChange(size_t pods);
  void set_on_change(std::function<void(size_t pods)> f) {
    std::lock_guard lock(on_change_mu_);
    on_change_ = std::move(f);
  }

 private:
  struct Owner {
    std::string kind, name, uid;
  };
  struct NsInfo {
    std::string uid;
    Attrs attrs;
  };
  struct NodeInfo {
    std::string uid;
    Attrs attrs;
  };
  class PodHandler : public k8s::Handler {
   public:
    explicit PodHandler(MetadataStore* s) : s_(s) {}
    void Replace(std::vector<nlohmann::json>&& items) override;
    void Apply(k8s::EventType t, nlohmann::json&& o) override;
    MetadataStore* s_;
  };
  class RsHandler : public k8s::Handler {
   public:
    explicit RsHandler(MetadataStore* s) : s_(s) {}
    void Replace(std::vector<nlohmann::json>&& items) override;
    void Apply(k8s::EventType t, nlohmann::json&& o) override;
    MetadataStore* s_;
  };
  class NsHandler : public k8s::Handler {
   public:
    explicit NsHandler(MetadataStore* s) : s_(s) {}
    void Replace(std::vector<nlohmann::json>&& items) override;
    void Apply(k8s::EventType t, nlohmann::json&& o) override;
    MetadataStore* s_;
  };
  class NodeHandler : public k8s::Handler {
   public:
    explicit NodeHandler(MetadataStore* s) : s_(s) {}
    void Replace(std::vector<nlohmann::json>&& items) override;
    void Apply(k8s::EventType t, nlohmann::json&& o) override;
    MetadataStore* s_;
  };

  std::shared_ptr<PodRecord> ReadPod(const nlohmann::json& o) const;
  void UpsertLocked(std::shared_ptr<PodRecord> p);
  void MarkDeletedLocked(const std::string& uid, absl::Time now);
  void EraseLocked(const std::string& uid);
  void PurgeLocked(absl::Time now);
  bool Excluded(std::string_view name) const;
  void Changed();

  const Config& cfg_;
  Extractor extractor_;
  std::vector<std::unique_ptr<re2::RE2>> excludes_;
  bool keep_containers_ = false;
  absl::Duration grace_;
  PodHandler pods_{this};
  RsHandler replicasets_{this};
  NsHandler namespaces_{this};
  NodeHandler nodes_{this};
  std::function<void(size_t)> on_change_;
  std::mutex on_change_mu_;  // guards on_change_

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<PodRecord>> by_uid_;
  std::unordered_map<std::string, std::string> ip_to_uid_;
  std::unordered_map<std::string, std::string> container_to_uid_;
  std::unordered_map<std::string, std::string> name_to_uid_;  // "ns/name"
  std::unordered_map<std::string, Owner> rs_owner_;           // "ns/rs" -> its Deployment
  std::unordered_map<std::string, NsInfo> namespaces_info_;
  std::unordered_map<std::string, NodeInfo> nodes_info_;
};

// The client, informers and store of one processor configuration, shared by the
// processors of every pipeline and signal with the same configuration.
class ApiWatcher {
 public:
  // The watcher of `key`, created on first use (null and an error if the in-cluster
  // configuration is missing).
  static absl::StatusOr<std::shared_ptr<ApiWatcher>> Get(const std::string& key, const Config& cfg,
                                                         std::shared_ptr<spdlog::logger> logger,
                                                         std::function<void(const std::string& resource)> on_error);
  ApiWatcher(const Config& cfg, k8s::ClusterConfig cluster, std::shared_ptr<spdlog::logger> logger,
             std::function<void(const std::string& resource)> on_error);
  ~ApiWatcher();
  void Start();  // idempotent
  // Waits until every informer listed once; false on timeout.
  bool WaitSynced(absl::Duration timeout);
  MetadataStore& store() { return *store_; }
  std::vector<k8s::Informer*> informers();
  std::string last_error() const;

 private:
  Config cfg_;  // a copy: the store refers to it
  std::unique_ptr<MetadataStore> store_;
  std::shared_ptr<k8s::Client> client_;
  std::vector<std::unique_ptr<k8s::Informer>> informers_;
  std::once_flag started_;
};

}  // namespace outrigger::processors::k8s_attributes
