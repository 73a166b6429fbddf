#include "collector/prometheus/naming.h"

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
  if (!ns.empty()) n = std::string(ns) + "_" + n;
  n = Collapse(n);
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

}  // namespace outrigger::prom
