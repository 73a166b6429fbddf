#include "processors/k8s_attributes/factory.h"

#include "processors/k8s_attributes/config.h"
#include "processors/k8s_attributes/k8s_attributes_processor.h"

namespace outrigger::processors::k8s_attributes {
namespace {

class Factory : public ProcessorFactory {
 public:
  std::string_view Type() const override { return "k8s_attributes"; }
  // Upstream's type name before its rename.
  std::vector<std::string_view> Aliases() const override { return {"k8sattributes"}; }
  std::set<Signal> Signals() const override { return {Signal::kTraces, Signal::kMetrics, Signal::kLogs}; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings, const ComponentConfig& cfg,
                                                             Signal, Consumer* next) const override {
    return NewK8sAttributesProcessor(settings, static_cast<const Config&>(cfg), next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::processors::k8s_attributes
