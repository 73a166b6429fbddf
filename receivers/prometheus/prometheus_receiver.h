#pragma once
// The prometheus receiver: scrapes the targets of its scrape_configs on one worker thread
// (it sleeps on a condition variable until the next scrape or discovery poll is due),
// converts each exposition to OTLP metrics (scrape.h) and hands them to the pipeline from
// that thread. Targets come from static_configs (fixed at Start) and from
// pod_annotations_sd_configs, file_sd_configs and kubernetes_sd_configs (polled by the
// same thread, woken at once by a Kubernetes watch event; targets come and go without a
// restart), all through the job's relabel_configs (discovery.h, kubernetes_sd.h).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "collector/component/admission.h"
#include "collector/component/component.h"
#include "collector/httpclient/http_client.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/discovery.h"
#include "receivers/prometheus/scrape.h"

namespace outrigger::receivers::prometheus {

class PrometheusReceiver : public Receiver, public AdmissionClient {
 public:
  PrometheusReceiver(const CreateSettings& settings, const Config& cfg);
  ~PrometheusReceiver() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  // Completed scrapes (all targets), for tests.
  int64_t scrapes() const;
  // The URLs of the current targets, for tests.
  std::vector<std::string> target_urls() const;

  struct Target {
    const ScrapeConfig* sc = nullptr;
    httpclient::Client* client = nullptr;
    std::string url;
    std::vector<std::string> headers;
    absl::Duration interval, timeout;
    absl::Time next;
    std::unique_ptr<TargetState> state;
    bool was_up = true;            // for logging changes only
    size_t last_body = 0;          // the last answer's size: what the next scrape asks admission for
    bool memory_skipping = false;  // scrapes are skipped for the memory limit (for logging changes only)
    int source = -1;               // -1: static_configs; else the index in discoveries_ that found it
    std::string key;               // url and labels: the same key across polls is the same target
  };
  struct Discovery {
    const ScrapeConfig* sc = nullptr;
    httpclient::Client* client = nullptr;
    std::unique_ptr<TargetDiscovery> d;
    absl::Duration every;
    absl::Time next;
    absl::Time last;     // the last poll
    bool dirty = false;  // a change was reported since the last poll began
  };

 private:
  void Run();
  void ScrapeOne(Target& t);
  // Scrapes, converts and sends; returns the body's size.
  size_t ScrapeAndSend(Target& t);
  // A target of `sc` from a group's labels (nullopt: relabeling dropped it, or it is
  // invalid, which is logged).
  std::optional<Target> MakeTarget(const ScrapeConfig& sc, httpclient::Client* client, const LabelSet& group,
                                   int source);
  Target TargetFrom(const ScrapeConfig& sc, httpclient::Client* client, const ScrapeTarget& spec, int source);
  // Polls discovery `i`; on a change replaces its targets (unchanged ones keep their state,
  // removed ones get staleness markers). `lock` holds mu_; it is released while polling
  // and while emitting the staleness markers.
  void Rediscover(size_t i, std::unique_lock<std::mutex>& lock);

  CreateSettings settings_;
  Config cfg_;
  ReceiverMeter meter_;
  std::vector<std::unique_ptr<httpclient::Client>> clients_;  // made by Start
  ReceiverMeter discovery_meter_;                             // transport="discovery": malformed annotation files
  mutable std::mutex mu_;
  // Changed by the worker only, under mu_; so the worker may use a target (ScrapeOne)
  // without it.
  std::vector<Target> targets_ ABSL_GUARDED_BY(mu_);
  std::vector<Discovery> discoveries_ ABSL_GUARDED_BY(mu_);  // made by Start, then the worker's
  std::thread worker_;
  std::condition_variable cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;  // a discovery changed: look at the schedule again
  int64_t scrapes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace outrigger::receivers::prometheus
