#pragma once

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/otlp/grpc_client.h"

namespace outrigger::exporters::otlp {

inline constexpr const char* kDefaultCompression = outrigger::otlp::kDefaultGrpcCompression;

// endpoint, compression, headers, tls, auth (the shared OTLP/gRPC client's options,
// collector/otlp/grpc_client.h) and the helper's queue, retry and timeout.
struct Config : ComponentConfig, outrigger::otlp::GrpcClientConfig {
  // sending_queue, retry_on_failure, timeout.
  exporterhelper::HelperConfig helper;

  void Decode(config::Node& node) override;
  absl::Status Validate() const override;
};

}  // namespace outrigger::exporters::otlp
