#include "processors/resource/factory.h"

#include "processors/resource/config.h"
#include "processors/resource/resource_processor.h"

namespace outrigger::processors::resource {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "resource"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    return NewResourceProcessor(settings, static_cast<const Config&>(cfg), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::resource
