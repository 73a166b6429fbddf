// The k8s resolver against collector/k8s's fake API server: the EndpointSlices of one
// Service (label kubernetes.io/service-name) in one namespace, listed then watched;
// ready addresses × ports; hostnames; 410 -> relist; 403 counted with membership kept.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include "collector/k8s/fake_api_server.h"
#include "exporters/loadbalancing/resolver.h"
#include "prometheus/counter.h"
#include "spdlog/sinks/null_sink.h"
#include "tests/testutil/testutil.h"

namespace outrigger::exporters::loadbalancing {
namespace {

using nlohmann::json;

constexpr char kSlices[] = "/apis/discovery.k8s.io/v1/endpointslices";

struct Addr {
  std::string ip;
  std::optional<bool> ready;  // nullopt: no conditions.ready (counts as ready)
  std::string hostname;
};

json Slice(const std::string& name, const std::string& ns, const std::string& service, const std::vector<Addr>& addrs,
           const std::string& type = "IPv4") {
  json eps = json::array();
  for (const auto& a : addrs) {
    json ep = {{"addresses", {a.ip}}, {"conditions", json::object()}};
    if (a.ready) ep["conditions"]["ready"] = *a.ready;
    if (!a.hostname.empty()) ep["hostname"] = a.hostname;
    eps.push_back(ep);
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", type},
          {"endpoints", eps},
          {"ports", {{{"name", "otlp"}, {"port", 4317}, {"protocol", "TCP"}}}}};
}

class Recorder {
 public:
  EndpointsCallback Callback() {
    return [this](const std::vector<std::string>& e) {
      std::lock_guard lock(mu_);
      calls_.push_back(e);
    };
  }
  std::vector<std::string> Last() {
    std::lock_guard lock(mu_);
    return calls_.empty() ? std::vector<std::string>{} : calls_.back();
  }
  size_t Calls() {
    std::lock_guard lock(mu_);
    return calls_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<std::string>> calls_;
};

std::shared_ptr<k8s::Client> ClientFor(const k8s::testing::FakeApiServer& s) {
  k8s::ClusterConfig c;
  c.server = s.url();
  return std::make_shared<k8s::Client>(c);
}

k8s::InformerOptions Fast() {
  k8s::InformerOptions o;
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  return o;
}

K8sResolverConfig Cfg(const std::string& name, const std::string& ns, std::vector<int> ports = {kDefaultPort}) {
  K8sResolverConfig c;
  c.service = ns.empty() ? name : StrCat(name, ".", ns);
  c.name = name;
  c.ns = ns;
  c.ports = std::move(ports);
  c.timeout = absl::Seconds(10);  // the first list, on a loaded machine
  return c;
}

std::shared_ptr<spdlog::logger> NullLogger() {
  return std::make_shared<spdlog::logger>("k8s-resolver-test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

TEST(K8sResolver, ListThenWatchChangesMembership) {
  k8s::testing::FakeApiServer server;
  server.Add(kSlices, Slice("gw-abc", "obs", "gw",
                            {{"10.0.0.1", true, ""}, {"10.0.0.2", false, ""}, {"10.0.0.3", std::nullopt, ""}}));
  // Another Service's slice and the same name in another namespace: not ours.
  server.Add(kSlices, Slice("other-x", "obs", "other", {{"10.9.0.1", true, ""}}));
  server.Add(kSlices, Slice("gw-zzz", "elsewhere", "gw", {{"10.8.0.1", true, ""}}));
  prometheus::Counter ok, failed;
  K8sResolver r(Cfg("gw", "obs", {4317, 55690}), NullLogger(), &ok, &failed, ClientFor(server), Fast());
  Recorder rec;
  ASSERT_TRUE(r.Start(rec.Callback()).ok());
  // Start returns after the first list: its membership is already given.
  EXPECT_EQ(rec.Last(),
            (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.1:55690", "10.0.0.3:4317", "10.0.0.3:55690"}));
  EXPECT_GE(server.CountRequests("/apis/discovery.k8s.io/v1/namespaces/obs/endpointslices?"), 1u);
  EXPECT_GE(server.CountRequests("labelSelector=kubernetes.io%2Fservice-name%3Dgw"), 1u);
  EXPECT_GE(ok.Value(), 1);

  // ADDED: a second slice of the Service.
  server.Add(kSlices, Slice("gw-def", "obs", "gw", {{"10.0.1.1", true, ""}}));
  ASSERT_TRUE(testutil::WaitFor([&] {
    return rec.Last() == std::vector<std::string>{"10.0.0.1:4317",  "10.0.0.1:55690", "10.0.0.3:4317",
                                                  "10.0.0.3:55690", "10.0.1.1:4317",  "10.0.1.1:55690"};
  }));
  // MODIFIED: 10.0.0.3 no longer ready, 10.0.0.2 ready again.
  server.Modify(
      kSlices, Slice("gw-abc", "obs", "gw", {{"10.0.0.1", true, ""}, {"10.0.0.2", true, ""}, {"10.0.0.3", false, ""}}));
  ASSERT_TRUE(testutil::WaitFor([&] {
    return rec.Last() == std::vector<std::string>{"10.0.0.1:4317",  "10.0.0.1:55690", "10.0.0.2:4317",
                                                  "10.0.0.2:55690", "10.0.1.1:4317",  "10.0.1.1:55690"};
  }));
  // DELETED.
  server.Delete(kSlices, "gw-def");
  ASSERT_TRUE(testutil::WaitFor([&] {
    return rec.Last() == std::vector<std::string>{"10.0.0.1:4317", "10.0.0.1:55690", "10.0.0.2:4317", "10.0.0.2:55690"};
  }));
  // Changes to other Services are not seen and change nothing.
  size_t calls = rec.Calls();
  server.Modify(kSlices, Slice("other-x", "obs", "other", {{"10.9.0.2", true, ""}}));
  server.Delete(kSlices, "gw-abc");
  ASSERT_TRUE(testutil::WaitFor([&] { return rec.Last().empty(); }));
  EXPECT_EQ(rec.Calls(), calls + 1);
  EXPECT_EQ(failed.Value(), 0);
  r.Shutdown();
}

TEST(K8sResolver, HostnamesAndIpv6) {
  k8s::testing::FakeApiServer server;
  server.Add(kSlices, Slice("gw-0", "obs", "gw", {{"10.0.0.1", true, "gw-0"}, {"10.0.0.2", true, "gw-1"}}));
  server.Add(kSlices, Slice("gw-v6", "obs", "gw", {{"fd00::1", true, ""}, {"fd00::2", false, "gw-9"}}, "IPv6"));
  {
    prometheus::Counter ok, failed;
    K8sResolver r(Cfg("gw", "obs"), NullLogger(), &ok, &failed, ClientFor(server), Fast());
    Recorder rec;
    ASSERT_TRUE(r.Start(rec.Callback()).ok());
    EXPECT_EQ(rec.Last(), (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.2:4317", "[fd00::1]:4317"}));
  }
  // return_hostnames: <hostname>.<service>.<namespace>; a ready endpoint without a
  // hostname is left out and counted as a failed resolution.
  auto cfg = Cfg("gw", "obs");
  cfg.return_hostnames = true;
  prometheus::Counter ok, failed;
  K8sResolver r(cfg, NullLogger(), &ok, &failed, ClientFor(server), Fast());
  Recorder rec;
  ASSERT_TRUE(r.Start(rec.Callback()).ok());
  EXPECT_EQ(rec.Last(), (std::vector<std::string>{"gw-0.gw.obs:4317", "gw-1.gw.obs:4317"}));
  EXPECT_EQ(failed.Value(), 1);
}

TEST(K8sResolver, GoneRelistKeepsMembership) {
  k8s::testing::FakeApiServer server;
  server.Add(kSlices, Slice("gw-abc", "obs", "gw", {{"10.0.0.1", true, ""}, {"10.0.0.2", true, ""}}));
  prometheus::Counter ok, failed;
  K8sResolver r(Cfg("gw", "obs"), NullLogger(), &ok, &failed, ClientFor(server), Fast());
  Recorder rec;
  ASSERT_TRUE(r.Start(rec.Callback()).ok());
  const std::vector<std::string> want = {"10.0.0.1:4317", "10.0.0.2:4317"};
  ASSERT_EQ(rec.Last(), want);
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.CompactHistory();
  server.DropWatches();
  // The rewatch from the old version gets 410: a relist, which gives the same list.
  ASSERT_TRUE(testutil::WaitFor(
      [&] { return r.informer()->stats().gone.load() >= 1 && r.informer()->stats().lists.load() >= 2; }));
  EXPECT_EQ(rec.Calls(), 1u);
  EXPECT_EQ(rec.Last(), want);
  // And the watch after the relist still follows changes.
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  server.Modify(kSlices, Slice("gw-abc", "obs", "gw", {{"10.0.0.1", true, ""}}));
  ASSERT_TRUE(testutil::WaitFor([&] { return rec.Last() == std::vector<std::string>{"10.0.0.1:4317"}; }));
}

TEST(K8sResolver, ForbiddenIsCountedAndMembershipKept) {
  k8s::testing::FakeApiServer server;
  server.Add(kSlices, Slice("gw-abc", "obs", "gw", {{"10.0.0.1", true, ""}}));
  prometheus::Counter ok, failed;
  K8sResolver r(Cfg("gw", "obs"), NullLogger(), &ok, &failed, ClientFor(server), Fast());
  Recorder rec;
  ASSERT_TRUE(r.Start(rec.Callback()).ok());
  ASSERT_EQ(rec.Last(), std::vector<std::string>{"10.0.0.1:4317"});
  ASSERT_TRUE(testutil::WaitFor([&] { return server.open_watches() == 1; }));
  // RBAC taken away: every rewatch is answered 403.
  server.Forbid("/apis/discovery.k8s.io/v1/namespaces/obs/endpointslices");
  server.DropWatches();
  ASSERT_TRUE(testutil::WaitFor([&] { return failed.Value() >= 2; }));
  EXPECT_NE(r.informer()->last_error().find("forbidden"), std::string::npos) << r.informer()->last_error();
  EXPECT_EQ(rec.Calls(), 1u);
  EXPECT_EQ(rec.Last(), std::vector<std::string>{"10.0.0.1:4317"});
}

TEST(K8sResolver, ForbiddenFromTheStartStartsWithNoBackend) {
  k8s::testing::FakeApiServer server;
  server.Forbid("/apis/discovery.k8s.io/");
  prometheus::Counter ok, failed;
  auto cfg = Cfg("gw", "obs");
  cfg.timeout = absl::Milliseconds(300);
  K8sResolver r(cfg, NullLogger(), &ok, &failed, ClientFor(server), Fast());
  Recorder rec;
  EXPECT_TRUE(r.Start(rec.Callback()).ok());  // keeps trying; the exporter has no backend meanwhile
  ASSERT_TRUE(testutil::WaitFor([&] { return failed.Value() >= 2; }));
  EXPECT_EQ(rec.Calls(), 0u);
}

TEST(K8sResolver, NamespaceDefaultsToTheCollectors) {
  auto dir = std::filesystem::temp_directory_path() / StrCat("lb-k8s-sa-", getpid());
  std::filesystem::create_directories(dir);
  ::setenv(k8s::kServiceAccountDirEnv, dir.c_str(), 1);
  ::unsetenv("POD_NAMESPACE");
  EXPECT_EQ(OwnNamespace(nullptr), "default");
  ::setenv("POD_NAMESPACE", "from-env", 1);
  EXPECT_EQ(OwnNamespace(nullptr), "from-env");
  std::ofstream(dir / "namespace") << "observability\n";
  EXPECT_EQ(OwnNamespace(nullptr), "observability");

  // The resolver watches that namespace when the service names none.
  k8s::testing::FakeApiServer server;
  server.Add(kSlices, Slice("gw-abc", "observability", "gw", {{"10.0.0.7", true, ""}}));
  prometheus::Counter ok, failed;
  K8sResolver r(Cfg("gw", ""), NullLogger(), &ok, &failed, ClientFor(server), Fast());
  Recorder rec;
  ASSERT_TRUE(r.Start(rec.Callback()).ok());
  EXPECT_EQ(r.ns(), "observability");
  EXPECT_EQ(rec.Last(), std::vector<std::string>{"10.0.0.7:4317"});
  r.Shutdown();

  // Not in a cluster and no client given: Start fails with a clear message.
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  K8sResolver outside(Cfg("gw", "obs"), NullLogger(), &ok, &failed);
  auto st = outside.Start(rec.Callback());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("KUBERNETES_SERVICE_HOST"), std::string_view::npos) << st;

  ::unsetenv(k8s::kServiceAccountDirEnv);
  ::unsetenv("POD_NAMESPACE");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outrigger::exporters::loadbalancing
