// The forward connector: what one pipeline exports, the pipelines that receive from it
// get unchanged (same signal).
#include "connectors/forward/factory.h"

namespace outrigger::connectors::forward {
namespace {

class Forward : public Connector {
 public:
  explicit Forward(Consumer* next) : next_(next) {}
  absl::Status ConsumeTraces(pdata::Traces&& d) override { return next_->ConsumeTraces(std::move(d)); }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override { return next_->ConsumeMetrics(std::move(d)); }
  absl::Status ConsumeLogs(pdata::Logs&& d) override { return next_->ConsumeLogs(std::move(d)); }

 private:
  Consumer* next_;
};

class Factory : public ConnectorFactory {
 public:
  std::string_view Type() const override { return "forward"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<EmptyConfig>(); }
  bool Supports(Signal in, Signal out) const override { return in == out; }
  absl::StatusOr<std::unique_ptr<Connector>> CreateConnector(const CreateSettings&, const ComponentConfig&, Signal,
                                                             Signal, Consumer* next) const override {
    return std::unique_ptr<Connector>(std::make_unique<Forward>(next));
  }
};

}  // namespace

std::unique_ptr<ConnectorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::connectors::forward
