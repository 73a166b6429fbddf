#include "exporters/prometheus/factory.h"

#include "exporters/prometheus/config.h"
#include "exporters/prometheus/prometheus_exporter.h"

namespace outrigger::exporters::prometheus {
namespace {

class Factory : public ExporterFactory {
 public:
  std::string_view Type() const override { return "prometheus"; }
  std::set<Signal> Signals() const override { return {Signal::kMetrics}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    return std::unique_ptr<Exporter>(std::make_unique<PrometheusExporter>(settings, static_cast<const Config&>(cfg)));
  }
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::exporters::prometheus
