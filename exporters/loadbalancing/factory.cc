#include "exporters/loadbalancing/factory.h"

#include "exporters/loadbalancing/config.h"
#include "exporters/loadbalancing/loadbalancing_exporter.h"

namespace outrigger::exporters::loadbalancing {
namespace {

class Factory : public ExporterFactory {
 public:
  std::string_view Type() const override { return "loadbalancing"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    return std::unique_ptr<Exporter>(
        std::make_unique<LoadBalancingExporter>(settings, static_cast<const Config&>(cfg)));
  }
};

}  // namespace

std::unique_ptr<ExporterFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::exporters::loadbalancing
