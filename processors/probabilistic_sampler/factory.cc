#include "processors/probabilistic_sampler/factory.h"

#include "processors/probabilistic_sampler/config.h"
#include "processors/probabilistic_sampler/probabilistic_sampler.h"

namespace outrigger::processors::probabilistic_sampler {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "probabilistic_sampler"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    return NewProbabilisticSampler(settings, static_cast<const Config&>(cfg), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::probabilistic_sampler
