// Association by the real source address of an OTLP client: the OTLP receiver (HTTP and
// gRPC-less here: HTTP with curl bound to 127.0.0.2 / 127.0.0.3) → batch →
// k8s_attributes in API mode against the fake API server whose Pods have those IPs.
// The batch merges both clients' requests; each keeps its own Pod.

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "collector/common/strings.h"
#include "collector/component/registry.h"
#include "collector/config/node.h"
#include "collector/filterset/filterset.h"
#include "collector/k8s/client.h"
#include "collector/k8s/fake_api_server.h"
#include "collector/service/service.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::k8s_attributes {
namespace {

namespace fs = std::filesystem;

std::mutex keep_mu;
std::vector<std::string>* kept = nullptr;

// Keeps "span{k8s.pod.name,k8s.namespace.name}".
class KeepExporter : public Exporter {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    std::lock_guard<std::mutex> lock(keep_mu);
    d.ForEachRequest([&](const testutil::tpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans()) {
        const auto* pod = filterset::FindAttribute(rs.resource().attributes(), "k8s.pod.name");
        const auto* ns = filterset::FindAttribute(rs.resource().attributes(), "k8s.namespace.name");
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& s : ss.spans()) {
            kept->push_back(s.name() + "{" + (pod ? pod->string_value() : "") + "," + (ns ? ns->string_value() : "") +
                            "}");
          }
        }
      }
    });
    return absl::OkStatus();
  }
};

class KeepFactory : public ExporterFactory {
 public:
  std::string_view Type() const override { return "keep"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<EmptyConfig>(); }
  absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings&,
                                                           const ComponentConfig&) const override {
    return std::unique_ptr<Exporter>(std::make_unique<KeepExporter>());
  }
};

long PostFrom(const std::string& source_ip, uint16_t port, const std::string& body) {
  CURL* h = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
  curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/x-protobuf");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_INTERFACE, source_ip.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(
      h, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
  long code = 0;
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return code;
}

nlohmann::json PodWithIp(const std::string& name, const std::string& ip) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"uid", "uid-" + name}}},
          {"spec", {{"nodeName", "node-1"}, {"containers", {{{"name", "app"}, {"image", "app:1"}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", ip}, {"podIPs", {{{"ip", ip}}}}}}};
}

TEST(K8sAttributesPipeline, OtlpClientsAssociatedByTheirSourceAddress) {
  k8s::testing::FakeApiServer api;
  api.Add("/api/v1/pods", PodWithIp("cart", "127.0.0.2"));
  api.Add("/api/v1/pods", PodWithIp("payments", "127.0.0.3"));
  fs::path sa = fs::temp_directory_path() / ("k8sattr-pipe-" + std::to_string(::getpid()));
  fs::create_directories(sa);
  std::ofstream(sa / "token") << "t";
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(api.port()).c_str(), 1);
  ::setenv(k8s::kServiceAccountDirEnv, sa.c_str(), 1);
  ::setenv(k8s::kTestPlainHttpEnv, "1", 1);

  std::vector<std::string> got;
  kept = &got;
  const uint16_t port = testutil::FreePort();
  Registry registry;
  RegisterBuiltins(registry);
  registry.Add(std::make_unique<KeepFactory>());
  Telemetry telemetry;
  config::Errors errors;
  const std::string yaml = StrCat(R"(
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:)",
                                  port, R"(
processors:
  batch:
    send_batch_size: 4
    timeout: 60s
  k8sattributes:
    mode: api
    wait_for_metadata: true
exporters:
  keep:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch, k8sattributes]
      exporters: [keep]
)");
  YAML::Node root = config::LoadAndMerge({{"test.yaml", yaml}}, &errors);
  auto svc = Service::Build(root, registry, telemetry, &errors);
  ASSERT_TRUE(svc.ok()) << errors.Joined();
  testutil::TestHost host;
  ASSERT_TRUE((*svc)->Start(host.IoContext()).ok());
  EXPECT_EQ(PostFrom("127.0.0.2", port, testutil::MakeTraces(2, "cart", "c").ToProto()), 200);
  EXPECT_EQ(PostFrom("127.0.0.3", port, testutil::MakeTraces(2, "payments", "p", 1).ToProto()), 200);
  EXPECT_TRUE(testutil::WaitFor([&] {
    std::lock_guard<std::mutex> lock(keep_mu);
    return got.size() == 4;
  }));
  (*svc)->Shutdown();
  {
    std::lock_guard<std::mutex> lock(keep_mu);
    EXPECT_EQ(got, (std::vector<std::string>{"c-0{cart,shop}", "c-1{cart,shop}", "p-0{payments,shop}",
                                             "p-1{payments,shop}"}));
    kept = nullptr;
  }
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ::unsetenv(k8s::kServiceAccountDirEnv);
  ::unsetenv(k8s::kTestPlainHttpEnv);
  fs::remove_all(sa);
}

}  // namespace
}  // namespace outrigger::processors::k8s_attributes
