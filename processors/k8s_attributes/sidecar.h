#pragma once
// Sidecar mode: the Pod's own identity from the Downward API, with no API access.
// Environment variables (read once at creation: the kubelet sets them at container
// start) and the labels / annotations files of a downwardAPI volume, re-read when they
// change: the kubelet writes a new timestamped directory and swaps the `..data` symlink,
// so the file's path resolves to a new inode. Checked at most every refresh_interval,
// in the caller's thread (no thread of its own).

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "processors/k8s_attributes/config.h"
#include "processors/k8s_attributes/metadata.h"
#include "prometheus/counter.h"

namespace outrigger::processors::k8s_attributes {

class SidecarIdentity {
 public:
  explicit SidecarIdentity(const Config& cfg);
  // The attributes to add (the same object until a file changes).
  std::shared_ptr<const Attrs> Current();
  std::string pod_ip() const { return pod_ip_; }
  // Counters (of the processor's metrics) to add to as well; may be null.
  void SetCounters(prometheus::Counter* reloads, prometheus::Counter* errors) {
    reloads_counter_ = reloads;
    errors_counter_ = errors;
  }
  uint64_t reloads() const { return reloads_.load(); }
  uint64_t read_errors() const { return read_errors_.load(); }

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    int64_t mtime_ns = -1;
    off_t size = -1;
    bool exists = false;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp StampOf(const std::string& path);
  std::shared_ptr<const Attrs> Build();

  const Config& cfg_;
  Extractor extractor_;
  std::string pod_name_, namespace_, node_, uid_, pod_ip_, service_account_, hostname_;
  std::mutex mu_;
  std::shared_ptr<const Attrs> current_;
  Stamp labels_stamp_, annotations_stamp_;
  absl::Time next_check_ = absl::InfinitePast();
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> read_errors_{0};
  prometheus::Counter* reloads_counter_ = nullptr;
  prometheus::Counter* errors_counter_ = nullptr;
};

}  // namespace outrigger::processors::k8s_attributes
