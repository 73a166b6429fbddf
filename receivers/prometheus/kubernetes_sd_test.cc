// kubernetes_sd_configs: the __meta_kubernetes_* label sets of sample Pods, Nodes and
// Services (Prometheus's discovery/kubernetes), hostile objects, and the discovery kept in
// step with collector/k8s's fake API server (list, watch ADDED/MODIFIED/DELETED, bad
// lines, the object limit).
#include "receivers/prometheus/kubernetes_sd.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "collector/k8s/fake_api_server.h"
#include "spdlog/sinks/null_sink.h"
#include "tests/testutil/testutil.h"

namespace outrigger::receivers::prometheus {
namespace {

using nlohmann::json;

json Pod(const std::string& name, const std::string& ip) {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "name": ")" + name +
                     R"(", "namespace": "shop", "uid": "uid-)" + name + R"(",
      "labels": {"app.kubernetes.io/name": "cart", "tier": "web"},
      "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9100", "empty": ""},
      "ownerReferences": [
        {"apiVersion": "v1", "kind": "Node", "name": "not-the-controller"},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "cart-7d9f", "uid": "u", "controller": true}]
    },
    "spec": {
      "nodeName": "node-1",
      "containers": [
        {"name": "app", "image": "cart:1.2", "ports": [
          {"name": "http", "containerPort": 8080, "protocol": "TCP"},
          {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]},
        {"name": "sidecar", "image": "envoy:1"}],
      "initContainers": [{"name": "migrate", "image": "cart-migrate:1"}]
    },
    "status": {
      "phase": "Running", "podIP": ")" +
                     ip + R"(", "hostIP": "10.0.0.1",
      "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
      "containerStatuses": [{"name": "app", "containerID": "containerd://abc"}]
    }
  })");
}

TEST(KubernetesSdTest, PodTargetsPerPortAndPerContainerWithoutPorts) {
  auto groups = KubernetesGroups("pod", Pod("cart-1", "10.1.2.3"));
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 4u);  // app:8080, app:9100, sidecar (no port), migrate (init, no port)
  const LabelSet& a = (*groups)[0];
  EXPECT_EQ(a.at("__address__"), "10.1.2.3:8080");
  EXPECT_EQ(a.at("__meta_kubernetes_namespace"), "shop");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_name"), "cart-1");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_ip"), "10.1.2.3");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_uid"), "uid-cart-1");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_node_name"), "node-1");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_host_ip"), "10.0.0.1");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_phase"), "Running");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_ready"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_controller_kind"), "ReplicaSet");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_controller_name"), "cart-7d9f");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_label_app_kubernetes_io_name"), "cart");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_label_tier"), "web");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_annotation_prometheus_io_scrape"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_annotationpresent_prometheus_io_port"), "true");
  EXPECT_EQ(a.count("__meta_kubernetes_pod_annotation_empty"), 0u);  // an empty value is no label
  EXPECT_EQ(a.at("__meta_kubernetes_pod_annotationpresent_empty"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_name"), "app");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_image"), "cart:1.2");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_id"), "containerd://abc");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_init"), "false");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_port_name"), "http");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_port_number"), "8080");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_port_protocol"), "TCP");
  EXPECT_EQ((*groups)[1].at("__address__"), "10.1.2.3:9100");
  EXPECT_EQ((*groups)[1].at("__meta_kubernetes_pod_container_port_name"), "metrics");
  const LabelSet& side = (*groups)[2];
  EXPECT_EQ(side.at("__address__"), "10.1.2.3");
  EXPECT_EQ(side.at("__meta_kubernetes_pod_container_name"), "sidecar");
  EXPECT_EQ(side.count("__meta_kubernetes_pod_container_port_number"), 0u);
  EXPECT_EQ(side.count("__meta_kubernetes_pod_container_id"), 0u);
  const LabelSet& init = (*groups)[3];
  EXPECT_EQ(init.at("__meta_kubernetes_pod_container_name"), "migrate");
  EXPECT_EQ(init.at("__meta_kubernetes_pod_container_init"), "true");
}

TEST(KubernetesSdTest, PodWithoutIpHasNoTargetsAndIpv6IsBracketed) {
  json p = Pod("starting", "");
  auto none = KubernetesGroups("pod", p);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  p["status"].erase("conditions");
  p["status"]["podIP"] = "fd00::5";
  auto v6 = KubernetesGroups("pod", p);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ((*v6)[0].at("__address__"), "[fd00::5]:8080");
  EXPECT_EQ((*v6)[0].at("__meta_kubernetes_pod_ready"), "unknown");
}

TEST(KubernetesSdTest, NodeAddressByPriorityKubeletPortAndInstance) {
  json n = json::parse(R"({
    "metadata": {"name": "node-1", "labels": {"kubernetes.io/os": "linux"}, "annotations": {"a/b": "c"}},
    "spec": {"providerID": "aws:///eu-west-1a/i-0abc"},
    "status": {
      "addresses": [{"type": "Hostname", "address": "ip-10-0-0-1"}, {"type": "ExternalIP", "address": "3.3.3.3"},
                    {"type": "InternalIP", "address": "10.0.0.1"}, {"type": "InternalIP", "address": "10.0.0.2"}],
      "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}
    }
  })");
  auto groups = KubernetesGroups("node", n);
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  const LabelSet& t = (*groups)[0];
  EXPECT_EQ(t.at("__address__"), "10.0.0.1:10250");
  EXPECT_EQ(t.at("instance"), "node-1");
  EXPECT_EQ(t.at("__meta_kubernetes_node_name"), "node-1");
  EXPECT_EQ(t.at("__meta_kubernetes_node_provider_id"), "aws:///eu-west-1a/i-0abc");
  EXPECT_EQ(t.at("__meta_kubernetes_node_label_kubernetes_io_os"), "linux");
  EXPECT_EQ(t.at("__meta_kubernetes_node_labelpresent_kubernetes_io_os"), "true");
  EXPECT_EQ(t.at("__meta_kubernetes_node_annotation_a_b"), "c");
  EXPECT_EQ(t.at("__meta_kubernetes_node_address_InternalIP"), "10.0.0.1");
  EXPECT_EQ(t.at("__meta_kubernetes_node_address_ExternalIP"), "3.3.3.3");
  EXPECT_EQ(t.at("__meta_kubernetes_node_address_Hostname"), "ip-10-0-0-1");
  n["status"]["addresses"] = json::array();
  auto none = KubernetesGroups("node", n);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(KubernetesSdTest, ServicePortsAndExternalName) {
  json s = json::parse(R"({
    "metadata": {"name": "cart", "namespace": "shop", "labels": {"app": "cart"}},
    "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.7",
             "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 9090}]}
  })");
  auto groups = KubernetesGroups("service", s);
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2u);
  const LabelSet& t = (*groups)[0];
  EXPECT_EQ(t.at("__address__"), "cart.shop.svc:80");
  EXPECT_EQ(t.at("__meta_kubernetes_namespace"), "shop");
  EXPECT_EQ(t.at("__meta_kubernetes_service_name"), "cart");
  EXPECT_EQ(t.at("__meta_kubernetes_service_type"), "ClusterIP");
  EXPECT_EQ(t.at("__meta_kubernetes_service_cluster_ip"), "10.96.0.7");
  EXPECT_EQ(t.at("__meta_kubernetes_service_port_name"), "http");
  EXPECT_EQ(t.at("__meta_kubernetes_service_port_number"), "80");
  EXPECT_EQ(t.at("__meta_kubernetes_service_port_protocol"), "TCP");
  EXPECT_EQ(t.at("__meta_kubernetes_service_label_app"), "cart");
  EXPECT_EQ((*groups)[1].at("__address__"), "cart.shop.svc:9090");
  s["spec"] = {{"type", "ExternalName"}, {"externalName", "db.example.com"}, {"ports", {{{"port", 5432}}}}};
  auto ext = KubernetesGroups("service", s);
  ASSERT_TRUE(ext.ok());
  ASSERT_EQ(ext->size(), 1u);
  EXPECT_EQ((*ext)[0].at("__meta_kubernetes_service_external_name"), "db.example.com");
  EXPECT_EQ((*ext)[0].count("__meta_kubernetes_service_cluster_ip"), 0u);
}

TEST(KubernetesSdTest, HostileObjectsAreRefusedOrReadPartly) {
  for (const char* role : {"pod", "node", "service"}) {
    EXPECT_FALSE(KubernetesGroups(role, json::parse("[1,2]")).ok()) << role;
    EXPECT_FALSE(KubernetesGroups(role, json::parse("\"pod\"")).ok()) << role;
    EXPECT_FALSE(KubernetesGroups(role, json::parse(R"({"metadata": {"name": 7}})")).ok()) << role;
    EXPECT_FALSE(KubernetesGroups(role, json::parse(R"({"metadata": "x"})")).ok()) << role;
    // Every field of the wrong type: no crash, no labels from them.
    json odd = json::parse(R"({
      "metadata": {"name": "x", "namespace": 3, "labels": [1], "annotations": {"k": 5}, "ownerReferences": {}},
      "spec": {"containers": [7, {"name": "c", "ports": [{"containerPort": "80"}, {"containerPort": 70000},
               {"containerPort": -1}, 3]}], "initContainers": "no", "ports": [{"port": 1.5}, null],
               "type": 4},
      "status": {"podIP": "10.0.0.9", "conditions": [null, {"type": "Ready", "status": null}],
                 "addresses": [{"type": "InternalIP", "address": 5}, "x"], "daemonEndpoints": []}
    })");
    auto g = KubernetesGroups(role, odd);
    ASSERT_TRUE(g.ok()) << role << ": " << g.status();
    for (const LabelSet& l : *g) {
      EXPECT_EQ(l.count("__meta_kubernetes_pod_container_port_number"), 0u);
      EXPECT_EQ(l.count("__meta_kubernetes_namespace"), 0u);
    }
  }
  // A container that is not an object is skipped; one whose declared ports are all
  // invalid has no target.
  auto g = KubernetesGroups("pod", json::parse(R"({"metadata": {"name": "x"}, "status": {"podIP": "1.2.3.4"},
      "spec": {"containers": [7, {"name": "c"}, {"name": "p", "ports": [{"containerPort": 0}]}]}})"));
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 1u);
  EXPECT_EQ((*g)[0].at("__address__"), "1.2.3.4");
  EXPECT_EQ((*g)[0].at("__meta_kubernetes_pod_container_name"), "c");
}

json Endpoints(const std::string& name, const std::string& pod, const std::string& ip) {
  return json::parse(R"({
    "metadata": {"name": ")" +
                     name + R"(", "namespace": "shop", "labels": {"app": "cart"}},
    "subsets": [{
      "addresses": [{"ip": ")" +
                     ip + R"(", "nodeName": "node-1",
                     "targetRef": {"kind": "Pod", "name": ")" +
                     pod + R"(", "namespace": "shop"}}],
      "notReadyAddresses": [{"ip": "10.9.9.9", "hostname": "db-0"}],
      "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}]
    }]
  })");
}

TEST(KubernetesSdTest, EndpointsWithServiceAndPodLabels) {
  json svc = json::parse(R"({"metadata": {"name": "cart", "namespace": "shop", "labels": {"team": "a"},
                                         "annotations": {"prometheus.io/scrape": "true"}},
                            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.7"}})");
  json pod = Pod("cart-1", "10.1.2.3");
  auto found = EndpointsGroups(Endpoints("cart", "cart-1", "10.1.2.3"), &svc,
                               [&](std::string_view ns, std::string_view name) -> const json* {
                                 return ns == "shop" && name == "cart-1" ? &pod : nullptr;
                               });
  ASSERT_TRUE(found.ok()) << found.status();
  const std::vector<LabelSet>& groups = *found;
  // 10.1.2.3:8080 (the Pod's), 10.9.9.9:8080 (not ready, no Pod), then the Pod's port 9100
  // that no endpoint port covered.
  ASSERT_EQ(groups.size(), 3u);
  const LabelSet& a = groups[0];
  EXPECT_EQ(a.at("__address__"), "10.1.2.3:8080");
  EXPECT_EQ(a.at("__meta_kubernetes_namespace"), "shop");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoints_name"), "cart");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoints_label_app"), "cart");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoints_labelpresent_app"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_service_name"), "cart");
  EXPECT_EQ(a.at("__meta_kubernetes_service_label_team"), "a");
  EXPECT_EQ(a.at("__meta_kubernetes_service_annotation_prometheus_io_scrape"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoint_port_name"), "web");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoint_port_protocol"), "TCP");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoint_ready"), "true");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoint_node_name"), "node-1");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoint_address_target_kind"), "Pod");
  EXPECT_EQ(a.at("__meta_kubernetes_endpoint_address_target_name"), "cart-1");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_name"), "cart-1");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_label_tier"), "web");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_name"), "app");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_port_name"), "http");
  EXPECT_EQ(a.at("__meta_kubernetes_pod_container_port_number"), "8080");
  const LabelSet& nr = groups[1];
  EXPECT_EQ(nr.at("__address__"), "10.9.9.9:8080");
  EXPECT_EQ(nr.at("__meta_kubernetes_endpoint_ready"), "false");
  EXPECT_EQ(nr.at("__meta_kubernetes_endpoint_hostname"), "db-0");
  EXPECT_EQ(nr.count("__meta_kubernetes_pod_name"), 0u);
  const LabelSet& extra = groups[2];
  EXPECT_EQ(extra.at("__address__"), "10.1.2.3:9100");
  EXPECT_EQ(extra.at("__meta_kubernetes_pod_container_port_name"), "metrics");
  EXPECT_EQ(extra.count("__meta_kubernetes_endpoint_port_name"), 0u);
  EXPECT_EQ(extra.at("__meta_kubernetes_service_name"), "cart");
  // Without the Service and the Pod: the endpoint labels only.
  auto bare = EndpointsGroups(Endpoints("cart", "cart-1", "10.1.2.3"), nullptr, nullptr);
  ASSERT_TRUE(bare.ok());
  ASSERT_EQ(bare->size(), 2u);
  EXPECT_EQ((*bare)[0].count("__meta_kubernetes_service_name"), 0u);
  EXPECT_EQ((*bare)[0].count("__meta_kubernetes_pod_name"), 0u);
  // Hostile shapes: no crash, nothing made of them.
  auto odd = EndpointsGroups(json::parse(R"({"metadata": {"name": "x"}, "subsets": [3, {"ports": [{"port": "80"}],
      "addresses": [{"ip": 5}, 7]}, {"ports": {}, "addresses": []}]})"),
                             nullptr, nullptr);
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->empty());
  // An object that would make too many targets is refused as a whole.
  json huge = Endpoints("big", "x", "10.0.0.1");
  json& ss = huge["subsets"][0];
  ss["ports"] = json::array();
  for (int p = 1; p <= 200; ++p) ss["ports"].push_back({{"port", p}});
  for (int a = 0; a < 60; ++a) ss["addresses"].push_back({{"ip", "10.0.1." + std::to_string(a)}});
  EXPECT_FALSE(EndpointsGroups(huge, nullptr, nullptr).ok());  // 200 × 61 > 10,000
  json many = Pod("many", "10.0.0.1");
  many["spec"]["containers"][0]["ports"] = json::array();
  for (int p = 1; p <= 10001; ++p) many["spec"]["containers"][0]["ports"].push_back({{"containerPort", p}});
  EXPECT_FALSE(KubernetesGroups("pod", many).ok());
}

// The discovery against the fake API server.
class KubernetesSdDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logger_ = std::make_shared<spdlog::logger>("k8ssd", std::make_shared<spdlog::sinks::null_sink_mt>());
  }

  std::unique_ptr<KubernetesSdDiscovery> Make(std::vector<std::string> paths, int64_t max_objects = 1000,
                                              std::string label_selector = "", std::string role = "pod") {
    k8s::ClusterConfig c;
    c.server = api_.url();
    KubernetesSdDiscovery::Options o;
    o.role = role;
    for (const auto& p : paths) {
      const std::string resource = p.substr(p.rfind('/') + 1);
      o.watches.push_back({resource, p, label_selector, ""});
    }
    o.max_objects = max_objects;
    o.initial_backoff = absl::Milliseconds(50);
    o.count_error = [this](std::string_view reason) {
      std::lock_guard<std::mutex> l(mu_);
      errors_[std::string(reason)]++;
    };
    auto d = std::make_unique<KubernetesSdDiscovery>(std::make_shared<const k8s::Client>(c), std::move(o), logger_);
    d->Start([this] { changes_++; });
    return d;
  }
  int Errors(const std::string& reason) {
    std::lock_guard<std::mutex> l(mu_);
    return errors_[reason];
  }
  // Polls until the addresses of the groups are `want`.
  bool AddressesBecome(KubernetesSdDiscovery& d, const std::vector<std::string>& want) {
    return testutil::WaitFor([&] {
      d.Poll();
      std::vector<std::string> got;
      for (const auto& g : d.groups()) got.push_back(g.at("__address__"));
      return got == want;
    });
  }

  k8s::testing::FakeApiServer api_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<int> changes_{0};
  std::mutex mu_;
  std::map<std::string, int> errors_;
};

TEST_F(KubernetesSdDiscoveryTest, ListThenWatchAddModifyDelete) {
  api_.Add("/api/v1/pods", Pod("a", "10.0.0.1"));
  auto d = Make({"/api/v1/pods"});
  ASSERT_TRUE(d->WaitSynced(absl::Seconds(10)));
  auto r = d->Poll();
  EXPECT_TRUE(r.changed);
  ASSERT_EQ(d->groups().size(), 4u);
  EXPECT_EQ(d->groups()[0].at("__address__"), "10.0.0.1:8080");
  EXPECT_FALSE(d->Poll().changed);  // nothing new
  ASSERT_TRUE(testutil::WaitFor([&] { return api_.open_watches() == 1; }));
  const int before = changes_.load();
  json b = Pod("b", "10.0.0.2");
  b["spec"]["initContainers"] = json::array();
  b["spec"]["containers"] = {{{"name", "app"}, {"ports", {{{"containerPort", 80}}}}}};
  api_.Add("/api/v1/pods", b);
  ASSERT_TRUE(AddressesBecome(*d, {"10.0.0.1:8080", "10.0.0.1:9100", "10.0.0.1", "10.0.0.1", "10.0.0.2:80"}));
  EXPECT_GT(changes_.load(), before);  // the worker is woken, not left to its interval
  b["status"]["podIP"] = "10.0.0.3";
  api_.Modify("/api/v1/pods", b);
  ASSERT_TRUE(AddressesBecome(*d, {"10.0.0.1:8080", "10.0.0.1:9100", "10.0.0.1", "10.0.0.1", "10.0.0.3:80"}));
  api_.Delete("/api/v1/pods", "a");
  ASSERT_TRUE(AddressesBecome(*d, {"10.0.0.3:80"}));
  d->Stop();
}

TEST_F(KubernetesSdDiscoveryTest, NamespacesAndSelectorsGoToTheApiServer) {
  json a = Pod("a", "10.0.0.1");
  api_.Add("/api/v1/pods", a);
  json other = Pod("o", "10.0.0.9");
  other["metadata"]["namespace"] = "other";
  api_.Add("/api/v1/pods", other);
  auto d = Make({"/api/v1/namespaces/other/pods"}, 1000, "tier=web");
  ASSERT_TRUE(d->WaitSynced(absl::Seconds(10)));
  d->Poll();
  ASSERT_FALSE(d->groups().empty());
  for (const auto& g : d->groups()) EXPECT_EQ(g.at("__meta_kubernetes_namespace"), "other");
  EXPECT_GE(api_.CountRequests("/api/v1/namespaces/other/pods?limit=500&labelSelector=tier%3Dweb"), 1u);
}

TEST_F(KubernetesSdDiscoveryTest, HostileAnswersAreCountedAndTheDiscoveryGoesOn) {
  api_.Add("/api/v1/pods", Pod("a", "10.0.0.1"));
  api_.Add("/api/v1/pods", json{{"kind", "Pod"}, {"metadata", {{"uid", "no-name"}}}});  // no name: skipped
  auto d = Make({"/api/v1/pods"}, /*max_objects=*/3);
  ASSERT_TRUE(d->WaitSynced(absl::Seconds(10)));
  d->Poll();
  EXPECT_EQ(d->groups().size(), 4u);
  EXPECT_EQ(Errors("object"), 1);
  ASSERT_TRUE(testutil::WaitFor([&] { return api_.open_watches() == 1; }));
  // A line that is no JSON: the watch is dropped, counted, and made again.
  api_.SendRaw("/api/v1/pods", "{not json");
  ASSERT_TRUE(testutil::WaitFor([&] { return Errors("request") >= 1; }));
  ASSERT_TRUE(testutil::WaitFor([&] { return api_.open_watches() == 1; }));
  // Past max_objects (3): new objects are skipped and counted; known ones still change.
  api_.Add("/api/v1/pods", Pod("b", "10.0.0.2"));
  api_.Add("/api/v1/pods", Pod("c", "10.0.0.3"));
  api_.Add("/api/v1/pods", Pod("d", "10.0.0.4"));
  ASSERT_TRUE(testutil::WaitFor([&] { return Errors("limit") >= 1; }));
  d->Poll();
  EXPECT_EQ(d->groups().size(), 12u);  // a, b, c
  // A relist of more than max_objects fails as a whole (counted as limit), the last
  // groups are kept.
  api_.CompactHistory();
  api_.DropWatches();
  ASSERT_TRUE(testutil::WaitFor([&] { return Errors("limit") >= 2; }));
  d->Poll();
  EXPECT_EQ(d->groups().size(), 12u);
  api_.Delete("/api/v1/pods", "d");
  api_.Delete("/api/v1/pods", "no-name");
  ASSERT_TRUE(testutil::WaitFor([&] {
    d->Poll();
    return d->groups().size() == 12u && Errors("limit") >= 2 && api_.open_watches() == 1;
  }));
  d->Stop();
}

TEST_F(KubernetesSdDiscoveryTest, EndpointsJoinServicesAndPods) {
  api_.Add("/api/v1/endpoints", Endpoints("cart", "cart-1", "10.1.2.3"));
  auto d = Make({"/api/v1/endpoints", "/api/v1/services", "/api/v1/pods"}, 1000, "", "endpoints");
  ASSERT_TRUE(d->WaitSynced(absl::Seconds(10)));
  d->Poll();
  ASSERT_EQ(d->groups().size(), 2u);
  EXPECT_EQ(d->groups()[0].count("__meta_kubernetes_pod_name"), 0u);  // the Pod is not known yet
  ASSERT_TRUE(testutil::WaitFor([&] { return api_.open_watches() == 3; }));
  // The Pod and the Service arrive by the watches: the same Endpoints get their labels.
  api_.Add("/api/v1/pods", Pod("cart-1", "10.1.2.3"));
  api_.Add("/api/v1/services", json{{"metadata", {{"name", "cart"}, {"namespace", "shop"}}}});
  ASSERT_TRUE(testutil::WaitFor([&] {
    d->Poll();
    return d->groups().size() == 3u && d->groups()[0].count("__meta_kubernetes_pod_name") == 1 &&
           d->groups()[0].count("__meta_kubernetes_service_name") == 1;
  }));
  api_.Delete("/api/v1/endpoints", "cart");
  ASSERT_TRUE(testutil::WaitFor([&] {
    d->Poll();
    return d->groups().empty();
  }));
  d->Stop();
}

TEST(KubernetesSdConfigTest, KubeconfigCurrentContext) {
  const auto dir = std::filesystem::temp_directory_path() / ("k8ssd-kc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config") << R"(apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context: {cluster: prod, user: admin}
clusters:
- name: dev
  cluster: {server: "https://dev:6443"}
- name: prod
  cluster:
    server: https://prod.example.com:6443/
    certificate-authority-data: LS0tLS1CRUdJTg==
users:
- name: admin
  user:
    tokenFile: token
)";
  auto c = k8s::KubeConfigFile((dir / "config").string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://prod.example.com:6443");
  EXPECT_EQ(c->ca_pem, "-----BEGIN");
  EXPECT_EQ(c->token_file, (dir / "token").string());
  std::ofstream(dir / "exec") << R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://k"}}]
users: [{name: u, user: {exec: {command: aws}}}]
)";
  auto e = k8s::KubeConfigFile((dir / "exec").string());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("exec credential plugins are not supported"), std::string::npos);
  std::ofstream(dir / "bad") << "current-context: [";
  EXPECT_FALSE(k8s::KubeConfigFile((dir / "bad").string()).ok());
  EXPECT_FALSE(k8s::KubeConfigFile((dir / "missing").string()).ok());
  std::filesystem::remove_all(dir);
}

TEST(KubernetesSdConfigTest, ApiServerClientOptions) {
  KubernetesSdConfig k;
  k.role = "pod";
  k.api_server = "https://k8s.example.com:6443/";
  k.authorization_credentials = "tok";
  k.tls.ca_file = "/ca.pem";
  auto c = KubernetesClusterConfig(k);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server, "https://k8s.example.com:6443");
  EXPECT_EQ(c->auth_scheme, "Bearer");
  EXPECT_EQ(c->token, "tok");
  EXPECT_EQ(c->ca_file, "/ca.pem");
  k.authorization_credentials.clear();
  k.basic_auth_username = "u";
  k.basic_auth_password = "p";
  c = KubernetesClusterConfig(k);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->auth_scheme, "Basic");
  EXPECT_EQ(c->token, "dTpw");  // base64("u:p")
}

}  // namespace
}  // namespace outrigger::receivers::prometheus
