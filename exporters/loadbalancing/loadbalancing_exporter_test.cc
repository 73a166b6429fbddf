// The exporter against real OTLP/gRPC servers (our own OTLP receivers, in process, from
// the registry: components do not include each other): every span of a trace reaches one
// backend, the one the ring names; a backend that goes away while it holds data has that
// data routed again to the others (nothing lost); a backend that comes takes only keys.
#include "exporters/loadbalancing/loadbalancing_exporter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "collector/component/registry.h"
#include "collector/k8s/client.h"
#include "collector/k8s/fake_api_server.h"
#include "tests/testutil/config_util.h"
#include "tests/testutil/testutil.h"

namespace outrigger::exporters::loadbalancing {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;

// Records (trace id, span name) of what a gateway received.
class Recorder : public Consumer {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    std::lock_guard l(mu_);
    d.ForEachRequest([&](const tpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans())
        for (const auto& ss : rs.scope_spans())
          for (const auto& s : ss.spans()) spans_.emplace_back(s.trace_id(), s.name());
    });
    return absl::OkStatus();
  }
  absl::Status ConsumeMetrics(pdata::Metrics&&) override { return absl::OkStatus(); }
  absl::Status ConsumeLogs(pdata::Logs&&) override { return absl::OkStatus(); }
  std::vector<std::pair<std::string, std::string>> Spans() const {
    std::lock_guard l(mu_);
    return spans_;
  }
  size_t Count() const {
    std::lock_guard l(mu_);
    return spans_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> spans_;
};

std::string TraceId(int t) {
  std::string id(16, 'x');
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>(t >> (8 * i));
  return id;
}

// `traces` traces, `per_trace` spans each, named "<tag>-<trace>-<i>", spread over requests
// of `per_request` spans so a trace's spans arrive in several requests.
std::vector<pdata::Traces> MakeRequests(int traces, int per_trace, int per_request, const std::string& tag) {
  std::vector<pdata::Traces> out;
  tpb::ExportTraceServiceRequest* req = nullptr;
  int in_request = per_request;
  for (int i = 0; i < per_trace; ++i) {
    for (int t = 0; t < traces; ++t) {
      if (in_request == per_request) {
        out.push_back(pdata::Traces::New(&req));
        auto* rs = req->add_resource_spans();
        auto* a = rs->mutable_resource()->add_attributes();
        a->set_key("service.name");
        a->mutable_value()->set_string_value("checkout");
        rs->add_scope_spans();
        in_request = 0;
      }
      auto* s = req->mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
      s->set_trace_id(TraceId(t));
      s->set_span_id(std::string(8, static_cast<char>(i + 1)));
      s->set_name(tag + "-" + std::to_string(t) + "-" + std::to_string(i));
      ++in_request;
    }
  }
  return out;
}

class LoadBalancingTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterBuiltins(registry_); }
  void TearDown() override {
    if (lb_) {
      EXPECT_TRUE(lb_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
    }
    for (auto& g : gateways_) {
      if (g.receiver) (void)g.receiver->Shutdown(absl::Now() + absl::Seconds(5));
    }
  }

  struct Gateway {
    std::string endpoint;
    uint16_t port = 0;
    std::unique_ptr<Recorder> recorder = std::make_unique<Recorder>();
    std::unique_ptr<Receiver> receiver;
  };

  // An OTLP/gRPC receiver on a free port feeding a Recorder.
  size_t AddGateway() {
    auto& g = gateways_.emplace_back();
    g.port = testutil::FreePort();
    g.endpoint = "127.0.0.1:" + std::to_string(g.port);
    StartReceiver(gateways_.size() - 1);
    return gateways_.size() - 1;
  }
  void StartReceiver(size_t i) {
    auto& g = gateways_[i];
    const auto* rf = static_cast<const ReceiverFactory*>(registry_.Find(Kind::kReceiver, "otlp"));
    ASSERT_NE(rf, nullptr);
    auto rcfg = rf->CreateDefaultConfig();
    config::Errors errors;
    ASSERT_TRUE(testutil::DecodeYaml("protocols:\n  grpc: {endpoint: " + g.endpoint + "}\n", rcfg.get(), &errors).ok())
        << errors.Joined();
    auto r = rf->CreateReceiver(testutil::Settings(&telemetry_, "otlp/" + std::to_string(i), Kind::kReceiver), *rcfg);
    ASSERT_TRUE(r.ok()) << r.status();
    g.receiver = std::move(*r);
    g.receiver->SetConsumers({g.recorder.get(), g.recorder.get(), g.recorder.get()});
    ASSERT_TRUE(g.receiver->Start(host_).ok());
  }

  void MakeExporter(const std::vector<size_t>& members) {
    std::string hosts;
    for (size_t m : members) hosts += (hosts.empty() ? "" : ", ") + gateways_[m].endpoint;
    MakeExporterWith("static: {hostnames: [" + hosts + "]}");
  }
  void MakeExporterWith(const std::string& resolver) {
    Config cfg;
    config::Errors errors;
    ASSERT_TRUE(testutil::DecodeYaml("protocol:\n  otlp:\n    tls: {insecure: true}\n"
                                     "    retry_on_failure: {initial_interval: 20ms, max_interval: 100ms}\n"
                                     "resolver:\n  " +
                                         resolver + "\n",
                                     &cfg, &errors)
                    .ok())
        << errors.Joined();
    ASSERT_TRUE(cfg.Validate().ok());
    lb_ =
        std::make_unique<LoadBalancingExporter>(testutil::Settings(&telemetry_, "loadbalancing", Kind::kExporter), cfg);
    ASSERT_TRUE(lb_->Start(host_).ok());
  }
  std::vector<std::string> Endpoints(const std::vector<size_t>& members) {
    std::vector<std::string> e;
    for (size_t m : members) e.push_back(gateways_[m].endpoint);
    return e;
  }
  void Send(std::vector<pdata::Traces> requests) {
    for (auto& r : requests) ASSERT_TRUE(lb_->ConsumeTraces(std::move(r)).ok());
  }
  size_t Total() const {
    size_t n = 0;
    for (const auto& g : gateways_) n += g.recorder->Count();
    return n;
  }
  // trace id -> the gateways that received spans of it.
  std::map<std::string, std::set<size_t>> TraceHomes(const std::string& tag) const {
    std::map<std::string, std::set<size_t>> homes;
    for (size_t i = 0; i < gateways_.size(); ++i) {
      for (const auto& [tid, name] : gateways_[i].recorder->Spans()) {
        if (name.rfind(tag + "-", 0) == 0) homes[tid].insert(i);
      }
    }
    return homes;
  }
  double Metric(const std::string& name) {
    std::string text = telemetry_.Render();
    auto at = text.find("\n" + name);
    if (at == std::string::npos) return -1;
    auto sp = text.find(' ', at + 1 + name.size());
    return std::stod(text.substr(sp + 1, text.find('\n', sp) - sp - 1));
  }

  Registry registry_;
  Telemetry telemetry_;
  testutil::TestHost host_;
  std::deque<Gateway> gateways_;
  std::unique_ptr<LoadBalancingExporter> lb_;
};

TEST_F(LoadBalancingTest, EverySpanOfATraceReachesTheGatewayTheRingNames) {
  for (int i = 0; i < 3; ++i) AddGateway();
  MakeExporter({0, 1, 2});
  Send(MakeRequests(300, 4, 50, "a"));
  ASSERT_TRUE(testutil::WaitFor([&] { return Total() >= 1200; })) << Total();
  HashRing ring(Endpoints({0, 1, 2}));
  auto homes = TraceHomes("a");
  ASSERT_EQ(homes.size(), 300u);
  std::set<size_t> used;
  for (const auto& [tid, gws] : homes) {
    ASSERT_EQ(gws.size(), 1u) << "a trace reached two gateways";
    EXPECT_EQ(gateways_[*gws.begin()].endpoint, ring.EndpointFor(tid));
    used.insert(*gws.begin());
  }
  EXPECT_EQ(used.size(), 3u);
  EXPECT_EQ(Total(), 1200u) << "duplicates";
  EXPECT_EQ(Metric("outrigger_loadbalancing_backends{"), 3);
}

TEST_F(LoadBalancingTest, DataOfARemovedBackendIsRoutedAgainNotLost) {
  for (int i = 0; i < 3; ++i) AddGateway();
  // Gateway 2 is down: what it owns waits in its queue, retried.
  ASSERT_TRUE(gateways_[2].receiver->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  gateways_[2].receiver.reset();
  MakeExporter({0, 1, 2});
  Send(MakeRequests(200, 3, 40, "b"));
  HashRing three(Endpoints({0, 1, 2}));
  size_t owned_by_2 = 0;
  for (int t = 0; t < 200; ++t) owned_by_2 += three.EndpointFor(TraceId(t)) == gateways_[2].endpoint;
  ASSERT_GT(owned_by_2, 0u);
  ASSERT_TRUE(testutil::WaitFor([&] { return Total() >= (200 - owned_by_2) * 3; }));
  EXPECT_EQ(Total(), (200 - owned_by_2) * 3) << "the down gateway's share must still be waiting";
  // The resolver drops gateway 2: its queue drains through the ring of 0 and 1.
  lb_->UpdateEndpoints(Endpoints({0, 1}));
  EXPECT_EQ(lb_->Endpoints(), HashRing(Endpoints({0, 1})).endpoints());
  ASSERT_TRUE(testutil::WaitFor([&] { return Total() >= 600; })) << Total();
  HashRing two(Endpoints({0, 1}));
  auto homes = TraceHomes("b");
  ASSERT_EQ(homes.size(), 200u);
  for (const auto& [tid, gws] : homes) {
    ASSERT_EQ(gws.size(), 1u);
    EXPECT_EQ(gateways_[*gws.begin()].endpoint, two.EndpointFor(tid));
  }
  EXPECT_EQ(Total(), 600u);
  EXPECT_EQ(Metric("outrigger_loadbalancing_rerouted_spans_total{"), static_cast<double>(owned_by_2 * 3));
}

TEST_F(LoadBalancingTest, AnAddedBackendTakesOnlyKeys) {
  for (int i = 0; i < 4; ++i) AddGateway();
  MakeExporter({0, 1, 2});
  Send(MakeRequests(400, 1, 100, "before"));
  ASSERT_TRUE(testutil::WaitFor([&] { return Total() >= 400; }));
  lb_->UpdateEndpoints(Endpoints({0, 1, 2, 3}));
  Send(MakeRequests(400, 1, 100, "after"));
  ASSERT_TRUE(testutil::WaitFor([&] { return Total() >= 800; }));
  auto before = TraceHomes("before"), after = TraceHomes("after");
  ASSERT_EQ(after.size(), 400u);
  int moved = 0;
  for (const auto& [tid, gws] : after) {
    size_t was = *before.at(tid).begin(), now = *gws.begin();
    if (was != now) {
      ++moved;
      EXPECT_EQ(now, 3u) << "a key moved between gateways that stayed";
    }
  }
  EXPECT_GT(moved, 0);
  EXPECT_LT(moved, 200);
}

TEST_F(LoadBalancingTest, NoBackendIsUnavailable) {
  AddGateway();
  MakeExporter({0});
  lb_->UpdateEndpoints({});
  auto reqs = MakeRequests(2, 1, 10, "c");
  EXPECT_EQ(lb_->ConsumeTraces(std::move(reqs[0])).code(), absl::StatusCode::kUnavailable);
}

// resolver.k8s end to end: the exporter finds the in-cluster API server (here the fake
// one, through the same variables and service-account files), its own namespace, and
// follows the Service's EndpointSlice. The gateways all listen on 127.0.0.1, so they are
// told apart by resolver.k8s.ports.
TEST_F(LoadBalancingTest, K8sResolverDrivesTheRing) {
  for (int i = 0; i < 3; ++i) AddGateway();
  k8s::testing::FakeApiServer api;
  auto sa = std::filesystem::temp_directory_path() / StrCat("lb-exporter-sa-", getpid());
  std::filesystem::create_directories(sa);
  std::ofstream(sa / "token") << "t0k3n";
  std::ofstream(sa / "namespace") << "obs";
  api.SetToken("t0k3n");
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(api.port()).c_str(), 1);
  ::setenv(k8s::kTestPlainHttpEnv, "1", 1);
  ::setenv(k8s::kServiceAccountDirEnv, sa.c_str(), 1);
  auto slice = [](bool ready) {
    return nlohmann::json{
        {"apiVersion", "discovery.k8s.io/v1"},
        {"kind", "EndpointSlice"},
        {"metadata", {{"name", "gw-1"}, {"namespace", "obs"}, {"labels", {{"kubernetes.io/service-name", "gw"}}}}},
        {"addressType", "IPv4"},
        {"endpoints", {{{"addresses", {"127.0.0.1"}}, {"conditions", {{"ready", ready}}}}}}};
  };
  api.Add("/apis/discovery.k8s.io/v1/endpointslices", slice(false));
  MakeExporterWith(
      StrCat("k8s: {service: gw, ports: [", gateways_[0].port, ", ", gateways_[1].port, ", ", gateways_[2].port, "]}"));
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ::unsetenv(k8s::kTestPlainHttpEnv);
  ::unsetenv(k8s::kServiceAccountDirEnv);
  EXPECT_GE(api.CountRequests("/apis/discovery.k8s.io/v1/namespaces/obs/endpointslices?"), 1u);
  // Not ready: no backend yet.
  EXPECT_TRUE(lb_->Endpoints().empty());
  auto early = MakeRequests(2, 1, 10, "early");
  EXPECT_EQ(lb_->ConsumeTraces(std::move(early[0])).code(), absl::StatusCode::kUnavailable);
  // Ready: the three gateways.
  api.Modify("/apis/discovery.k8s.io/v1/endpointslices", slice(true));
  ASSERT_TRUE(testutil::WaitFor([&] { return lb_->Endpoints().size() == 3; }));
  EXPECT_EQ(lb_->Endpoints(), HashRing(Endpoints({0, 1, 2})).endpoints());
  Send(MakeRequests(300, 2, 50, "k"));
  ASSERT_TRUE(testutil::WaitFor([&] { return Total() >= 600; })) << Total();
  HashRing ring(Endpoints({0, 1, 2}));
  for (const auto& [tid, gws] : TraceHomes("k")) {
    ASSERT_EQ(gws.size(), 1u);
    EXPECT_EQ(gateways_[*gws.begin()].endpoint, ring.EndpointFor(tid));
  }
  EXPECT_EQ(Metric("outrigger_loadbalancing_backends{"), 3);
  EXPECT_GE(
      Metric("outrigger_loadbalancing_resolutions_total{exporter=\"loadbalancing\",resolver=\"k8s\",success=\"true\"}"),
      2);
  EXPECT_TRUE(lb_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  lb_.reset();
  std::filesystem::remove_all(sa);
}

}  // namespace
}  // namespace outrigger::exporters::loadbalancing
