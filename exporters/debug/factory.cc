#include "exporters/debug/factory.h"

#include "exporters/debug/config.h"
#include "exporters/debug/debug_exporter.h"

namespace outrigger::exporters::debug {

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, DebugPusher>>(
      "debug", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs});
}

}  // namespace outrigger::exporters::debug
