#include "connectors/span_metrics/factory.h"

#include "connectors/span_metrics/config.h"
#include "connectors/span_metrics/span_metrics_connector.h"

namespace outrigger::connectors::span_metrics {
namespace {

class Factory : public ConnectorFactory {
 public:
  std::string_view Type() const override { return "span_metrics"; }
  std::vector<std::string_view> Aliases() const override { return {"spanmetrics"}; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  bool Supports(Signal in, Signal out) const override { return in == Signal::kTraces && out == Signal::kMetrics; }
  absl::StatusOr<std::unique_ptr<Connector>> CreateConnector(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal, Signal, Consumer* next) const override {
    return std::unique_ptr<Connector>(
        std::make_unique<SpanMetricsConnector>(settings, static_cast<const Config&>(cfg), next));
  }
};

}  // namespace

std::unique_ptr<ConnectorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::connectors::span_metrics
