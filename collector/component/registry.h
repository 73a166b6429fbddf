#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collector/component/factory.h"

namespace outrigger {

class Registry {
 public:
  void Add(std::unique_ptr<Factory> f);
  // By type name or alias.
  const Factory* Find(Kind kind, std::string_view type) const;
  std::vector<const Factory*> OfKind(Kind kind) const;
  std::vector<std::string> TypesOf(Kind kind) const;

 private:
  std::map<std::pair<Kind, std::string>, std::unique_ptr<Factory>> factories_;
  std::map<std::pair<Kind, std::string>, const Factory*> aliases_;
};

// Generated from OUTRIGGER_COMPONENTS (cmake/Builtins.cmake).
void RegisterBuiltins(Registry& registry);

}  // namespace outrigger
