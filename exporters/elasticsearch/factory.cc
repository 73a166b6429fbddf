#include "exporters/elasticsearch/factory.h"

#include "collector/exporterhelper/exporterhelper.h"
#include "exporters/elasticsearch/config.h"
#include "exporters/elasticsearch/elasticsearch_exporter.h"

namespace outrigger::exporters::elasticsearch {
namespace {

class Factory : public ExporterFactory {
 public:
  std::string_view Type() const override { return "elasticsearch"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    const auto& c = static_cast<const Config&>(cfg);
    return std::unique_ptr<Exporter>(
        std::make_unique<exporterhelper::QueuedExporter>(settings, c.helper, NewBulkPusher(settings, c)));
  }
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::exporters::elasticsearch
