#include "receivers/statsd/factory.h"

#include "receivers/statsd/config.h"
#include "receivers/statsd/statsd_receiver.h"

namespace outrigger::receivers::statsd {
namespace {

class Factory : public ReceiverFactory {
 public:
  std::string_view Type() const override { return "statsd"; }
  // Logs carry DogStatsD events and service checks.
  std::set<Signal> Signals() const override { return {Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Receiver>> CreateReceiver(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    return std::make_unique<StatsdReceiver>(settings, static_cast<const Config&>(cfg));
  }
};

}  // namespace

std::unique_ptr<ReceiverFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::receivers::statsd
