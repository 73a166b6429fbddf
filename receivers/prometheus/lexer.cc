#include "receivers/prometheus/lexer.h"

#include <charconv>
#include <cmath>

#include "receivers/prometheus/parser.h"

namespace outrigger::receivers::prometheus {

namespace lexer {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t j = 1; j < len; ++j) {
      unsigned char d = static_cast<unsigned char>(s[i + j]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace lexer

// Declared in parser.h (the scraper reads `le` and `quantile` values with it too).
bool ParseValue(std::string_view s, double* out) {
  if (s.empty()) return false;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
    if (s.empty() || s[0] == '+' || s[0] == '-') return false;
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size() && !std::isnan(v) && !std::isinf(v)) {
    *out = neg ? -v : v;
    return true;
  }
  // Only these spellings of the non-finite values (from_chars takes others).
  if (lexer::EqualsLower(s, "inf") || lexer::EqualsLower(s, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (lexer::EqualsLower(s, "nan")) {
    *out = NAN;
    return true;
  }
  return false;
}

}  // namespace outrigger::receivers::prometheus
