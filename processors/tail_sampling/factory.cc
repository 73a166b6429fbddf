#include "processors/tail_sampling/factory.h"

#include "processors/tail_sampling/config.h"
#include "processors/tail_sampling/tail_sampling_processor.h"

namespace outrigger::processors::tail_sampling {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "tail_sampling"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    if (signal != Signal::kTraces) return absl::InvalidArgumentError("tail_sampling supports traces only");
    return NewTailSamplingProcessor(settings, static_cast<const Config&>(cfg), next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::tail_sampling
