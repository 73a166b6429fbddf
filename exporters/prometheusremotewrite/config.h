#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"
#include "collector/prometheus/naming.h"

namespace outrigger::exporters::prometheusremotewrite {

inline constexpr int64_t kDefaultMaxSamplesPerRequest = 2000;
inline constexpr uint64_t kDefaultMaxBatchSizeBytes = 3000000;
inline constexpr int kDefaultMaxBatchRequestParallelism = 5;
// Upstream's remote_write_queue defaults, used for the keys it leaves out.
inline constexpr int64_t kDefaultRemoteWriteQueueSize = 10000;
inline constexpr int kDefaultRemoteWriteNumConsumers = 5;
inline constexpr char kProtobufMessageV1[] = "prometheus.WriteRequest";
inline constexpr char kProtobufMessageV2[] = "io.prometheus.write.v2.Request";

struct Config : ComponentConfig {
  // Required: the receiver's URL, e.g. http://127.0.0.1:9090/api/v1/write.
  std::string endpoint;
  std::map<std::string, std::string> headers;
  httpclient::TlsConfig tls;
  // auth.authenticator: an extension whose headers go with each request.
  httpclient::AuthConfig auth;
  // Prefix of every metric name ("<namespace>_<name>").
  std::string metric_namespace;
  // Labels added to every series where the series has no label of that name.
  std::map<std::string, std::string> external_labels;
  // Every resource attribute becomes a label of every series of that resource ...
  bool resource_to_telemetry_conversion = false;
  // ... but service.name, service.namespace, service.instance.id (already job, instance).
  bool exclude_service_attributes = false;
  // Deprecated upstream: false is UnderscoreEscapingWithoutSuffixes unless
  // translation_strategy is set.
  bool add_metric_suffixes = true;
  std::string translation_strategy;  // "" when absent
  // No otel_scope_name / otel_scope_version labels.
  bool disable_scope_info = false;
  // target_info.enabled: one target_info series per resource with non-identifying attributes.
  bool target_info = true;
  // export_created_metric.enabled: "<name>_created" series (the start time, in ms, as
  // upstream) for counters, histograms and summaries whose points have a start time.
  bool export_created_metric = false;
  // The requests one batch is split into are sent this many at a time.
  int max_batch_request_parallelism = kDefaultMaxBatchRequestParallelism;
  // compression: only "snappy" (or empty), as the protocol requires.
  std::string compression;
  // protobuf_message: only remote write 1.0 is sent.
  std::string protobuf_message = kProtobufMessageV1;
  // Also send type, help and unit of each metric family (WriteRequest.metadata).
  bool send_metadata = false;
  // A request holds at most this many samples ...
  int64_t max_samples_per_request = kDefaultMaxSamplesPerRequest;
  // ... and at most about this many bytes of uncompressed protobuf.
  uint64_t max_batch_size_bytes = kDefaultMaxBatchSizeBytes;
  // sending_queue, retry_on_failure, timeout.
  exporterhelper::HelperConfig helper;
  // remote_write_queue was given (it set helper.sending_queue).
  bool remote_write_queue_set = false;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
  prom::TranslationStrategy Strategy() const;
};

}  // namespace outrigger::exporters::prometheusremotewrite
