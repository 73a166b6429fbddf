// The Prometheus text exposition format 0.0.4: Parse and ParseView (parser.h).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <set>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/common/hash.h"
#include "collector/common/strings.h"
#include "receivers/prometheus/lexer.h"
#include "receivers/prometheus/parser.h"

namespace outrigger::receivers::prometheus {

namespace {

using lexer::EndsWith;
using lexer::IsBlank;
using lexer::MetricHash;
using lexer::SameMetric;
using lexer::SkipBlanks;
using lexer::TakeName;
using lexer::TakeToken;
using lexer::ValidUtf8;

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

// Parses `{a="b",...}` (the brace already consumed) up to and including `}`. `L` is
// Labels, or LabelViews (views into `*s`, or into `*storage` for values with escapes).
// One function of ~100 lines on purpose: it is the per-label loop of every scrape, and
// its escape-free path (a view, no copy) is the one that matters.
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

// One parse, for Family (copies) or FamilyView (views into `text` and `*storage`).
template <typename F>
class TextParser {
 public:
  TextParser(std::string_view text, std::deque<std::string>* storage) : text_(text), storage_(storage) {
    seen_series_.reserve(text.size() / 64);  // about one sample per 64 bytes or more
  }

  absl::StatusOr<std::vector<F>> Run() && {
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t nl = text_.find('\n', pos);
      std::string_view line = text_.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text_.size() : nl + 1;
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      std::string_view s = line;
      SkipBlanks(&s);
      if (s.empty()) continue;
      absl::Status st = s[0] == '#' ? Comment(s.substr(1)) : SampleLine(s);
      if (!st.ok()) return st;
    }
    if (absl::Status st = CheckPoints(); !st.ok()) return st;
    return std::move(families_);
  }

 private:
  using SampleT = typename decltype(F::samples)::value_type;

  absl::Status Fail(const std::string& msg) const {
    return absl::InvalidArgumentError(StrCat("line ", line_no_, ": ", msg));
  }

  F& FamilyNamed(std::string_view name) {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) return families_[it->second];
    by_name_.emplace(std::string(name), families_.size());
    families_.push_back(F{std::string(name), MetricType::kUntyped, "", {}, ""});
    return families_.back();
  }

  // A comment line, after its `#`: `# HELP` and `# TYPE` set their family's metadata;
  // anything else is ignored.
  absl::Status Comment(std::string_view s) {
    SkipBlanks(&s);
    std::string_view keyword = TakeToken(&s);
    if (keyword != "HELP" && keyword != "TYPE") return absl::OkStatus();  // a plain comment
    last_family_ = SIZE_MAX;
    SkipBlanks(&s);
    std::string_view name = TakeName(&s, /*label=*/false);
    if (name.empty() || (!s.empty() && !IsBlank(s[0]))) {
      return Fail(StrCat("# ", keyword, " needs a valid metric name"));
    }
    SkipBlanks(&s);
    if (keyword == "HELP") {
      // "Only one HELP line may exist for any given metric name."
      if (!helped_.insert(std::string(name)).second) return Fail(StrCat("second # HELP line for ", name));
      FamilyNamed(name).help = UnescapeHelp(s);
      return absl::OkStatus();
    }
    std::string_view type_name = TakeToken(&s);
    SkipBlanks(&s);
    auto type = TypeOf(type_name);
    if (!type || !s.empty()) {
      return Fail(StrCat("unknown metric type \"", type_name, "\" for ", name,
                         " (counter, gauge, histogram, summary or untyped)"));
    }
    if (!typed_.insert(std::string(name)).second) return Fail(StrCat("second # TYPE line for ", name));
    F& f = FamilyNamed(name);
    if (!f.samples.empty()) return Fail(StrCat("# TYPE for ", name, " after its samples"));
    f.type = *type;
    return absl::OkStatus();
  }

  // A sample line: `name[{labels}] value [timestamp_ms]`.
  absl::Status SampleLine(std::string_view s) {
    SampleT sample;
    sample.line = line_no_;
    std::string_view name;
    if (absl::Status st = LexSample(s, &name, &sample); !st.ok()) return st;
    if (last_family_ == SIZE_MAX || name != last_name_) {
      last_family_ = FamilyOf(name);
      last_name_ = name;
    }
    F& f = families_[last_family_];
    if (absl::Status st = CheckSample(f, name, sample); !st.ok()) return st;
    f.samples.push_back(std::move(sample));
    return absl::OkStatus();
  }

  // The tokens of a sample line into `*sample`; `*name` is a view into the line.
  absl::Status LexSample(std::string_view s, std::string_view* name_out, SampleT* sample) {
    std::string_view name = TakeName(&s, /*label=*/false);
    if (name.empty()) return Fail(StrCat("invalid metric name at \"", s.substr(0, 40), "\""));
    *name_out = name;
    sample->name = decltype(sample->name)(name);
    std::string_view after_name = s;
    SkipBlanks(&after_name);
    if (!after_name.empty() && after_name[0] == '{') {
      s = after_name.substr(1);
      sample->labels.reserve(label_hint_);
      std::string error;
      if (!ParseLabels(&s, &sample->labels, &error, storage_)) return Fail(error);
      label_hint_ = sample->labels.size();
    }
    if (!s.empty() && !IsBlank(s[0])) {
      return Fail(StrCat("expected a blank before the value of ", name));
    }
    SkipBlanks(&s);
    std::string_view value = TakeToken(&s);
    if (value.empty()) return Fail(StrCat("missing value for ", name));
    if (!ParseValue(value, &sample->value)) return Fail(StrCat("invalid value \"", value, "\" for ", name));
    SkipBlanks(&s);
    if (!s.empty()) {
      std::string_view ts = TakeToken(&s);
      int64_t t = 0;
      std::string_view digits = ts.size() > 1 && ts[0] == '+' ? ts.substr(1) : ts;  // as Go's ParseInt
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t);
      if (ec == std::errc::result_out_of_range && p == digits.data() + digits.size()) {
        return Fail(StrCat("timestamp ", ts, " of ", name, " is out of range (64-bit integer milliseconds)"));
      }
      if (ec != std::errc() || p != digits.data() + digits.size()) {
        return Fail(StrCat("invalid timestamp \"", ts, "\" for ", name, " (integer milliseconds)"));
      }
      sample->timestamp_ms = t;
      SkipBlanks(&s);
      if (!s.empty()) return Fail(StrCat("unexpected text after the timestamp: \"", s.substr(0, 40), "\""));
    }
    return absl::OkStatus();
  }

  // The index of the family of sample `name`: the exact name, or a histogram's or
  // summary's suffixed sample (or a counter's `_total`).
  size_t FamilyOf(std::string_view name) {
    std::string_view fname = name;
    auto typed_as = [&](std::string_view base, std::initializer_list<MetricType> types) {
      auto it = by_name_.find(base);
      if (it == by_name_.end()) return false;
      MetricType t = families_[it->second].type;
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
    return static_cast<size_t>(&FamilyNamed(fname) - families_.data());
  }

  // What a sample of family `f` must have (a bucket's `le`, a quantile's `quantile`),
  // and that no earlier sample has its name and labels.
  absl::Status CheckSample(const F& f, std::string_view name, const SampleT& sample) {
    if (f.type == MetricType::kHistogram && name == f.name) {
      return Fail(StrCat("histogram ", f.name, " has a sample without _bucket, _sum or _count"));
    }
    if (f.type == MetricType::kHistogram && EndsWith(name, "_bucket")) {
      bool has_le = false;
      for (const auto& [k, v] : sample.labels) has_le |= k == "le";
      double le;
      if (!has_le || !ParseValue(LabelValue(sample.labels, "le"), &le)) {
        return Fail(StrCat("histogram bucket ", name, " needs a numeric \"le\" label"));
      }
    }
    if (f.type == MetricType::kSummary && name == f.name) {
      double q;
      bool has_q = false;
      for (const auto& [k, v] : sample.labels) has_q |= k == "quantile";
      if (!has_q || !ParseValue(LabelValue(sample.labels, "quantile"), &q)) {
        return Fail(StrCat("summary ", name, " needs a numeric \"quantile\" label"));
      }
    }
    // A hash seen before is a duplicate if an earlier sample has the same name, labels
    // (in any order) and timestamp; else a mere collision. Samples of one series with
    // different timestamps are several points.
    const uint64_t ts_hash =
        sample.timestamp_ms ? static_cast<uint64_t>(*sample.timestamp_ms) * 0x9E3779B97F4A7C15ull + 1 : 0;
    if (!seen_series_.insert(HashBytes(sample.name, MetricHash(sample.labels, {})) ^ ts_hash).second) {
      for (const F& o : families_) {
        for (const SampleT& os : o.samples) {
          if (os.name == sample.name && os.timestamp_ms == sample.timestamp_ms &&
              SameMetric(os.labels, {}, sample.labels, {})) {
            return Fail(StrCat("duplicate series ", name));
          }
        }
      }
    }
    return absl::OkStatus();
  }

  // The text format's rules for histograms and summaries, per metric (labels without
  // `le`/`quantile`) and timestamp: "A histogram must have a bucket with {le="+Inf"}. Its
  // value must be identical to the value of x_count. The buckets of a histogram and the
  // quantiles of a summary must appear in increasing numerical order of their label
  // values"; buckets are cumulative; quantiles are in [0, 1].
  absl::Status CheckPoints() {
    struct Point {
      size_t first = 0;       // index of its first sample
      std::string_view skip;  // its point label (of a bucket or quantile), or none
      bool any = false, has_inf = false;
      double last = 0, last_value = 0, inf_value = 0;
      std::optional<double> count;
      int count_line = 0;
    };
    for (const F& f : families_) {
      if (f.type != MetricType::kHistogram && f.type != MetricType::kSummary) continue;
      const bool histogram = f.type == MetricType::kHistogram;
      const std::string_view point_label = histogram ? "le" : "quantile";
      std::vector<Point> points;
      absl::flat_hash_map<uint64_t, std::vector<size_t>> index;
      for (size_t i = 0; i < f.samples.size(); ++i) {
        const SampleT& s = f.samples[i];
        const bool bucket = histogram ? s.name.size() == f.name.size() + 7 && EndsWith(s.name, "_bucket")
                                      : s.name.size() == f.name.size();
        const bool count = s.name.size() == f.name.size() + 6 && EndsWith(s.name, "_count");
        if (!bucket && !count) continue;
        const std::string_view skip = bucket ? point_label : std::string_view();
        const uint64_t h = MetricHash(s.labels, skip) ^ (s.timestamp_ms ? static_cast<uint64_t>(*s.timestamp_ms) : 0);
        Point* p = nullptr;
        for (size_t j : index[h]) {
          const SampleT& o = f.samples[points[j].first];
          if (o.timestamp_ms == s.timestamp_ms && SameMetric(o.labels, points[j].skip, s.labels, skip)) {
            p = &points[j];
            break;
          }
        }
        if (p == nullptr) {
          index[h].push_back(points.size());
          p = &points.emplace_back();
          p->first = i;
          p->skip = skip;
        }
        line_no_ = s.line;
        if (count) {
          p->count = s.value;
          p->count_line = s.line;
          continue;
        }
        std::string_view text = LabelValue(s.labels, point_label);
        double v = 0;
        ParseValue(text, &v);  // checked in CheckSample
        if (!histogram && !(v >= 0 && v <= 1)) {
          return Fail(StrCat("quantile \"", text, "\" of ", f.name, " is not between 0 and 1"));
        }
        if (p->any && !(v > p->last)) {
          return Fail(StrCat(histogram ? "bucket le=\"" : "quantile \"", text, "\" of ", f.name,
                             " is not above the previous one (the text format wants them in increasing order)"));
        }
        if (histogram && p->any && s.value < p->last_value) {
          return Fail(StrCat("bucket le=\"", text, "\" of ", f.name, " has ", s.value,
                             ", less than the previous bucket's ", p->last_value, " (buckets are cumulative)"));
        }
        p->any = true;
        p->last = v;
        p->last_value = s.value;
        if (std::isinf(v) && v > 0) p->has_inf = true, p->inf_value = s.value;
      }
      if (!histogram) continue;
      for (const Point& p : points) {
        const SampleT& first = f.samples[p.first];
        line_no_ = first.line;
        if (!p.has_inf) return Fail(StrCat("histogram ", f.name, " has no bucket with le=\"+Inf\""));
        if (p.count && !(*p.count == p.inf_value || (std::isnan(*p.count) && std::isnan(p.inf_value)))) {
          line_no_ = p.count_line;
          return Fail(StrCat("histogram ", f.name, ": _count ", *p.count, " is not the value of its +Inf bucket (",
                             p.inf_value, ")"));
        }
      }
    }
    return absl::OkStatus();
  }

  const std::string_view text_;
  std::deque<std::string>* const storage_;
  std::vector<F> families_;
  std::map<std::string, size_t, std::less<>> by_name_;  // family name -> index
  std::set<std::string> typed_;                         // names with a TYPE line
  std::set<std::string> helped_;                        // names with a HELP line
  absl::flat_hash_set<uint64_t> seen_series_;           // hashes of name + labels, for duplicates
  // The family of the previous sample's name (samples of a name usually come together);
  // forgotten at every # HELP or # TYPE line.
  std::string_view last_name_;
  size_t last_family_ = SIZE_MAX;
  size_t label_hint_ = 0;  // labels of the previous sample: likely as many in this one
  int line_no_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<Family>> Parse(std::string_view text) { return TextParser<Family>(text, nullptr).Run(); }

absl::StatusOr<ExpositionView> ParseView(std::string_view text) {
  ExpositionView out;
  auto families = TextParser<FamilyView>(text, &out.storage).Run();
  if (!families.ok()) return families.status();
  out.families = std::move(*families);
  return out;
}

}  // namespace outrigger::receivers::prometheus
