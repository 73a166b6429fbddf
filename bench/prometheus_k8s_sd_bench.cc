// kubernetes_sd_configs (receivers/prometheus/kubernetes_sd.h) at 10,000 Pods: the cost of
// making the target groups of every Pod (what a full list costs; a watch event costs one
// Pod's share), and of going on to the targets through the usual annotation-based
// relabel_configs (keep prometheus.io/scrape, port from prometheus.io/port, labelmap of
// the Pod labels), as the receiver's worker does when the groups changed. The sample Pod:
// 6 labels, 5 annotations (one is the kubectl last-applied JSON, 1 KiB), 2 containers, 3
// ports, half of the Pods annotated for scraping.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "receivers/prometheus/discovery.h"
#include "receivers/prometheus/kubernetes_sd.h"

namespace {

using outrigger::receivers::prometheus::KubernetesGroups;
using outrigger::receivers::prometheus::LabelSet;
using outrigger::receivers::prometheus::PopulateTarget;
using outrigger::receivers::prometheus::RelabelAction;
using outrigger::receivers::prometheus::RelabelConfig;
using outrigger::receivers::prometheus::ScrapeConfig;

constexpr int kPods = 10000;

std::vector<nlohmann::json> MakePods() {
  std::vector<nlohmann::json> pods;
  const std::string last_applied(1024, 'x');
  for (int i = 0; i < kPods; ++i) {
    const std::string name = "cart-" + std::to_string(i);
    nlohmann::json p = {
        {"metadata",
         {{"name", name},
          {"namespace", "shop"},
          {"uid", "uid-" + name},
          {"labels",
           {{"app.kubernetes.io/name", "cart"},
            {"app.kubernetes.io/part-of", "shop"},
            {"app.kubernetes.io/version", "1.2.3"},
            {"pod-template-hash", "7d9f8b6c5d"},
            {"tier", "web"},
            {"team", "checkout"}}},
          {"annotations",
           {{"kubectl.kubernetes.io/last-applied-configuration", last_applied},
            {"prometheus.io/port", "9100"},
            {"prometheus.io/path", "/metrics"},
            {"sidecar.istio.io/inject", "false"}}},
          {"ownerReferences", {{{"kind", "ReplicaSet"}, {"name", "cart-7d9f8b6c5d"}, {"controller", true}}}}}},
        {"spec",
         {{"nodeName", "node-" + std::to_string(i % 100)},
          {"containers",
           {{{"name", "app"},
             {"image", "cart:1.2.3"},
             {"ports",
              {{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}},
               {{"name", "metrics"}, {"containerPort", 9100}, {"protocol", "TCP"}}}}},
            {{"name", "envoy"},
             {"image", "envoy:1.30"},
             {"ports", {{{"name", "admin"}, {"containerPort", 15000}}}}}}}}},
        {"status",
         {{"phase", "Running"},
          {"podIP", "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)},
          {"hostIP", "10.0.0." + std::to_string(i % 100)},
          {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
    if (i % 2 == 0) p["metadata"]["annotations"]["prometheus.io/scrape"] = "true";
    pods.push_back(std::move(p));
  }
  return pods;
}

ScrapeConfig AnnotationJob() {
  ScrapeConfig sc;
  sc.job_name = "kubernetes-pods";
  auto rule = [](std::vector<std::string> src, std::string regex, RelabelAction action, std::string target = "",
                 std::string replacement = "$1") {
    RelabelConfig r;
    r.source_labels = std::move(src);
    r.regex = std::move(regex);
    r.action = action;
    r.target_label = std::move(target);
    r.replacement = std::move(replacement);
    (void)r.Compile();
    return r;
  };
  sc.relabel_configs = {
      rule({"__meta_kubernetes_pod_annotation_prometheus_io_scrape"}, "true", RelabelAction::kKeep),
      rule({"__meta_kubernetes_pod_annotation_prometheus_io_path"}, "(.+)", RelabelAction::kReplace,
           "__metrics_path__"),
      rule({"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"}, R"(([^:]+)(?::\d+)?;(\d+))",
           RelabelAction::kReplace, "__address__", "$1:$2"),
      rule({}, "__meta_kubernetes_pod_label_(.+)", RelabelAction::kLabelMap, "", "$1"),
      rule({"__meta_kubernetes_namespace"}, "(.*)", RelabelAction::kReplace, "namespace"),
      rule({"__meta_kubernetes_pod_name"}, "(.*)", RelabelAction::kReplace, "pod"),
  };
  return sc;
}

void BM_PodGroups_10k(benchmark::State& state) {
  const auto pods = MakePods();
  size_t groups = 0;
  for (auto _ : state) {
    groups = 0;
    for (const auto& p : pods) {
      auto g = KubernetesGroups("pod", p);
      if (g.ok()) groups += g->size();
    }
    benchmark::DoNotOptimize(groups);
  }
  state.counters["groups"] = static_cast<double>(groups);
}

void BM_PodTargets_10k(benchmark::State& state) {
  const auto pods = MakePods();
  std::vector<LabelSet> groups;
  for (const auto& p : pods) {
    auto found = KubernetesGroups("pod", p);
    if (!found.ok()) continue;
    for (auto& g : *found) groups.push_back(std::move(g));
  }
  const ScrapeConfig sc = AnnotationJob();
  size_t targets = 0;
  for (auto _ : state) {
    targets = 0;
    for (const LabelSet& g : groups) {
      auto t = PopulateTarget(sc, absl::Seconds(30), absl::Seconds(10), g);
      if (t.ok() && t->has_value()) ++targets;
    }
    benchmark::DoNotOptimize(targets);
  }
  state.counters["targets"] = static_cast<double>(targets);
}

BENCHMARK(BM_PodGroups_10k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PodTargets_10k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
