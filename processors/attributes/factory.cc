#include "processors/attributes/factory.h"

#include "processors/attributes/attributes_processor.h"
#include "processors/attributes/config.h"

namespace outrigger::processors::attributes {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "attributes"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    return NewAttributesProcessor(settings, static_cast<const Config&>(cfg), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::attributes
