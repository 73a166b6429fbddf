#pragma once

#include <cstdint>
#include <string>

#include "collector/component/factory.h"

namespace outrigger::receivers::otlp {

inline constexpr char kDefaultGrpcEndpoint[] = "127.0.0.1:4317";
inline constexpr char kDefaultHttpEndpoint[] = "127.0.0.1:4318";
inline constexpr int kDefaultMaxRecvMsgSizeMiB = 4;
inline constexpr int kDefaultMaxConcurrentStreams = 0;  // 0: gRPC's default
inline constexpr uint64_t kDefaultMaxRequestBodySize = 20ull << 20;  // after decompression too
inline constexpr char kDefaultTracesUrlPath[] = "/v1/traces";
inline constexpr char kDefaultMetricsUrlPath[] = "/v1/metrics";
inline constexpr char kDefaultLogsUrlPath[] = "/v1/logs";
inline constexpr int kDefaultRetryAfterSeconds = 1;

struct GrpcConfig {
  bool enabled = false;
  std::string endpoint = kDefaultGrpcEndpoint;
  int max_recv_msg_size_mib = kDefaultMaxRecvMsgSizeMiB;
  int max_concurrent_streams = kDefaultMaxConcurrentStreams;
};

struct HttpConfig {
  bool enabled = false;
  std::string endpoint = kDefaultHttpEndpoint;
  uint64_t max_request_body_size = kDefaultMaxRequestBodySize;
  std::string traces_url_path = kDefaultTracesUrlPath;
  std::string metrics_url_path = kDefaultMetricsUrlPath;
  std::string logs_url_path = kDefaultLogsUrlPath;
};

struct Config : ComponentConfig {
  GrpcConfig grpc;
  HttpConfig http;
  int retry_after_seconds = kDefaultRetryAfterSeconds;  // told to clients pushed back
  bool protocols_given = false;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::receivers::otlp
