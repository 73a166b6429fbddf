#include "processors/batch/factory.h"

#include "processors/batch/batch_processor.h"
#include "processors/batch/config.h"

namespace outrigger::processors::batch {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "batch"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    return NewBatchProcessor(settings, static_cast<const Config&>(cfg), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::batch
