#include "collector/storage/storage.h"

#include <algorithm>

#include "collector/common/strings.h"

namespace outrigger::storage {

std::string StoreName(std::string_view kind, std::string_view id) {
  std::string name = StrCat(kind, "_", id);
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

}  // namespace outrigger::storage
