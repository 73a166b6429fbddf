#include "exporters/otlphttp/factory.h"

#include "exporters/otlphttp/config.h"
#include "exporters/otlphttp/otlphttp_exporter.h"

namespace outrigger::exporters::otlphttp {

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, HttpPusher>>(
      "otlphttp", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs},
      std::vector<std::string_view>{"otlp_http"});
}

}  // namespace outrigger::exporters::otlphttp
