#include "collector/component/registry.h"

namespace outrigger {

void Registry::Add(std::unique_ptr<Factory> f) {
  auto key = std::make_pair(f->kind(), std::string(f->Type()));
  for (std::string_view alias : f->Aliases()) aliases_[{f->kind(), std::string(alias)}] = f.get();
  factories_[key] = std::move(f);
}

const Factory* Registry::Find(Kind kind, std::string_view type) const {
  auto it = factories_.find({kind, std::string(type)});
  if (it != factories_.end()) return it->second.get();
  auto alias = aliases_.find({kind, std::string(type)});
  return alias == aliases_.end() ? nullptr : alias->second;
}

std::vector<const Factory*> Registry::OfKind(Kind kind) const {
  std::vector<const Factory*> out;
  for (const auto& [k, f] : factories_) {
    if (k.first == kind) out.push_back(f.get());
  }
  return out;
}

std::vector<std::string> Registry::TypesOf(Kind kind) const {
  std::vector<std::string> out;
  for (const auto* f : OfKind(kind)) {
    out.emplace_back(f->Type());
    for (std::string_view alias : f->Aliases()) out.emplace_back(alias);
  }
  return out;
}

}  // namespace outrigger
