#include "exporters/file/factory.h"

#include "exporters/file/config.h"
#include "exporters/file/file_exporter.h"

namespace outrigger::exporters::file {

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, FilePusher>>(
      "file", std::set<Signal>{Signal::kTraces, Signal::kMetrics, Signal::kLogs});
}

}  // namespace outrigger::exporters::file
