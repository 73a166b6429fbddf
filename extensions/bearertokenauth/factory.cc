#include "extensions/bearertokenauth/factory.h"

#include "extensions/bearertokenauth/bearertokenauth.h"
#include "extensions/bearertokenauth/config.h"

namespace outrigger::extensions::bearertokenauth {
namespace {

class Factory : public ExtensionFactory {
 public:
  std::string_view Type() const override { return "bearertokenauth"; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Extension>> CreateExtension(const CreateSettings& settings,
                                                             const ComponentConfig& cfg) const override {
    return std::unique_ptr<Extension>(std::make_unique<BearerTokenAuth>(settings, static_cast<const Config&>(cfg)));
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::extensions::bearertokenauth
