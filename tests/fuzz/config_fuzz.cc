// A configuration, checked as `outrigger validate` does: config::LoadAndMerge, then
// Service::Build with every built-in component (decode, validate, references, pipeline
// order, instantiation; nothing is started). The input is one YAML file, or several
// separated by a line `#---` (merged in order, as several --config files are).
// Whatever the input, the answer is a service or a list of errors: never a crash.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collector/component/registry.h"
#include "collector/config/node.h"
#include "collector/service/service.h"
#include "collector/telemetry/telemetry.h"

using namespace outrigger;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Registry* registry = [] {
    auto* r = new Registry();
    RegisterBuiltins(*r);
    return r;
  }();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<config::Source> sources;
  constexpr std::string_view kSeparator = "\n#---\n";
  while (true) {
    size_t at = in.find(kSeparator);
    sources.push_back({"fuzz" + std::to_string(sources.size()), std::string(in.substr(0, at))});
    if (at == std::string_view::npos) break;
    in.remove_prefix(at + kSeparator.size());
  }
  config::Errors errors;
  YAML::Node root = config::LoadAndMerge(sources, &errors);
  if (!errors.empty()) return 0;
  Telemetry telemetry;
  auto svc = Service::Build(root, *registry, telemetry, &errors);
  if (!svc.ok() && errors.empty() && svc.status().message().empty()) std::abort();  // refused without a reason
  return 0;
}
