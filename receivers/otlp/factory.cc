#include "receivers/otlp/factory.h"

#include "receivers/otlp/config.h"
#include "receivers/otlp/otlp_receiver.h"

namespace outrigger::receivers::otlp {
namespace {

class Factory : public ReceiverFactory {
 public:
  std::string_view Type() const override { return "otlp"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Receiver>> CreateReceiver(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    return std::make_unique<OtlpReceiver>(settings, static_cast<const Config&>(cfg));
  }
};

}  // namespace

std::unique_ptr<ReceiverFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::receivers::otlp
