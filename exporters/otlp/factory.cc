#include "exporters/otlp/factory.h"

#include "exporters/otlp/config.h"
#include "exporters/otlp/otlp_exporter.h"

namespace outrigger::exporters::otlp {

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, GrpcPusher>>(
      "otlp", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs},
      std::vector<std::string_view>{"otlp_grpc"});
}

}  // namespace outrigger::exporters::otlp
