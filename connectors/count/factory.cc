#include "connectors/count/factory.h"

#include "connectors/count/config.h"
#include "connectors/count/count_connector.h"

namespace outrigger::connectors::count {
namespace {

class Factory : public ConnectorFactory {
 public:
  std::string_view Type() const override { return "count"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  bool Supports(Signal, Signal out) const override { return out == Signal::kMetrics; }
  absl::StatusOr<std::unique_ptr<Connector>> CreateConnector(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal, Signal, Consumer* next) const override {
    return std::unique_ptr<Connector>(
        std::make_unique<CountConnector>(settings, static_cast<const Config&>(cfg), next));
  }
};

}  // namespace

std::unique_ptr<ConnectorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::connectors::count
