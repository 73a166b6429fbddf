#pragma once
// The loadbalancing exporter: every request is split by routing key (split.h) over a
// consistent hash ring of the backends (ring.h) that a resolver finds (resolver.h), and
// each part goes to its backend's own OTLP/gRPC exporter (the shared client with its own
// exporterhelper queue and retries, configured by protocol.otlp).
//
// When the resolver's list changes, new backends are started, the ring is replaced, and
// the backends that left are retired: their queue is drained through the new ring (what
// they still held, and what fails to reach them, is routed again to the keys' new owners),
// so nothing is lost by a scale-down. Only the keys of the backends that came or went move.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/loadbalancing/config.h"
#include "exporters/loadbalancing/resolver.h"
#include "exporters/loadbalancing/ring.h"
#include "exporters/loadbalancing/split.h"

namespace outrigger::exporters::loadbalancing {

class LoadBalancingExporter : public Exporter {
 public:
  LoadBalancingExporter(const CreateSettings& settings, const Config& cfg);
  ~LoadBalancingExporter() override;

  absl::Status Start(Host& host) override;
  absl::Status Shutdown(absl::Time deadline) override;
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return Route(Signal::kTraces, std::move(d), false); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return Route(Signal::kMetrics, std::move(d), false); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return Route(Signal::kLogs, std::move(d), false); }

  // The current backends, sorted (tests, diagnostics).
  std::vector<std::string> Endpoints() const;
  // Applies a new list of endpoints (what the resolver calls).
  void UpdateEndpoints(const std::vector<std::string>& endpoints);

 private:
  const char* ResolverName() const { return cfg_.has_dns ? "dns" : cfg_.has_k8s ? "k8s" : "static"; }
  struct Backend;
  class BackendPusher;
  struct State {
    HashRing ring{{}};
    std::vector<std::shared_ptr<Backend>> backends;  // in ring.endpoints() order
    // Route calls using this state (taken under state_mu_, so none starts once it is replaced).
    mutable std::atomic<int> active{0};
  };
  // The current state, marked in use until the guard goes.
  struct StateRef {
    std::shared_ptr<const State> state;
    ~StateRef() {
      if (state) state->active.fetch_sub(1, std::memory_order_release);
    }
  };
  StateRef Acquire() const;

  template <typename D>
  absl::Status Route(Signal signal, D&& data, bool rerouted);
  std::shared_ptr<Backend> NewBackend(const std::string& endpoint);

  CreateSettings settings_;
  Config cfg_;
  RoutingKey key_;
  Host* host_ = nullptr;
  std::unique_ptr<Resolver> resolver_;

  // Guards the pointer only. An update swaps it, then waits until no Route uses the old
  // state before it retires backends, so nothing is enqueued into a retired backend (and
  // routing never waits for an update).
  mutable std::mutex state_mu_;
  std::shared_ptr<const State> state_;

  std::mutex update_mu_;  // one update at a time; guards stopped_
  bool stopped_ = false;

  prometheus::Gauge* backends_gauge_ = nullptr;
  prometheus::Counter* updates_ = nullptr;
  prometheus::Counter* rerouted_[3] = {};
  prometheus::Counter* resolutions_ok_ = nullptr;
  prometheus::Counter* resolutions_failed_ = nullptr;
};

}  // namespace outrigger::exporters::loadbalancing
