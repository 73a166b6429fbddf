// Sidecar mode end to end through the processor: Downward API environment variables and
// a downwardAPI volume laid out as the kubelet does (timestamped directory, `..data`
// symlink, files linked through it), updated the kubelet's way (new directory, `..data`
// swapped by rename) while data flows.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "collector/filterset/filterset.h"
#include "collector/pdata/pdata.h"
#include "processors/k8s_attributes/config.h"
#include "processors/k8s_attributes/k8s_attributes_processor.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::k8s_attributes {
namespace {

namespace fs = std::filesystem;

// A downwardAPI volume: <dir>/labels -> ..data/labels, ..data -> ..<stamp>.
class DownwardVolume {
 public:
  DownwardVolume() {
    dir_ = fs::temp_directory_path() / ("k8sattr-podinfo-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~DownwardVolume() { fs::remove_all(dir_); }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }
  // What the kubelet's AtomicWriter does: write a new timestamped directory, point
  // ..data_tmp at it, rename it over ..data, remove the old directory.
  void Write(const std::string& labels, const std::string& annotations) {
    std::string stamp = "..2026_12_07_03_00_00." + std::to_string(version_++);
    fs::create_directories(dir_ / stamp);
    std::ofstream(dir_ / stamp / "labels") << labels;
    std::ofstream(dir_ / stamp / "annotations") << annotations;
    fs::path old;
    if (fs::is_symlink(dir_ / "..data")) old = dir_ / fs::read_symlink(dir_ / "..data");
    fs::create_directory_symlink(stamp, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    for (const char* f : {"labels", "annotations"}) {
      if (!fs::is_symlink(dir_ / f)) fs::create_symlink(fs::path("..data") / f, dir_ / f);
    }
    if (!old.empty()) fs::remove_all(old);
  }

 private:
  static inline int n_ = 0;
  fs::path dir_;
  int version_ = 0;
};

class EnvVars {
 public:
  explicit EnvVars(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~EnvVars() {
    for (const auto& [k, v] : vars_) ::unsetenv(k.c_str());
  }

 private:
  std::map<std::string, std::string> vars_;
};

std::map<std::string, std::string> ResourceOf(const pdata::Traces& d) {
  std::map<std::string, std::string> out;
  d.ForEachRequest([&](const testutil::tpb::ExportTraceServiceRequest& r) {
    for (const auto& rs : r.resource_spans()) {
      for (const auto& kv : rs.resource().attributes()) out[kv.key()] = kv.value().string_value();
    }
  });
  return out;
}

class CaptureSink : public testutil::Sink {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    last = ResourceOf(d);
    return testutil::Sink::ConsumeTraces(std::move(d));
  }
  std::map<std::string, std::string> last;
};

const std::map<std::string, std::string> kPodEnv = {{"K8S_POD_NAME", "checkout-7d9f8b6c5d-x2x4z"},
                                                    {"K8S_NAMESPACE_NAME", "shop"},
                                                    {"K8S_NODE_NAME", "node-3"},
                                                    {"K8S_POD_UID", "6f1c7a52-0d7e-4c1e-9d0a-2b1e0c9f4a11"},
                                                    {"K8S_POD_IP", "10.244.1.17"},
                                                    {"K8S_SERVICE_ACCOUNT_NAME", "checkout"}};

TEST(K8sAttributesSidecar, EnvAndFilesWithKubeletUpdate) {
  EnvVars env(kPodEnv);
  DownwardVolume vol;
  vol.Write("app=\"checkout\"\npod-template-hash=\"7d9f8b6c5d\"\nteam=\"payments\"\n",
            "kubectl.kubernetes.io/default-container=\"app\"\ngit-sha=\"abc123\"\n");
  Config cfg;
  cfg.sidecar.labels_file = vol.path("labels");
  cfg.sidecar.annotations_file = vol.path("annotations");
  cfg.sidecar.refresh_interval = absl::ZeroDuration();
  cfg.extract.metadata.push_back("k8s.replicaset.name");
  cfg.extract.metadata.push_back("k8s.pod.ip");
  cfg.extract.metadata.push_back(kServiceAccountAttr);
  cfg.extract.labels = {{"team", "team", "", "pod"}};
  cfg.extract.annotations = {{"", "git-sha", "", "pod"}};
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  Telemetry telemetry;
  CaptureSink sink;
  auto p = NewK8sAttributesProcessor(testutil::Settings(&telemetry, "k8s_attributes", Kind::kProcessor), cfg, &sink);
  ASSERT_TRUE(p.ok());
  testutil::TestHost host;
  ASSERT_TRUE((*p)->Start(host).ok());
  ASSERT_TRUE((*p)->ConsumeTraces(testutil::MakeTraces(1, "checkout")).ok());
  std::map<std::string, std::string> want = {
      {"service.name", "checkout"},
      {"k8s.pod.name", "checkout-7d9f8b6c5d-x2x4z"},
      {"k8s.namespace.name", "shop"},
      {"k8s.node.name", "node-3"},
      {"k8s.pod.uid", "6f1c7a52-0d7e-4c1e-9d0a-2b1e0c9f4a11"},
      {"k8s.pod.ip", "10.244.1.17"},
      {kServiceAccountAttr, "checkout"},
      {"k8s.deployment.name", "checkout"},
      {"k8s.replicaset.name", "checkout-7d9f8b6c5d"},
      {"k8s.container.name", "app"},
      {"team", "payments"},
      {"k8s.pod.annotations.git-sha", "abc123"},
  };
  EXPECT_EQ(sink.last, want);

  // The kubelet updates the volume (a label and an annotation changed).
  vol.Write("app=\"checkout\"\npod-template-hash=\"7d9f8b6c5d\"\nteam=\"risk\"\n",
            "kubectl.kubernetes.io/default-container=\"app\"\ngit-sha=\"def456\"\n");
  ASSERT_TRUE((*p)->ConsumeTraces(testutil::MakeTraces(1, "checkout")).ok());
  want["team"] = "risk";
  want["k8s.pod.annotations.git-sha"] = "def456";
  EXPECT_EQ(sink.last, want);
  EXPECT_EQ(telemetry.Value("outrigger_k8s_attributes_sidecar_reloads_total", {{"processor", "k8s_attributes"}}), 2);

  // Unchanged files are not read again.
  ASSERT_TRUE((*p)->ConsumeTraces(testutil::MakeTraces(1, "checkout")).ok());
  EXPECT_EQ(telemetry.Value("outrigger_k8s_attributes_sidecar_reloads_total", {{"processor", "k8s_attributes"}}), 2);
  EXPECT_TRUE((*p)->Shutdown(absl::Now()).ok());
}

TEST(K8sAttributesSidecar, ExistingAttributesKeptUnlessOverwrite) {
  EnvVars env(kPodEnv);
  for (bool overwrite : {false, true}) {
    Config cfg;
    cfg.sidecar.labels_file = "";
    cfg.sidecar.annotations_file = "";
    cfg.overwrite = overwrite;
    CaptureSink sink;
    auto p = NewK8sAttributesProcessor(testutil::Settings(nullptr, "k8s_attributes", Kind::kProcessor), cfg, &sink);
    ASSERT_TRUE(p.ok());
    pdata::Traces t = testutil::MakeTraces(1, "checkout");
    t.ForEachMutableRequest([](testutil::tpb::ExportTraceServiceRequest& r) {
      testutil::SetStringAttrs(r.mutable_resource_spans(0)->mutable_resource()->mutable_attributes(),
                               {{"k8s.pod.name", "set-by-the-app"}});
    });
    ASSERT_TRUE((*p)->ConsumeTraces(std::move(t)).ok());
    EXPECT_EQ(sink.last["k8s.pod.name"], overwrite ? "checkout-7d9f8b6c5d-x2x4z" : "set-by-the-app");
    EXPECT_EQ(sink.last["k8s.namespace.name"], "shop");
  }
}

TEST(K8sAttributesSidecar, PassthroughAddsOnlyThePodIp) {
  EnvVars env(kPodEnv);
  Config cfg;
  cfg.passthrough = true;
  CaptureSink sink;
  auto p = NewK8sAttributesProcessor(testutil::Settings(nullptr, "k8s_attributes", Kind::kProcessor), cfg, &sink);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->ConsumeTraces(testutil::MakeTraces(1, "checkout")).ok());
  EXPECT_EQ(sink.last,
            (std::map<std::string, std::string>{{"service.name", "checkout"}, {"k8s.pod.ip", "10.244.1.17"}}));
}

TEST(K8sAttributesSidecar, MissingFilesAndVariablesAddWhatIsKnown) {
  EnvVars env(std::map<std::string, std::string>{{"K8S_POD_NAME", "kafka-2"}});
  DownwardVolume vol;  // nothing written yet: the files do not exist
  Config cfg;
  cfg.sidecar.labels_file = vol.path("labels");
  cfg.sidecar.annotations_file = vol.path("annotations");
  cfg.sidecar.refresh_interval = absl::ZeroDuration();
  cfg.sidecar.container_name = "broker";
  cfg.extract.metadata.push_back("k8s.statefulset.name");
  CaptureSink sink;
  auto p = NewK8sAttributesProcessor(testutil::Settings(nullptr, "k8s_attributes", Kind::kProcessor), cfg, &sink);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->ConsumeTraces(testutil::MakeTraces(1, "kafka")).ok());
  EXPECT_EQ(sink.last, (std::map<std::string, std::string>{
                           {"service.name", "kafka"}, {"k8s.pod.name", "kafka-2"}, {"k8s.container.name", "broker"}}));
  // The volume appears (a late mount): picked up.
  vol.Write("statefulset.kubernetes.io/pod-name=\"kafka-2\"\ncontroller-revision-hash=\"kafka-6b8d7f\"\n", "");
  ASSERT_TRUE((*p)->ConsumeTraces(testutil::MakeTraces(1, "kafka")).ok());
  EXPECT_EQ(sink.last["k8s.statefulset.name"], "kafka");
}

}  // namespace
}  // namespace outrigger::processors::k8s_attributes
