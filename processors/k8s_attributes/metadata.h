#pragma once
// What both modes share: the attribute list of a Pod, the labels/annotations rules
// (extract.labels / extract.annotations / otel_annotations), the workload names derived
// from object names, and the Downward API's labels/annotations file format.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "processors/k8s_attributes/config.h"

namespace re2 {
class RE2;
}

namespace outrigger::processors::k8s_attributes {

using Attrs = std::vector<std::pair<std::string, std::string>>;
using StringMap = std::map<std::string, std::string, std::less<>>;

// Kubernetes' "<deployment>-<pod-template-hash>": the Deployment's name, or "" when
// `rs` does not end with "-<hash>" (hash empty: the last "-" segment is dropped).
std::string DeploymentFromReplicaSet(std::string_view rs, std::string_view hash);
// A CronJob's Job is "<cronjob>-<scheduled time in minutes>": the CronJob's name, or "".
std::string CronJobFromJob(std::string_view job);
// A Pod's name without its last "-<suffix>" (the ReplicaSet's or DaemonSet's generated
// part), or "" when there is no "-".
std::string TrimLastSegment(std::string_view pod);

// Workload names a sidecar can derive from its Pod's name and labels (the Downward API
// has no owner references): pod-template-hash → ReplicaSet and Deployment;
// statefulset.kubernetes.io/pod-name → StatefulSet; controller-revision-hash with
// pod-template-generation → DaemonSet; job-name / batch.kubernetes.io/job-name → Job
// (and CronJob).
struct Workload {
  std::string replicaset, deployment, statefulset, daemonset, job, cronjob;
};
Workload DeriveWorkload(std::string_view pod_name, const StringMap& labels);

// The Downward API volume's format for labels and annotations: one `key="value"` per
// line, the value quoted as Go's strconv.Quote. Lines that do not parse are skipped and
// counted in *bad.
StringMap ParseDownwardApiFile(std::string_view text, size_t* bad);

// The compiled extract.labels / extract.annotations rules and otel_annotations.
class Extractor {
 public:
  explicit Extractor(const Config& cfg);
  ~Extractor();
  // Adds the attributes of the rules for `from` ("pod", "namespace", "node").
  void Labels(std::string_view from, const StringMap& labels, Attrs* out) const;
  void Annotations(std::string_view from, const StringMap& annotations, Attrs* out) const;
  bool Needs(std::string_view from) const;  // any rule reads this kind of object
  bool otel_annotations() const { return otel_annotations_; }

 private:
  struct Rule {
    std::string tag_name, key, from;
    std::unique_ptr<re2::RE2> re;
  };
  void Apply(const std::vector<Rule>& rules, std::string_view kind, std::string_view from, const StringMap& kv,
             Attrs* out) const;
  std::vector<Rule> labels_, annotations_;
  bool otel_annotations_ = false;
};

// Sets `attrs` on a resource's attribute list (an OTLP RepeatedPtrField<KeyValue>):
// attributes already present are kept unless `overwrite`.
template <typename KVs>
void SetAttrs(KVs* kvs, const Attrs& attrs, bool overwrite) {
  for (const auto& [k, v] : attrs) {
    bool found = false;
    for (auto& kv : *kvs) {
      if (kv.key() == k) {
        found = true;
        if (overwrite) kv.mutable_value()->set_string_value(v);
        break;
      }
    }
    if (!found) {
      auto* kv = kvs->Add();
      kv->set_key(k);
      kv->mutable_value()->set_string_value(v);
    }
  }
}

}  // namespace outrigger::processors::k8s_attributes
