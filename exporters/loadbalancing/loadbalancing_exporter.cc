#include "exporters/loadbalancing/loadbalancing_exporter.h"

#include <set>

#include "absl/time/clock.h"
#include "collector/otlp/grpc_client.h"
#include "collector/telemetry/telemetry.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace outrigger::exporters::loadbalancing {
namespace {

// How long a retired backend's queue may take to drain through the new ring.
constexpr absl::Duration kRetireDrainTime = absl::Seconds(30);

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out = out.empty() ? s : StrCat(out, ", ", s);
  return out;
}

}  // namespace

// A backend's push: the shared OTLP/gRPC client, until the backend is retired; from then
// on (and for a push that failed meanwhile) the data is routed again over the new ring.
class LoadBalancingExporter::BackendPusher : public exporterhelper::Pusher {
 public:
  BackendPusher(LoadBalancingExporter* lb, std::shared_ptr<spdlog::logger> logger, otlp::GrpcClientConfig cfg)
      : lb_(lb), inner_(std::move(logger), std::move(cfg)) {}
  absl::Status Start(Host& host) override { return inner_.Start(host); }
  absl::Status PushTraces(const pdata::Traces& d, absl::Time deadline) override {
    return Push(Signal::kTraces, d, deadline);
  }
  absl::Status PushMetrics(const pdata::Metrics& d, absl::Time deadline) override {
    return Push(Signal::kMetrics, d, deadline);
  }
  absl::Status PushLogs(const pdata::Logs& d, absl::Time deadline) override { return Push(Signal::kLogs, d, deadline); }
  void Retire() { retired_.store(true); }

 private:
  template <typename D>
  absl::Status Push(Signal signal, const D& d, absl::Time deadline) {
    if (!retired_.load()) {
      absl::Status st = inner_.Send(signal, d, deadline);
      if (st.ok() || !retired_.load()) return st;
    }
    return lb_->Route(signal, d.Clone(), /*rerouted=*/true);
  }

  LoadBalancingExporter* lb_;
  otlp::GrpcPusher inner_;
  std::atomic<bool> retired_{false};
};

struct LoadBalancingExporter::Backend {
  std::string endpoint;
  BackendPusher* pusher = nullptr;  // owned by exporter
  std::unique_ptr<exporterhelper::QueuedExporter> exporter;
};

LoadBalancingExporter::LoadBalancingExporter(const CreateSettings& settings, const Config& cfg)
    : settings_(settings), cfg_(cfg), key_(ParseRoutingKey(cfg.routing_key)), state_(std::make_shared<State>()) {
  if (settings_.telemetry != nullptr) {
    prometheus::Labels l{{"exporter", settings_.id.String()}};
    auto& t = *settings_.telemetry;
    backends_gauge_ = &t.AddGauge("outrigger_loadbalancing_backends", "Backends in the ring.", l);
    updates_ = &t.AddCounter("outrigger_loadbalancing_backend_updates_total",
                             "Changes of the list of backends (each rebuilds the ring).", l);
    for (Signal s : kAllSignals) {
      rerouted_[static_cast<int>(s)] =
          &t.AddCounter(StrCat("outrigger_loadbalancing_rerouted_", ItemNoun(s), "_total"),
                        "Items a retired backend held, routed again over the new ring.", l);
    }
    std::string resolver = ResolverName();
    auto labels = [&](const char* success) {
      return prometheus::Labels{{"exporter", settings_.id.String()}, {"resolver", resolver}, {"success", success}};
    };
    resolutions_ok_ =
        &t.AddCounter("outrigger_loadbalancing_resolutions_total", "Resolutions of the backends.", labels("true"));
    resolutions_failed_ =
        &t.AddCounter("outrigger_loadbalancing_resolutions_total", "Resolutions of the backends.", labels("false"));
  }
}

LoadBalancingExporter::~LoadBalancingExporter() {
  if (resolver_) resolver_->Shutdown();
}

absl::Status LoadBalancingExporter::Start(Host& host) {
  host_ = &host;
  if (cfg_.has_dns) {
    resolver_ = std::make_unique<DnsResolver>(cfg_.dns, settings_.logger, resolutions_ok_, resolutions_failed_);
  } else if (cfg_.has_k8s) {
    resolver_ = std::make_unique<K8sResolver>(cfg_.k8s, settings_.logger, resolutions_ok_, resolutions_failed_);
  } else {
    resolver_ = std::make_unique<StaticResolver>(cfg_.static_resolver.hostnames);
    if (resolutions_ok_) resolutions_ok_->Increment();
  }
  return resolver_->Start([this](const std::vector<std::string>& endpoints) { UpdateEndpoints(endpoints); });
}

std::shared_ptr<LoadBalancingExporter::Backend> LoadBalancingExporter::NewBackend(const std::string& endpoint) {
  auto b = std::make_shared<Backend>();
  b->endpoint = endpoint;
  otlp::GrpcClientConfig client = cfg_.otlp;
  client.endpoint = endpoint;
  auto pusher = std::make_unique<BackendPusher>(this, settings_.logger, std::move(client));
  b->pusher = pusher.get();
  CreateSettings s = settings_;
  // Each backend's exporter metrics: exporter="loadbalancing/<endpoint>".
  s.id.name = s.id.name.empty() ? endpoint : StrCat(s.id.name, "/", endpoint);
  b->exporter = std::make_unique<exporterhelper::QueuedExporter>(s, cfg_.helper, std::move(pusher));
  if (auto st = b->exporter->Start(*host_); !st.ok()) {
    settings_.logger->error("backend {} cannot start, left out of the ring: {}", endpoint, st.message());
    (void)b->exporter->Shutdown(absl::Now());
    return nullptr;
  }
  return b;
}

void LoadBalancingExporter::UpdateEndpoints(const std::vector<std::string>& endpoints) {
  std::lock_guard update(update_mu_);
  if (stopped_) return;
  std::shared_ptr<const State> old;
  {
    std::lock_guard lock(state_mu_);
    old = state_;
  }
  std::map<std::string, std::shared_ptr<Backend>> current;
  for (const auto& b : old->backends) current[b->endpoint] = b;
  std::vector<std::string> sorted = HashRing(endpoints).endpoints();
  std::vector<std::string> started, added;
  std::map<std::string, std::shared_ptr<Backend>> next;
  for (const auto& e : sorted) {
    auto it = current.find(e);
    std::shared_ptr<Backend> b = it != current.end() ? it->second : NewBackend(e);
    if (b == nullptr) continue;
    if (it == current.end()) added.push_back(e);
    started.push_back(e);
    next[e] = std::move(b);
  }
  auto state = std::make_shared<State>();
  state->ring = HashRing(started);
  for (const auto& e : state->ring.endpoints()) state->backends.push_back(next[e]);
  std::vector<std::shared_ptr<Backend>> removed;
  for (auto& [e, b] : current) {
    if (next.count(e) == 0) removed.push_back(b);
  }
  {
    std::lock_guard lock(state_mu_);
    state_ = state;
  }
  // Routes that took the old state finish their enqueues (bounded by the queues' timeout).
  while (old->active.load(std::memory_order_acquire) > 0) absl::SleepFor(absl::Milliseconds(1));
  if (backends_gauge_) backends_gauge_->Set(static_cast<double>(state->backends.size()));
  if (updates_) updates_->Increment();
  std::vector<std::string> gone;
  for (const auto& b : removed) gone.push_back(b->endpoint);
  settings_.logger->info("{} backends: {}{}{}", state->backends.size(), Joined(state->ring.endpoints()),
                         added.empty() ? "" : StrCat("; added ", Joined(added)),
                         gone.empty() ? "" : StrCat("; removed ", Joined(gone)));
  // No Route uses the old state any more: drain the removed backends through the new
  // ring (their queued data and failed pushes go to the keys' new owners).
  for (const auto& b : removed) {
    b->pusher->Retire();
    (void)b->exporter->Shutdown(absl::Now() + kRetireDrainTime);
  }
}

std::vector<std::string> LoadBalancingExporter::Endpoints() const {
  std::lock_guard lock(state_mu_);
  return state_->ring.endpoints();
}

LoadBalancingExporter::StateRef LoadBalancingExporter::Acquire() const {
  std::lock_guard lock(state_mu_);
  state_->active.fetch_add(1, std::memory_order_relaxed);
  return StateRef{state_};
}

template <typename D>
absl::Status LoadBalancingExporter::Route(Signal signal, D&& data, bool rerouted) {
  StateRef ref = Acquire();
  const State& state = *ref.state;
  if (state.ring.empty()) {
    return absl::UnavailableError(StrCat("no backend is known yet (resolver ", ResolverName(), ")"));
  }
  auto consume = [&](Backend& b, D&& d) -> absl::Status {
    if (rerouted && rerouted_[static_cast<int>(signal)] != nullptr) {
      rerouted_[static_cast<int>(signal)]->Increment(static_cast<double>(d.ItemCount()));
    }
    if constexpr (std::is_same_v<D, pdata::Traces>) return b.exporter->ConsumeTraces(std::move(d));
    if constexpr (std::is_same_v<D, pdata::Metrics>) return b.exporter->ConsumeMetrics(std::move(d));
    if constexpr (std::is_same_v<D, pdata::Logs>) return b.exporter->ConsumeLogs(std::move(d));
  };
  std::vector<D> parts;
  if (auto st = Split(signal, data, key_, state.ring, &parts); !st.ok()) return st;
  absl::Status first;
  for (size_t b = 0; b < parts.size(); ++b) {
    if (parts[b].ByteSize() == 0) continue;
    absl::Status st = consume(*state.backends[b], std::move(parts[b]));
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

absl::Status LoadBalancingExporter::Shutdown(absl::Time deadline) {
  if (resolver_) resolver_->Shutdown();
  std::shared_ptr<const State> state;
  {
    std::lock_guard update(update_mu_);
    if (stopped_) return absl::OkStatus();
    stopped_ = true;
    std::lock_guard lock(state_mu_);
    state = state_;
  }
  absl::Status first;
  for (const auto& b : state->backends) {
    auto st = b->exporter->Shutdown(deadline);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

}  // namespace outrigger::exporters::loadbalancing
