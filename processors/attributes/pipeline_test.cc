// End to end through a real pipeline: OTLP/HTTP receiver -> batch -> attributes ->
// exporter. Two clients (127.0.0.1 and 127.0.0.2, each with its own X-Tenant header)
// send a request each; the batch processor sends them as one batch, and every span
// carries its own client's address and tenant.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "collector/component/registry.h"
#include "collector/filterset/filterset.h"
#include "collector/service/service.h"
#include "tests/testutil/testutil.h"

namespace outrigger::processors::attributes {
namespace {

// An exporter that keeps "name{client.address,tenant}" of every span, per call.
std::mutex keep_mu;
std::vector<std::vector<std::string>>* kept = nullptr;

class KeepExporter : public Exporter {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    std::vector<std::string> spans;
    d.ForEachRequest([&](const testutil::tpb::ExportTraceServiceRequest& r) {
      for (const auto& rs : r.resource_spans())
        for (const auto& ss : rs.scope_spans())
          for (const auto& s : ss.spans()) {
            const auto* addr = filterset::FindAttribute(s.attributes(), "client.address");
            const auto* tenant = filterset::FindAttribute(s.attributes(), "tenant");
            spans.push_back(s.name() + "{" + (addr ? addr->string_value() : "") + "," +
                            (tenant ? tenant->string_value() : "") + "}");
          }
    });
    std::lock_guard<std::mutex> lock(keep_mu);
    kept->push_back(std::move(spans));
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

long PostFrom(const std::string& source_ip, uint16_t port, const std::string& tenant, const std::string& body) {
  CURL* h = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
  curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/x-protobuf");
  hdrs = curl_slist_append(hdrs, ("X-Tenant: " + tenant).c_str());
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

TEST(AttributesPipeline, BatchedRequestsOfTwoClientsKeepTheirOwnClient) {
  std::vector<std::vector<std::string>> got;
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
        include_metadata: true
processors:
  batch:
    send_batch_size: 4
    timeout: 60s
  attributes:
    actions:
      - {key: client.address, from_context: client.address, action: upsert}
      - {key: tenant, from_context: metadata.x-tenant, action: insert}
exporters:
  keep:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch, attributes]
      exporters: [keep]
)");
  YAML::Node root = config::LoadAndMerge({{"test.yaml", yaml}}, &errors);
  auto svc = Service::Build(root, registry, telemetry, &errors);
  ASSERT_TRUE(svc.ok()) << errors.Joined();
  testutil::TestHost host;
  ASSERT_TRUE((*svc)->Start(host.IoContext()).ok());
  EXPECT_EQ(PostFrom("127.0.0.1", port, "acme", testutil::MakeTraces(2, "svc", "one").ToProto()), 200);
  EXPECT_EQ(PostFrom("127.0.0.2", port, "globex", testutil::MakeTraces(2, "svc", "two", 1).ToProto()), 200);
  EXPECT_TRUE(testutil::WaitFor([&] {
    std::lock_guard<std::mutex> lock(keep_mu);
    return !got.empty();
  }));
  (*svc)->Shutdown();
  std::lock_guard<std::mutex> lock(keep_mu);
  ASSERT_EQ(got.size(), 1u);  // one batch of both requests
  EXPECT_EQ(got[0], (std::vector<std::string>{"one-0{127.0.0.1,acme}", "one-1{127.0.0.1,acme}",
                                              "two-0{127.0.0.2,globex}", "two-1{127.0.0.2,globex}"}));
  kept = nullptr;
}

}  // namespace
}  // namespace outrigger::processors::attributes
