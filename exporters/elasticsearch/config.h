#pragma once
// Configuration of the elasticsearch exporter. Option names follow the OpenTelemetry
// Collector contrib elasticsearch exporter where the same thing exists; defaults are
// upstream's unless the README says otherwise (and why).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"

namespace outrigger::exporters::elasticsearch {

inline constexpr char kDefaultLogsIndex[] = "logs-generic-default";
inline constexpr char kDefaultTracesIndex[] = "traces-generic-default";
inline constexpr char kDefaultMetricsIndex[] = "metrics-generic-default";
inline constexpr uint64_t kDefaultFlushBytes = 5000000;
inline constexpr absl::Duration kDefaultFlushInterval = absl::Seconds(30);  // as upstream
inline constexpr int kDefaultMaxRetries = 2;
inline constexpr absl::Duration kDefaultRetryInitialInterval = absl::Milliseconds(100);
inline constexpr absl::Duration kDefaultRetryMaxInterval = absl::Minutes(1);
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(90);

// Elasticsearch's own retries of failed items and requests, inside one push (the
// shared helper's retry_on_failure retries a whole push after these are used up).
struct RetrySettings {
  bool enabled = true;
  int max_retries = kDefaultMaxRetries;  // retries after the first attempt
  absl::Duration initial_interval = kDefaultRetryInitialInterval;
  absl::Duration max_interval = kDefaultRetryMaxInterval;
  // Item or request statuses retried besides 429 and 5xx (which always are).
  std::vector<int> retry_on_status = {429};
};

struct LogstashFormat {
  bool enabled = false;
  std::string prefix_separator = "-";
  std::string date_format = "%Y.%m.%d";  // strftime, of the record's time in UTC
};

struct Config : ComponentConfig {
  Config() { helper.timeout = kDefaultTimeout; }

  // Exactly one of endpoint / endpoints: base URL(s) of Elasticsearch, e.g.
  // https://es.example.com:9200. Several are used in round-robin order.
  std::string endpoint;
  std::vector<std::string> endpoints;
  // cloudid: an Elastic Cloud ID ("name:base64(host$es_id$kibana_id)"), decoded into the
  // endpoint https://<es_id>.<host> (as upstream).
  std::string cloudid;
  // Read when none of endpoint/endpoints/cloudid is given: the comma-separated
  // ELASTICSEARCH_URL environment variable (as upstream), taken at Decode time.
  std::vector<std::string> env_endpoints;

  // discover: sniff the cluster's nodes (GET _nodes/http) at start and/or every interval,
  // and spread requests over them.
  bool discover_on_start = false;
  absl::Duration discover_interval = absl::ZeroDuration();  // 0: no periodic discovery

  std::string logs_index = kDefaultLogsIndex;
  bool logs_dynamic_index = false;  // logs_dynamic_index.enabled
  std::string traces_index = kDefaultTracesIndex;
  bool traces_dynamic_index = false;  // traces_dynamic_index.enabled
  std::string metrics_index = kDefaultMetricsIndex;
  bool metrics_dynamic_index = true;  // metrics_dynamic_index.enabled (upstream's default: true)
  LogstashFormat logstash_format;
  // ID of an ingest pipeline every document goes through ("pipeline" in the action).
  std::string pipeline;

  // mapping.mode: otel | ecs | none (raw: none without the "Attributes." prefix).
  std::string mapping_mode = "otel";
  // document_id: none | content_hash. content_hash gives every document an _id derived
  // from its content, so a resent document is a 409 (counted as success), never a copy.
  std::string document_id = "none";

  // Authentication: basic (user/password) or api_key ("encoded" form, sent as
  // "Authorization: ApiKey <api_key>").
  std::string user, password, api_key;
  std::map<std::string, std::string> headers;
  httpclient::TlsConfig tls;
  // auth.authenticator: an extension whose headers go with each request (instead of
  // user/password or api_key).
  httpclient::AuthConfig auth;
  std::string compression = "gzip";  // gzip | none
  int compression_level = 1;         // compression_params.level (gzip 1..9)
  // include_source_on_error: -1 unset (no query parameter), 0 false, 1 true.
  int include_source_on_error = -1;
  // batcher (upstream's older batching options): when batcher.enabled is given, it
  // replaces flush.* as the queue's batching.
  bool batcher_set = false;
  exporterhelper::BatchConfig batcher;

  // flush.bytes: a bulk request carries at most about this many bytes of NDJSON.
  uint64_t flush_bytes = kDefaultFlushBytes;
  // flush.interval / flush.bytes: the queue merges requests until they reach flush.bytes
  // (encoded OTLP size) or the oldest has waited flush.interval (sending_queue.batch).
  absl::Duration flush_interval = kDefaultFlushInterval;
  RetrySettings retry;

  // sending_queue, retry_on_failure, timeout (default 90s, as upstream).
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  // The base URLs, without a trailing '/': endpoint, endpoints, the decoded cloudid, or
  // ELASTICSEARCH_URL. Empty if not exactly one of them is given (Validate says why).
  std::vector<std::string> Urls() const;
  bool Retryable(int status) const;

 private:
  void DecodeBatcher(config::Node& node);
};

// The endpoint of an Elastic Cloud ID "<name>:<base64 of host[:port]$es_id[$kibana_id]>":
// https://<es_id>.<host>[:port], as go-elasticsearch decodes it; an error naming what is
// wrong otherwise.
absl::StatusOr<std::string> DecodeCloudId(std::string_view cloudid);

}  // namespace outrigger::exporters::elasticsearch
