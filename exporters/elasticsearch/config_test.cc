// The elasticsearch exporter's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "exporters/elasticsearch/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::elasticsearch {
namespace {

constexpr char kTestdata[] = "exporters/elasticsearch/testdata/config.yaml";

absl::Status Decode(std::string_view id, Config* cfg, config::Errors* errors) {
  // The file's ${env:...:-default} values are asserted as their defaults.
  unsetenv("ES_PASSWORD");
  unsetenv("ES_API_KEY");
  return testutil::DecodeComponentConfig(kTestdata, "exporters", id, cfg, errors);
}

// The values README.md documents for every option but the endpoint(s), after decoding
// a section that sets nothing else (so flush.* has made the queue's batching).
void ExpectDocumentedDefaults(const Config& cfg) {
  EXPECT_EQ(cfg.logs_index, "logs-generic-default");
  EXPECT_FALSE(cfg.logs_dynamic_index);
  EXPECT_EQ(cfg.traces_index, "traces-generic-default");
  EXPECT_FALSE(cfg.traces_dynamic_index);
  EXPECT_EQ(cfg.metrics_index, "metrics-generic-default");
  EXPECT_TRUE(cfg.metrics_dynamic_index);
  EXPECT_EQ(cfg.cloudid, "");
  EXPECT_FALSE(cfg.discover_on_start);
  EXPECT_EQ(cfg.discover_interval, absl::ZeroDuration());
  EXPECT_EQ(cfg.compression_level, 1);
  EXPECT_EQ(cfg.include_source_on_error, -1);
  EXPECT_FALSE(cfg.batcher_set);
  EXPECT_FALSE(cfg.logstash_format.enabled);
  EXPECT_EQ(cfg.logstash_format.prefix_separator, "-");
  EXPECT_EQ(cfg.logstash_format.date_format, "%Y.%m.%d");
  EXPECT_EQ(cfg.pipeline, "");
  EXPECT_EQ(cfg.mapping_mode, "otel");
  EXPECT_EQ(cfg.document_id, "none");
  EXPECT_EQ(cfg.user, "");
  EXPECT_EQ(cfg.password, "");
  EXPECT_EQ(cfg.api_key, "");
  EXPECT_TRUE(cfg.headers.empty());
  EXPECT_FALSE(cfg.tls.insecure);
  EXPECT_EQ(cfg.tls.ca_file, "");
  EXPECT_EQ(cfg.tls.cert_file, "");
  EXPECT_EQ(cfg.tls.key_file, "");
  EXPECT_EQ(cfg.compression, "gzip");
  EXPECT_EQ(cfg.flush_bytes, 5000000u);
  EXPECT_EQ(cfg.flush_interval, absl::Seconds(30));
  EXPECT_TRUE(cfg.retry.enabled);
  EXPECT_EQ(cfg.retry.max_retries, 2);
  EXPECT_EQ(cfg.retry.initial_interval, absl::Milliseconds(100));
  EXPECT_EQ(cfg.retry.max_interval, absl::Minutes(1));
  EXPECT_EQ(cfg.retry.retry_on_status, std::vector<int>{429});
  EXPECT_EQ(cfg.helper.timeout, absl::Seconds(90));
  // sending_queue and retry_on_failure: the shared helper's defaults.
  const auto& q = cfg.helper.sending_queue;
  EXPECT_TRUE(q.enabled);
  EXPECT_EQ(q.num_consumers, 2);
  EXPECT_EQ(q.sizer, "items");
  EXPECT_EQ(q.queue_size, 0);
  EXPECT_TRUE(q.block_on_overflow);
  const auto& r = cfg.helper.retry_on_failure;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.initial_interval, absl::Seconds(5));
  EXPECT_EQ(r.randomization_factor, 0.5);
  EXPECT_EQ(r.multiplier, 1.5);
  EXPECT_EQ(r.max_interval, absl::Seconds(30));
  EXPECT_EQ(r.max_elapsed_time, absl::Minutes(5));
}

TEST(ElasticsearchExporterConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.endpoint, "");
  EXPECT_TRUE(cfg.endpoints.empty());
  ExpectDocumentedDefaults(cfg);
  // Decoding makes the queue's batching out of flush.*; before, there is none.
  EXPECT_FALSE(cfg.helper.sending_queue.batch.enabled);
  // An endpoint is required.
  EXPECT_FALSE(cfg.Validate().ok());
}

TEST(ElasticsearchExporterConfig, TestdataDefaultsDecodeToTheDocumentedOnes) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(Decode("elasticsearch/defaults", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "http://localhost:9200");
  EXPECT_TRUE(cfg.endpoints.empty());
  ExpectDocumentedDefaults(cfg);
  // flush.bytes / flush.interval drive the queue's batching ("Batching" in README.md).
  const auto& b = cfg.helper.sending_queue.batch;
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.sizer, "bytes");
  EXPECT_EQ(b.min_size, 5000000);
  EXPECT_EQ(b.max_size, 0);
  EXPECT_EQ(b.flush_timeout, absl::Seconds(30));
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(ElasticsearchExporterConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(Decode("elasticsearch", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "");
  EXPECT_EQ(cfg.endpoints,
            (std::vector<std::string>{"https://es-1.example.com:9200", "https://es-2.example.com:9200"}));
  EXPECT_EQ(cfg.logs_index, "app-logs");
  EXPECT_EQ(cfg.traces_index, "app-traces");
  EXPECT_TRUE(cfg.logs_dynamic_index);
  EXPECT_TRUE(cfg.traces_dynamic_index);
  EXPECT_EQ(cfg.metrics_index, "app-metrics");
  EXPECT_FALSE(cfg.metrics_dynamic_index);
  EXPECT_TRUE(cfg.discover_on_start);
  EXPECT_EQ(cfg.discover_interval, absl::Minutes(5));
  EXPECT_EQ(cfg.include_source_on_error, 0);
  EXPECT_TRUE(cfg.logstash_format.enabled);
  EXPECT_EQ(cfg.logstash_format.prefix_separator, "_");
  EXPECT_EQ(cfg.logstash_format.date_format, "%Y.%m");
  EXPECT_EQ(cfg.pipeline, "my-ingest-pipeline");
  EXPECT_EQ(cfg.mapping_mode, "ecs");
  EXPECT_EQ(cfg.document_id, "content_hash");
  EXPECT_EQ(cfg.user, "elastic");
  EXPECT_EQ(cfg.password, "changeme");
  EXPECT_EQ(cfg.api_key, "");
  EXPECT_EQ(cfg.headers, (std::map<std::string, std::string>{{"X-Opaque-Id", "outrigger"}, {"X-Tenant", "team-a"}}));
  EXPECT_FALSE(cfg.tls.insecure);
  EXPECT_EQ(cfg.tls.ca_file, "/etc/outrigger/tls/ca.pem");
  EXPECT_EQ(cfg.tls.cert_file, "/etc/outrigger/tls/client.pem");
  EXPECT_EQ(cfg.tls.key_file, "/etc/outrigger/tls/client-key.pem");
  EXPECT_EQ(cfg.compression, "none");
  EXPECT_EQ(cfg.flush_bytes, 10u << 20);
  EXPECT_EQ(cfg.flush_interval, absl::Seconds(5));
  EXPECT_TRUE(cfg.retry.enabled);
  EXPECT_EQ(cfg.retry.max_retries, 5);
  EXPECT_EQ(cfg.retry.initial_interval, absl::Milliseconds(200));
  EXPECT_EQ(cfg.retry.max_interval, absl::Seconds(30));
  EXPECT_EQ(cfg.retry.retry_on_status, (std::vector<int>{429, 409}));
  EXPECT_TRUE(cfg.Retryable(409));
  EXPECT_TRUE(cfg.Retryable(503));
  EXPECT_FALSE(cfg.Retryable(400));
  EXPECT_EQ(cfg.helper.timeout, absl::Seconds(30));
  const auto& q = cfg.helper.sending_queue;
  EXPECT_TRUE(q.enabled);
  EXPECT_EQ(q.num_consumers, 4);
  EXPECT_EQ(q.sizer, "requests");
  EXPECT_EQ(q.queue_size, 100000);
  EXPECT_FALSE(q.block_on_overflow);
  // No sending_queue.batch: made from flush.*.
  EXPECT_TRUE(q.batch.enabled);
  EXPECT_EQ(q.batch.sizer, "bytes");
  EXPECT_EQ(q.batch.min_size, 10 << 20);
  EXPECT_EQ(q.batch.max_size, 0);
  EXPECT_EQ(q.batch.flush_timeout, absl::Seconds(5));
  const auto& r = cfg.helper.retry_on_failure;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.initial_interval, absl::Seconds(1));
  EXPECT_EQ(r.randomization_factor, 0.1);
  EXPECT_EQ(r.multiplier, 3.0);
  EXPECT_EQ(r.max_interval, absl::Minutes(1));
  EXPECT_EQ(r.max_elapsed_time, absl::Minutes(30));
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(ElasticsearchExporterConfig, TestdataApiKeyDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(Decode("elasticsearch/api_key", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "http://127.0.0.1:9200/");
  EXPECT_EQ(cfg.Urls(), std::vector<std::string>{"http://127.0.0.1:9200"});
  EXPECT_EQ(cfg.api_key, "aWQ6a2V5");
  EXPECT_EQ(cfg.user, "");
  EXPECT_EQ(cfg.mapping_mode, "raw");
  EXPECT_TRUE(cfg.tls.insecure_skip_verify);
  EXPECT_EQ(cfg.tls.min_version, "1.3");
  EXPECT_FALSE(cfg.retry.enabled);
  EXPECT_EQ(cfg.retry.max_retries, 3);  // max_requests: 4 attempts
  const auto& q = cfg.helper.sending_queue;
  EXPECT_TRUE(q.enabled);
  // An explicit sending_queue.batch replaces the one flush.* makes.
  EXPECT_TRUE(q.batch.enabled);
  EXPECT_EQ(q.batch.flush_timeout, absl::Seconds(2));
  EXPECT_EQ(q.batch.sizer, "items");
  EXPECT_EQ(q.batch.min_size, 1000);
  EXPECT_EQ(q.batch.max_size, 5000);
  EXPECT_FALSE(cfg.helper.retry_on_failure.enabled);
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(ElasticsearchExporterConfig, TestdataCloudDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(Decode("elasticsearch/cloud", &cfg, &errors).ok()) << errors.Joined();
  EXPECT_EQ(cfg.Urls(), std::vector<std::string>{"https://abc123.bar.cloud.es.io"});
  EXPECT_EQ(cfg.api_key, "aWQ6a2V5");
  EXPECT_EQ(cfg.user, "elastic");  // accepted with api_key, as upstream (the key is sent)
  EXPECT_EQ(cfg.compression_level, 5);
  // batcher.enabled given: it is the queue's batching, flush.* is not used.
  EXPECT_TRUE(cfg.batcher_set);
  const auto& b = cfg.helper.sending_queue.batch;
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.sizer, "items");
  EXPECT_EQ(b.min_size, 2000);
  EXPECT_EQ(b.max_size, 4000);
  EXPECT_EQ(b.flush_timeout, absl::Seconds(10));
  EXPECT_TRUE(cfg.Validate().ok()) << cfg.Validate();
}

// Decodes `yaml` as an elasticsearch exporter; the errors joined, or "" and *out.
std::string DecodeYaml(const std::string& yaml, Config* out) {
  config::Errors errors;
  config::Node node(YAML::Load(yaml), "exporters.elasticsearch", &errors);
  out->Decode(node);
  node.Finish();
  return errors.Joined();
}

TEST(ElasticsearchExporterConfig, EndpointFormsAsUpstream) {
  Config c;
  // More than one of endpoint, endpoints, cloudid.
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\ncloudid: foo:YmFyLmNsb3VkLmVzLmlvJGFiYzEyMyRkZWY0NTY=\n", &c), "");
  EXPECT_NE(c.Validate().message().find("exactly one of [endpoint, endpoints, cloudid]"), std::string::npos);
  // A cloud id that does not decode is refused at validate time, with what is wrong.
  Config bad;
  ASSERT_EQ(DecodeYaml("cloudid: not-a-cloud-id\n", &bad), "");
  EXPECT_NE(bad.Validate().message().find("invalid cloudid \"not-a-cloud-id\""), std::string::npos) << bad.Validate();
  // A scheme other than http(s).
  Config ftp;
  ASSERT_EQ(DecodeYaml("endpoint: ftp://a:21\n", &ftp), "");
  EXPECT_NE(ftp.Validate().message().find("expected \"http\" or \"https\""), std::string::npos);
  // None of them: the comma-separated ELASTICSEARCH_URL.
  setenv("ELASTICSEARCH_URL", "http://es-a:9200, https://es-b:9200/", 1);
  Config env;
  ASSERT_EQ(DecodeYaml("logs_index: x\n", &env), "");
  unsetenv("ELASTICSEARCH_URL");
  EXPECT_TRUE(env.Validate().ok()) << env.Validate();
  EXPECT_EQ(env.Urls(), (std::vector<std::string>{"http://es-a:9200", "https://es-b:9200"}));
  Config none;
  ASSERT_EQ(DecodeYaml("logs_index: x\n", &none), "");
  EXPECT_FALSE(none.Validate().ok());
  // upstream's deprecated `index` is logs_index.
  Config idx;
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\nindex: old-style\n", &idx), "");
  EXPECT_EQ(idx.logs_index, "old-style");
}

TEST(ElasticsearchExporterConfig, BatcherAsUpstream) {
  Config off;
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\nbatcher: {enabled: false}\nflush: {interval: 1s}\n", &off), "");
  EXPECT_FALSE(off.helper.sending_queue.batch.enabled);  // flush.* is ignored too
  Config defaults;
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\nbatcher: {enabled: true}\n", &defaults), "");
  EXPECT_EQ(defaults.helper.sending_queue.batch.min_size, 5000);
  EXPECT_EQ(defaults.helper.sending_queue.batch.max_size, 10000);
  EXPECT_EQ(defaults.helper.sending_queue.batch.flush_timeout, absl::Seconds(30));
  Config items;  // the older names
  ASSERT_EQ(
      DecodeYaml("endpoint: http://a:9200\nbatcher: {enabled: true, min_size_items: 10, max_size_items: 20}\n", &items),
      "");
  EXPECT_EQ(items.helper.sending_queue.batch.min_size, 10);
  EXPECT_EQ(items.helper.sending_queue.batch.max_size, 20);
  Config unset;  // without batcher.enabled, flush.* stays in charge (as upstream)
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\nbatcher: {min_size: 7}\n", &unset), "");
  EXPECT_EQ(unset.helper.sending_queue.batch.sizer, "bytes");
  Config both;
  EXPECT_NE(
      DecodeYaml("endpoint: http://a:9200\nbatcher: {enabled: true}\nsending_queue: {batch: {min_size: 5}}\n", &both)
          .find("use either batcher or sending_queue.batch"),
      std::string::npos);
  Config requests;
  EXPECT_NE(DecodeYaml("endpoint: http://a:9200\nbatcher: {enabled: true, sizer: requests}\n", &requests)
                .find("requests is not supported: use items or bytes"),
            std::string::npos);
}

TEST(ElasticsearchExporterConfig, UpstreamOptionsWeLackAreRefusedWithWhatToDo) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"num_workers: 4", "num_workers is not supported: use sending_queue.num_consumers"},
      {"logs_dynamic_id: {enabled: true}", "logs_dynamic_id is not supported"},
      {"logs_dynamic_pipeline: {enabled: true}", "logs_dynamic_pipeline is not supported"},
      {"telemetry: {log_request_body: true}", "telemetry is not supported"},
      {"mapping: {mode: otel, allowed_modes: [otel]}", "allowed_modes is not supported"},
      {"mapping: {mode: bodymap}", "bodymap is not supported"},
      {"max_conns_per_host: 2", "max_conns_per_host is not supported"},
      {"proxy_url: http://proxy:3128", "proxy_url is not supported"},
  };
  for (const auto& [yaml, want] : cases) {
    Config c;
    std::string errors = DecodeYaml("endpoint: http://a:9200\n" + yaml + "\n", &c);
    EXPECT_NE(errors.find(want), std::string::npos) << yaml << " -> " << errors;
    EXPECT_EQ(errors.find("unknown"), std::string::npos) << errors;
  }
  // Upstream's aliases and deprecated no-ops are accepted.
  Config ok;
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\nmapping: {mode: ECS, dedot: true, dedup: true}\n", &ok), "");
  EXPECT_EQ(ok.mapping_mode, "ecs");
  Config no;
  ASSERT_EQ(DecodeYaml("endpoint: http://a:9200\nmapping: {mode: \"no\"}\n", &no), "");
  EXPECT_EQ(no.mapping_mode, "none");
}

}  // namespace
}  // namespace outrigger::exporters::elasticsearch
