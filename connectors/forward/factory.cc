#include "connectors/forward/factory.h"

#include "connectors/forward/config.h"
#include "connectors/forward/forward_connector.h"

namespace outrigger::connectors::forward {
namespace {

class Factory : public ConnectorFactory {
 public:
  std::string_view Type() const override { return "forward"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  bool Supports(Signal in, Signal out) const override { return in == out; }
  absl::StatusOr<std::unique_ptr<Connector>> CreateConnector(const CreateSettings&, const ComponentConfig&, Signal,
                                                             Signal, Consumer* next) const override {
    return std::unique_ptr<Connector>(std::make_unique<ForwardConnector>(next));
  }
};

}  // namespace

std::unique_ptr<ConnectorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::connectors::forward
