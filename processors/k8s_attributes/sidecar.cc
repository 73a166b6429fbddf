#include "processors/k8s_attributes/sidecar.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace outrigger::processors::k8s_attributes {
namespace {

std::string Env(const std::string& name) {
  if (name.empty()) return "";
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? "" : v;
}

// The file's content; false when it cannot be read (absent is not an error).
bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

SidecarIdentity::SidecarIdentity(const Config& cfg) : cfg_(cfg), extractor_(cfg) {
  const SidecarConfig& s = cfg.sidecar;
  pod_name_ = Env(s.pod_name_env);
  namespace_ = Env(s.namespace_env);
  node_ = Env(s.node_name_env);
  uid_ = Env(s.pod_uid_env);
  pod_ip_ = Env(s.pod_ip_env);
  service_account_ = Env(s.service_account_env);
  hostname_ = Env("HOSTNAME");
}

SidecarIdentity::Stamp SidecarIdentity::StampOf(const std::string& path) {
  Stamp st;
  struct stat sb {};
  if (path.empty() || ::stat(path.c_str(), &sb) != 0) return st;  // follows the ..data symlinks
  st.exists = true;
  st.dev = sb.st_dev;
  st.ino = sb.st_ino;
  st.mtime_ns = static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
  st.size = sb.st_size;
  return st;
}

std::shared_ptr<const Attrs> SidecarIdentity::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = absl::Now();
  if (current_ && now < next_check_) return current_;
  next_check_ = now + cfg_.sidecar.refresh_interval;
  Stamp l = StampOf(cfg_.sidecar.labels_file);
  Stamp a = StampOf(cfg_.sidecar.annotations_file);
  if (current_ && l == labels_stamp_ && a == annotations_stamp_) return current_;
  labels_stamp_ = l;
  annotations_stamp_ = a;
  uint64_t errors_before = read_errors_.load();
  current_ = Build();
  reloads_++;
  if (reloads_counter_ != nullptr) reloads_counter_->Increment();
  if (errors_counter_ != nullptr) errors_counter_->Increment(static_cast<double>(read_errors_.load() - errors_before));
  return current_;
}

std::shared_ptr<const Attrs> SidecarIdentity::Build() {
  StringMap labels, annotations;
  std::string text;
  size_t bad = 0;
  if (labels_stamp_.exists) {
    if (ReadFile(cfg_.sidecar.labels_file, &text)) {
      labels = ParseDownwardApiFile(text, &bad);
    } else {
      read_errors_++;
    }
  }
  if (annotations_stamp_.exists) {
    if (ReadFile(cfg_.sidecar.annotations_file, &text)) {
      annotations = ParseDownwardApiFile(text, &bad);
    } else {
      read_errors_++;
    }
  }
  read_errors_ += bad;

  auto attrs = std::make_shared<Attrs>();
  auto add = [&](std::string_view key, const std::string& value) {
    if (!value.empty() && cfg_.Wants(key)) attrs->emplace_back(std::string(key), value);
  };
  if (cfg_.passthrough) {
    // A sidecar forwarding to a gateway that does the lookups: the Pod's IP only.
    if (!pod_ip_.empty()) attrs->emplace_back("k8s.pod.ip", pod_ip_);
    return attrs;
  }
  add("k8s.namespace.name", namespace_);
  add("k8s.pod.name", pod_name_);
  add("k8s.pod.uid", uid_);
  add("k8s.pod.ip", pod_ip_);
  add("k8s.pod.hostname", hostname_);
  add("k8s.node.name", node_);
  add(kServiceAccountAttr, service_account_);
  Workload w = DeriveWorkload(pod_name_, labels);
  add("k8s.replicaset.name", w.replicaset);
  add("k8s.deployment.name", w.deployment);
  add("k8s.statefulset.name", w.statefulset);
  add("k8s.daemonset.name", w.daemonset);
  add("k8s.job.name", w.job);
  add("k8s.cronjob.name", w.cronjob);
  // The application's container: configured, else the annotation (kubectl's default
  // container). Added whenever known: it names the app, not this sidecar.
  std::string container = cfg_.sidecar.container_name;
  if (container.empty() && !cfg_.sidecar.container_name_annotation.empty()) {
    auto it = annotations.find(cfg_.sidecar.container_name_annotation);
    if (it != annotations.end()) container = it->second;
  }
  if (!container.empty()) attrs->emplace_back("k8s.container.name", container);
  extractor_.Labels("pod", labels, attrs.get());
  extractor_.Annotations("pod", annotations, attrs.get());
  return attrs;
}

}  // namespace outrigger::processors::k8s_attributes
