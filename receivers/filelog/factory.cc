#include "receivers/filelog/factory.h"

#include "receivers/filelog/config.h"
#include "receivers/filelog/filelog_receiver.h"

namespace outrigger::receivers::filelog {
namespace {

class Factory : public ReceiverFactory {
 public:
  std::string_view Type() const override { return "filelog"; }
  std::set<Signal> Signals() const override { return {Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Receiver>> CreateReceiver(const CreateSettings& settings,
                                                           const ComponentConfig& cfg) const override {
    const auto& c = static_cast<const Config&>(cfg);
    auto chain = operators::BuildChain(c.operators);
    if (!chain.ok()) return chain.status();
    return std::make_unique<FilelogReceiver>(settings, c, std::move(*chain));
  }
};

}  // namespace

std::unique_ptr<ReceiverFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::receivers::filelog
