#include "collector/component/component.h"

#include "absl/strings/str_cat.h"

namespace outrigger {

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kReceiver:
      return "receiver";
    case Kind::kProcessor:
      return "processor";
    case Kind::kExporter:
      return "exporter";
    case Kind::kExtension:
      return "extension";
    case Kind::kConnector:
      return "connector";
  }
  return "component";
}

absl::StatusOr<ComponentId> ComponentId::Parse(std::string_view s) {
  ComponentId id;
  auto slash = s.find('/');
  id.type = std::string(s.substr(0, slash));
  if (slash != std::string_view::npos) {
    id.name = std::string(s.substr(slash + 1));
    if (id.name.empty()) {
      return absl::InvalidArgumentError(StrCat("invalid component id \"", s, "\": the name after '/' is empty"));
    }
  }
  if (id.type.empty()) {
    return absl::InvalidArgumentError(StrCat("invalid component id \"", s, "\": empty type"));
  }
  for (char c : id.type) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return absl::InvalidArgumentError(
          StrCat("invalid component id \"", s, "\": the type may hold only letters, digits and '_'"));
    }
  }
  return id;
}

absl::Status Consumer::ConsumeTraces(pdata::Traces&&) {
  return absl::UnimplementedError("this component does not consume traces");
}
absl::Status Consumer::ConsumeMetrics(pdata::Metrics&&) {
  return absl::UnimplementedError("this component does not consume metrics");
}
absl::Status Consumer::ConsumeLogs(pdata::Logs&&) {
  return absl::UnimplementedError("this component does not consume logs");
}

}  // namespace outrigger
