#include "receivers/prometheus/kubernetes_sd.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "collector/common/strings.h"

namespace outrigger::receivers::prometheus {

namespace {

constexpr char kMeta[] = "__meta_kubernetes_";

using k8s::Field;
using k8s::StringAt;

// The value at `path` (object fields), or null.
const nlohmann::json* At(const nlohmann::json& obj, std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = &obj;
  for (std::string_view k : path) {
    cur = Field(*cur, k);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

// The members of an object field that hold strings (labels, annotations).
template <typename F>
void ForEachString(const nlohmann::json& obj, std::initializer_list<std::string_view> path, F&& f) {
  const nlohmann::json* cur = At(obj, path);
  if (cur == nullptr || !cur->is_object()) return;
  for (auto it = cur->begin(); it != cur->end(); ++it) {
    if (it.value().is_string()) f(it.key(), it.value().get_ref<const std::string&>());
  }
}

// The array at `path`, or null.
const nlohmann::json* ArrayAt(const nlohmann::json& obj, std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = At(obj, path);
  return cur != nullptr && cur->is_array() ? cur : nullptr;
}

// A port number (1-65535) at `key`, or 0.
int64_t PortAt(const nlohmann::json& obj, std::string_view key) {
  const nlohmann::json* p = Field(obj, key);
  if (p == nullptr || !p->is_number_integer()) return 0;
  const int64_t v = p->get<int64_t>();
  return v >= 1 && v <= 65535 ? v : 0;
}

std::string JoinHostPort(std::string_view host, int64_t port) {
  if (host.find(':') != std::string_view::npos) return StrCat("[", host, "]:", port);
  return StrCat(host, ":", port);
}

void Set(LabelSet* l, const std::string& name, std::string_view v) {
  if (!v.empty()) (*l)[name] = std::string(v);
}

// Prometheus's addObjectMetaLabels: <role>_name, _label_*, _labelpresent_*,
// _annotation_*, _annotationpresent_* (names sanitized).
void AddObjectMeta(LabelSet* l, const nlohmann::json& obj, std::string_view role) {
  const std::string prefix = StrCat(kMeta, role, "_");
  Set(l, StrCat(prefix, "name"), StringAt(obj, {"metadata", "name"}));
  ForEachString(obj, {"metadata", "labels"}, [&](const std::string& k, const std::string& v) {
    const std::string n = SanitizeLabelName(k);
    Set(l, StrCat(prefix, "label_", n), v);
    (*l)[StrCat(prefix, "labelpresent_", n)] = "true";
  });
  ForEachString(obj, {"metadata", "annotations"}, [&](const std::string& k, const std::string& v) {
    const std::string n = SanitizeLabelName(k);
    Set(l, StrCat(prefix, "annotation_", n), v);
    (*l)[StrCat(prefix, "annotationpresent_", n)] = "true";
  });
}

// Prometheus's podLabels (no namespace, no container).
void AddPodLabels(LabelSet* l, const nlohmann::json& pod) {
  LabelSet& g = *l;
  AddObjectMeta(&g, pod, "pod");
  Set(&g, StrCat(kMeta, "pod_ip"), StringAt(pod, {"status", "podIP"}));
  Set(&g, StrCat(kMeta, "pod_phase"), StringAt(pod, {"status", "phase"}));
  Set(&g, StrCat(kMeta, "pod_node_name"), StringAt(pod, {"spec", "nodeName"}));
  Set(&g, StrCat(kMeta, "pod_host_ip"), StringAt(pod, {"status", "hostIP"}));
  Set(&g, StrCat(kMeta, "pod_uid"), StringAt(pod, {"metadata", "uid"}));
  std::string ready = "unknown";
  if (const nlohmann::json* conds = ArrayAt(pod, {"status", "conditions"})) {
    for (const auto& c : *conds) {
      if (StringAt(c, {"type"}) == "Ready") {
        ready = absl::AsciiStrToLower(ToAbsl(StringAt(c, {"status"})));
        break;
      }
    }
  }
  Set(&g, StrCat(kMeta, "pod_ready"), ready);
  if (const nlohmann::json* owners = ArrayAt(pod, {"metadata", "ownerReferences"})) {
    for (const auto& o : *owners) {
      const nlohmann::json* controller = Field(o, "controller");
      if (controller != nullptr && controller->is_boolean() && controller->get<bool>()) {
        Set(&g, StrCat(kMeta, "pod_controller_kind"), StringAt(o, {"kind"}));
        Set(&g, StrCat(kMeta, "pod_controller_name"), StringAt(o, {"name"}));
        break;
      }
    }
  }
}

std::vector<LabelSet> PodGroups(const nlohmann::json& pod) {
  std::vector<LabelSet> out;
  const std::string_view ip = StringAt(pod, {"status", "podIP"});
  if (ip.empty()) return out;  // starting, or evicted: no targets (as Prometheus)
  LabelSet g;
  AddPodLabels(&g, pod);
  Set(&g, StrCat(kMeta, "namespace"), StringAt(pod, {"metadata", "namespace"}));
  for (const bool init : {false, true}) {
    const nlohmann::json* containers = ArrayAt(pod, {"spec", init ? "initContainers" : "containers"});
    if (containers == nullptr) continue;
    const nlohmann::json* statuses = ArrayAt(pod, {"status", init ? "initContainerStatuses" : "containerStatuses"});
    for (const auto& c : *containers) {
      if (!c.is_object()) continue;
      const std::string_view name = StringAt(c, {"name"});
      LabelSet t = g;
      Set(&t, StrCat(kMeta, "pod_container_name"), name);
      Set(&t, StrCat(kMeta, "pod_container_image"), StringAt(c, {"image"}));
      t[StrCat(kMeta, "pod_container_init")] = init ? "true" : "false";
      if (statuses != nullptr) {
        for (const auto& s : *statuses) {
          if (StringAt(s, {"name"}) == name) {
            Set(&t, StrCat(kMeta, "pod_container_id"), StringAt(s, {"containerID"}));
            break;
          }
        }
      }
      const nlohmann::json* ports = ArrayAt(c, {"ports"});
      if (ports == nullptr || ports->empty()) {
        // No port: the Pod's IP alone; relabel_configs add one.
        t["__address__"] = std::string(ip);
        out.push_back(std::move(t));
        continue;
      }
      for (const auto& p : *ports) {
        const int64_t port = PortAt(p, "containerPort");
        if (port == 0) continue;  // not a port: no target
        LabelSet pt = t;
        pt["__address__"] = JoinHostPort(ip, port);
        pt[StrCat(kMeta, "pod_container_port_number")] = StrCat(port);
        Set(&pt, StrCat(kMeta, "pod_container_port_name"), StringAt(p, {"name"}));
        Set(&pt, StrCat(kMeta, "pod_container_port_protocol"), StringAt(p, {"protocol"}));
        out.push_back(std::move(pt));
      }
    }
  }
  return out;
}

std::vector<LabelSet> NodeGroups(const nlohmann::json& node) {
  std::vector<LabelSet> out;
  LabelSet t;
  AddObjectMeta(&t, node, "node");
  Set(&t, StrCat(kMeta, "node_provider_id"), StringAt(node, {"spec", "providerID"}));
  std::map<std::string, std::string> first;  // address type -> its first address
  if (const nlohmann::json* addrs = ArrayAt(node, {"status", "addresses"})) {
    for (const auto& a : *addrs) {
      const std::string_view type = StringAt(a, {"type"}), addr = StringAt(a, {"address"});
      if (!type.empty() && !addr.empty()) first.emplace(std::string(type), std::string(addr));
    }
  }
  std::string addr;
  for (const char* type : {"InternalIP", "ExternalIP", "LegacyHostIP", "Hostname"}) {
    if (auto it = first.find(type); it != first.end()) {
      addr = it->second;
      break;
    }
  }
  if (addr.empty()) return out;  // no address: no target (Prometheus logs it)
  for (const auto& [type, a] : first) t[SanitizeLabelName(StrCat(kMeta, "node_address_", type))] = a;
  int64_t port = 0;
  if (const nlohmann::json* kubelet = At(node, {"status", "daemonEndpoints", "kubeletEndpoint"})) {
    port = PortAt(*kubelet, "Port");
  }
  t["__address__"] = JoinHostPort(addr, port);
  Set(&t, "instance", StringAt(node, {"metadata", "name"}));
  out.push_back(std::move(t));
  return out;
}

std::vector<LabelSet> ServiceGroups(const nlohmann::json& svc) {
  std::vector<LabelSet> out;
  LabelSet g;
  AddObjectMeta(&g, svc, "service");
  const std::string_view ns = StringAt(svc, {"metadata", "namespace"});
  const std::string_view name = StringAt(svc, {"metadata", "name"});
  Set(&g, StrCat(kMeta, "namespace"), ns);
  const std::string_view type = StringAt(svc, {"spec", "type"});
  Set(&g, StrCat(kMeta, "service_type"), type);
  if (type == "ExternalName") {
    Set(&g, StrCat(kMeta, "service_external_name"), StringAt(svc, {"spec", "externalName"}));
  } else {
    Set(&g, StrCat(kMeta, "service_cluster_ip"), StringAt(svc, {"spec", "clusterIP"}));
  }
  const nlohmann::json* ports = ArrayAt(svc, {"spec", "ports"});
  if (ports == nullptr) return out;
  for (const auto& p : *ports) {
    const int64_t port = PortAt(p, "port");
    if (port == 0) continue;
    LabelSet t = g;
    t["__address__"] = JoinHostPort(StrCat(name, ".", ns, ".svc"), port);
    t[StrCat(kMeta, "service_port_number")] = StrCat(port);
    Set(&t, StrCat(kMeta, "service_port_name"), StringAt(p, {"name"}));
    Set(&t, StrCat(kMeta, "service_port_protocol"), StringAt(p, {"protocol"}));
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::string> ReadSecret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

// "namespace/name", the key Prometheus's informers use.
std::string KeyOf(const nlohmann::json& obj) {
  return StrCat(StringAt(obj, {"metadata", "namespace"}), "/", StringAt(obj, {"metadata", "name"}));
}

}  // namespace

absl::StatusOr<std::vector<LabelSet>> EndpointsGroups(
    const nlohmann::json& eps, const nlohmann::json* service,
    const std::function<const nlohmann::json*(std::string_view ns, std::string_view name)>& pod_of) {
  std::vector<LabelSet> out;
  bool too_many = false;
  LabelSet g;
  const std::string_view ns = StringAt(eps, {"metadata", "namespace"});
  Set(&g, StrCat(kMeta, "namespace"), ns);
  AddObjectMeta(&g, eps, "endpoints");
  if (service != nullptr) AddObjectMeta(&g, *service, "service");  // Prometheus's serviceLabels
  struct SeenPod {
    const nlohmann::json* pod;
    std::vector<int64_t> ports;  // the endpoint ports that made a target
  };
  std::map<std::string, SeenPod> seen;  // "namespace/name"
  auto add = [&](const nlohmann::json& addr, const nlohmann::json& port, const char* ready) {
    const std::string_view ip = StringAt(addr, {"ip"});
    const int64_t number = PortAt(port, "port");
    if (ip.empty() || number == 0) return;
    if (out.size() >= kMaxKubernetesSdTargetsPerObject) {
      too_many = true;
      return;
    }
    LabelSet t = g;
    t["__address__"] = JoinHostPort(ip, number);
    Set(&t, StrCat(kMeta, "endpoint_port_name"), StringAt(port, {"name"}));
    Set(&t, StrCat(kMeta, "endpoint_port_protocol"), StringAt(port, {"protocol"}));
    t[StrCat(kMeta, "endpoint_ready")] = ready;
    const std::string_view kind = StringAt(addr, {"targetRef", "kind"});
    const std::string_view name = StringAt(addr, {"targetRef", "name"});
    Set(&t, StrCat(kMeta, "endpoint_address_target_kind"), kind);
    Set(&t, StrCat(kMeta, "endpoint_address_target_name"), name);
    Set(&t, StrCat(kMeta, "endpoint_node_name"), StringAt(addr, {"nodeName"}));
    Set(&t, StrCat(kMeta, "endpoint_hostname"), StringAt(addr, {"hostname"}));
    const nlohmann::json* pod = nullptr;
    if (kind == "Pod" && pod_of) {
      std::string_view pod_ns = StringAt(addr, {"targetRef", "namespace"});
      pod = pod_of(pod_ns.empty() ? ns : pod_ns, name);
    }
    if (pod == nullptr) {
      out.push_back(std::move(t));
      return;
    }
    const std::string key =
        StrCat(StringAt(*pod, {"metadata", "namespace"}), "/", StringAt(*pod, {"metadata", "name"}));
    auto it = seen.try_emplace(key, SeenPod{pod, {}}).first;
    AddPodLabels(&t, *pod);
    if (const nlohmann::json* containers = ArrayAt(*pod, {"spec", "containers"})) {
      bool found = false;
      for (const auto& c : *containers) {
        const nlohmann::json* cports = ArrayAt(c, {"ports"});
        for (size_t i = 0; cports != nullptr && i < cports->size() && !found; ++i) {
          if (PortAt((*cports)[i], "containerPort") != number) continue;
          Set(&t, StrCat(kMeta, "pod_container_name"), StringAt(c, {"name"}));
          Set(&t, StrCat(kMeta, "pod_container_port_name"), StringAt((*cports)[i], {"name"}));
          t[StrCat(kMeta, "pod_container_port_number")] = StrCat(number);
          Set(&t, StrCat(kMeta, "pod_container_port_protocol"), StringAt(port, {"protocol"}));
          found = true;
        }
        if (found) break;
      }
    }
    it->second.ports.push_back(number);
    out.push_back(std::move(t));
  };
  if (const nlohmann::json* subsets = ArrayAt(eps, {"subsets"})) {
    for (const auto& ss : *subsets) {
      const nlohmann::json* ports = ArrayAt(ss, {"ports"});
      if (ports == nullptr) continue;
      for (const auto& port : *ports) {
        for (const auto& [list, ready] : {std::pair{"addresses", "true"}, std::pair{"notReadyAddresses", "false"}}) {
          if (const nlohmann::json* addrs = ArrayAt(ss, {list})) {
            for (const auto& a : *addrs) add(a, port, ready);
          }
        }
      }
    }
  }
  // The seen Pods' container ports that no endpoint port covered: targets of their own.
  for (const auto& [key, sp] : seen) {
    const std::string_view ip = StringAt(*sp.pod, {"status", "podIP"});
    const nlohmann::json* containers = ArrayAt(*sp.pod, {"spec", "containers"});
    if (ip.empty() || containers == nullptr) continue;
    for (const auto& c : *containers) {
      const nlohmann::json* cports = ArrayAt(c, {"ports"});
      if (cports == nullptr) continue;
      for (const auto& cp : *cports) {
        const int64_t number = PortAt(cp, "containerPort");
        if (number == 0 || std::find(sp.ports.begin(), sp.ports.end(), number) != sp.ports.end()) continue;
        if (out.size() >= kMaxKubernetesSdTargetsPerObject) {
          too_many = true;
          break;
        }
        LabelSet t = g;
        AddPodLabels(&t, *sp.pod);
        t["__address__"] = JoinHostPort(ip, number);
        Set(&t, StrCat(kMeta, "pod_container_name"), StringAt(c, {"name"}));
        Set(&t, StrCat(kMeta, "pod_container_port_name"), StringAt(cp, {"name"}));
        t[StrCat(kMeta, "pod_container_port_number")] = StrCat(number);
        Set(&t, StrCat(kMeta, "pod_container_port_protocol"), StringAt(cp, {"protocol"}));
        out.push_back(std::move(t));
      }
    }
  }
  if (too_many) {
    return absl::InvalidArgumentError(
        StrCat("more than ", kMaxKubernetesSdTargetsPerObject, " targets in one Endpoints object"));
  }
  return out;
}

absl::StatusOr<std::vector<LabelSet>> KubernetesGroups(std::string_view role, const nlohmann::json& object) {
  if (!object.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (StringAt(object, {"metadata", "name"}).empty()) return absl::InvalidArgumentError("no metadata.name");
  std::vector<LabelSet> groups;
  if (role == "pod") {
    groups = PodGroups(object);
  } else if (role == "node") {
    groups = NodeGroups(object);
  } else if (role == "service") {
    groups = ServiceGroups(object);
  } else {
    return absl::InvalidArgumentError(StrCat("role ", role, " is not supported"));
  }
  if (groups.size() > kMaxKubernetesSdTargetsPerObject) {
    return absl::InvalidArgumentError(StrCat("more than ", kMaxKubernetesSdTargetsPerObject, " targets in one object"));
  }
  return groups;
}

absl::StatusOr<k8s::ClusterConfig> KubernetesClusterConfig(const KubernetesSdConfig& cfg) {
  if (!cfg.kubeconfig_file.empty()) return k8s::KubeConfigFile(cfg.kubeconfig_file);
  if (cfg.api_server.empty()) {
    auto in = k8s::InClusterConfig();
    if (!in.ok()) {
      return absl::FailedPreconditionError(
          StrCat(in.status().message(), "; outside a cluster set api_server or kubeconfig_file"));
    }
    return in;
  }
  k8s::ClusterConfig c;
  c.server = cfg.api_server;
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  c.ca_file = cfg.tls.ca_file;
  c.cert_file = cfg.tls.cert_file;
  c.key_file = cfg.tls.key_file;
  c.insecure_skip_verify = cfg.tls.insecure_skip_verify;
  if (!cfg.basic_auth_username.empty() || !cfg.basic_auth_password.empty() || !cfg.basic_auth_password_file.empty()) {
    std::string password = cfg.basic_auth_password;
    if (!cfg.basic_auth_password_file.empty()) {
      auto p = ReadSecret(cfg.basic_auth_password_file);
      if (!p.ok()) return p.status();
      password = *p;
    }
    c.auth_scheme = "Basic";
    c.token = absl::Base64Escape(StrCat(cfg.basic_auth_username, ":", password));
  } else {
    c.auth_scheme = cfg.authorization_type.empty() ? "Bearer" : cfg.authorization_type;
    c.token = cfg.authorization_credentials;
    c.token_file = cfg.authorization_credentials_file;  // re-read before each request (rotated tokens)
  }
  return c;
}

namespace {

// Copies the members `keys` of obj[member] (an object) into out[member].
void KeepMembers(const nlohmann::json& obj, const char* member, std::initializer_list<const char*> keys,
                 nlohmann::json* out) {
  const nlohmann::json* m = Field(obj, member);
  if (m == nullptr || !m->is_object()) return;
  nlohmann::json kept = nlohmann::json::object();
  for (const char* k : keys) {
    if (const nlohmann::json* v = Field(*m, k)) kept[k] = *v;
  }
  (*out)[member] = std::move(kept);
}

// Each element of obj[member] (a list) with only the members `keys`.
void KeepList(const nlohmann::json& obj, const char* member, std::initializer_list<const char*> keys,
              nlohmann::json* out) {
  const nlohmann::json* l = Field(obj, member);
  if (l == nullptr || !l->is_array()) return;
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& e : *l) {
    nlohmann::json x = nlohmann::json::object();
    for (const char* k : keys) {
      if (const nlohmann::json* v = Field(e, k)) x[k] = *v;
    }
    kept.push_back(std::move(x));
  }
  (*out)[member] = std::move(kept);
}

// What is kept of an object: what the groups are made of (a Pod's managedFields, env,
// volumes, a Node's images and heartbeats are most of their size, and would make every
// status update a change). resourceVersion is not kept, so an update that changes
// nothing kept is no change.
nlohmann::json Trim(std::string_view resource, const nlohmann::json& obj) {
  nlohmann::json out = nlohmann::json::object();
  KeepMembers(obj, "metadata", {"name", "namespace", "uid", "labels", "annotations", "ownerReferences"}, &out);
  const nlohmann::json* spec = Field(obj, "spec");
  const nlohmann::json* status = Field(obj, "status");
  if (resource == "pods") {
    nlohmann::json sp = nlohmann::json::object();
    if (spec != nullptr) {
      if (const nlohmann::json* n = Field(*spec, "nodeName")) sp["nodeName"] = *n;
      KeepList(*spec, "containers", {"name", "image", "ports"}, &sp);
      KeepList(*spec, "initContainers", {"name", "image", "ports"}, &sp);
    }
    out["spec"] = std::move(sp);
    nlohmann::json st = nlohmann::json::object();
    if (status != nullptr) {
      for (const char* k : {"podIP", "hostIP", "phase"}) {
        if (const nlohmann::json* v = Field(*status, k)) st[k] = *v;
      }
      KeepList(*status, "conditions", {"type", "status"}, &st);
      KeepList(*status, "containerStatuses", {"name", "containerID"}, &st);
      KeepList(*status, "initContainerStatuses", {"name", "containerID"}, &st);
    }
    out["status"] = std::move(st);
  } else if (resource == "nodes") {
    if (spec != nullptr) KeepMembers(obj, "spec", {"providerID"}, &out);
    if (status != nullptr) KeepMembers(obj, "status", {"addresses", "daemonEndpoints"}, &out);
  } else if (resource == "services") {
    if (spec != nullptr) KeepMembers(obj, "spec", {"type", "clusterIP", "externalName", "ports"}, &out);
  } else {  // endpoints
    if (const nlohmann::json* subsets = Field(obj, "subsets")) out["subsets"] = *subsets;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubernetesSdDiscovery>> KubernetesSdDiscovery::Create(
    const KubernetesSdConfig& cfg, std::shared_ptr<spdlog::logger> logger,
    std::function<void(std::string_view)> count_error) {
  auto cluster = KubernetesClusterConfig(cfg);
  if (!cluster.ok()) return cluster.status();
  Options o;
  o.role = cfg.role;
  o.count_error = std::move(count_error);
  std::vector<std::string> namespaces = cfg.namespaces;
  if (cfg.own_namespace) {
    auto own = k8s::OwnNamespace();
    if (!own.ok()) return own.status();
    if (std::find(namespaces.begin(), namespaces.end(), *own) == namespaces.end()) namespaces.push_back(*own);
  }
  // The resources watched, each with the selectors of its role.
  std::vector<std::pair<std::string, std::string>> resources;  // (selector role, resource)
  if (cfg.role == "endpoints") {
    resources = {{"endpoints", "endpoints"}, {"service", "services"}, {"pod", "pods"}};
  } else {
    resources = {{cfg.role, cfg.role == "pod" ? "pods" : cfg.role == "node" ? "nodes" : "services"}};
  }
  for (const auto& [role, resource] : resources) {
    Watch w;
    w.resource = resource;
    for (const auto& sel : cfg.selectors) {
      if (sel.role != role) continue;
      w.label_selector = sel.label;
      w.field_selector = sel.field;
    }
    if (resource == "nodes" || namespaces.empty()) {
      w.path = StrCat("/api/v1/", resource);  // nodes have no namespace
      o.watches.push_back(w);
      continue;
    }
    for (const auto& ns : namespaces) {
      w.path = StrCat("/api/v1/namespaces/", ns, "/", resource);
      o.watches.push_back(w);
    }
  }
  return std::make_unique<KubernetesSdDiscovery>(std::make_shared<const k8s::Client>(std::move(*cluster)), std::move(o),
                                                 std::move(logger));
}

KubernetesSdDiscovery::KubernetesSdDiscovery(std::shared_ptr<const k8s::Client> client, Options opts,
                                             std::shared_ptr<spdlog::logger> logger)
    : client_(std::move(client)), opts_(std::move(opts)), logger_(std::move(logger)) {
  kind_ = StrCat("kubernetes_sd (role ", opts_.role, ")");
  for (const Watch& w : opts_.watches) {
    stores_.push_back(std::make_unique<Store>(this, w.resource));
    k8s::InformerOptions io;
    io.path = w.path;
    io.label_selector = w.label_selector;
    io.field_selector = w.field_selector;
    io.max_items = opts_.max_objects;
    io.initial_backoff = opts_.initial_backoff;
    io.on_error = [this](const absl::Status& st) {
      if (opts_.count_error) opts_.count_error(absl::IsResourceExhausted(st) ? "limit" : "request");
    };
    informers_.push_back(std::make_unique<k8s::Informer>(client_, std::move(io), stores_.back().get(), logger_));
  }
}

KubernetesSdDiscovery::~KubernetesSdDiscovery() { Stop(); }

void KubernetesSdDiscovery::Start(std::function<void()> changed) {
  changed_ = std::move(changed);
  for (auto& i : informers_) i->Start();
}

void KubernetesSdDiscovery::Stop() {
  for (auto& i : informers_) i->Stop();
}

bool KubernetesSdDiscovery::WaitSynced(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (auto& i : informers_) {
    if (!i->WaitSynced(std::max(absl::ZeroDuration(), deadline - absl::Now()))) return false;
  }
  return true;
}

void KubernetesSdDiscovery::Changed() {
  if (changed_) changed_();
}

size_t KubernetesSdDiscovery::CountLocked() const {
  size_t n = 0;
  for (const auto& s : stores_) n += s->size();
  return n;
}

void KubernetesSdDiscovery::Refuse(std::string_view reason, const std::string& message) {
  if (opts_.count_error) opts_.count_error(reason);
  if (logger_) logger_->warn("{}: {}", kind_, message);
}

absl::Status KubernetesSdDiscovery::Store::Take(const nlohmann::json& obj, nlohmann::json* kept) const {
  if (!obj.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (StringAt(obj, {"metadata", "name"}).empty()) return absl::InvalidArgumentError("no metadata.name");
  *kept = Trim(resource, obj);
  return absl::OkStatus();
}

void KubernetesSdDiscovery::Store::Replace(std::vector<nlohmann::json>&& items) {
  std::map<std::string, nlohmann::json> next;
  size_t bad = 0;
  std::string first_bad;
  for (nlohmann::json& obj : items) {
    nlohmann::json kept;
    if (absl::Status st = Take(obj, &kept); !st.ok()) {
      if (bad++ == 0) first_bad = std::string(st.message());
      continue;
    }
    next[KeyOf(obj)] = std::move(kept);
    obj = nlohmann::json();  // freed as it goes
  }
  items.clear();
  if (bad > 0) {
    for (size_t i = 0; i < bad; ++i) {
      if (d_->opts_.count_error) d_->opts_.count_error("object");
    }
    if (d_->logger_) {
      d_->logger_->warn("{}: {} object(s) of the {} list skipped: {}", d_->kind_, bad, resource, first_bad);
    }
  }
  {
    std::lock_guard<std::mutex> lock(d_->mu_);
    objects = std::move(next);
    d_->version_++;
    d_->limit_logged_ = false;
  }
  d_->Changed();
}

void KubernetesSdDiscovery::Store::Apply(k8s::EventType type, nlohmann::json&& object) {
  const std::string key = KeyOf(object);
  nlohmann::json kept;
  if (absl::Status st = Take(object, &kept); !st.ok()) {
    d_->Refuse("object", StrCat("a watch event's object (", resource, ") is skipped: ", st.message()));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(d_->mu_);
    if (type == k8s::EventType::kDeleted) {
      if (objects.erase(key) == 0) return;
    } else {
      auto it = objects.find(key);
      const bool known = it != objects.end();
      if (!known && d_->CountLocked() >= static_cast<size_t>(d_->opts_.max_objects)) {
        const bool log = !d_->limit_logged_;
        d_->limit_logged_ = true;
        if (d_->opts_.count_error) d_->opts_.count_error("limit");
        if (log && d_->logger_) {
          d_->logger_->error(
              "{}: more than {} objects; {} {} and further new ones are skipped (use selectors or "
              "namespaces)",
              d_->kind_, d_->opts_.max_objects, resource, key);
        }
        return;
      }
      if (known && it->second == kept) return;  // nothing kept changed (status heartbeats...)
      objects[key] = std::move(kept);
    }
    d_->version_++;
  }
  d_->Changed();
}

std::vector<LabelSet> KubernetesSdDiscovery::JoinEndpointsLocked() const {
  auto find = [&](std::string_view resource, const std::string& key) -> const nlohmann::json* {
    for (const auto& s : stores_) {
      if (s->resource != resource) continue;
      auto it = s->objects.find(key);
      if (it != s->objects.end()) return &it->second;
    }
    return nullptr;
  };
  std::vector<LabelSet> out;
  for (const auto& s : stores_) {
    if (s->resource != "endpoints") continue;
    for (const auto& [key, eps] : s->objects) {
      auto groups = EndpointsGroups(eps, find("services", key), [&](std::string_view ns, std::string_view name) {
        return find("pods", StrCat(ns, "/", name));
      });
      if (!groups.ok()) {
        if (opts_.count_error) opts_.count_error("object");
        if (logger_) logger_->warn("{}: Endpoints {} is skipped: {}", kind_, key, groups.status().message());
        continue;
      }
      for (LabelSet& g : *groups) out.push_back(std::move(g));
    }
  }
  return out;
}

void KubernetesSdDiscovery::Release() {
  // The groups are the bulk of the memory (every Pod's labels in each of its targets);
  // the stores keep what the next Poll() makes them from.
  const bool large = groups_.size() >= 1000;
  std::vector<LabelSet>().swap(groups_);
#ifdef __GLIBC__
  if (large) malloc_trim(0);  // glibc keeps freed small blocks otherwise
#endif
}

TargetDiscovery::Result KubernetesSdDiscovery::Poll() {
  Result r;
  std::vector<LabelSet> groups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (version_ == polled_version_) return r;
    polled_version_ = version_;
    if (opts_.role == "endpoints") {
      groups = JoinEndpointsLocked();
    } else {
      for (const auto& s : stores_) {
        for (const auto& [key, obj] : s->objects) {
          auto found = KubernetesGroups(opts_.role, obj);
          if (!found.ok()) {
            if (opts_.count_error) opts_.count_error("object");
            if (logger_) logger_->warn("{}: {} is skipped: {}", kind_, key, found.status().message());
            continue;
          }
          for (LabelSet& g : *found) groups.push_back(std::move(g));
        }
      }
    }
  }
  // A new version is a change (groups_ may have been released, so it is not compared).
  groups_ = std::move(groups);
  r.changed = true;
  return r;
}

}  // namespace outrigger::receivers::prometheus
