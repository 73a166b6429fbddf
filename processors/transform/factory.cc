#include "processors/transform/factory.h"

#include "processors/transform/config.h"
#include "processors/transform/transform_processor.h"

namespace outrigger::processors::transform {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "transform"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    return NewTransformProcessor(settings, static_cast<const Config&>(cfg), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::transform
