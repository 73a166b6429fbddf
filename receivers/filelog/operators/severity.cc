#include "receivers/filelog/operators/severity.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace outrigger::receivers::filelog::operators {

namespace {

constexpr const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "fatal"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

int SeverityMapping::Alias(std::string_view alias) {
  if (alias == "default") return 0;
  for (int i = 0; i < 6; ++i) {
    std::string_view l = kLevels[i];
    if (alias.substr(0, l.size()) != l) continue;
    std::string_view rest = alias.substr(l.size());
    if (rest.empty()) return i * 4 + 1;
    if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4') return i * 4 + (rest[0] - '0');
  }
  return -1;
}

std::vector<std::string> SeverityMapping::Aliases() {
  std::vector<std::string> out = {"default"};
  for (const char* l : kLevels) {
    out.emplace_back(l);
    for (int n = 2; n <= 4; ++n) out.push_back(std::string(l) + std::to_string(n));
  }
  return out;
}

std::string SeverityMapping::ShortName(int severity) {
  if (severity < 1 || severity > 24) return "";
  std::string name = absl::AsciiStrToUpper(kLevels[(severity - 1) / 4]);
  int n = (severity - 1) % 4 + 1;
  if (n > 1) name += std::to_string(n);
  return name;
}

void SeverityMapping::SetPreset(std::string_view preset) {
  values_.clear();
  ranges_.clear();
  if (preset == "none") return;
  for (const auto& a : Aliases()) values_[a] = Alias(a);
  // Common spellings beyond the aliases.
  values_["warning"] = 13;
  values_["err"] = 17;
  values_["critical"] = 21;
  values_["crit"] = 21;
}

void SeverityMapping::Add(std::string_view value, int severity) { values_[Lower(value)] = severity; }

void SeverityMapping::AddRange(int64_t min, int64_t max, int severity) { ranges_.push_back({min, max, severity}); }

void SeverityMapping::Decode(config::Node& node) {
  std::string preset = "default";
  node.ReadEnum("preset", &preset, {"default", "none"});
  SetPreset(preset);
  node.Read("overwrite_text", &overwrite_text_);
  config::Node& mapping = node.Value("mapping");
  if (mapping.IsNull()) return;
  if (!mapping.IsMap()) {
    mapping.Error("expected a mapping of severity (info, error2, ...) to values");
    return;
  }
  for (auto& [alias, value] : mapping.Entries()) {
    const std::string& at = value->path();
    int sev = Alias(alias);
    if (sev < 0) {
      std::string msg = "unknown severity";
      if (auto s = config::Suggest(alias, Aliases())) {
        msg += "; did you mean '" + *s + "'?";
      } else {
        msg += " (trace, debug, info, warn, error, fatal, optionally followed by 2, 3 or 4)";
      }
      value->Error(msg);
      continue;
    }
    // Errors name the severity (`mapping.error`), also for an item of its list.
    auto add_one = [&](config::Node& v) {
      std::string s;
      if (v.IsScalar() && v.As(&s)) {
        if (s.size() == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == 'x' && s[2] == 'x') {
          int64_t base = (s[0] - '0') * 100;
          AddRange(base, base + 99, sev);
        } else {
          Add(s, sev);
        }
        return;
      }
      if (v.IsMap()) {
        v.AcceptAll();
        config::Node& lo_node = v.Value("min");
        config::Node& hi_node = v.Value("max");
        std::string lo, hi;
        int64_t min = 0, max = 0;
        if (v.Keys().size() != 2 || !lo_node.IsScalar() || !hi_node.IsScalar() || !lo_node.As(&lo) ||
            !hi_node.As(&hi) || !absl::SimpleAtoi(lo, &min) || !absl::SimpleAtoi(hi, &max)) {
          node.errors()->Add(at, v.line(), "a range is {min: <integer>, max: <integer>}");
          return;
        }
        if (min > max) {
          node.errors()->Add(at, v.line(), "range min is greater than max");
          return;
        }
        AddRange(min, max, sev);
        return;
      }
      node.errors()->Add(at, v.line(), "expected a value, a list of values or {min, max}");
    };
    if (value->IsList()) {
      for (config::Node* v : value->Items()) add_one(*v);
    } else {
      add_one(*value);
    }
  }
}

int SeverityMapping::Lookup(const pdata::Value& v) const {
  int64_t n = 0;
  bool is_num = false;
  if (const auto* i = std::get_if<int64_t>(&v.v)) {
    n = *i;
    is_num = true;
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), n);
    if (auto it = values_.find(std::string_view(buf, p - buf)); it != values_.end()) return it->second;
  } else if (const std::string* s = v.str()) {
    return LookupString(*s);
  } else if (const auto* d = std::get_if<double>(&v.v)) {
    if (*d == static_cast<double>(static_cast<int64_t>(*d))) {
      return Lookup(pdata::Value(static_cast<int64_t>(*d)));
    }
  }
  if (is_num) {
    for (const auto& r : ranges_) {
      if (n >= r.min && n <= r.max) return r.severity;
    }
  }
  return 0;
}

int SeverityMapping::LookupString(std::string_view s) const {
  char buf[64];
  if (s.size() <= sizeof(buf)) {
    for (size_t k = 0; k < s.size(); ++k) buf[k] = absl::ascii_tolower(static_cast<unsigned char>(s[k]));
    if (auto it = values_.find(std::string_view(buf, s.size())); it != values_.end()) return it->second;
  }
  int64_t n = 0;
  if (!ranges_.empty() && ParseInt(s, &n)) {
    for (const auto& r : ranges_) {
      if (n >= r.min && n <= r.max) return r.severity;
    }
  }
  return 0;
}

void SeverityMapping::ApplyString(std::string_view s, int* number, std::string* text) const {
  *number = LookupString(s);
  if (overwrite_text_ && *number > 0) {
    *text = ShortName(*number);
  } else {
    text->assign(s);
  }
}

bool SeverityMapping::Apply(const pdata::Value& v, pdata::LogRecord* r) const {
  std::string text;
  if (const std::string* s = v.str()) {
    ApplyString(*s, &r->severity_number, &r->severity_text);
    return true;
  } else if (const auto* i = std::get_if<int64_t>(&v.v)) {
    text = std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&v.v)) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    text.assign(buf, p);
  } else {
    return false;
  }
  r->severity_number = Lookup(v);
  r->severity_text = overwrite_text_ && r->severity_number > 0 ? ShortName(r->severity_number) : std::move(text);
  return true;
}

}  // namespace outrigger::receivers::filelog::operators
