#include "extensions/file_storage/factory.h"

#include "extensions/file_storage/config.h"
#include "extensions/file_storage/file_storage.h"

namespace outrigger::extensions::file_storage {
namespace {

class Factory : public ExtensionFactory {
 public:
  std::string_view Type() const override { return "file_storage"; }
  std::unique_ptr<ComponentConfig> CreateDefaultConfig() const override { return std::make_unique<Config>(); }
  absl::StatusOr<std::unique_ptr<Extension>> CreateExtension(const CreateSettings& settings,
                                                             const ComponentConfig& cfg) const override {
    return std::unique_ptr<Extension>(std::make_unique<FileStorage>(settings, static_cast<const Config&>(cfg)));
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace outrigger::extensions::file_storage
