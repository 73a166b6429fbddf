#include "extensions/health_check/factory.h"

#include "extensions/health_check/config.h"
#include "extensions/health_check/health_check.h"

namespace outrigger::extensions::health_check {
namespace {

class Factory : public ExtensionFactory {
 public:
  std::string_view Type() const override { return "health_check"; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Extension>> CreateExtension(const CreateSettings& settings,
                                                             const ComponentConfig& cfg) const override {
    return std::unique_ptr<Extension>(std::make_unique<HealthCheck>(settings, static_cast<const Config&>(cfg)));
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::extensions::health_check
