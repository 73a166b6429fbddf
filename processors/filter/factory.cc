#include "processors/filter/factory.h"

#include "processors/filter/config.h"
#include "processors/filter/filter_processor.h"

namespace outrigger::processors::filter {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "filter"; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal signal, Consumer* next) const override {
    return NewFilterProcessor(settings, static_cast<const Config&>(cfg), signal, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::filter
