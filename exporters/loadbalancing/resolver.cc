#include "exporters/loadbalancing/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"

#include "collector/common/thread_name.h"
#include "prometheus/counter.h"

namespace outrigger::exporters::loadbalancing {
namespace {

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

struct Lookup {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::string> addresses;
};

void OnAddrInfo(void* arg, int status, int /*timeouts*/, struct ares_addrinfo* res) {
  auto* l = static_cast<Lookup*>(arg);
  l->done = true;
  l->status = status;
  if (status != ARES_SUCCESS || res == nullptr) {
    if (res != nullptr) ares_freeaddrinfo(res);
    return;
  }
  char buf[INET6_ADDRSTRLEN];
  for (auto* n = res->nodes; n != nullptr; n = n->ai_next) {
    if (n->ai_family == AF_INET) {
      auto* sin = reinterpret_cast<const sockaddr_in*>(n->ai_addr);
      if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) l->addresses.emplace_back(buf);
    } else if (n->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(n->ai_addr);
      if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf)) l->addresses.push_back(StrCat("[", buf, "]"));
    }
  }
  ares_freeaddrinfo(res);
}

}  // namespace

StaticResolver::StaticResolver(std::vector<std::string> hostnames) {
  for (auto& h : hostnames) endpoints_.push_back(WithDefaultPort(h));
  endpoints_ = SortedUnique(std::move(endpoints_));
}

absl::Status StaticResolver::Start(EndpointsCallback on_change) {
  on_change(endpoints_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ResolveDns(const std::string& hostname, int port,
                                                    const std::string& nameservers, absl::Duration timeout) {
  static const int init = ares_library_init(ARES_LIB_INIT_ALL);
  if (init != ARES_SUCCESS) return absl::InternalError(StrCat("c-ares: ", ares_strerror(init)));
  ares_options opts{};
  opts.timeout = static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(timeout), 1, 1 << 30));
  opts.tries = 1;
  ares_channel ch = nullptr;
  int rc = ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) return absl::InternalError(StrCat("c-ares: ", ares_strerror(rc)));
  struct Destroy {
    ares_channel ch;
    ~Destroy() { ares_destroy(ch); }
  } destroy{ch};
  if (!nameservers.empty()) {
    rc = ares_set_servers_ports_csv(ch, nameservers.c_str());
    if (rc != ARES_SUCCESS) {
      return absl::InvalidArgumentError(StrCat("nameservers \"", nameservers, "\": ", ares_strerror(rc)));
    }
  }
  Lookup lookup;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  ares_getaddrinfo(ch, hostname.c_str(), nullptr, &hints, &OnAddrInfo, &lookup);
  absl::Time deadline = absl::Now() + timeout;
  while (!lookup.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int mask = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short ev = 0;
      if (ARES_GETSOCK_READABLE(mask, i)) ev |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(mask, i)) ev |= POLLOUT;
      if (ev != 0) fds.push_back(pollfd{socks[i], ev, 0});
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      ares_cancel(ch);  // calls back with ARES_ECANCELLED
      break;
    }
    timeval tv_max = absl::ToTimeval(left);
    timeval tv{};
    timeval* t = ares_timeout(ch, &tv_max, &tv);
    int ms = static_cast<int>(std::min<int64_t>(int64_t{t->tv_sec} * 1000 + t->tv_usec / 1000, 1 << 30)) + 1;
    int n = poll(fds.data(), fds.size(), ms);
    if (n <= 0) {
      ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
      continue;
    }
    for (const auto& p : fds) {
      ares_process_fd(ch, (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD,
                      (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
    }
  }
  if (!lookup.done || lookup.status == ARES_ECANCELLED || lookup.status == ARES_ETIMEOUT) {
    return absl::DeadlineExceededError(
        StrCat("resolving ", hostname, ": no answer within ", absl::FormatDuration(timeout)));
  }
  if (lookup.status != ARES_SUCCESS) {
    return absl::UnavailableError(StrCat("resolving ", hostname, ": ", ares_strerror(lookup.status)));
  }
  if (lookup.addresses.empty()) return absl::UnavailableError(StrCat("resolving ", hostname, ": no addresses"));
  std::vector<std::string> out;
  for (auto& a : lookup.addresses) out.push_back(StrCat(a, ":", port));
  return SortedUnique(std::move(out));
}

DnsResolver::DnsResolver(DnsResolverConfig cfg, std::shared_ptr<spdlog::logger> logger, prometheus::Counter* ok,
                         prometheus::Counter* failed)
    : cfg_(std::move(cfg)), logger_(std::move(logger)), ok_(ok), failed_(failed) {}

DnsResolver::~DnsResolver() { Shutdown(); }

absl::Status DnsResolver::Start(EndpointsCallback on_change) {
  on_change_ = std::move(on_change);
  ResolveOnce();
  thread_ = NamedThread("lb-resolver", [this] { Run(); });
  return absl::OkStatus();
}

void DnsResolver::ResolveOnce() {
  auto r = ResolveDns(cfg_.hostname, cfg_.port, cfg_.nameservers, cfg_.timeout);
  if (!r.ok()) {
    if (failed_) failed_->Increment();
    // Logged once per run of failures, then again after a success.
    if (!logged_failure_) {
      logger_->warn("DNS resolution failed, keeping the {} backends known: {}", last_.size(), r.status().message());
      logged_failure_ = true;
    }
    return;
  }
  if (ok_) ok_->Increment();
  if (logged_failure_) logger_->info("DNS resolution of {} works again", cfg_.hostname);
  logged_failure_ = false;
  if (*r == last_) return;
  last_ = std::move(*r);
  on_change_(last_);
}

void DnsResolver::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, absl::ToChronoNanoseconds(cfg_.interval), [this] { return stop_; })) break;
    lock.unlock();
    ResolveOnce();
    lock.lock();
  }
}

void DnsResolver::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string OwnNamespace(spdlog::logger* logger) {
  const char* dir = std::getenv(k8s::kServiceAccountDirEnv);
  std::string file = StrCat((dir != nullptr && *dir != '\0') ? dir : k8s::kServiceAccountDir, "/namespace");
  std::ifstream in(file);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string ns(absl::StripAsciiWhitespace(ss.str()));
    if (!ns.empty()) return ns;
  }
  const char* env = std::getenv("POD_NAMESPACE");
  if (env != nullptr && *env != '\0') return env;
  if (logger != nullptr) {
    logger->warn("could not determine the namespace of this collector ({} and POD_NAMESPACE), using \"default\"", file);
  }
  return "default";
}

std::vector<std::string> SliceHosts(const nlohmann::json& slice, bool hostnames, int* missing) {
  std::vector<std::string> out;
  const nlohmann::json* eps = k8s::Field(slice, "endpoints");
  if (eps == nullptr || !eps->is_array()) return out;
  for (const auto& ep : *eps) {
    const nlohmann::json* ready = k8s::Field(ep, "conditions");
    ready = ready != nullptr ? k8s::Field(*ready, "ready") : nullptr;
    if (ready != nullptr && ready->is_boolean() && !ready->get<bool>()) continue;
    const nlohmann::json* addrs = k8s::Field(ep, "addresses");
    if (addrs == nullptr || !addrs->is_array() || addrs->empty()) continue;
    if (hostnames) {
      std::string_view h = k8s::StringAt(ep, {"hostname"});
      if (h.empty()) {
        ++*missing;
      } else {
        out.emplace_back(h);
      }
      continue;
    }
    for (const auto& a : *addrs) {
      if (!a.is_string() || a.get_ref<const std::string&>().empty()) continue;
      const auto& s = a.get_ref<const std::string&>();
      out.push_back(s.find(':') != std::string::npos ? StrCat("[", s, "]") : s);
    }
  }
  return out;
}

K8sResolver::K8sResolver(K8sResolverConfig cfg, std::shared_ptr<spdlog::logger> logger, prometheus::Counter* ok,
                         prometheus::Counter* failed, std::shared_ptr<const k8s::Client> client,
                         k8s::InformerOptions informer_tuning)
    : cfg_(std::move(cfg)),
      logger_(std::move(logger)),
      ok_(ok),
      failed_(failed),
      client_(std::move(client)),
      opts_(std::move(informer_tuning)) {}

K8sResolver::~K8sResolver() { Shutdown(); }

absl::Status K8sResolver::Start(EndpointsCallback on_change) {
  on_change_ = std::move(on_change);
  ns_ = cfg_.ns;
  if (ns_.empty()) {
    ns_ = OwnNamespace(logger_.get());
    logger_->info("resolver.k8s: service {} in the collector's namespace {}", cfg_.name, ns_);
  }
  if (client_ == nullptr) {
    auto c = k8s::InClusterConfig();
    if (!c.ok()) return absl::FailedPreconditionError(StrCat("resolver.k8s: ", c.status().message()));
    client_ = std::make_shared<k8s::Client>(std::move(*c));
  }
  opts_.path = StrCat("/apis/discovery.k8s.io/v1/namespaces/", ns_, "/endpointslices");
  opts_.label_selector = StrCat("kubernetes.io/service-name=", cfg_.name);
  opts_.field_selector.clear();
  opts_.list_timeout = cfg_.timeout;
  opts_.on_error = [this](const absl::Status& st) { OnError(st); };
  informer_ = std::make_unique<k8s::Informer>(client_, opts_, this, logger_);
  informer_->Start();
  if (!informer_->WaitSynced(cfg_.timeout)) {
    logger_->warn("resolver.k8s: the EndpointSlices of {}/{} are not listed yet ({}); no backend until they are", ns_,
                  cfg_.name, informer_->last_error());
  }
  return absl::OkStatus();
}

void K8sResolver::OnError(const absl::Status& st) {
  if (failed_) failed_->Increment();
  // Logged once per run of failures, then again after a success.
  if (!logged_failure_) {
    logger_->warn("resolver.k8s: watching the EndpointSlices of {}/{} failed, keeping the {} backends known: {}", ns_,
                  cfg_.name, last_.size(), st.message());
    logged_failure_ = true;
  }
}

void K8sResolver::Replace(std::vector<nlohmann::json>&& items) {
  slices_.clear();
  for (const auto& item : items) {
    auto& [hosts, missing] = slices_[std::string(k8s::StringAt(item, {"metadata", "name"}))];
    hosts = SliceHosts(item, cfg_.return_hostnames, &missing);
  }
  Publish();
}

void K8sResolver::Apply(k8s::EventType type, nlohmann::json&& object) {
  std::string name(k8s::StringAt(object, {"metadata", "name"}));
  if (type == k8s::EventType::kDeleted) {
    slices_.erase(name);
  } else {
    auto& [hosts, missing] = slices_[name];
    missing = 0;
    hosts = SliceHosts(object, cfg_.return_hostnames, &missing);
  }
  Publish();
}

void K8sResolver::Publish() {
  if (logged_failure_) logger_->info("resolver.k8s: watching the EndpointSlices of {}/{} works again", ns_, cfg_.name);
  logged_failure_ = false;
  std::vector<std::string> out;
  int missing = 0;
  for (const auto& [slice, info] : slices_) {
    missing += info.second;
    for (const auto& h : info.first) {
      std::string host = cfg_.return_hostnames ? StrCat(h, ".", cfg_.name, ".", ns_) : h;
      for (int port : cfg_.ports) out.push_back(StrCat(host, ":", port));
    }
  }
  out = SortedUnique(std::move(out));
  if (missing > 0) {
    // As upstream: an endpoint without a hostname (yet) is a failed resolution; the
    // others are used.
    if (failed_) failed_->Increment();
    if (!logged_missing_) {
      logger_->warn("resolver.k8s: {} ready endpoints of {}/{} have no hostname (return_hostnames), left out", missing,
                    ns_, cfg_.name);
      logged_missing_ = true;
    }
  } else {
    logged_missing_ = false;
    if (ok_) ok_->Increment();
  }
  if (out == last_) return;
  last_ = std::move(out);
  on_change_(last_);
}

void K8sResolver::Shutdown() {
  if (informer_) informer_->Stop();
}

}  // namespace outrigger::exporters::loadbalancing
