#pragma once
// OTLP/gRPC exporter: the shared OTLP/gRPC client (collector/otlp/grpc_client.h) as the
// push of exporterhelper, which adds queueing, retries and timeouts.

#include "collector/otlp/grpc_client.h"
#include "exporters/otlp/config.h"

namespace outrigger::exporters::otlp {

class GrpcPusher : public outrigger::otlp::GrpcPusher {
 public:
  GrpcPusher(const CreateSettings& settings, const Config& cfg) : outrigger::otlp::GrpcPusher(settings.logger, cfg) {}
};

}  // namespace outrigger::exporters::otlp
