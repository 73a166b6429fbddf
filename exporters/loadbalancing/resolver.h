#pragma once
// Where the backends come from. A resolver calls `on_change` with the full, sorted list
// of "host:port" endpoints whenever it differs from the last one it gave (and once at
// start when it has one); the exporter rebuilds its ring from it.
//
// - StaticResolver: resolver.static.hostnames, given once at Start.
// - DnsResolver: the A and AAAA records of resolver.dns.hostname (a headless Service),
//   asked with c-ares every `interval`, each lookup bounded by `timeout`, on one thread of
//   its own. A failed lookup (timeout, NXDOMAIN, no records) keeps the last list, as
//   upstream does.
// - K8sResolver: the ready addresses of the EndpointSlices (discovery.k8s.io/v1) of
//   resolver.k8s.service, × its ports, kept in step by a collector/k8s Informer (list +
//   watch, 410 -> relist) on its own thread. A failed request keeps the last list.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/k8s/client.h"
#include "exporters/loadbalancing/config.h"
#include "spdlog/spdlog.h"

namespace prometheus {
class Counter;
}

namespace outrigger::exporters::loadbalancing {

using EndpointsCallback = std::function<void(const std::vector<std::string>& endpoints)>;

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual std::string_view Name() const = 0;  // "static", "dns", "k8s"
  virtual absl::Status Start(EndpointsCallback on_change) = 0;
  // Stops calling back; idempotent.
  virtual void Shutdown() {}
};

class StaticResolver : public Resolver {
 public:
  explicit StaticResolver(std::vector<std::string> hostnames);
  std::string_view Name() const override { return "static"; }
  absl::Status Start(EndpointsCallback on_change) override;

 private:
  std::vector<std::string> endpoints_;
};

// One lookup of `hostname`'s A and AAAA records through c-ares: "ip:port" endpoints
// ("[v6]:port"), sorted. `nameservers`: c-ares' servers CSV ("127.0.0.1:5353"), empty
// for the system's.
absl::StatusOr<std::vector<std::string>> ResolveDns(const std::string& hostname, int port,
                                                    const std::string& nameservers, absl::Duration timeout);

class DnsResolver : public Resolver {
 public:
  // `resolutions`: counters of successful and failed lookups (may be null).
  DnsResolver(DnsResolverConfig cfg, std::shared_ptr<spdlog::logger> logger, prometheus::Counter* ok,
              prometheus::Counter* failed);
  ~DnsResolver() override;
  std::string_view Name() const override { return "dns"; }
  // Resolves once (bounded by `timeout`), then every `interval` on its thread.
  absl::Status Start(EndpointsCallback on_change) override;
  void Shutdown() override;

 private:
  void ResolveOnce();
  void Run();

  DnsResolverConfig cfg_;
  std::shared_ptr<spdlog::logger> logger_;
  prometheus::Counter* ok_;
  prometheus::Counter* failed_;
  EndpointsCallback on_change_;
  std::vector<std::string> last_;
  bool logged_failure_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The namespace this collector runs in: the service account's namespace file
// (<OUTRIGGER_K8S_SERVICEACCOUNT_DIR or the default dir>/namespace), else $POD_NAMESPACE,
// else "default" (as upstream, with a warning).
std::string OwnNamespace(spdlog::logger* logger);

// The hosts of one EndpointSlice: its addresses whose conditions.ready is not false (IPv6
// ones bracketed), or with `hostnames` each such endpoint's `hostname`. `*missing` counts
// the ready endpoints left out for having no hostname.
std::vector<std::string> SliceHosts(const nlohmann::json& slice, bool hostnames, int* missing);

class K8sResolver : public Resolver, public k8s::Handler {
 public:
  // `client`: the API server to ask; null: the in-cluster one (found at Start).
  // `informer_tuning`: backoffs for tests; its path and selectors are set here.
  K8sResolver(K8sResolverConfig cfg, std::shared_ptr<spdlog::logger> logger, prometheus::Counter* ok,
              prometheus::Counter* failed, std::shared_ptr<const k8s::Client> client = nullptr,
              k8s::InformerOptions informer_tuning = {});
  ~K8sResolver() override;
  std::string_view Name() const override { return "k8s"; }
  // Starts the informer and waits up to `timeout` for the first list. Not in a cluster
  // (no client): an error. A first list that fails is logged; the informer keeps trying.
  absl::Status Start(EndpointsCallback on_change) override;
  void Shutdown() override;

  const std::string& ns() const { return ns_; }
  const k8s::Informer* informer() const { return informer_.get(); }

 private:
  // k8s::Handler, on the informer's thread.
  void Replace(std::vector<nlohmann::json>&& items) override;
  void Apply(k8s::EventType type, nlohmann::json&& object) override;
  void Publish();
  void OnError(const absl::Status& st);

  K8sResolverConfig cfg_;
  std::shared_ptr<spdlog::logger> logger_;
  prometheus::Counter* ok_;
  prometheus::Counter* failed_;
  std::shared_ptr<const k8s::Client> client_;
  k8s::InformerOptions opts_;
  std::string ns_;
  EndpointsCallback on_change_;
  // EndpointSlice name -> its hosts (before the ports are added), and how many of its
  // ready endpoints have no hostname (return_hostnames).
  std::map<std::string, std::pair<std::vector<std::string>, int>> slices_;
  std::vector<std::string> last_;
  bool logged_failure_ = false;
  bool logged_missing_ = false;
  std::unique_ptr<k8s::Informer> informer_;
};

}  // namespace outrigger::exporters::loadbalancing
