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

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
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
  virtual std::string_view Name() const = 0;  // "static", "dns"
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

}  // namespace outrigger::exporters::loadbalancing
