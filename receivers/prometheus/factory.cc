#include "receivers/prometheus/factory.h"

#include "receivers/prometheus/config.h"
#include "receivers/prometheus/prometheus_receiver.h"

namespace outrigger::receivers::prometheus {
namespace {

class Factory : public ReceiverFactory {
 public:
  std::string_view Type() const override { return "prometheus"; }
  std::set<Signal> Signals() const override { return {Signal::kMetrics}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Receiver>> CreateReceiver(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    return std::make_unique<PrometheusReceiver>(settings, static_cast<const Config&>(cfg));
  }
};

}  // namespace

std::unique_ptr<ReceiverFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::receivers::prometheus
