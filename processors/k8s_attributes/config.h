#pragma once
// Options of k8s_attributes (alias k8sattributes). Upstream's names and defaults
// (contrib processor/k8sattributesprocessor) where the same thing exists; `mode` and
// `sidecar` are ours (see README.md).

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "collector/component/factory.h"

namespace outrigger::processors::k8s_attributes {

// Sidecar mode: the Pod's identity from the Downward API. Defaults of the variables and
// files (what k8s/ wires).
inline constexpr char kDefaultPodNameEnv[] = "K8S_POD_NAME";
inline constexpr char kDefaultNamespaceEnv[] = "K8S_NAMESPACE_NAME";
inline constexpr char kDefaultNodeNameEnv[] = "K8S_NODE_NAME";
inline constexpr char kDefaultPodUidEnv[] = "K8S_POD_UID";
inline constexpr char kDefaultPodIpEnv[] = "K8S_POD_IP";
inline constexpr char kDefaultServiceAccountEnv[] = "K8S_SERVICE_ACCOUNT_NAME";
inline constexpr char kDefaultLabelsFile[] = "/etc/podinfo/labels";
inline constexpr char kDefaultAnnotationsFile[] = "/etc/podinfo/annotations";
inline constexpr char kDefaultContainerNameAnnotation[] = "kubectl.kubernetes.io/default-container";
inline constexpr absl::Duration kDefaultRefreshInterval = absl::Seconds(1);
inline constexpr absl::Duration kDefaultWaitForMetadataTimeout = absl::Seconds(10);
inline constexpr absl::Duration kDefaultPodDeleteGrace = absl::Minutes(2);

// Not a semantic convention (there is none yet): the Pod's service account.
inline constexpr char kServiceAccountAttr[] = "k8s.pod.service_account.name";

// upstream's default extract.metadata
std::vector<std::string> DefaultMetadata();

struct FieldExtract {
  std::string tag_name;   // empty: k8s.<from>.labels.<key> / k8s.<from>.annotations.<key>
  std::string key;        // exact key, or
  std::string key_regex;  // a full-match RE2 regexp; tag_name may use $1, ${1}, ${name}
  std::string from = "pod";
};

struct AssociationSource {
  std::string from;  // connection | resource_attribute
  std::string name;  // the resource attribute (resource_attribute)
};

struct FieldFilter {
  std::string key, value;
  std::string op = "equals";  // equals | not-equals (| exists | does-not-exist for labels)
};

struct SidecarConfig {
  std::string pod_name_env = kDefaultPodNameEnv;
  std::string namespace_env = kDefaultNamespaceEnv;
  std::string node_name_env = kDefaultNodeNameEnv;
  std::string pod_uid_env = kDefaultPodUidEnv;
  std::string pod_ip_env = kDefaultPodIpEnv;
  std::string service_account_env = kDefaultServiceAccountEnv;
  std::string labels_file = kDefaultLabelsFile;            // empty: none
  std::string annotations_file = kDefaultAnnotationsFile;  // empty: none
  std::string container_name;                              // the application's container
  std::string container_name_annotation = kDefaultContainerNameAnnotation;
  absl::Duration refresh_interval = kDefaultRefreshInterval;  // how often the files are checked (0: every batch)
};

struct Config : ComponentConfig {
  std::string mode = "sidecar";              // sidecar | api (ours)
  std::string auth_type = "serviceAccount";  // serviceAccount | none (api mode)
  bool passthrough = false;
  bool overwrite = false;  // ours: replace resource attributes that are already set
  bool wait_for_metadata = false;
  absl::Duration wait_for_metadata_timeout = kDefaultWaitForMetadataTimeout;
  absl::Duration pod_delete_grace = kDefaultPodDeleteGrace;  // pod_delete_grace_period (alias pod_delete_grace)
  absl::Duration watch_sync_period = absl::Minutes(5);       // accepted; no effect (see config.cc)

  struct {
    std::vector<std::string> metadata = DefaultMetadata();
    std::vector<FieldExtract> labels;
    std::vector<FieldExtract> annotations;
    bool otel_annotations = false;
    bool deployment_name_from_replicaset = false;
  } extract;

  struct {
    std::string node;
    std::string node_from_env_var;
    std::string namespace_;
    std::vector<FieldFilter> fields;
    std::vector<FieldFilter> labels;
  } filter;

  std::vector<std::vector<AssociationSource>> pod_association;                   // empty: [[connection]]
  std::vector<std::string> exclude_pods = {"jaeger-agent", "jaeger-collector"};  // regexps of Pod names

  SidecarConfig sidecar;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;

  bool api() const { return mode == "api"; }
  bool Wants(std::string_view attr) const;
  // The node filter: filter.node, else the value of filter.node_from_env_var.
  std::string NodeFilter() const;
};

}  // namespace outrigger::processors::k8s_attributes
