#pragma once
// Debian 12's Abseil has its own absl::string_view (not std::string_view). These
// bridge the two: StrCat/StrAppend take either, and fmt/spdlog can print absl's.

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fmt/format.h"

namespace outrigger {
namespace internal {
template <typename T>
decltype(auto) Bridge(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return absl::string_view(v.data(), v.size());
  } else {
    return (v);
  }
}
}  // namespace internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(internal::Bridge(args)...);
}
template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, internal::Bridge(args)...);
}
// A parameter type that takes any kind of string without copying.
struct Text {
  Text(const char* s) : v(s) {}                         // NOLINT
  Text(const std::string& s) : v(s) {}                  // NOLINT
  Text(std::string_view s) : v(s) {}                    // NOLINT
  Text(absl::string_view s) : v(s.data(), s.size()) {}  // NOLINT
  std::string_view v;
};

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace outrigger

#if !ABSL_OPTION_USE_STD_STRING_VIEW
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};
#endif
