#include "exporters/prometheusremotewrite/factory.h"

#include "exporters/prometheusremotewrite/config.h"
#include "exporters/prometheusremotewrite/prw_exporter.h"

namespace outrigger::exporters::prometheusremotewrite {

std::unique_ptr<ExporterFactory> NewFactory() {
  return std::make_unique<exporterhelper::PushExporterFactory<Config, RemoteWritePusher>>(
      "prometheusremotewrite", std::set<Signal>{Signal::kMetrics});
}

}  // namespace outrigger::exporters::prometheusremotewrite
