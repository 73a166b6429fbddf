#include "processors/k8s_attributes/config.h"

#include <algorithm>
#include <cstdlib>

#include "collector/common/strings.h"
#include "re2/re2.h"

namespace outrigger::processors::k8s_attributes {
namespace {

// Every metadata name we add in API mode.
const std::vector<std::string>& ApiMetadata() {
  static const std::vector<std::string> v = {
      "k8s.namespace.name",  "k8s.pod.name",         "k8s.pod.uid",          "k8s.pod.start_time",
      "k8s.pod.ip",          "k8s.pod.hostname",     "k8s.node.name",        "k8s.node.uid",
      "k8s.replicaset.name", "k8s.replicaset.uid",   "k8s.deployment.name",  "k8s.deployment.uid",
      "k8s.daemonset.name",  "k8s.daemonset.uid",    "k8s.statefulset.name", "k8s.statefulset.uid",
      "k8s.job.name",        "k8s.job.uid",          "k8s.cronjob.name",     "k8s.container.name",
      "container.id",        "container.image.name", "container.image.tag",  kServiceAccountAttr};
  return v;
}

// What the Downward API cannot give a sidecar.
bool SidecarCannot(std::string_view m) {
  return m == "k8s.node.uid" || m == "k8s.replicaset.uid" || m == "k8s.deployment.uid" || m == "k8s.daemonset.uid" ||
         m == "k8s.statefulset.uid" || m == "k8s.job.uid" || m == "container.id" || m == "container.image.name" ||
         m == "container.image.tag";
}

void DecodeFieldExtracts(config::Node& node, std::string_view key, std::vector<FieldExtract>* out) {
  if (!node.Has(key)) return;
  out->clear();
  for (config::Node* item : node.ReadMappings(key)) {
    FieldExtract f;
    item->Read("tag_name", &f.tag_name);
    item->Read("key", &f.key);
    item->Read("key_regex", &f.key_regex);
    item->Unsupported("regex", "removed upstream (v0.122); use key_regex, or a transform processor on the value");
    item->Read("from", &f.from);
    out->push_back(std::move(f));
  }
}

void DecodeFilters(config::Node& node, std::string_view key, std::vector<FieldFilter>* out) {
  for (config::Node* item : node.ReadMappings(key)) {
    FieldFilter f;
    item->Read("key", &f.key);
    item->Read("value", &f.value);
    item->Read("op", &f.op);
    out->push_back(std::move(f));
  }
}

}  // namespace

std::vector<std::string> DefaultMetadata() {
  return {"k8s.namespace.name", "k8s.pod.name",        "k8s.pod.uid",
          "k8s.pod.start_time", "k8s.deployment.name", "k8s.node.name"};
}

bool Config::Wants(std::string_view attr) const {
  return std::find(extract.metadata.begin(), extract.metadata.end(), attr) != extract.metadata.end();
}

std::string Config::NodeFilter() const {
  if (!filter.node.empty()) return filter.node;
  if (!filter.node_from_env_var.empty()) {
    const char* v = std::getenv(filter.node_from_env_var.c_str());
    if (v != nullptr) return v;
  }
  return "";
}

void Config::Decode(config::Node& node) {
  node.ReadEnum("mode", &mode, {"sidecar", "api"});
  node.Read("auth_type", &auth_type);
  node.Unsupported(
      "kube_config_path",
      "kubeconfig files are not read; run in the cluster (auth_type: serviceAccount) or use mode: sidecar");
  node.Unsupported("context", "kubeconfig files are not read; run in the cluster (auth_type: serviceAccount)");
  node.Read("passthrough", &passthrough);
  node.Read("overwrite", &overwrite);
  node.Read("wait_for_metadata", &wait_for_metadata);
  node.Read("wait_for_metadata_timeout", &wait_for_metadata_timeout);
  // Upstream's name (contrib v0.13x+), and ours from before it existed.
  node.Read("pod_delete_grace_period", &pod_delete_grace);
  node.Read("pod_delete_grace", &pod_delete_grace);
  // The informers' resync period upstream. Our store follows the watch itself (and lists
  // again after a watch error), so there is nothing to resync: accepted, checked, no effect.
  node.Read("watch_sync_period", &watch_sync_period);

  config::Node& ex = node.Child("extract");
  ex.Read("metadata", &extract.metadata);
  DecodeFieldExtracts(ex, "labels", &extract.labels);
  DecodeFieldExtracts(ex, "annotations", &extract.annotations);
  ex.Read("otel_annotations", &extract.otel_annotations);
  ex.Read("deployment_name_from_replicaset", &extract.deployment_name_from_replicaset);
  ex.Unsupported("service_attributes",
                 "service.* attributes are not derived; set them with the resource or transform processor");

  config::Node& f = node.Child("filter");
  f.Read("node", &filter.node);
  f.Read("node_from_env_var", &filter.node_from_env_var);
  f.Read("namespace", &filter.namespace_);
  DecodeFilters(f, "fields", &filter.fields);
  DecodeFilters(f, "labels", &filter.labels);

  if (node.Has("pod_association")) {
    for (config::Node* rule : node.ReadMappings("pod_association")) {
      std::vector<AssociationSource> sources;
      for (config::Node* s : rule->ReadMappings("sources")) {
        AssociationSource src;
        s->Read("from", &src.from);
        s->Read("name", &src.name);
        sources.push_back(std::move(src));
      }
      pod_association.push_back(std::move(sources));
    }
  }
  config::Node& exc = node.Child("exclude");
  if (exc.Has("pods")) {
    exclude_pods.clear();
    for (config::Node* p : exc.ReadMappings("pods")) {
      std::string name;
      p->Read("name", &name);
      exclude_pods.push_back(std::move(name));
    }
  }

  config::Node& sc = node.Child("sidecar");
  config::Node& env = sc.Child("env");
  env.Read("pod_name", &sidecar.pod_name_env);
  env.Read("namespace", &sidecar.namespace_env);
  env.Read("node_name", &sidecar.node_name_env);
  env.Read("pod_uid", &sidecar.pod_uid_env);
  env.Read("pod_ip", &sidecar.pod_ip_env);
  env.Read("service_account", &sidecar.service_account_env);
  sc.Read("labels_file", &sidecar.labels_file);
  sc.Read("annotations_file", &sidecar.annotations_file);
  sc.Read("container_name", &sidecar.container_name);
  sc.Read("container_name_annotation", &sidecar.container_name_annotation);
  sc.Read("refresh_interval", &sidecar.refresh_interval);
}

absl::Status Config::Validate() const {
  if (pod_delete_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("pod_delete_grace_period must not be negative");
  }
  if (watch_sync_period < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("watch_sync_period must not be negative");
  }
  if (auth_type == "kubeConfig" || auth_type == "tls") {
    return absl::InvalidArgumentError(StrCat("auth_type: ", auth_type,
                                             " is not supported: run in the cluster with auth_type: serviceAccount "
                                             "(or none), or use mode: sidecar (no API access)"));
  }
  if (auth_type != "serviceAccount" && auth_type != "none") {
    return absl::InvalidArgumentError(
        StrCat("auth_type: '", auth_type, "' is not one of serviceAccount, none (kubeConfig, tls: not supported)"));
  }
  for (const auto& m : extract.metadata) {
    if (m.starts_with("service.") || m == "k8s.cluster.uid" || m == "k8s.cronjob.uid" ||
        m == "container.image.repo_digests") {
      return absl::InvalidArgumentError(StrCat("extract.metadata: \"", m,
                                               "\" is not supported here; add it with the resource or transform "
                                               "processor (k8s.cronjob.name is derived from the Job's name)"));
    }
    if (std::find(ApiMetadata().begin(), ApiMetadata().end(), m) == ApiMetadata().end()) {
      return absl::InvalidArgumentError(StrCat("extract.metadata: \"", m, "\" is not a supported metadata field"));
    }
    if (!api() && !passthrough && SidecarCannot(m)) {
      return absl::InvalidArgumentError(StrCat("extract.metadata: \"", m,
                                               "\" is not available in mode: sidecar (the Downward API does not "
                                               "give it); use mode: api"));
    }
  }
  for (const auto* list : {&extract.labels, &extract.annotations}) {
    const char* what = list == &extract.labels ? "extract.labels" : "extract.annotations";
    for (const auto& f : *list) {
      if (!f.key.empty() && !f.key_regex.empty()) {
        return absl::InvalidArgumentError(
            StrCat(what,
                   ": Out of Key or KeyRegex only one option is expected to be configured at a time, currently "
                   "Key:",
                   f.key, " and KeyRegex:", f.key_regex));
      }
      if (f.key.empty() && f.key_regex.empty()) {
        return absl::InvalidArgumentError(StrCat(what, ": each rule needs key or key_regex"));
      }
      if (f.from != "pod" && f.from != "namespace" && f.from != "node") {
        if (f.from == "deployment" || f.from == "statefulset" || f.from == "daemonset" || f.from == "job") {
          return absl::InvalidArgumentError(StrCat(what, ": from: ", f.from,
                                                   " is not supported (workload objects are not watched); use "
                                                   "from: pod, namespace or node"));
        }
        return absl::InvalidArgumentError(
            StrCat(what, ": ", f.from, " is not a valid choice for From. Must be one of: pod, namespace, node"));
      }
      if (!api() && f.from != "pod") {
        return absl::InvalidArgumentError(StrCat(what, ": from: ", f.from,
                                                 " needs the API (mode: api); the Downward API gives the Pod's own "
                                                 "labels and annotations only"));
      }
      if (!f.key_regex.empty()) {
        RE2 re(StrCat("^(?:", f.key_regex, ")$"), RE2::Quiet);
        if (!re.ok()) return absl::InvalidArgumentError(StrCat(what, ": key_regex: ", re.error()));
      }
    }
  }
  for (const auto& rule : pod_association) {
    if (rule.empty()) return absl::InvalidArgumentError("pod_association: a rule without sources");
    if (rule.size() > 4) return absl::InvalidArgumentError("pod_association: too many association sources. limit is 4");
    bool has_name = false, has_ns = false;
    for (const auto& s : rule) {
      if (s.from == "connection") continue;
      if (s.from != "resource_attribute") {
        return absl::InvalidArgumentError(
            StrCat("pod_association: from: '", s.from, "' is not one of connection, resource_attribute"));
      }
      static const std::vector<std::string> names = {"k8s.pod.ip",   "ip",           "host.name",         "k8s.pod.uid",
                                                     "container.id", "k8s.pod.name", "k8s.namespace.name"};
      if (std::find(names.begin(), names.end(), s.name) == names.end()) {
        return absl::InvalidArgumentError(StrCat(
            "pod_association: resource_attribute '", s.name,
            "' is not supported; use k8s.pod.ip (or ip, host.name), k8s.pod.uid, container.id, or k8s.pod.name with "
            "k8s.namespace.name"));
      }
      has_name |= s.name == "k8s.pod.name";
      has_ns |= s.name == "k8s.namespace.name";
    }
    if (has_name != has_ns) {
      return absl::InvalidArgumentError(
          "pod_association: k8s.pod.name and k8s.namespace.name identify a Pod together: list both in the rule");
    }
  }
  for (const auto* list : {&filter.fields, &filter.labels}) {
    bool labels = list == &filter.labels;
    for (const auto& f : *list) {
      bool ok = f.op == "equals" || f.op == "not-equals" || (labels && (f.op == "exists" || f.op == "does-not-exist"));
      if (!ok) {
        return absl::InvalidArgumentError(StrCat("'", f.op, "' is not a valid ", labels ? "label" : "field",
                                                 " filter operation for key=", f.key, ", value=", f.value));
      }
      if (f.key.empty()) return absl::InvalidArgumentError("filter: a filter without key");
    }
  }
  if (!filter.node_from_env_var.empty() && std::getenv(filter.node_from_env_var.c_str()) == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("`node_from_env_var` is configured but envvar \"", filter.node_from_env_var, "\" is not set"));
  }
  for (const auto& p : exclude_pods) {
    RE2 re(p, RE2::Quiet);
    if (!re.ok()) return absl::InvalidArgumentError(StrCat("exclude.pods: '", p, "': ", re.error()));
  }
  if (!api()) {
    if (!filter.node.empty() || !filter.node_from_env_var.empty() || !filter.namespace_.empty() ||
        !filter.fields.empty() || !filter.labels.empty()) {
      return absl::InvalidArgumentError(
          "filter applies to the API's Pod watch: set mode: api (sidecar mode watches nothing)");
    }
    if (!pod_association.empty() && !passthrough) {
      return absl::InvalidArgumentError(
          "pod_association needs mode: api (in sidecar mode every record is the sidecar's own Pod's)");
    }
    if (wait_for_metadata) return absl::InvalidArgumentError("wait_for_metadata needs mode: api");
  }
  if (sidecar.refresh_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sidecar.refresh_interval must not be negative");
  }
  return absl::OkStatus();
}

}  // namespace outrigger::processors::k8s_attributes
