#include "processors/k8s_attributes/api_store.h"

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "collector/common/strings.h"
#include "re2/re2.h"

namespace outrigger::processors::k8s_attributes {
namespace {

using k8s::Field;
using k8s::StringAt;
using nlohmann::json;

StringMap MapAt(const json& o, std::string_view a, std::string_view b) {
  StringMap out;
  const json* m = Field(o, a);
  if (m != nullptr) m = Field(*m, b);
  if (m == nullptr || !m->is_object()) return out;
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (it.value().is_string()) out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

// The controller among metadata.ownerReferences (else the first).
void ControllerOf(const json& o, std::string* kind, std::string* name, std::string* uid) {
  const json* meta = Field(o, "metadata");
  const json* refs = meta == nullptr ? nullptr : Field(*meta, "ownerReferences");
  if (refs == nullptr || !refs->is_array()) return;
  const json* pick = nullptr;
  for (const auto& r : *refs) {
    const json* c = Field(r, "controller");
    if (c != nullptr && c->is_boolean() && c->get<bool>()) {
      pick = &r;
      break;
    }
    if (pick == nullptr) pick = &r;
  }
  if (pick == nullptr) return;
  *kind = std::string(StringAt(*pick, {"kind"}));
  *name = std::string(StringAt(*pick, {"name"}));
  *uid = std::string(StringAt(*pick, {"uid"}));
}

// "registry:5000/team/app:1.2@sha256:…" -> ("registry:5000/team/app", "1.2"); no tag: "latest".
void SplitImage(std::string_view image, std::string* name, std::string* tag) {
  size_t at = image.find('@');
  if (at != std::string_view::npos) image = image.substr(0, at);
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    *name = std::string(image.substr(0, colon));
    *tag = std::string(image.substr(colon + 1));
  } else {
    *name = std::string(image);
    *tag = "latest";
  }
}

// "containerd://abc" -> "abc"
std::string_view StripRuntime(std::string_view id) {
  size_t p = id.find("://");
  return p == std::string_view::npos ? id : id.substr(p + 3);
}

std::string Key(std::string_view ns, std::string_view name) { return StrCat(ns, "/", name); }

}  // namespace

size_t PodRecord::ApproxBytes() const {
  auto s = [](const std::string& x) { return x.capacity() > 15 ? x.capacity() + 1 : 0; };
  size_t n = sizeof(PodRecord) + s(uid) + s(name) + s(ns) + s(node) + s(start_time) + s(hostname) + s(service_account) +
             s(owner_kind) + s(owner_name) + s(owner_uid);
  n += ips.capacity() * sizeof(std::string);
  for (const auto& i : ips) n += s(i);
  n += attrs.capacity() * sizeof(attrs[0]);
  for (const auto& [k, v] : attrs) n += s(k) + s(v);
  n += containers.capacity() * sizeof(ContainerInfo);
  for (const auto& c : containers) n += s(c.name) + s(c.id) + s(c.image_name) + s(c.image_tag);
  return n;
}

MetadataStore::MetadataStore(const Config& cfg, absl::Duration delete_grace)
    : cfg_(cfg), extractor_(cfg), grace_(delete_grace) {
  for (const auto& p : cfg.exclude_pods) {
    auto re = std::make_unique<re2::RE2>(p, re2::RE2::Quiet);
    if (re->ok()) excludes_.push_back(std::move(re));
  }
  keep_containers_ = cfg.Wants("k8s.container.name") || cfg.Wants("container.id") ||
                     cfg.Wants("container.image.name") || cfg.Wants("container.image.tag");
  for (const auto& rule : cfg.pod_association) {
    for (const auto& s : rule) keep_containers_ |= s.name == "container.id";
  }
}

MetadataStore::~MetadataStore() = default;

bool MetadataStore::Excluded(std::string_view name) const {
  for (const auto& re : excludes_) {
    if (re2::RE2::FullMatch(name, *re)) return true;
  }
  return false;
}

std::shared_ptr<PodRecord> MetadataStore::ReadPod(const json& o) const {
  auto p = std::make_shared<PodRecord>();
  p->uid = std::string(StringAt(o, {"metadata", "uid"}));
  p->name = std::string(StringAt(o, {"metadata", "name"}));
  p->ns = std::string(StringAt(o, {"metadata", "namespace"}));
  if (p->uid.empty() || p->name.empty()) return nullptr;
  p->node = std::string(StringAt(o, {"spec", "nodeName"}));
  if (cfg_.Wants("k8s.pod.start_time")) p->start_time = std::string(StringAt(o, {"status", "startTime"}));
  if (cfg_.Wants("k8s.pod.hostname")) p->hostname = std::string(StringAt(o, {"spec", "hostname"}));
  if (cfg_.Wants(kServiceAccountAttr)) p->service_account = std::string(StringAt(o, {"spec", "serviceAccountName"}));
  const json* spec = Field(o, "spec");
  const json* host_network = spec == nullptr ? nullptr : Field(*spec, "hostNetwork");
  bool host = host_network != nullptr && host_network->is_boolean() && host_network->get<bool>();
  if (!host) {
    const json* status = Field(o, "status");
    const json* ips = status == nullptr ? nullptr : Field(*status, "podIPs");
    if (ips != nullptr && ips->is_array()) {
      for (const auto& i : *ips) {
        std::string_view ip = StringAt(i, {"ip"});
        if (!ip.empty()) p->ips.emplace_back(ip);
      }
    }
    std::string_view ip = StringAt(o, {"status", "podIP"});
    if (!ip.empty() && std::find(p->ips.begin(), p->ips.end(), ip) == p->ips.end()) {
      p->ips.insert(p->ips.begin(), std::string(ip));
    }
  }
  ControllerOf(o, &p->owner_kind, &p->owner_name, &p->owner_uid);
  if (extractor_.Needs("pod")) {
    extractor_.Labels("pod", MapAt(o, "metadata", "labels"), &p->attrs);
    extractor_.Annotations("pod", MapAt(o, "metadata", "annotations"), &p->attrs);
  }
  if (keep_containers_) {
    if (spec != nullptr) {
      for (const char* list : {"containers", "initContainers"}) {
        const json* cs = Field(*spec, list);
        if (cs == nullptr || !cs->is_array()) continue;
        for (const auto& c : *cs) {
          ContainerInfo ci;
          ci.name = std::string(StringAt(c, {"name"}));
          SplitImage(StringAt(c, {"image"}), &ci.image_name, &ci.image_tag);
          p->containers.push_back(std::move(ci));
        }
      }
    }
    const json* status = Field(o, "status");
    for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
      const json* cs = status == nullptr ? nullptr : Field(*status, list);
      if (cs == nullptr || !cs->is_array()) continue;
      for (const auto& c : *cs) {
        std::string_view name = StringAt(c, {"name"});
        for (auto& ci : p->containers) {
          if (ci.name == name) ci.id = std::string(StripRuntime(StringAt(c, {"containerID"})));
        }
      }
    }
  }
  p->ips.shrink_to_fit();
  p->attrs.shrink_to_fit();
  p->containers.shrink_to_fit();
  return p;
}

void MetadataStore::EraseLocked(const std::string& uid) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return;
  const PodRecord& p = *it->second;
  for (const auto& ip : p.ips) {
    auto i = ip_to_uid_.find(ip);
    if (i != ip_to_uid_.end() && i->second == uid) ip_to_uid_.erase(i);
  }
  for (const auto& c : p.containers) {
    auto i = container_to_uid_.find(c.id);
    if (!c.id.empty() && i != container_to_uid_.end() && i->second == uid) container_to_uid_.erase(i);
  }
  auto n = name_to_uid_.find(Key(p.ns, p.name));
  if (n != name_to_uid_.end() && n->second == uid) name_to_uid_.erase(n);
  by_uid_.erase(it);
}

void MetadataStore::UpsertLocked(std::shared_ptr<PodRecord> p) {
  EraseLocked(p->uid);
  for (const auto& ip : p->ips) ip_to_uid_[ip] = p->uid;  // a new Pod takes a reused IP at once
  for (const auto& c : p->containers) {
    if (!c.id.empty()) container_to_uid_[c.id] = p->uid;
  }
  name_to_uid_[Key(p->ns, p->name)] = p->uid;
  by_uid_[p->uid] = std::move(p);
}

void MetadataStore::MarkDeletedLocked(const std::string& uid, absl::Time now) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return;
  if (it->second->deleted_at == absl::InfiniteFuture()) it->second->deleted_at = now;
}

void MetadataStore::PurgeLocked(absl::Time now) {
  std::vector<std::string> gone;
  for (const auto& [uid, p] : by_uid_) {
    if (p->deleted_at != absl::InfiniteFuture() && p->deleted_at + grace_ <= now) gone.push_back(uid);
  }
  for (const auto& uid : gone) EraseLocked(uid);
}

void MetadataStore::Purge(absl::Time now) {
  size_t n;
  {
    std::unique_lock lock(mu_);
    size_t before = by_uid_.size();
    PurgeLocked(now);
    n = by_uid_.size();
    if (n == before) return;
  }
  NotifyChange(n);
}

void MetadataStore::Changed() { NotifyChange(pod_count()); }

void MetadataStore::NotifyChange(size_t pods) {
  std::function<void(size_t)> f;
  {
    std::lock_guard lock(on_change_mu_);
    f = on_change_;
  }
  if (f) f(pods);
}

void MetadataStore::PodHandler::Replace(std::vector<json>&& items) {
  std::vector<std::shared_ptr<PodRecord>> pods;
  pods.reserve(items.size());
  for (auto& o : items) {
    auto p = s_->ReadPod(o);
    o = json();  // drop the object now: a list of 10,000 Pods is large
    if (p != nullptr && !s_->Excluded(p->name)) pods.push_back(std::move(p));
  }
  absl::Time now = absl::Now();
  {
    std::unique_lock lock(s_->mu_);
    std::unordered_map<std::string, bool> seen;
    for (const auto& p : pods) seen[p->uid] = true;
    for (const auto& [uid, p] : s_->by_uid_) {
      if (!seen.count(uid)) s_->MarkDeletedLocked(uid, now);  // gone while we were not watching
    }
    for (auto& p : pods) s_->UpsertLocked(std::move(p));
    s_->PurgeLocked(now);
  }
  s_->Changed();
}

void MetadataStore::PodHandler::Apply(k8s::EventType t, json&& o) {
  absl::Time now = absl::Now();
  if (t == k8s::EventType::kDeleted) {
    std::string uid(StringAt(o, {"metadata", "uid"}));
    std::unique_lock lock(s_->mu_);
    s_->MarkDeletedLocked(uid, now);
    s_->PurgeLocked(now);
  } else {
    auto p = s_->ReadPod(o);
    if (p == nullptr) return;
    std::unique_lock lock(s_->mu_);
    if (s_->Excluded(p->name)) {
      s_->EraseLocked(p->uid);
    } else {
      s_->UpsertLocked(std::move(p));
    }
    s_->PurgeLocked(now);
  }
  s_->Changed();
}

void MetadataStore::RsHandler::Replace(std::vector<json>&& items) {
  std::unordered_map<std::string, Owner> m;
  for (const auto& o : items) {
    Owner owner;
    ControllerOf(o, &owner.kind, &owner.name, &owner.uid);
    if (owner.kind != "Deployment") continue;
    m[Key(StringAt(o, {"metadata", "namespace"}), StringAt(o, {"metadata", "name"}))] = std::move(owner);
  }
  std::unique_lock lock(s_->mu_);
  s_->rs_owner_ = std::move(m);
}

void MetadataStore::RsHandler::Apply(k8s::EventType t, json&& o) {
  std::string key = Key(StringAt(o, {"metadata", "namespace"}), StringAt(o, {"metadata", "name"}));
  Owner owner;
  ControllerOf(o, &owner.kind, &owner.name, &owner.uid);
  std::unique_lock lock(s_->mu_);
  if (t == k8s::EventType::kDeleted || owner.kind != "Deployment") {
    s_->rs_owner_.erase(key);
  } else {
    s_->rs_owner_[key] = std::move(owner);
  }
}

void MetadataStore::NsHandler::Replace(std::vector<json>&& items) {
  std::unordered_map<std::string, NsInfo> m;
  for (const auto& o : items) {
    NsInfo info;
    info.uid = std::string(StringAt(o, {"metadata", "uid"}));
    s_->extractor_.Labels("namespace", MapAt(o, "metadata", "labels"), &info.attrs);
    s_->extractor_.Annotations("namespace", MapAt(o, "metadata", "annotations"), &info.attrs);
    m[std::string(StringAt(o, {"metadata", "name"}))] = std::move(info);
  }
  std::unique_lock lock(s_->mu_);
  s_->namespaces_info_ = std::move(m);
}

void MetadataStore::NsHandler::Apply(k8s::EventType t, json&& o) {
  std::string name(StringAt(o, {"metadata", "name"}));
  NsInfo info;
  info.uid = std::string(StringAt(o, {"metadata", "uid"}));
  s_->extractor_.Labels("namespace", MapAt(o, "metadata", "labels"), &info.attrs);
  s_->extractor_.Annotations("namespace", MapAt(o, "metadata", "annotations"), &info.attrs);
  std::unique_lock lock(s_->mu_);
  if (t == k8s::EventType::kDeleted) {
    s_->namespaces_info_.erase(name);
  } else {
    s_->namespaces_info_[name] = std::move(info);
  }
}

void MetadataStore::NodeHandler::Replace(std::vector<json>&& items) {
  std::unordered_map<std::string, NodeInfo> m;
  for (const auto& o : items) {
    NodeInfo info;
    info.uid = std::string(StringAt(o, {"metadata", "uid"}));
    s_->extractor_.Labels("node", MapAt(o, "metadata", "labels"), &info.attrs);
    s_->extractor_.Annotations("node", MapAt(o, "metadata", "annotations"), &info.attrs);
    m[std::string(StringAt(o, {"metadata", "name"}))] = std::move(info);
  }
  std::unique_lock lock(s_->mu_);
  s_->nodes_info_ = std::move(m);
}

void MetadataStore::NodeHandler::Apply(k8s::EventType t, json&& o) {
  std::string name(StringAt(o, {"metadata", "name"}));
  NodeInfo info;
  info.uid = std::string(StringAt(o, {"metadata", "uid"}));
  s_->extractor_.Labels("node", MapAt(o, "metadata", "labels"), &info.attrs);
  s_->extractor_.Annotations("node", MapAt(o, "metadata", "annotations"), &info.attrs);
  std::unique_lock lock(s_->mu_);
  if (t == k8s::EventType::kDeleted) {
    s_->nodes_info_.erase(name);
  } else {
    s_->nodes_info_[name] = std::move(info);
  }
}

std::shared_ptr<const PodRecord> MetadataStore::ByUid(std::string_view uid) const {
  std::shared_lock lock(mu_);
  auto it = by_uid_.find(std::string(uid));
  return it == by_uid_.end() ? nullptr : it->second;
}

std::shared_ptr<const PodRecord> MetadataStore::ByIp(std::string_view ip) const {
  std::shared_lock lock(mu_);
  auto it = ip_to_uid_.find(std::string(ip));
  if (it == ip_to_uid_.end()) return nullptr;
  auto p = by_uid_.find(it->second);
  return p == by_uid_.end() ? nullptr : p->second;
}

std::shared_ptr<const PodRecord> MetadataStore::ByContainerId(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = container_to_uid_.find(std::string(StripRuntime(id)));
  if (it == container_to_uid_.end()) return nullptr;
  auto p = by_uid_.find(it->second);
  return p == by_uid_.end() ? nullptr : p->second;
}

std::shared_ptr<const PodRecord> MetadataStore::ByName(std::string_view ns, std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = name_to_uid_.find(Key(ns, name));
  if (it == name_to_uid_.end()) return nullptr;
  auto p = by_uid_.find(it->second);
  return p == by_uid_.end() ? nullptr : p->second;
}

size_t MetadataStore::pod_count() const {
  std::shared_lock lock(mu_);
  return by_uid_.size();
}

size_t MetadataStore::ApproxBytes() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  // Each hash node: the key string, the value, two pointers; the bucket array.
  auto node = [](const std::string& k) {
    return 2 * sizeof(void*) + sizeof(std::string) + (k.size() > 15 ? k.size() + 1 : 0);
  };
  for (const auto& [uid, p] : by_uid_) n += p->ApproxBytes() + node(uid) + sizeof(p) + 16 /* control block */;
  for (const auto& [k, v] : ip_to_uid_) n += node(k) + sizeof(std::string) + (v.size() > 15 ? v.size() + 1 : 0);
  for (const auto& [k, v] : name_to_uid_) n += node(k) + sizeof(std::string) + (v.size() > 15 ? v.size() + 1 : 0);
  for (const auto& [k, v] : container_to_uid_) n += node(k) + sizeof(std::string) + (v.size() > 15 ? v.size() + 1 : 0);
  n += (by_uid_.bucket_count() + ip_to_uid_.bucket_count() + name_to_uid_.bucket_count() +
        container_to_uid_.bucket_count()) *
       sizeof(void*);
  return n;
}

Attrs MetadataStore::AttributesFor(const PodRecord& p, std::string_view container_id,
                                   std::string_view container_name) const {
  Attrs out;
  auto add = [&](std::string_view key, std::string_view value) {
    if (!value.empty() && cfg_.Wants(key)) out.emplace_back(std::string(key), std::string(value));
  };
  add("k8s.namespace.name", p.ns);
  add("k8s.pod.name", p.name);
  add("k8s.pod.uid", p.uid);
  add("k8s.pod.start_time", p.start_time);
  if (!p.ips.empty()) add("k8s.pod.ip", p.ips.front());
  add("k8s.pod.hostname", p.hostname);
  add("k8s.node.name", p.node);
  add(kServiceAccountAttr, p.service_account);
  std::shared_lock lock(mu_);
  if (p.owner_kind == "ReplicaSet") {
    add("k8s.replicaset.name", p.owner_name);
    add("k8s.replicaset.uid", p.owner_uid);
    if (cfg_.extract.deployment_name_from_replicaset) {
      add("k8s.deployment.name", DeploymentFromReplicaSet(p.owner_name, ""));
    } else {
      auto it = rs_owner_.find(Key(p.ns, p.owner_name));
      if (it != rs_owner_.end()) {
        add("k8s.deployment.name", it->second.name);
        add("k8s.deployment.uid", it->second.uid);
      }
    }
  } else if (p.owner_kind == "DaemonSet") {
    add("k8s.daemonset.name", p.owner_name);
    add("k8s.daemonset.uid", p.owner_uid);
  } else if (p.owner_kind == "StatefulSet") {
    add("k8s.statefulset.name", p.owner_name);
    add("k8s.statefulset.uid", p.owner_uid);
  } else if (p.owner_kind == "Job") {
    add("k8s.job.name", p.owner_name);
    add("k8s.job.uid", p.owner_uid);
    add("k8s.cronjob.name", CronJobFromJob(p.owner_name));
  }
  if (!p.node.empty()) {
    auto it = nodes_info_.find(p.node);
    if (it != nodes_info_.end()) {
      add("k8s.node.uid", it->second.uid);
      out.insert(out.end(), it->second.attrs.begin(), it->second.attrs.end());
    }
  }
  auto ns = namespaces_info_.find(p.ns);
  if (ns != namespaces_info_.end()) out.insert(out.end(), ns->second.attrs.begin(), ns->second.attrs.end());
  const ContainerInfo* c = nullptr;
  std::string_view cid = StripRuntime(container_id);
  for (const auto& ci : p.containers) {
    if ((!cid.empty() && ci.id == cid) || (cid.empty() && !container_name.empty() && ci.name == container_name)) {
      c = &ci;
      break;
    }
  }
  if (c != nullptr) {
    add("k8s.container.name", c->name);
    add("container.id", c->id);
    add("container.image.name", c->image_name);
    add("container.image.tag", c->image_tag);
  }
  out.insert(out.end(), p.attrs.begin(), p.attrs.end());
  return out;
}

// --- ApiWatcher ---

namespace {
std::mutex registry_mu;
std::map<std::string, std::weak_ptr<ApiWatcher>>& Registry() {
  static auto* m = new std::map<std::string, std::weak_ptr<ApiWatcher>>();
  return *m;
}

std::string NsPath(std::string_view group_prefix, std::string_view ns, std::string_view resource) {
  if (ns.empty()) return StrCat(group_prefix, "/", resource);
  return StrCat(group_prefix, "/namespaces/", ns, "/", resource);
}
}  // namespace

absl::StatusOr<std::shared_ptr<ApiWatcher>> ApiWatcher::Get(const std::string& key, const Config& cfg,
                                                            std::shared_ptr<spdlog::logger> logger,
                                                            std::function<void(const std::string&)> on_error) {
  std::lock_guard<std::mutex> lock(registry_mu);
  auto& reg = Registry();
  auto it = reg.find(key);
  if (it != reg.end()) {
    if (auto w = it->second.lock()) return w;
  }
  auto cluster = k8s::InClusterConfig();
  if (!cluster.ok()) {
    return absl::FailedPreconditionError(
        StrCat("k8s_attributes mode: api: ", cluster.status().message(), " (outside a cluster use mode: sidecar)"));
  }
  if (cfg.auth_type == "none") cluster->token_file.clear();
  auto w = std::make_shared<ApiWatcher>(cfg, *cluster, std::move(logger), std::move(on_error));
  reg[key] = w;
  return w;
}

ApiWatcher::ApiWatcher(const Config& cfg, k8s::ClusterConfig cluster, std::shared_ptr<spdlog::logger> logger,
                       std::function<void(const std::string&)> on_error)
    : cfg_(cfg) {
  store_ = std::make_unique<MetadataStore>(cfg_, cfg_.pod_delete_grace);
  client_ = std::make_shared<k8s::Client>(std::move(cluster));
  auto add = [&](std::string path, k8s::Handler* h, std::string fields, std::string labels) {
    k8s::InformerOptions o;
    o.path = std::move(path);
    o.field_selector = std::move(fields);
    o.label_selector = std::move(labels);
    std::string resource = o.path.substr(o.path.rfind('/') + 1);
    if (on_error) o.on_error = [on_error, resource](const absl::Status&) { on_error(resource); };
    informers_.push_back(std::make_unique<k8s::Informer>(client_, std::move(o), h, logger));
  };
  std::vector<std::string> fields, labels;
  std::string node = cfg_.NodeFilter();
  if (!node.empty()) fields.push_back(StrCat("spec.nodeName=", node));
  for (const auto& f : cfg_.filter.fields) fields.push_back(StrCat(f.key, f.op == "equals" ? "=" : "!=", f.value));
  for (const auto& f : cfg_.filter.labels) {
    if (f.op == "equals") labels.push_back(StrCat(f.key, "=", f.value));
    if (f.op == "not-equals") labels.push_back(StrCat(f.key, "!=", f.value));
    if (f.op == "exists") labels.push_back(f.key);
    if (f.op == "does-not-exist") labels.push_back(StrCat("!", f.key));
  }
  add(NsPath("/api/v1", cfg_.filter.namespace_, "pods"), store_->pods(), absl::StrJoin(fields, ","),
      absl::StrJoin(labels, ","));
  Extractor ex(cfg_);
  if ((cfg_.Wants("k8s.deployment.name") || cfg_.Wants("k8s.deployment.uid")) &&
      !cfg_.extract.deployment_name_from_replicaset) {
    add(NsPath("/apis/apps/v1", cfg_.filter.namespace_, "replicasets"), store_->replicasets(), "", "");
  }
  if (ex.Needs("namespace")) add("/api/v1/namespaces", store_->namespaces(), "", "");
  if (ex.Needs("node") || cfg_.Wants("k8s.node.uid")) {
    add("/api/v1/nodes", store_->nodes(), node.empty() ? "" : StrCat("metadata.name=", node), "");
  }
}

ApiWatcher::~ApiWatcher() {
  for (auto& i : informers_) i->Stop();
}

void ApiWatcher::Start() {
  std::call_once(started_, [this] {
    for (auto& i : informers_) i->Start();
  });
}

bool ApiWatcher::WaitSynced(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (auto& i : informers_) {
    if (!i->WaitSynced(std::max(absl::ZeroDuration(), deadline - absl::Now()))) return false;
  }
  return true;
}

std::vector<k8s::Informer*> ApiWatcher::informers() {
  std::vector<k8s::Informer*> out;
  for (auto& i : informers_) out.push_back(i.get());
  return out;
}

std::string ApiWatcher::last_error() const {
  for (const auto& i : informers_) {
    std::string e = i->last_error();
    if (!e.empty()) return e;
  }
  return "";
}

}  // namespace outrigger::processors::k8s_attributes
