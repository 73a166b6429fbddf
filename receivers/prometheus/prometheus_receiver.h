#pragma once
// The prometheus receiver: scrapes the static targets of its scrape_configs on one worker
// thread (it sleeps on a condition variable until the next scrape is due), converts each
// exposition to OTLP metrics (scrape.h) and hands them to the pipeline from that thread.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/component/component.h"
#include "collector/httpclient/http_client.h"
#include "collector/telemetry/telemetry.h"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/scrape.h"

namespace outrigger::receivers::prometheus {

class PrometheusReceiver : public Receiver {
 public:
  PrometheusReceiver(const CreateSettings& settings, const Config& cfg);
  ~PrometheusReceiver() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;

  // Completed scrapes (all targets), for tests.
  int64_t scrapes() const;

  struct Target {
    const ScrapeConfig* sc = nullptr;
    httpclient::Client* client = nullptr;
    std::string url;
    std::vector<std::string> headers;
    absl::Duration interval, timeout;
    absl::Time next;
    std::unique_ptr<TargetState> state;
    bool was_up = true;  // for logging changes only
  };

 private:
  void Run();
  void ScrapeOne(Target& t);

  CreateSettings settings_;
  Config cfg_;
  ReceiverMeter meter_;
  std::vector<std::unique_ptr<httpclient::Client>> clients_;
  std::vector<Target> targets_;
  std::thread worker_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t scrapes_ = 0;
};

}  // namespace outrigger::receivers::prometheus
