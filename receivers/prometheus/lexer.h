#pragma once
// The tokenizing both exposition parsers share (text_parser.cc: Prometheus text 0.0.4;
// openmetrics_parser.cc: OpenMetrics 1.0): name and blank characters, names, tokens,
// UTF-8 checks, and the identity of a label set (a metric). Not a public API: parser.h
// is. The per-character functions are inline: they run for every byte of a scrape.

#include <array>
#include <cctype>
#include <cstdint>
#include <string_view>

#include "collector/common/hash.h"

namespace outrigger::receivers::prometheus::lexer {

inline bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
inline bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

inline void SkipBlanksSlow(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && IsBlank((*s)[i])) ++i;
  s->remove_prefix(i);
}

// Usually there is no blank: that case inline.
inline void SkipBlanks(std::string_view* s) {
  if (!s->empty() && IsBlank((*s)[0])) SkipBlanksSlow(s);
}

// Character classes: bit 1 metric name start, 2 metric name, 4 label name start, 8 label name.
inline constexpr auto kNameChars = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    t[c] = static_cast<uint8_t>((letter || c == ':' ? 1 : 0) | (letter || c == ':' || digit ? 2 : 0) |
                                (letter ? 4 : 0) | (letter || digit ? 8 : 0));
  }
  return t;
}();

// Takes a metric name (or, if `label`, a label name) off the front of `*s`; empty if
// there is none.
inline std::string_view TakeName(std::string_view* s, bool label) {
  const uint8_t start = label ? 4 : 1, rest = label ? 8 : 2;
  if (s->empty() || !(kNameChars[static_cast<unsigned char>((*s)[0])] & start)) return {};
  size_t i = 1;
  while (i < s->size() && (kNameChars[static_cast<unsigned char>((*s)[i])] & rest)) ++i;
  std::string_view out = s->substr(0, i);
  s->remove_prefix(i);
  return out;
}

// Takes everything up to the next blank (or the end) off the front of `*s`.
inline std::string_view TakeToken(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && !IsBlank((*s)[i])) ++i;
  std::string_view out = s->substr(0, i);
  s->remove_prefix(i);
  return out;
}

// `s` equals `lower` (all lower case) ignoring the case of ASCII letters.
inline bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i]) return false;
  }
  return true;
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool ValidUtf8(std::string_view s);

// An order-independent hash of `labels` without `skip`. `L`: Labels or LabelViews.
template <typename L>
uint64_t MetricHash(const L& labels, std::string_view skip) {
  uint64_t sum = 0;
  for (const auto& [k, v] : labels) {
    if (k == skip) continue;
    uint64_t h = HashBytes(v, HashBytes(k, 1469598103934665603ull) * 31 + 0xff);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    sum += h;
  }
  return sum;
}

// `a` without `skip_a` and `b` without `skip_b` are the same label set.
template <typename L>
bool SameMetric(const L& a, std::string_view skip_a, const L& b, std::string_view skip_b) {
  size_t na = 0, nb = 0;
  for (const auto& l : a) na += l.first != skip_a;
  for (const auto& l : b) nb += l.first != skip_b;
  if (na != nb) return false;
  for (const auto& [k, v] : a) {
    if (k == skip_a) continue;
    bool found = false;
    for (const auto& [k2, v2] : b) {
      if (k2 == k && k2 != skip_b) {
        found = v2 == v;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace outrigger::receivers::prometheus::lexer
