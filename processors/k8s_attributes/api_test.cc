// API mode against the fake API server (collector/k8s/fake_api_server.h), with objects
// shaped as `kubectl get -o json` prints them: association by connection address,
// resource attributes and container.id; the owner chain; namespace and node labels;
// deleted Pods forgotten after the grace, a reused IP; wait_for_metadata; misses counted;
// the memory held per Pod.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "collector/k8s/fake_api_server.h"
#include "collector/pdata/pdata.h"
#include "processors/k8s_attributes/api_store.h"
#include "processors/k8s_attributes/config.h"
#include "processors/k8s_attributes/k8s_attributes_processor.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::k8s_attributes {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// In-cluster environment pointing at the fake server (the documented test knobs).
class FakeCluster {
 public:
  FakeCluster() {
    dir_ = fs::temp_directory_path() / ("k8sattr-sa-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "token") << "sa-token\n";
    server.SetToken("sa-token");
    ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(server.port()).c_str(), 1);
    ::setenv(k8s::kServiceAccountDirEnv, dir_.c_str(), 1);
    ::setenv(k8s::kTestPlainHttpEnv, "1", 1);
  }
  ~FakeCluster() {
    ::unsetenv("KUBERNETES_SERVICE_HOST");
    ::unsetenv("KUBERNETES_SERVICE_PORT");
    ::unsetenv(k8s::kServiceAccountDirEnv);
    ::unsetenv(k8s::kTestPlainHttpEnv);
    fs::remove_all(dir_);
  }
  k8s::testing::FakeApiServer server;

 private:
  static inline int n_ = 0;
  fs::path dir_;
};

// A Pod as the API server returns it (trimmed managedFields, but every usual section).
json Pod(const std::string& name, const std::string& ns, const std::string& uid, const std::string& ip,
         const std::string& node, const std::string& owner_kind, const std::string& owner_name,
         const json& labels = json::object(), const json& annotations = json::object()) {
  json pod = json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "creationTimestamp": "2026-12-07T02:59:58Z", "generateName": "x-",
      "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}},
                         "manager": "kube-controller-manager", "operation": "Update", "time": "2026-12-07T02:59:58Z"}]
    },
    "spec": {
      "containers": [
        {"name": "app", "image": "registry.example.com:5000/shop/checkout:1.4.2",
         "ports": [{"containerPort": 8080, "protocol": "TCP"}],
         "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m"}},
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
         "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access", "readOnly": true}]},
        {"name": "outrigger", "image": "outrigger@sha256:0123456789abcdef"}
      ],
      "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
      "priority": 0, "restartPolicy": "Always", "schedulerName": "default-scheduler",
      "securityContext": {}, "serviceAccount": "checkout", "serviceAccountName": "checkout",
      "terminationGracePeriodSeconds": 30,
      "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}],
      "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]
    },
    "status": {
      "conditions": [{"lastProbeTime": null, "lastTransitionTime": "2026-12-07T03:00:01Z", "status": "True", "type": "Ready"}],
      "containerStatuses": [
        {"containerID": "containerd://5f2d1c0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a29180f7e6d", "image": "registry.example.com:5000/shop/checkout:1.4.2",
         "imageID": "registry.example.com:5000/shop/checkout@sha256:aa", "lastState": {}, "name": "app", "ready": true,
         "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-12-07T03:00:00Z"}}},
        {"containerID": "containerd://0000aaaa", "image": "outrigger", "imageID": "", "lastState": {}, "name": "outrigger",
         "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-12-07T03:00:00Z"}}}
      ],
      "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}], "phase": "Running", "qosClass": "Burstable",
      "startTime": "2026-12-07T02:59:58Z"
    }
  })");
  pod["metadata"]["name"] = name;
  pod["metadata"]["namespace"] = ns;
  pod["metadata"]["uid"] = uid;
  pod["metadata"]["labels"] = labels;
  pod["metadata"]["annotations"] = annotations;
  if (!owner_kind.empty()) {
    pod["metadata"]["ownerReferences"] = json::array({json{{"apiVersion", "apps/v1"},
                                                           {"blockOwnerDeletion", true},
                                                           {"controller", true},
                                                           {"kind", owner_kind},
                                                           {"name", owner_name},
                                                           {"uid", "uid-of-" + owner_name}}});
  }
  pod["spec"]["nodeName"] = node;
  pod["status"]["podIP"] = ip;
  pod["status"]["podIPs"] = json::array({json{{"ip", ip}}});
  return pod;
}

json ReplicaSet(const std::string& name, const std::string& ns, const std::string& deployment) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata",
           {{"name", name},
            {"namespace", ns},
            {"uid", "uid-of-" + name},
            {"labels", {{"pod-template-hash", "7d9f8b6c5d"}}},
            {"ownerReferences", json::array({json{{"apiVersion", "apps/v1"},
                                                  {"controller", true},
                                                  {"kind", "Deployment"},
                                                  {"name", deployment},
                                                  {"uid", "uid-of-" + deployment}}})}}},
          {"spec", {{"replicas", 2}}},
          {"status", {{"replicas", 2}, {"readyReplicas", 2}}}};
}

json Namespace(const std::string& name, const json& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"uid", "uid-ns-" + name}, {"labels", labels}}},
          {"spec", {{"finalizers", {"kubernetes"}}}},
          {"status", {{"phase", "Active"}}}};
}

json Node(const std::string& name, const json& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"uid", "uid-node-" + name}, {"labels", labels}}},
          {"status", {{"addresses", {{{"address", "172.18.0.2"}, {"type", "InternalIP"}}}}}}};
}

using AttrMap = std::map<std::string, std::string>;

// One traces request per (client address, resource attributes).
pdata::Traces From(const std::string& address, const AttrMap& resource = {}) {
  pdata::Traces t = testutil::MakeTraces(1, "svc");
  t.ForEachMutableRequest([&](testutil::tpb::ExportTraceServiceRequest& r) {
    testutil::StringAttrs a(resource.begin(), resource.end());
    testutil::SetStringAttrs(r.mutable_resource_spans(0)->mutable_resource()->mutable_attributes(), a);
  });
  auto client = std::make_shared<pdata::ClientInfo>();
  client->address = address;
  client->port = 40000;
  t.SetClientInfo(client);
  return t;
}

class CaptureSink : public testutil::Sink {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    AttrMap m;
    d.ForEachRequest([&](const testutil::tpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans()) {
        for (const auto& kv : rs.resource().attributes()) m[kv.key()] = kv.value().string_value();
      }
    });
    std::lock_guard<std::mutex> lock(mu);
    last = m;
    return absl::OkStatus();
  }
  AttrMap Last() {
    std::lock_guard<std::mutex> lock(mu);
    return last;
  }
  std::mutex mu;
  AttrMap last;
};

Config ApiConfig() {
  Config c;
  c.mode = "api";
  c.wait_for_metadata = true;
  return c;
}

struct Running {
  Telemetry telemetry;
  CaptureSink sink;
  testutil::TestHost host;
  std::unique_ptr<Processor> p;
  absl::Status Start(const Config& cfg, const std::string& id) {
    EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
    auto made = NewK8sAttributesProcessor(testutil::Settings(&telemetry, id, Kind::kProcessor), cfg, &sink);
    if (!made.ok()) return made.status();
    p = std::move(*made);
    return p->Start(host);
  }
  AttrMap Send(const std::string& address, const AttrMap& resource = {}) {
    EXPECT_TRUE(p->ConsumeTraces(From(address, resource)).ok());
    return sink.Last();
  }
  ~Running() {
    if (p) p->Shutdown(absl::Now()).IgnoreError();
  }
};

TEST(K8sAttributesApi, ConnectionAssociationOwnerChainNamespaceAndNodeLabels) {
  FakeCluster cluster;
  auto& s = cluster.server;
  s.Add("/api/v1/pods", Pod("checkout-7d9f8b6c5d-x2x4z", "shop", "uid-a", "10.244.1.17", "node-3", "ReplicaSet",
                            "checkout-7d9f8b6c5d", {{"app", "checkout"}, {"pod-template-hash", "7d9f8b6c5d"}},
                            {{"git-commit", "abc123"}, {"resource.opentelemetry.io/service.version", "1.4.2"}}));
  s.Add("/api/v1/pods", Pod("kafka-0", "data", "uid-k", "10.244.2.5", "node-4", "StatefulSet", "kafka"));
  s.Add("/api/v1/pods", Pod("fluent-bit-8kq2p", "logging", "uid-f", "10.244.1.3", "node-3", "DaemonSet", "fluent-bit"));
  s.Add("/api/v1/pods",
        Pod("report-28911520-q7w2x", "batch", "uid-j", "10.244.2.9", "node-4", "Job", "report-28911520"));
  s.Add("/apis/apps/v1/replicasets", ReplicaSet("checkout-7d9f8b6c5d", "shop", "checkout"));
  s.Add("/api/v1/namespaces", Namespace("shop", {{"team", "payments"}}));
  s.Add("/api/v1/nodes", Node("node-3", {{"topology.kubernetes.io/zone", "eu-1a"}}));

  Config cfg = ApiConfig();
  cfg.extract.metadata = {"k8s.namespace.name",  "k8s.pod.name",         "k8s.pod.uid",          "k8s.pod.start_time",
                          "k8s.deployment.name", "k8s.deployment.uid",   "k8s.replicaset.name",  "k8s.node.name",
                          "k8s.node.uid",        "k8s.statefulset.name", "k8s.daemonset.name",   "k8s.job.name",
                          "k8s.cronjob.name",    "k8s.container.name",   "container.image.name", "container.image.tag",
                          "k8s.pod.ip"};
  cfg.extract.labels = {
      {"team", "team", "", "namespace"}, {"zone", "topology.kubernetes.io/zone", "", "node"}, {"", "app", "", "pod"}};
  cfg.extract.annotations = {{"commit", "git-commit", "", "pod"}};
  cfg.extract.otel_annotations = true;
  Running r;
  ASSERT_TRUE(r.Start(cfg, "k8s_attributes/owners").ok());

  AttrMap got =
      r.Send("10.244.1.17", {{"container.id", "5f2d1c0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a29180f7e6d"}});
  EXPECT_EQ(got, (AttrMap{{"service.name", "svc"},
                          {"container.id", "5f2d1c0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a29180f7e6d"},
                          {"k8s.namespace.name", "shop"},
                          {"k8s.pod.name", "checkout-7d9f8b6c5d-x2x4z"},
                          {"k8s.pod.uid", "uid-a"},
                          {"k8s.pod.start_time", "2026-12-07T02:59:58Z"},
                          {"k8s.pod.ip", "10.244.1.17"},
                          {"k8s.node.name", "node-3"},
                          {"k8s.node.uid", "uid-node-node-3"},
                          {"k8s.replicaset.name", "checkout-7d9f8b6c5d"},
                          {"k8s.deployment.name", "checkout"},
                          {"k8s.deployment.uid", "uid-of-checkout"},
                          {"k8s.container.name", "app"},
                          {"container.image.name", "registry.example.com:5000/shop/checkout"},
                          {"container.image.tag", "1.4.2"},
                          {"zone", "eu-1a"},
                          {"team", "payments"},
                          {"k8s.pod.labels.app", "checkout"},
                          {"commit", "abc123"},
                          {"service.version", "1.4.2"}}));
  EXPECT_EQ(r.Send("10.244.2.5")["k8s.statefulset.name"], "kafka");
  EXPECT_EQ(r.Send("10.244.1.3")["k8s.daemonset.name"], "fluent-bit");
  got = r.Send("10.244.2.9");
  EXPECT_EQ(got["k8s.job.name"], "report-28911520");
  EXPECT_EQ(got["k8s.cronjob.name"], "report");
  EXPECT_EQ(got.count("k8s.container.name"), 0u);  // no container.id / name to pick one

  // Label changes arrive by the watch.
  s.Modify("/api/v1/namespaces", Namespace("shop", {{"team", "risk"}}));
  EXPECT_TRUE(testutil::WaitFor([&] { return r.Send("10.244.1.17")["team"] == "risk"; }));
  // Unknown address: a miss, counted; the data passes unchanged.
  EXPECT_EQ(r.Send("10.9.9.9"), (AttrMap{{"service.name", "svc"}}));
  EXPECT_EQ(r.telemetry.Value("outrigger_k8s_attributes_lookups_total",
                              {{"processor", "k8s_attributes/owners"}, {"result", "miss"}}),
            1);
  EXPECT_GE(r.telemetry.Value("outrigger_k8s_attributes_lookups_total",
                              {{"processor", "k8s_attributes/owners"}, {"result", "hit"}}),
            5);
  EXPECT_EQ(r.telemetry.Value("outrigger_k8s_attributes_pods", {{"processor", "k8s_attributes/owners"}}), 4);
  // No client address at all (e.g. filelog): no source.
  pdata::Traces t = testutil::MakeTraces(1, "svc");
  ASSERT_TRUE(r.p->ConsumeTraces(std::move(t)).ok());
  EXPECT_EQ(r.telemetry.Value("outrigger_k8s_attributes_lookups_total",
                              {{"processor", "k8s_attributes/owners"}, {"result", "no_source"}}),
            1);
}

TEST(K8sAttributesApi, AssociationRulesInOrder) {
  FakeCluster cluster;
  cluster.server.Add("/api/v1/pods", Pod("a", "ns1", "uid-a", "10.0.0.1", "n", "", ""));
  cluster.server.Add("/api/v1/pods", Pod("b", "ns1", "uid-b", "10.0.0.2", "n", "", ""));
  Config cfg = ApiConfig();
  cfg.extract.metadata = {"k8s.pod.name"};
  cfg.pod_association = {{{"resource_attribute", "k8s.pod.uid"}},
                         {{"resource_attribute", "k8s.pod.name"}, {"resource_attribute", "k8s.namespace.name"}},
                         {{"resource_attribute", "container.id"}},
                         {{"connection", ""}}};
  Running r;
  ASSERT_TRUE(r.Start(cfg, "k8s_attributes/rules").ok());
  EXPECT_EQ(r.Send("10.0.0.1", {{"k8s.pod.uid", "uid-b"}})["k8s.pod.name"], "b");
  EXPECT_EQ(r.Send("10.0.0.1", {{"k8s.pod.name", "b"}, {"k8s.namespace.name", "ns1"}})["k8s.pod.name"], "b");
  // The name without the namespace: that rule is skipped, the connection decides. The
  // name already set is kept (no overwrite).
  EXPECT_EQ(r.Send("10.0.0.1", {{"k8s.pod.name", "b"}})["k8s.pod.name"], "b");
  EXPECT_EQ(r.Send("10.0.0.1", {})["k8s.pod.name"], "a");
  EXPECT_EQ(r.Send("10.0.0.1",
                   {{"container.id", "containerd://5f2d1c0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a29180f7e6d"}})
                .count("k8s.pod.name"),
            1u);
  // A uid that matches no Pod: a miss, and later rules are not tried (upstream).
  EXPECT_EQ(r.Send("10.0.0.1", {{"k8s.pod.uid", "uid-zzz"}}).count("k8s.pod.name"), 0u);
}

TEST(K8sAttributesApi, DeletedPodForgottenAfterGraceAndReusedIp) {
  FakeCluster cluster;
  auto& s = cluster.server;
  s.Add("/api/v1/pods", Pod("old", "ns", "uid-old", "10.0.0.7", "n", "", ""));
  Config cfg = ApiConfig();
  cfg.extract.metadata = {"k8s.pod.name", "k8s.pod.uid"};
  cfg.pod_delete_grace = absl::Seconds(4);
  cfg.pod_association = {{{"resource_attribute", "k8s.pod.uid"}}, {{"connection", ""}}};
  Running r;
  ASSERT_TRUE(r.Start(cfg, "k8s_attributes/grace").ok());
  EXPECT_EQ(r.Send("10.0.0.7")["k8s.pod.name"], "old");
  s.Delete("/api/v1/pods", "old");
  // Within the grace: still found (late telemetry of the deleted Pod).
  EXPECT_EQ(r.Send("10.0.0.7")["k8s.pod.name"], "old");
  // The IP is reused by a new Pod: it wins at once.
  s.Add("/api/v1/pods", Pod("new", "ns", "uid-new", "10.0.0.7", "n", "", ""));
  EXPECT_TRUE(testutil::WaitFor([&] { return r.Send("10.0.0.7")["k8s.pod.name"] == "new"; }));
  EXPECT_EQ(r.Send("10.0.0.99", {{"k8s.pod.uid", "uid-old"}})["k8s.pod.name"], "old");
  // After the grace the old Pod is forgotten by its UID, and the IP stays the new one's.
  EXPECT_TRUE(testutil::WaitFor([&] {
    return r.Send("10.0.0.99", {{"k8s.pod.uid", "uid-old"}}).count("k8s.pod.name") == 0;
  }));
  EXPECT_EQ(r.Send("10.0.0.7")["k8s.pod.name"], "new");
  EXPECT_EQ(r.telemetry.Value("outrigger_k8s_attributes_pods", {{"processor", "k8s_attributes/grace"}}), 1);
}

TEST(K8sAttributesApi, WaitForMetadataFailsOnForbiddenAndNodeFilter) {
  {
    FakeCluster cluster;
    cluster.server.Forbid("/api/v1/pods");
    Config cfg = ApiConfig();
    cfg.wait_for_metadata_timeout = absl::Milliseconds(1500);
    Running r;
    absl::Status st = r.Start(cfg, "k8s_attributes/forbidden");
    EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_NE(st.message().find("forbidden"), std::string_view::npos) << st;
    EXPECT_GE(r.telemetry.Value("outrigger_k8s_attributes_api_errors_total",
                                {{"processor", "k8s_attributes/forbidden"}, {"resource", "pods"}}),
              1);
  }
  {
    FakeCluster cluster;
    cluster.server.Add("/api/v1/pods", Pod("mine", "ns", "uid-m", "10.0.0.1", "node-7", "", ""));
    cluster.server.Add("/api/v1/pods", Pod("theirs", "ns", "uid-t", "10.0.0.2", "node-8", "", ""));
    ::setenv("K8SATTR_TEST_NODE_NAME", "node-7", 1);
    Config cfg = ApiConfig();
    cfg.filter.node_from_env_var = "K8SATTR_TEST_NODE_NAME";
    cfg.extract.metadata = {"k8s.pod.name"};
    Running r;
    ASSERT_TRUE(r.Start(cfg, "k8s_attributes/node").ok());
    EXPECT_EQ(r.Send("10.0.0.1")["k8s.pod.name"], "mine");
    EXPECT_EQ(r.Send("10.0.0.2").count("k8s.pod.name"), 0u);
    EXPECT_GE(cluster.server.CountRequests("fieldSelector=spec.nodeName%3Dnode-7"), 1u);
    ::unsetenv("K8SATTR_TEST_NODE_NAME");
  }
}

TEST(K8sAttributesApi, NotInAClusterIsAStartError) {
  Config cfg = ApiConfig();
  Running r;
  absl::Status st = r.Start(cfg, "k8s_attributes/nocluster");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("KUBERNETES_SERVICE_HOST"), std::string_view::npos);
}

// The memory held per Pod (what the README reports): 10,000 Pods of the shape above.
TEST(K8sAttributesApi, MemoryPerPod) {
  FakeCluster cluster;
  constexpr int kPods = 10000;
  for (int i = 0; i < kPods; ++i) {
    std::string n = std::to_string(i);
    cluster.server.Add(
        "/api/v1/pods",
        Pod("checkout-7d9f8b6c5d-" + n, "shop", "6f1c7a52-0d7e-4c1e-9d0a-" + std::string(12 - n.size(), '0') + n,
            "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." + std::to_string(i % 256),
            "node-" + std::to_string(i % 50), "ReplicaSet", "checkout-7d9f8b6c5d",
            {{"app", "checkout"}, {"pod-template-hash", "7d9f8b6c5d"}}));
  }
  Config cfg = ApiConfig();
  cfg.wait_for_metadata_timeout = absl::Seconds(60);
  cfg.extract.metadata.push_back("k8s.replicaset.name");
  Running r;
  ASSERT_TRUE(r.Start(cfg, "k8s_attributes/memory").ok());
  auto w = ApiWatcher::Get("", cfg, nullptr, nullptr);  // (a separate one, to read its store)
  ASSERT_TRUE(w.ok());
  (*w)->Start();
  ASSERT_TRUE((*w)->WaitSynced(absl::Seconds(60)));
  ASSERT_EQ((*w)->store().pod_count(), static_cast<size_t>(kPods));
  size_t bytes = (*w)->store().ApproxBytes();
  std::cout << "[ memory ] " << kPods << " Pods held in " << bytes << " bytes: " << bytes / kPods
            << " bytes per Pod (default metadata + k8s.replicaset.name)\n";
  EXPECT_EQ(r.Send("10.0.39.15")["k8s.pod.name"], "checkout-7d9f8b6c5d-9999");
}

}  // namespace
}  // namespace outrigger::processors::k8s_attributes
