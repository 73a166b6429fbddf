#include "receivers/prometheus/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "collector/common/strings.h"

namespace outrigger::receivers::prometheus {

std::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kUntyped: return "untyped";
  }
  return "untyped";
}

std::string_view LabelValue(const Labels& labels, std::string_view name) {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

void SkipBlanks(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && IsBlank((*s)[i])) ++i;
  s->remove_prefix(i);
}

std::string_view TakeName(std::string_view* s, bool label) {
  if (s->empty() || !(label ? IsLabelStart((*s)[0]) : IsNameStart((*s)[0]))) return {};
  size_t i = 1;
  while (i < s->size() && (label ? IsLabelChar((*s)[i]) : IsNameChar((*s)[i]))) ++i;
  std::string_view out = s->substr(0, i);
  s->remove_prefix(i);
  return out;
}

std::string_view TakeToken(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && !IsBlank((*s)[i])) ++i;
  std::string_view out = s->substr(0, i);
  s->remove_prefix(i);
  return out;
}

// HELP text: `\\` and `\n` are escapes; anything else is literal.
std::string UnescapeHelp(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n')) {
      out.push_back(s[i + 1] == 'n' ? '\n' : '\\');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<MetricType> TypeOf(std::string_view s) {
  if (s == "counter") return MetricType::kCounter;
  if (s == "gauge") return MetricType::kGauge;
  if (s == "histogram") return MetricType::kHistogram;
  if (s == "summary") return MetricType::kSummary;
  if (s == "untyped") return MetricType::kUntyped;
  return std::nullopt;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Parses `{a="b",...}` (the brace already consumed) up to and including `}`.
bool ParseLabels(std::string_view* s, Labels* out, std::string* error) {
  std::set<std::string_view> seen;
  while (true) {
    SkipBlanks(s);
    if (s->empty()) {
      *error = "unterminated label set (missing '}')";
      return false;
    }
    if ((*s)[0] == '}') {
      s->remove_prefix(1);
      return true;
    }
    std::string_view name = TakeName(s, /*label=*/true);
    if (name.empty()) {
      *error = StrCat("invalid label name at \"", s->substr(0, 20), "\"");
      return false;
    }
    SkipBlanks(s);
    if (s->empty() || (*s)[0] != '=') {
      *error = StrCat("expected '=' after label name \"", name, "\"");
      return false;
    }
    s->remove_prefix(1);
    SkipBlanks(s);
    if (s->empty() || (*s)[0] != '"') {
      *error = StrCat("expected '\"' to open the value of label \"", name, "\"");
      return false;
    }
    s->remove_prefix(1);
    std::string value;
    bool closed = false;
    size_t i = 0;
    for (; i < s->size(); ++i) {
      char c = (*s)[i];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= s->size()) break;
        char n = (*s)[++i];
        if (n == 'n') {
          value.push_back('\n');
        } else if (n == '\\' || n == '"') {
          value.push_back(n);
        } else {  // unknown escapes are kept as they are (as Prometheus does)
          value.push_back('\\');
          value.push_back(n);
        }
        continue;
      }
      value.push_back(c);
    }
    if (!closed) {
      *error = StrCat("unterminated value of label \"", name, "\"");
      return false;
    }
    s->remove_prefix(i + 1);
    if (!seen.insert(name).second) {
      *error = StrCat("label \"", name, "\" appears twice");
      return false;
    }
    out->emplace_back(std::string(name), std::move(value));
    SkipBlanks(s);
    if (!s->empty() && (*s)[0] == ',') {
      s->remove_prefix(1);
      continue;
    }
    if (!s->empty() && (*s)[0] == '}') continue;
    *error = s->empty() ? "unterminated label set (missing '}')"
                        : StrCat("expected ',' or '}' after the value of label \"", name, "\"");
    return false;
  }
}

}  // namespace

bool ParseValue(std::string_view s, double* out) {
  if (s.empty()) return false;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
    if (s.empty() || s[0] == '+' || s[0] == '-') return false;
  }
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "inf" || lower == "infinity") {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (lower == "nan") {
    *out = NAN;
    return true;
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  if (std::isnan(v) || std::isinf(v)) return false;  // only the spellings above
  *out = neg ? -v : v;
  return true;
}

absl::StatusOr<std::vector<Family>> Parse(std::string_view text) {
  std::vector<Family> families;
  std::map<std::string, size_t, std::less<>> by_name;  // family name -> index
  std::set<std::string> typed;                          // names with a TYPE line
  std::set<std::string> seen_series;                    // name + labels, for duplicates
  auto family = [&](std::string_view name) -> Family& {
    auto it = by_name.find(name);
    if (it != by_name.end()) return families[it->second];
    by_name.emplace(std::string(name), families.size());
    families.push_back(Family{std::string(name), MetricType::kUntyped, "", {}});
    return families.back();
  };
  auto fail = [](int line, const std::string& msg) {
    return absl::InvalidArgumentError(StrCat("line ", line, ": ", msg));
  };
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view s = line;
    SkipBlanks(&s);
    if (s.empty()) continue;
    if (s[0] == '#') {
      s.remove_prefix(1);
      SkipBlanks(&s);
      std::string_view keyword = TakeToken(&s);
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      SkipBlanks(&s);
      std::string_view name = TakeName(&s, /*label=*/false);
      if (name.empty() || (!s.empty() && !IsBlank(s[0]))) {
        return fail(line_no, StrCat("# ", keyword, " needs a valid metric name"));
      }
      SkipBlanks(&s);
      if (keyword == "HELP") {
        family(name).help = UnescapeHelp(s);
        continue;
      }
      std::string_view type_name = TakeToken(&s);
      SkipBlanks(&s);
      auto type = TypeOf(type_name);
      if (!type || !s.empty()) {
        return fail(line_no, StrCat("unknown metric type \"", type_name, "\" for ", name,
                                    " (counter, gauge, histogram, summary or untyped)"));
      }
      if (!typed.insert(std::string(name)).second) return fail(line_no, StrCat("second # TYPE line for ", name));
      Family& f = family(name);
      if (!f.samples.empty()) return fail(line_no, StrCat("# TYPE for ", name, " after its samples"));
      f.type = *type;
      continue;
    }
    Sample sample;
    sample.line = line_no;
    std::string_view name = TakeName(&s, /*label=*/false);
    if (name.empty()) return fail(line_no, StrCat("invalid metric name at \"", s.substr(0, 40), "\""));
    sample.name = std::string(name);
    std::string_view after_name = s;
    SkipBlanks(&after_name);
    if (!after_name.empty() && after_name[0] == '{') {
      s = after_name.substr(1);
      std::string error;
      if (!ParseLabels(&s, &sample.labels, &error)) return fail(line_no, error);
    }
    if (!s.empty() && !IsBlank(s[0])) {
      return fail(line_no, StrCat("expected a blank before the value of ", name));
    }
    SkipBlanks(&s);
    std::string_view value = TakeToken(&s);
    if (value.empty()) return fail(line_no, StrCat("missing value for ", name));
    if (!ParseValue(value, &sample.value)) return fail(line_no, StrCat("invalid value \"", value, "\" for ", name));
    SkipBlanks(&s);
    if (!s.empty()) {
      std::string_view ts = TakeToken(&s);
      int64_t t = 0;
      auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
      if (ec != std::errc() || p != ts.data() + ts.size()) {
        return fail(line_no, StrCat("invalid timestamp \"", ts, "\" for ", name, " (integer milliseconds)"));
      }
      sample.timestamp_ms = t;
      SkipBlanks(&s);
      if (!s.empty()) return fail(line_no, StrCat("unexpected text after the timestamp: \"", s.substr(0, 40), "\""));
    }
    // The family: the exact name, or a histogram's/summary's suffixed sample.
    std::string_view fname = name;
    auto typed_as = [&](std::string_view base, std::initializer_list<MetricType> types) {
      auto it = by_name.find(base);
      if (it == by_name.end()) return false;
      MetricType t = families[it->second].type;
      return std::find(types.begin(), types.end(), t) != types.end();
    };
    for (std::string_view suffix : {"_bucket", "_sum", "_count", "_total"}) {
      if (!EndsWith(name, suffix)) continue;
      std::string_view base = name.substr(0, name.size() - suffix.size());
      // `# TYPE x counter` with samples `x_total` (as OpenMetrics-style exposers write).
      bool ok = suffix == "_bucket"  ? typed_as(base, {MetricType::kHistogram})
                : suffix == "_total" ? typed_as(base, {MetricType::kCounter})
                                     : typed_as(base, {MetricType::kHistogram, MetricType::kSummary});
      if (ok) fname = base;
      break;
    }
    Family& f = family(fname);
    if (f.type == MetricType::kHistogram && name == f.name) {
      return fail(line_no, StrCat("histogram ", f.name, " has a sample without _bucket, _sum or _count"));
    }
    if (f.type == MetricType::kHistogram && EndsWith(name, "_bucket")) {
      bool has_le = false;
      for (const auto& [k, v] : sample.labels) has_le |= k == "le";
      double le;
      if (!has_le || !ParseValue(LabelValue(sample.labels, "le"), &le)) {
        return fail(line_no, StrCat("histogram bucket ", name, " needs a numeric \"le\" label"));
      }
    }
    if (f.type == MetricType::kSummary && name == f.name) {
      double q;
      bool has_q = false;
      for (const auto& [k, v] : sample.labels) has_q |= k == "quantile";
      if (!has_q || !ParseValue(LabelValue(sample.labels, "quantile"), &q)) {
        return fail(line_no, StrCat("summary ", name, " needs a numeric \"quantile\" label"));
      }
    }
    Labels sorted = sample.labels;
    std::sort(sorted.begin(), sorted.end());
    std::string key = sample.name;
    for (const auto& [k, v] : sorted) StrAppend(&key, "\xff", k, "\xfe", v);
    if (!seen_series.insert(key).second) return fail(line_no, StrCat("duplicate series ", name));
    f.samples.push_back(std::move(sample));
  }
  return families;
}

}  // namespace outrigger::receivers::prometheus
