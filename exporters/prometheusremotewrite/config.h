#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/httpclient/http_client.h"

namespace outrigger::exporters::prometheusremotewrite {

inline constexpr int64_t kDefaultMaxSamplesPerRequest = 2000;
inline constexpr uint64_t kDefaultMaxBatchSizeBytes = 3000000;

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
  // Every resource attribute becomes a label of every series of that resource.
  bool resource_to_telemetry_conversion = false;
  // Unit suffixes, "_total" on counters and "_ratio" on unit-"1" gauges.
  bool add_metric_suffixes = true;
  // Also send type, help and unit of each metric family (WriteRequest.metadata).
  bool send_metadata = false;
  // A request holds at most this many samples ...
  int64_t max_samples_per_request = kDefaultMaxSamplesPerRequest;
  // ... and at most about this many bytes of uncompressed protobuf.
  uint64_t max_batch_size_bytes = kDefaultMaxBatchSizeBytes;
  // sending_queue, retry_on_failure, timeout.
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::prometheusremotewrite
