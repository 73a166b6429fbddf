#include "receivers/prometheus/parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/common/hash.h"
#include "collector/common/strings.h"

namespace outrigger::receivers::prometheus {

std::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kUntyped: return "untyped";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kInfo: return "info";
    case MetricType::kStateSet: return "stateset";
  }
  return "untyped";
}

namespace {
template <typename L>
std::string_view LabelValueOf(const L& labels, std::string_view name) {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}
}  // namespace

std::string_view LabelValue(const Labels& labels, std::string_view name) { return LabelValueOf(labels, name); }
std::string_view LabelValue(const LabelViews& labels, std::string_view name) { return LabelValueOf(labels, name); }

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

void SkipBlanksSlow(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && IsBlank((*s)[i])) ++i;
  s->remove_prefix(i);
}

// Usually there is no blank: that case inline.
inline void SkipBlanks(std::string_view* s) {
  if (!s->empty() && IsBlank((*s)[0])) SkipBlanksSlow(s);
}

// Character classes: bit 1 metric name start, 2 metric name, 4 label name start, 8 label name.
constexpr auto kNameChars = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    t[c] = static_cast<uint8_t>((letter || c == ':' ? 1 : 0) | (letter || c == ':' || digit ? 2 : 0) |
                                (letter ? 4 : 0) | (letter || digit ? 8 : 0));
  }
  return t;
}();

std::string_view TakeName(std::string_view* s, bool label) {
  const uint8_t start = label ? 4 : 1, rest = label ? 8 : 2;
  if (s->empty() || !(kNameChars[static_cast<unsigned char>((*s)[0])] & start)) return {};
  size_t i = 1;
  while (i < s->size() && (kNameChars[static_cast<unsigned char>((*s)[i])] & rest)) ++i;
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

// `s` equals `lower` (all lower case) ignoring the case of ASCII letters.
bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i]) return false;
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool ValidUtf8(std::string_view s);

// Parses `{a="b",...}` (the brace already consumed) up to and including `}`. `L` is
// Labels, or LabelViews (views into `*s`, or into `*storage` for values with escapes).
template <typename L>
bool ParseLabels(std::string_view* s, L* out, std::string* error, std::deque<std::string>* storage = nullptr) {
  using Str = typename L::value_type::first_type;
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
    std::string value;  // a value with escapes
    bool closed = false;
    size_t i = 0;
    bool high = false;  // a byte >= 0x80: the value must be checked as UTF-8
    // Fast path: no escapes before the closing quote.
    for (; i < s->size() && (*s)[i] != '"' && (*s)[i] != '\\'; ++i) {
      high |= static_cast<unsigned char>((*s)[i]) >= 0x80;
    }
    const size_t plain = i;
    const bool escaped = i < s->size() && (*s)[i] == '\\';
    if (escaped) value.assign(s->data(), i);
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
          high |= static_cast<unsigned char>(n) >= 0x80;
        }
        continue;
      }
      high |= static_cast<unsigned char>(c) >= 0x80;
      value.push_back(c);
    }
    if (!closed) {
      *error = StrCat("unterminated value of label \"", name, "\"");
      return false;
    }
    const std::string_view raw = s->substr(0, plain);
    if (high && !ValidUtf8(escaped ? std::string_view(value) : raw)) {  // Prometheus refuses them too
      *error = StrCat("the value of label \"", name, "\" is not valid UTF-8");
      return false;
    }
    s->remove_prefix(i + 1);
    for (const auto& [k, v] : *out) {
      if (k == name) {
        *error = StrCat("label \"", name, "\" appears twice");
        return false;
      }
    }
    if constexpr (std::is_same_v<Str, std::string>) {
      out->emplace_back(std::string(name), escaped ? std::move(value) : std::string(raw));
    } else if (escaped) {
      out->emplace_back(name, storage->emplace_back(std::move(value)));
    } else {
      out->emplace_back(name, raw);
    }
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


// An order-independent hash of `labels` without `skip`.
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

}  // namespace

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
  if (EqualsLower(s, "inf") || EqualsLower(s, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (EqualsLower(s, "nan")) {
    *out = NAN;
    return true;
  }
  return false;
}

namespace {

// Parse, for Family (copies) or FamilyView (views into `text` and `*storage`).
template <typename F>
absl::StatusOr<std::vector<F>> ParseText(std::string_view text, std::deque<std::string>* storage) {
  using SampleT = typename decltype(F::samples)::value_type;
  std::vector<F> families;
  std::map<std::string, size_t, std::less<>> by_name;  // family name -> index
  std::set<std::string> typed;                          // names with a TYPE line
  absl::flat_hash_set<uint64_t> seen_series;            // hashes of name + labels, for duplicates
  seen_series.reserve(text.size() / 64);                // about one sample per 64 bytes or more
  auto family = [&](std::string_view name) -> F& {
    auto it = by_name.find(name);
    if (it != by_name.end()) return families[it->second];
    by_name.emplace(std::string(name), families.size());
    families.push_back(F{std::string(name), MetricType::kUntyped, "", {}, ""});
    return families.back();
  };
  auto fail = [](int line, const std::string& msg) {
    return absl::InvalidArgumentError(StrCat("line ", line, ": ", msg));
  };
  // The family of the previous sample's name (samples of a name usually come together);
  // forgotten at every # HELP or # TYPE line.
  std::string_view last_name;
  size_t last_family = SIZE_MAX;
  size_t label_hint = 0;  // labels of the previous sample: likely as many in this one
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
      last_family = SIZE_MAX;
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
      F& f = family(name);
      if (!f.samples.empty()) return fail(line_no, StrCat("# TYPE for ", name, " after its samples"));
      f.type = *type;
      continue;
    }
    SampleT sample;
    sample.line = line_no;
    std::string_view name = TakeName(&s, /*label=*/false);
    if (name.empty()) return fail(line_no, StrCat("invalid metric name at \"", s.substr(0, 40), "\""));
    sample.name = decltype(sample.name)(name);
    std::string_view after_name = s;
    SkipBlanks(&after_name);
    if (!after_name.empty() && after_name[0] == '{') {
      s = after_name.substr(1);
      sample.labels.reserve(label_hint);
      std::string error;
      if (!ParseLabels(&s, &sample.labels, &error, storage)) return fail(line_no, error);
      label_hint = sample.labels.size();
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
    if (last_family == SIZE_MAX || name != last_name) {
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
      last_family = static_cast<size_t>(&family(fname) - families.data());
      last_name = name;
    }
    F& f = families[last_family];
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
    // A hash seen before is a duplicate if an earlier sample has the same name and
    // labels (in any order); else a mere collision.
    if (!seen_series.insert(HashBytes(sample.name, MetricHash(sample.labels, {}))).second) {
      for (const F& o : families) {
        for (const SampleT& os : o.samples) {
          if (os.name == sample.name && SameMetric(os.labels, {}, sample.labels, {})) {
            return fail(line_no, StrCat("duplicate series ", name));
          }
        }
      }
    }
    f.samples.push_back(std::move(sample));
  }
  return families;
}

}  // namespace

absl::StatusOr<std::vector<Family>> Parse(std::string_view text) { return ParseText<Family>(text, nullptr); }

absl::StatusOr<ExpositionView> ParseView(std::string_view text) {
  ExpositionView out;
  auto families = ParseText<FamilyView>(text, &out.storage);
  if (!families.ok()) return families.status();
  out.families = std::move(*families);
  return out;
}

// ---- OpenMetrics 1.0 ----

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::optional<MetricType> OmTypeOf(std::string_view s) {
  if (s == "counter") return MetricType::kCounter;
  if (s == "gauge") return MetricType::kGauge;
  if (s == "histogram") return MetricType::kHistogram;
  if (s == "gaugehistogram") return MetricType::kGaugeHistogram;
  if (s == "summary") return MetricType::kSummary;
  if (s == "info") return MetricType::kInfo;
  if (s == "stateset") return MetricType::kStateSet;
  if (s == "unknown") return MetricType::kUntyped;
  return std::nullopt;
}

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

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// OpenMetrics escapes (label values and HELP): `\\`, `\"`, `\n`; a backslash before
// anything else stays as it is (as Prometheus does).
std::string UnescapeOm(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n' || s[i + 1] == '"')) {
      out.push_back(s[i + 1] == 'n' ? '\n' : s[i + 1]);
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// `{a="b",...}` without blanks, the brace already consumed, up to and including `}`.
bool ParseOmLabels(std::string_view* s, Labels* out, std::string* error) {
  if (!s->empty() && (*s)[0] == '}') {
    s->remove_prefix(1);
    return true;
  }
  while (true) {
    std::string_view name = TakeName(s, /*label=*/true);
    if (name.empty()) {
      *error = StrCat("invalid label name at \"", s->substr(0, 20), "\"");
      return false;
    }
    if (s->empty() || (*s)[0] != '=') {
      *error = StrCat("expected '=' after label name \"", name, "\"");
      return false;
    }
    s->remove_prefix(1);
    if (s->empty() || (*s)[0] != '"') {
      *error = StrCat("expected '\"' to open the value of label \"", name, "\"");
      return false;
    }
    s->remove_prefix(1);
    size_t i = 0;
    bool escaped = false, high = false;
    while (i < s->size() && (*s)[i] != '"') {
      if ((*s)[i] == '\\') {
        escaped = true;
        if (i + 1 < s->size()) high |= static_cast<unsigned char>((*s)[i + 1]) >= 0x80;
        i += 2;
        continue;
      }
      high |= static_cast<unsigned char>((*s)[i]) >= 0x80;
      ++i;
    }
    if (i >= s->size()) {
      *error = StrCat("unterminated value of label \"", name, "\"");
      return false;
    }
    std::string_view raw = s->substr(0, i);
    s->remove_prefix(i + 1);
    if (high && !ValidUtf8(raw)) {
      *error = StrCat("the value of label \"", name, "\" is not valid UTF-8");
      return false;
    }
    for (const auto& [k, v] : *out) {
      if (k == name) {
        *error = StrCat("label \"", name, "\" appears twice");
        return false;
      }
    }
    out->emplace_back(std::string(name), escaped ? UnescapeOm(raw) : std::string(raw));
    if (!s->empty() && (*s)[0] == ',') {
      s->remove_prefix(1);
      if (!s->empty() && (*s)[0] == '}') {  // a trailing comma, as Prometheus accepts
        s->remove_prefix(1);
        return true;
      }
      continue;
    }
    if (!s->empty() && (*s)[0] == '}') {
      s->remove_prefix(1);
      return true;
    }
    *error = s->empty() ? "unterminated label set (missing '}')"
                        : StrCat("expected ',' or '}' after the value of label \"", name, "\"");
    return false;
  }
}

// A timestamp in seconds (finite), to milliseconds.
bool ParseOmTimestamp(std::string_view s, double* seconds) {
  double v;
  if (!ParseValue(s, &v) || !std::isfinite(v) || std::fabs(v) > 9e15) return false;
  *seconds = v;
  return true;
}

// Whether family `f` has a sample named `n` (by the type's suffixes).
bool Accepts(const Family& f, std::string_view n) {
  std::string_view b = f.name;
  if (!StartsWith(n, b)) return false;
  std::string_view suffix = n.substr(b.size());
  switch (f.type) {
    case MetricType::kCounter:
      // A family named x_total whose samples are x_total: Prometheus accepts it.
      return suffix == "_total" || suffix == "_created" || (suffix.empty() && EndsWith(b, "_total"));
    case MetricType::kGauge:
    case MetricType::kUntyped:
    case MetricType::kStateSet:
      return suffix.empty();
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_count" || suffix == "_sum" || suffix == "_created";
    case MetricType::kGaugeHistogram:
      return suffix == "_bucket" || suffix == "_gcount" || suffix == "_gsum";
    case MetricType::kSummary:
      return suffix.empty() || suffix == "_count" || suffix == "_sum" || suffix == "_created";
    case MetricType::kInfo:
      return suffix == "_info" || (suffix.empty() && EndsWith(b, "_info"));
  }
  return false;
}

// The label that is part of a sample's point rather than of its metric: a bucket's
// `le`, a quantile's `quantile`, a state's label (named as the family).
std::string_view PointLabel(const Family& f, std::string_view n) {
  switch (f.type) {
    case MetricType::kHistogram:
    case MetricType::kGaugeHistogram:
      return n.size() == f.name.size() + 7 && EndsWith(n, "_bucket") ? "le" : "";
    case MetricType::kSummary:
      return n.size() == f.name.size() ? "quantile" : "";
    case MetricType::kStateSet:
      return f.name;
    default:
      return "";
  }
}

std::string LabelsText(const Labels& labels, std::string_view skip) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (k == skip) continue;
    StrAppend(&out, out.size() > 1 ? "," : "", k, "=\"", v, "\"");
  }
  return out + "}";
}

}  // namespace

absl::StatusOr<std::vector<Family>> ParseOpenMetrics(std::string_view text) {
  auto fail = [](int line, std::string_view msg) { return absl::InvalidArgumentError(StrCat("line ", line, ": ", msg)); };
  std::vector<Family> families;
  // Names are views into `text`. A family, or a sample name, seen before the current
  // family is closed for good: OpenMetrics families are not interleaved or repeated.
  absl::flat_hash_map<std::string_view, size_t> family_by_name;
  absl::flat_hash_map<std::string_view, size_t> family_by_sample;
  // The current family and, in it, the current metric (label set without its point
  // label): metrics are not interleaved either.
  struct Current {
    bool has_type = false, has_help = false, has_unit = false;
    size_t metric_begin = 0;  // index of the metric's first sample
    uint64_t metric_hash = 0;
    std::string_view metric_skip;
    bool has_inf = false;
    absl::flat_hash_set<uint64_t> done;  // hashes of the family's finished metrics
  } cur;
  Family* f = nullptr;
  std::string_view prev_name;  // of the previous sample, in the current family

  // Checks of a finished metric.
  auto end_metric = [&]() -> absl::Status {
    if (f == nullptr || f->samples.size() <= cur.metric_begin) return absl::OkStatus();
    const Sample& first = f->samples[cur.metric_begin];
    if ((f->type == MetricType::kHistogram || f->type == MetricType::kGaugeHistogram) && !cur.has_inf) {
      return fail(first.line, StrCat(MetricTypeName(f->type), " ", f->name, LabelsText(first.labels, cur.metric_skip),
                                     " has no +Inf bucket"));
    }
    return absl::OkStatus();
  };
  auto new_family = [&](std::string_view name, MetricType type) -> absl::Status {
    if (auto st = end_metric(); !st.ok()) return st;
    family_by_name.emplace(name, families.size());
    families.push_back(Family{std::string(name), type, "", {}, ""});
    f = &families.back();
    cur.has_type = cur.has_help = cur.has_unit = false;
    cur.metric_begin = 0;
    cur.has_inf = false;
    cur.done.clear();
    prev_name = {};
    return absl::OkStatus();
  };

  int line_no = 0;
  size_t pos = 0;
  bool eof = false;
  std::string error;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (eof) return fail(line_no, "unexpected data after # EOF");
    if (line.empty()) return fail(line_no, "empty line (OpenMetrics has none)");
    if (line.back() == '\r') return fail(line_no, "carriage return at the end of the line (OpenMetrics lines end with \\n)");
    if (line[0] == '#') {
      if (line == "# EOF") {
        eof = true;
        continue;
      }
      std::string_view s = line;
      std::string_view keyword = StartsWith(s, "# ") ? s.substr(2, 4) : std::string_view();
      if (keyword != "TYPE" && keyword != "HELP" && keyword != "UNIT") {
        return fail(line_no, StrCat("unexpected comment \"", line.substr(0, 40),
                                    "\" (OpenMetrics allows only # TYPE, # HELP, # UNIT and # EOF)"));
      }
      s.remove_prefix(2 + keyword.size());
      std::string_view name;
      if (!s.empty() && s[0] == ' ') {
        s.remove_prefix(1);
        name = TakeName(&s, /*label=*/false);
      }
      if (name.empty() || (!s.empty() && s[0] != ' ')) {
        return fail(line_no, StrCat("# ", keyword, " needs a valid metric name"));
      }
      if (s.empty()) return fail(line_no, StrCat("# ", keyword, " ", name, " needs a space and a value after the name"));
      s.remove_prefix(1);
      // The family: the current one if it has no samples yet, else a new one.
      if (f == nullptr || f->name != name) {
        if (family_by_name.contains(name)) {
          return fail(line_no, StrCat("metric family ", name,
                                      " appears a second time (OpenMetrics families are not interleaved or repeated)"));
        }
        if (auto st = new_family(name, MetricType::kUntyped); !st.ok()) return st;
      } else if (!f->samples.empty()) {
        return fail(line_no, StrCat("# ", keyword, " for ", name, " after its samples"));
      }
      if (keyword == "TYPE") {
        auto type = OmTypeOf(s);
        if (!type) {
          return fail(line_no, StrCat("unknown metric type \"", s, "\" for ", name,
                                      " (counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown)"));
        }
        if (cur.has_type) return fail(line_no, StrCat("second # TYPE line for ", name));
        cur.has_type = true;
        f->type = *type;
      } else if (keyword == "HELP") {
        if (cur.has_help) return fail(line_no, StrCat("second # HELP line for ", name));
        cur.has_help = true;
        f->help = UnescapeOm(s);
      } else {
        if (cur.has_unit) return fail(line_no, StrCat("second # UNIT line for ", name));
        cur.has_unit = true;
        std::string_view unit = s;
        if (!std::all_of(unit.begin(), unit.end(), IsNameChar)) {
          return fail(line_no, StrCat("invalid unit \"", unit, "\" for ", name));
        }
        if (!unit.empty() && !(EndsWith(name, unit) && name.size() > unit.size() &&
                               name[name.size() - unit.size() - 1] == '_')) {
          return fail(line_no, StrCat("unit \"", unit, "\" is not a suffix of the metric name ", name));
        }
        f->unit = std::string(unit);
      }
      continue;
    }

    // A sample: name[{labels}] value [timestamp] [# {labels} value [timestamp]]
    Sample sample;
    sample.line = line_no;
    std::string_view s = line;
    std::string_view name = TakeName(&s, /*label=*/false);
    if (name.empty()) return fail(line_no, StrCat("invalid metric name at \"", s.substr(0, 40), "\""));
    if (!s.empty() && s[0] == '{') {
      s.remove_prefix(1);
      if (!ParseOmLabels(&s, &sample.labels, &error)) return fail(line_no, error);
    }
    if (s.empty()) return fail(line_no, StrCat("missing value for ", name));
    if (s[0] != ' ') return fail(line_no, StrCat("expected a space before the value of ", name));
    s.remove_prefix(1);
    std::string_view value = s.substr(0, s.find(' '));
    s.remove_prefix(value.size());
    if (!ParseValue(value, &sample.value)) return fail(line_no, StrCat("invalid value \"", value, "\" for ", name));
    if (!s.empty()) {
      s.remove_prefix(1);  // the space
      if (s.empty()) return fail(line_no, StrCat("trailing space after the value of ", name));
      if (s[0] != '#') {
        std::string_view ts = s.substr(0, s.find(' '));
        s.remove_prefix(ts.size());
        double seconds;
        if (!ParseOmTimestamp(ts, &seconds)) {
          return fail(line_no, StrCat("invalid timestamp \"", ts, "\" for ", name, " (seconds)"));
        }
        sample.timestamp_ms = std::llround(seconds * 1000);
        if (!s.empty()) {
          s.remove_prefix(1);
          if (s.empty()) return fail(line_no, StrCat("trailing space after the timestamp of ", name));
        }
      }
      if (!s.empty()) {
        if (!StartsWith(s, "# {")) {
          return fail(line_no, StrCat("unexpected text after the ", sample.timestamp_ms ? "timestamp" : "value", " of ",
                                      name, ": \"", s.substr(0, 40), "\""));
        }
        s.remove_prefix(3);
        Exemplar& ex = sample.exemplar.emplace();
        if (!ParseOmLabels(&s, &ex.labels, &error)) return fail(line_no, StrCat("exemplar: ", error));
        size_t length = 0;
        for (const auto& [k, v] : ex.labels) length += CodePoints(k) + CodePoints(v);
        if (length > 128) {
          return fail(line_no, StrCat("exemplar labels of ", name, " have ", length,
                                      " characters; OpenMetrics allows at most 128"));
        }
        if (s.empty() || s[0] != ' ') return fail(line_no, StrCat("exemplar of ", name, " needs a value"));
        s.remove_prefix(1);
        std::string_view ev = s.substr(0, s.find(' '));
        s.remove_prefix(ev.size());
        if (!ParseValue(ev, &ex.value)) return fail(line_no, StrCat("invalid exemplar value \"", ev, "\" for ", name));
        if (!s.empty()) {
          s.remove_prefix(1);
          double seconds;
          if (s.find(' ') != std::string_view::npos || !ParseOmTimestamp(s, &seconds)) {
            return fail(line_no, StrCat("invalid exemplar timestamp \"", s.substr(0, 40), "\" for ", name));
          }
          ex.timestamp_s = seconds;
        }
      }
    }

    // Its family: the current one if it has samples of this name, else a new unknown one.
    if (f == nullptr || name != prev_name) {
      if (f == nullptr || !Accepts(*f, name)) {
        if (f != nullptr && f->name == name) {
          return fail(line_no, StrCat("sample ", name, " of ", MetricTypeName(f->type), " ", name,
                                      " lacks the suffix its type requires (e.g. _total, _bucket, _info)"));
        }
        if (family_by_name.contains(name) || family_by_sample.contains(name)) {
          return fail(line_no, StrCat("metric family of ", name,
                                      " appears a second time (OpenMetrics families are not interleaved or repeated)"));
        }
        if (auto st = new_family(name, MetricType::kUntyped); !st.ok()) return st;
      }
      auto [it, added] = family_by_sample.emplace(name, families.size() - 1);
      if (!added && it->second != families.size() - 1) {
        return fail(line_no, StrCat("sample ", name, " of family ", f->name, " is also a sample of family ",
                                    families[it->second].name));
      }
      prev_name = name;
    }

    // Point labels.
    std::string_view skip = PointLabel(*f, name);
    std::string_view point;
    if (!skip.empty()) {
      bool present = false;
      for (const auto& [k, v] : sample.labels) {
        if (k == skip) present = true, point = v;
      }
      double d;
      if (skip == "le" && (!present || !ParseValue(point, &d))) {
        return fail(line_no, StrCat("histogram bucket ", name, " needs a numeric \"le\" label"));
      }
      if (skip == "quantile" && (!present || !ParseValue(point, &d))) {
        return fail(line_no, StrCat("summary ", name, " needs a numeric \"quantile\" label"));
      }
      if (f->type == MetricType::kStateSet && !present) {
        return fail(line_no, StrCat("stateset ", name, " needs a \"", skip, "\" label with the state"));
      }
    }
    // The metric: the current one, or a new one that must not have been seen before.
    uint64_t hash = MetricHash(sample.labels, skip);
    bool same = !f->samples.empty() && hash == cur.metric_hash &&
                SameMetric(f->samples[cur.metric_begin].labels, cur.metric_skip, sample.labels, skip);
    if (!same) {
      if (!f->samples.empty()) {
        if (auto st = end_metric(); !st.ok()) return st;
        cur.done.insert(cur.metric_hash);
      }
      if (cur.done.contains(hash)) {
        for (const Sample& o : f->samples) {
          if (SameMetric(o.labels, PointLabel(*f, o.name), sample.labels, skip)) {
            return fail(line_no, StrCat("metric ", f->name, LabelsText(sample.labels, skip), " continues after line ",
                                        o.line, " after other metrics (OpenMetrics metrics are not interleaved)"));
          }
        }
      }
      cur.metric_begin = f->samples.size();
      cur.metric_hash = hash;
      cur.metric_skip = skip;
      cur.has_inf = false;
    } else {
      // Within a metric, a series is its name and point label.
      for (size_t i = cur.metric_begin; i < f->samples.size(); ++i) {
        const Sample& o = f->samples[i];
        if (o.name == name && (skip.empty() || LabelValue(o.labels, skip) == point)) {
          return fail(line_no, StrCat("duplicate series ", name, LabelsText(sample.labels, ""), " (first on line ",
                                      o.line, ")"));
        }
      }
    }
    if (skip == "le") {
      double le = 0;
      ParseValue(point, &le);
      cur.has_inf |= std::isinf(le) && le > 0;
    }
    sample.name = std::string(name);
    f->samples.push_back(std::move(sample));
  }
  if (!eof) return fail(line_no, "the exposition does not end with # EOF (it may be cut short)");
  if (auto st = end_metric(); !st.ok()) return st;
  return families;
}

absl::StatusOr<std::vector<Family>> Parse(std::string_view text, Format format) {
  return format == Format::kOpenMetricsText ? ParseOpenMetrics(text) : Parse(text);
}

Format FormatOf(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && IsBlank(media.front())) media.remove_prefix(1);
  while (!media.empty() && IsBlank(media.back())) media.remove_suffix(1);
  return EqualsLower(media, "application/openmetrics-text") ? Format::kOpenMetricsText : Format::kPrometheusText;
}

std::string OtelUnit(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"days", "d"},          {"hours", "h"},          {"minutes", "min"},      {"seconds", "s"},
      {"milliseconds", "ms"}, {"microseconds", "us"},  {"nanoseconds", "ns"},   {"bytes", "By"},
      {"kibibytes", "KiBy"},  {"mebibytes", "MiBy"},   {"gibibytes", "GiBy"},   {"tebibytes", "TiBy"},
      {"kilobytes", "KBy"},   {"megabytes", "MBy"},    {"gigabytes", "GBy"},    {"terabytes", "TBy"},
      {"meters", "m"},        {"volts", "V"},          {"amperes", "A"},        {"joules", "J"},
      {"watts", "W"},         {"grams", "g"},          {"celsius", "Cel"},      {"hertz", "Hz"},
      {"percent", "%"},       {"ratio", "1"}};
  static constexpr std::pair<std::string_view, std::string_view> kPer[] = {
      {"second", "s"}, {"minute", "min"}, {"hour", "h"}, {"day", "d"}, {"week", "w"}, {"month", "mo"}, {"year", "y"}};
  auto word = [](std::string_view w, const auto& table) {
    for (const auto& [from, to] : table) {
      if (w == from) return std::string(to);
    }
    return std::string(w);
  };
  size_t per = unit.find("_per_");
  if (per == std::string_view::npos) return word(unit, kWords);
  return StrCat(word(unit.substr(0, per), kWords), "/", word(unit.substr(per + 5), kPer));
}

}  // namespace outrigger::receivers::prometheus
