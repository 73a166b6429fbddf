#include "collector/prometheus/naming.h"

#include <cstdint>
#include <cstdio>
#include <utility>

namespace outrigger::prom {
namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Runs of '_' become one.
std::string Collapse(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(c);
  }
  return out;
}

// An unknown unit as a name token: alphanumeric words joined by '_'.
std::string CleanUnit(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsAlnum(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

constexpr std::pair<std::string_view, std::string_view> kMainUnits[] = {
    // Time
    {"d", "days"},
    {"h", "hours"},
    {"min", "minutes"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"us", "microseconds"},
    {"ns", "nanoseconds"},
    // Bytes
    {"By", "bytes"},
    {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},
    {"GiBy", "gibibytes"},
    {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},
    {"MBy", "megabytes"},
    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},
    {"bit", "bits"},
    {"Kibit", "kibibits"},
    {"Mibit", "mebibits"},
    {"Gibit", "gibibits"},
    // SI
    {"m", "meters"},
    {"V", "volts"},
    {"A", "amperes"},
    {"J", "joules"},
    {"W", "watts"},
    {"g", "grams"},
    // Misc
    {"Cel", "celsius"},
    {"Hz", "hertz"},
    {"1", ""},
    {"%", "percent"},
};

constexpr std::pair<std::string_view, std::string_view> kPerUnits[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"}, {"w", "week"}, {"mo", "month"}, {"y", "year"},
};

template <size_t N>
std::string Lookup(const std::pair<std::string_view, std::string_view> (&table)[N], std::string_view unit) {
  for (const auto& [k, v] : table) {
    if (k == unit) return std::string(v);
  }
  return CleanUnit(unit);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// `name` ends with the token sequence `suffix` (whole tokens), or is it.
bool HasTokenSuffix(std::string_view name, std::string_view suffix) {
  if (name == suffix) return true;
  return name.size() > suffix.size() && EndsWith(name, suffix) && name[name.size() - suffix.size() - 1] == '_';
}

}  // namespace

std::string SanitizeMetricName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    bool ok = IsAlnum(c) || c == '_' || c == ':';
    char d = ok ? c : '_';
    if (d == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(d);
  }
  return out;
}

std::string UnitSuffix(std::string_view unit) {
  unit = Trim(unit);
  if (unit.empty()) return "";
  std::string_view main = unit, per;
  if (size_t slash = unit.find('/'); slash != std::string_view::npos) {
    main = Trim(unit.substr(0, slash));
    per = Trim(unit.substr(slash + 1));
  }
  auto annotated = [](std::string_view u) { return u.find_first_of("{}") != std::string_view::npos; };
  std::string out;
  if (!main.empty() && !annotated(main)) out = Lookup(kMainUnits, main);
  if (!per.empty() && !annotated(per)) {
    std::string p = Lookup(kPerUnits, per);
    if (!p.empty()) out += (out.empty() ? "per_" : "_per_") + p;
  }
  return out;
}

std::string MetricName(std::string_view name, std::string_view unit, NameKind kind, std::string_view ns,
                       bool add_suffixes) {
  std::string n = SanitizeMetricName(name);
  if (add_suffixes) {
    // "_total" goes after the unit: "bytes_total" + "By" -> "bytes_total".
    if (kind == NameKind::kCounter && n.size() > 6 && EndsWith(n, "_total")) n.resize(n.size() - 6);
    std::string u = UnitSuffix(unit);
    if (!u.empty() && !HasTokenSuffix(n, u)) n += "_" + u;
    if (kind == NameKind::kGauge && Trim(unit) == "1" && !HasTokenSuffix(n, "ratio")) n += "_ratio";
    if (kind == NameKind::kCounter && !HasTokenSuffix(n, "total")) n += "_total";
  }
  n = Collapse(n);
  // The namespace as it is (NamespaceFor escaped it): upstream prepends it as one token.
  if (!ns.empty()) {
    if (!n.empty() && n.front() == '_') n.erase(0, 1);
    n = std::string(ns) + "_" + n;
  }
  if (n.empty()) return "_";
  if (IsDigit(n[0])) n.insert(n.begin(), '_');
  return n;
}

std::string SanitizeLabelName(std::string_view key) {
  if (key.empty()) return "";
  std::string out;
  out.reserve(key.size() + 4);
  for (char c : key) out.push_back(IsAlnum(c) || c == '_' ? c : '_');
  if (IsDigit(out[0])) {
    out.insert(0, "key_");
  } else if (out[0] == '_') {
    out.insert(0, "key");
  }
  return out;
}

// ---- Translation strategies ------------------------------------------------------

std::optional<TranslationStrategy> ParseTranslationStrategy(std::string_view name) {
  if (name == "UnderscoreEscapingWithSuffixes") return TranslationStrategy::kUnderscoreEscapingWithSuffixes;
  if (name == "UnderscoreEscapingWithoutSuffixes") return TranslationStrategy::kUnderscoreEscapingWithoutSuffixes;
  if (name == "NoUTF8EscapingWithSuffixes") return TranslationStrategy::kNoUTF8EscapingWithSuffixes;
  if (name == "NoTranslation") return TranslationStrategy::kNoTranslation;
  return std::nullopt;
}

bool AllowsUtf8(TranslationStrategy s) {
  return s == TranslationStrategy::kNoUTF8EscapingWithSuffixes || s == TranslationStrategy::kNoTranslation;
}

bool AddsSuffixes(TranslationStrategy s) {
  return s == TranslationStrategy::kUnderscoreEscapingWithSuffixes ||
         s == TranslationStrategy::kNoUTF8EscapingWithSuffixes;
}

namespace {

// otlptranslator's buildUnitSuffixes: the main unit (mapped, or as it is) and "per_<unit>".
void UnitSuffixes(std::string_view unit, std::string* main, std::string* per) {
  std::string_view m = unit, p;
  bool has_per = false;
  if (size_t slash = unit.find('/'); slash != std::string_view::npos) {
    m = unit.substr(0, slash);
    p = unit.substr(slash + 1);
    has_per = true;
  }
  m = Trim(m);
  auto annotated = [](std::string_view u) { return u.find_first_of("{}") != std::string_view::npos; };
  main->clear();
  per->clear();
  if (!m.empty() && !annotated(m)) {
    *main = std::string(m);
    for (const auto& [k, v] : kMainUnits) {
      if (k == m) *main = std::string(v);
    }
  }
  p = Trim(p);
  if (has_per && !p.empty() && !annotated(p)) {
    std::string u(p);
    for (const auto& [k, v] : kPerUnits) {
      if (k == p) u = std::string(v);
    }
    if (!u.empty()) *per = "per_" + u;
  }
}

// Removes "_<suffix>" (any one delimiter) from the end of `name`, if it is there and
// something is left before it.
void TrimSuffixAndDelimiter(std::string* name, std::string_view suffix) {
  if (EndsWith(*name, suffix) && name->size() > suffix.size() + 1) name->resize(name->size() - suffix.size() - 1);
}

}  // namespace

std::string Utf8MetricName(std::string_view name, std::string_view unit, NameKind kind, std::string_view ns,
                           bool add_suffixes) {
  std::string n = ns.empty() ? std::string(name) : std::string(ns) + "_" + std::string(name);
  if (!add_suffixes) return n;
  const bool ratio = kind == NameKind::kGauge && unit == "1";
  const bool total = kind == NameKind::kCounter;
  if (ratio) TrimSuffixAndDelimiter(&n, "ratio");
  if (total) TrimSuffixAndDelimiter(&n, "total");
  std::string main, per;
  UnitSuffixes(unit, &main, &per);
  if (!per.empty()) TrimSuffixAndDelimiter(&n, per);
  if (!main.empty() && !EndsWith(n, main)) n += "_" + main;
  if (!per.empty()) n += "_" + per;
  if (total) n += "_total";
  if (ratio) n += "_ratio";
  return n;
}

std::string MetricNameFor(TranslationStrategy strategy, std::string_view name, std::string_view unit, NameKind kind,
                          std::string_view ns) {
  if (AllowsUtf8(strategy)) return Utf8MetricName(name, unit, kind, ns, AddsSuffixes(strategy));
  return MetricName(name, unit, kind, ns, AddsSuffixes(strategy));
}

std::string LabelNameFor(TranslationStrategy strategy, std::string_view key) {
  if (!AllowsUtf8(strategy)) return SanitizeLabelName(key);
  if (key.find_first_not_of('_') == std::string_view::npos) return "";
  return std::string(key);
}

namespace {
uint32_t NextCodePoint(std::string_view s, size_t* i);
}  // namespace

std::string NamespaceFor(TranslationStrategy strategy, std::string_view ns) {
  if (AllowsUtf8(strategy)) return std::string(ns);
  // Upstream prepends the namespace as it is and Prometheus's client escapes the whole
  // name: each character outside the legacy set becomes '_'.
  // name: each character outside the legacy set becomes '_' (a leading digit is handled on
  // the whole name).
  std::string out;
  size_t i = 0;
  while (i < ns.size()) {
    const uint32_t cp = NextCodePoint(ns, &i);
    const bool ok =
        (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_' || cp == ':';
    out.push_back(ok ? static_cast<char>(cp) : '_');
  }
  return out;
}

bool IsLegacyMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(IsAlnum(c) || c == '_' || c == ':') || (i == 0 && IsDigit(c))) return false;
  }
  return true;
}

bool IsLegacyLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(IsAlnum(c) || c == '_') || (i == 0 && IsDigit(c))) return false;
  }
  return true;
}

std::optional<Escaping> ParseEscaping(std::string_view name) {
  if (name == "allow-utf-8") return Escaping::kAllowUtf8;
  if (name == "underscores") return Escaping::kUnderscores;
  if (name == "dots") return Escaping::kDots;
  if (name == "values") return Escaping::kValues;
  return std::nullopt;
}

std::string_view EscapingName(Escaping e) {
  switch (e) {
    case Escaping::kAllowUtf8:
      return "allow-utf-8";
    case Escaping::kUnderscores:
      return "underscores";
    case Escaping::kDots:
      return "dots";
    case Escaping::kValues:
      return "values";
  }
  return "underscores";
}

namespace {

// The next code point of `s` at *i (advanced past it); U+FFFD for invalid UTF-8.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(*i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((b(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(*i + k) & 0x3F);
  }
  *i += len;
  return cp;
}

bool LegacyRune(uint32_t cp, size_t pos, bool label) {
  const bool alpha = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  const bool digit = cp >= '0' && cp <= '9';
  return alpha || cp == '_' || (!label && cp == ':') || (digit && pos > 0);
}

}  // namespace

std::string EscapeName(std::string_view name, Escaping e, bool label) {
  if (e == Escaping::kAllowUtf8 || name.empty()) return std::string(name);
  if (label ? IsLegacyLabelName(name) : IsLegacyMetricName(name)) {
    // Dots escaping also doubles '_', so that it can be undone.
    if (e != Escaping::kDots || name.find('_') == std::string_view::npos) return std::string(name);
  }
  std::string out;
  out.reserve(name.size() + 8);
  if (e == Escaping::kValues) out.append("U__");
  size_t i = 0;
  for (size_t pos = 0; i < name.size(); ++pos) {
    const size_t start = i;
    const uint32_t cp = NextCodePoint(name, &i);
    switch (e) {
      case Escaping::kUnderscores:
        out.push_back(LegacyRune(cp, pos, label) ? static_cast<char>(cp) : '_');
        break;
      case Escaping::kDots:
        if (cp == '.') {
          out.append("_dot_");
        } else if (cp == '_') {
          out.append("__");
        } else if (LegacyRune(cp, pos, label)) {
          out.push_back(static_cast<char>(cp));
        } else {
          out.append("__");
        }
        break;
      case Escaping::kValues:
        if (cp == '_') {
          out.append("__");
        } else if (LegacyRune(cp, pos, label)) {
          out.push_back(static_cast<char>(cp));
        } else {
          char buf[16];
          std::snprintf(buf, sizeof buf, "_%x_", static_cast<unsigned>(cp));
          out.append(buf);
        }
        break;
      case Escaping::kAllowUtf8:
        out.append(name.substr(start, i - start));
        break;
    }
  }
  return out;
}

}  // namespace outrigger::prom
