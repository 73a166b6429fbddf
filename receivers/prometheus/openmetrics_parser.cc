// OpenMetrics 1.0 text: ParseOpenMetrics (parser.h).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/common/strings.h"
#include "receivers/prometheus/lexer.h"
#include "receivers/prometheus/parser.h"

namespace outrigger::receivers::prometheus {

namespace {

using lexer::EndsWith;
using lexer::IsNameChar;
using lexer::MetricHash;
using lexer::SameMetric;
using lexer::StartsWith;
using lexer::TakeName;
using lexer::ValidUtf8;

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
      if (!s->empty() && (*s)[0] == '}') {  // ABNF: labels = "{" [label *(COMMA label)] "}"
        *error = StrCat("trailing comma after label \"", name, "\" (OpenMetrics label sets have none)");
        return false;
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

// A timestamp in seconds: a real number (ABNF `timestamp = realnumber`: no NaN or
// infinities).
bool ParseOmTimestamp(std::string_view s, double* seconds) {
  double v;
  if (!ParseValue(s, &v) || !std::isfinite(v)) return false;
  *seconds = v;
  return true;
}

// Seconds to int64 milliseconds (what Sample keeps, as Prometheus does); false past
// about ±292 million years.
bool SecondsToMs(double seconds, int64_t* ms) {
  const double v = std::round(seconds * 1000);
  if (!(v > -9.2e18 && v < 9.2e18)) return false;
  *ms = static_cast<int64_t>(v);
  return true;
}

// A count: a non-negative integer (OpenMetrics: "Count and bucket values MUST be
// integers", "MUST NOT be NaN or negative").
bool IsCount(double v) { return std::isfinite(v) && v >= 0 && std::floor(v) == v; }

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

absl::Status Fail(int line, std::string_view msg) {
  return absl::InvalidArgumentError(StrCat("line ", line, ": ", msg));
}

// One parse. OpenMetrics is line-oriented like the text format but also checks the
// order of families, metrics and samples, which is most of the state here.
class OpenMetricsParser {
 public:
  explicit OpenMetricsParser(std::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<Family>> Run() && {
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t nl = text_.find('\n', pos);
      std::string_view line = text_.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text_.size() : nl + 1;
      ++line_no_;
      if (eof_) return Fail(line_no_, "unexpected data after # EOF");
      if (line.empty()) return Fail(line_no_, "empty line (OpenMetrics has none)");
      if (line.back() == '\r') {
        return Fail(line_no_, "carriage return at the end of the line (OpenMetrics lines end with \\n)");
      }
      if (line == "# EOF") {
        eof_ = true;
        continue;
      }
      absl::Status st = line[0] == '#' ? MetadataLine(line) : SampleLine(line);
      if (!st.ok()) return st;
    }
    if (!eof_) return Fail(line_no_, "the exposition does not end with # EOF (it may be cut short)");
    if (auto st = EndMetric(); !st.ok()) return st;
    return std::move(families_);
  }

 private:
  // A metric ends with its last point.
  absl::Status EndMetric() { return EndPoint(); }

  bool IsHistogram() const { return f_->type == MetricType::kHistogram || f_->type == MetricType::kGaugeHistogram; }

  // Checks of a finished MetricPoint (the samples of a metric with one timestamp): a
  // histogram's buckets against its count and sum (the per-bucket rules are in AddToPoint).
  absl::Status EndPoint() {
    if (!pt_.active) return absl::OkStatus();
    pt_.active = false;
    if (!IsHistogram()) return absl::OkStatus();
    const Sample& first = f_->samples[pt_.begin];
    const std::string what =
        StrCat(MetricTypeName(f_->type), " ", f_->name, LabelsText(first.labels, cur_.metric_skip));
    const bool gauge = f_->type == MetricType::kGaugeHistogram;
    const std::string_view count = gauge ? "_gcount" : "_count", sum = gauge ? "_gsum" : "_sum";
    // "MetricPoints MUST have one bucket with an +Inf threshold."
    if (!pt_.has_inf) return Fail(first.line, StrCat(what, " has no +Inf bucket"));
    // "the MetricPoint's +Inf Bucket value MUST also appear in a Sample with ... _count"
    if (pt_.count && *pt_.count != pt_.inf_value) {
      return Fail(pt_.count_line, StrCat(what, ": ", count, " ", *pt_.count, " is not the value of its +Inf bucket (",
                                         pt_.inf_value, ")"));
    }
    // "If and only if a Sum Value is present ... _count"
    if (pt_.sum.has_value() != pt_.count.has_value()) {
      return Fail(pt_.sum ? pt_.sum_line : pt_.count_line,
                  StrCat(what, " has ", pt_.sum ? sum : count, " without ", pt_.sum ? count : sum,
                         " (OpenMetrics: both or neither)"));
    }
    // "Negative threshold buckets MAY be used, but then the Histogram MetricPoint MUST NOT
    // contain a sum value"; a gaugehistogram's gsum "MAY be negative" only then.
    if (!gauge && pt_.sum && pt_.negative_bucket) {
      return Fail(pt_.sum_line,
                  StrCat(what, " has buckets with negative thresholds and a _sum (OpenMetrics: no _sum then)"));
    }
    if (gauge && pt_.sum && *pt_.sum < 0 && !pt_.negative_bucket) {
      return Fail(pt_.sum_line,
                  StrCat(what, ": _gsum ", *pt_.sum, " is negative without buckets of negative thresholds"));
    }
    return absl::OkStatus();
  }

  // A sample of the current point; the bucket rules of histograms and gaugehistograms.
  absl::Status AddToPoint(std::string_view suffix, const Sample& sample, std::string_view skip,
                          std::string_view point) {
    if (!IsHistogram()) return absl::OkStatus();
    const bool gauge = f_->type == MetricType::kGaugeHistogram;
    if (skip == "le") {
      double le = 0;
      ParseValue(point, &le);  // checked in CheckPointLabel
      // Canonical numbers: "Exposers MUST produce output for positive infinity as +Inf";
      // other thresholds may be written any way.
      if (std::isinf(le) && le > 0 && point != "+Inf") {
        return Fail(line_no_, StrCat("bucket le=\"", point, "\" of ", f_->name,
                                     ": positive infinity is written +Inf in OpenMetrics"));
      }
      if (std::isnan(le))
        return Fail(line_no_, StrCat("bucket le=\"", point, "\" of ", f_->name, ": thresholds are not NaN"));
      if (pt_.has_bucket && le <= pt_.last_le) {
        return Fail(line_no_, StrCat("bucket le=\"", point, "\" of ", f_->name,
                                     " is not above the previous one (OpenMetrics: buckets in increasing order of le, "
                                     "each threshold once)"));
      }
      if (pt_.has_bucket && sample.value < pt_.last_bucket) {
        return Fail(line_no_, StrCat("bucket le=\"", point, "\" of ", f_->name, " has ", sample.value,
                                     ", less than the previous bucket's ", pt_.last_bucket,
                                     " (OpenMetrics: buckets are cumulative)"));
      }
      // "Each bucket covers the values less and or equal to it, and the value of the
      // exemplar MUST be within this range."
      if (sample.exemplar && !(sample.exemplar->value <= le)) {
        return Fail(line_no_, StrCat("exemplar value ", sample.exemplar->value, " of bucket le=\"", point, "\" of ",
                                     f_->name, " is above the bucket's threshold"));
      }
      pt_.has_bucket = true;
      pt_.last_le = le;
      pt_.last_bucket = sample.value;
      pt_.negative_bucket |= le < 0;
      if (std::isinf(le) && le > 0) pt_.has_inf = true, pt_.inf_value = sample.value;
    } else if (suffix == (gauge ? "_gcount" : "_count")) {
      pt_.count = sample.value;
      pt_.count_line = line_no_;
    } else if (suffix == (gauge ? "_gsum" : "_sum")) {
      pt_.sum = sample.value;
      pt_.sum_line = line_no_;
    }
    return absl::OkStatus();
  }

  // The value rules of each type, and where exemplars may be.
  absl::Status CheckValue(std::string_view name, std::string_view suffix, const Sample& sample, std::string_view skip,
                          std::string_view point) {
    const double v = sample.value;
    auto bad = [&](std::string_view rule) {
      return Fail(line_no_, StrCat(MetricTypeName(f_->type), " sample ", name, " has value ", v, ": ", rule));
    };
    bool exemplar_ok = false;
    switch (f_->type) {
      case MetricType::kCounter:
        if (suffix != "_created") {  // the total (`x_total`, or the family's own name if it ends in _total)
          exemplar_ok = true;
          // "A Total is a non-NaN and MUST be monotonically non-decreasing over time, starting from 0."
          if (std::isnan(v) || v < 0) return bad("a counter's total is not NaN or negative");
        }
        break;
      case MetricType::kHistogram:
      case MetricType::kGaugeHistogram: {
        const bool gauge = f_->type == MetricType::kGaugeHistogram;
        if (skip == "le") exemplar_ok = true;
        if (skip == "le" || suffix == (gauge ? "_gcount" : "_count")) {
          if (!IsCount(v)) return bad("bucket and count values are non-negative integers");
        } else if (suffix == "_sum" && (std::isnan(v) || v < 0)) {
          return bad("a histogram's sum is not NaN or negative");
        } else if (suffix == "_gsum" && std::isnan(v)) {
          return bad("a gaugehistogram's gsum is not NaN");
        }
        break;
      }
      case MetricType::kSummary:
        if (suffix == "_count" && !IsCount(v)) return bad("a summary's count is a non-negative integer");
        if (suffix == "_sum" && (std::isnan(v) || v < 0)) return bad("a summary's sum is not NaN or negative");
        if (skip == "quantile") {
          double q = 0;
          ParseValue(point, &q);  // checked in CheckPointLabel
          if (!(q >= 0 && q <= 1)) {
            return Fail(line_no_, StrCat("quantile \"", point, "\" of ", name, " is not between 0 and 1"));
          }
          if (v < 0) return bad("quantile values are not negative (NaN when there were no events)");
        }
        break;
      case MetricType::kInfo:
        if (v != 1) return bad("an info's value is always 1");
        break;
      case MetricType::kStateSet:
        if (v != 0 && v != 1) return bad("a state's value is 1 (true) or 0 (false)");
        break;
      default:
        break;
    }
    if (sample.exemplar && !exemplar_ok) {
      return Fail(line_no_, StrCat("exemplar on ", MetricTypeName(f_->type), " sample ", name,
                                   ": OpenMetrics allows exemplars only on a counter's _total and on histogram and "
                                   "gaugehistogram buckets"));
    }
    return absl::OkStatus();
  }

  // Reserves `name` as a sample name of the current family: no other family may have
  // it as its name or as one of its sample names.
  absl::Status Claim(const std::string& name) {
    const size_t self = families_.size() - 1;
    auto [it, added] = claimed_.emplace(name, self);
    if (!added && it->second != self) {
      return Fail(line_no_, StrCat("name clash: ", name, " is a sample name of ", MetricTypeName(f_->type), " ",
                                   f_->name, " and of family ", families_[it->second].name));
    }
    return absl::OkStatus();
  }

  absl::Status NewFamily(std::string_view name, MetricType type) {
    if (auto st = EndMetric(); !st.ok()) return st;
    if (auto it = claimed_.find(ToAbsl(name)); it != claimed_.end()) {
      const Family& o = families_[it->second];
      return Fail(line_no_, StrCat("name clash: metric family ", name, " is a sample name of ", MetricTypeName(o.type),
                                   " ", o.name));
    }
    claimed_.emplace(std::string(name), families_.size());
    family_by_name_.emplace(name, families_.size());
    families_.push_back(Family{std::string(name), type, "", {}, ""});
    f_ = &families_.back();
    cur_.has_type = cur_.has_help = cur_.has_unit = false;
    cur_.metric_begin = 0;
    cur_.done.clear();
    prev_name_ = {};
    return absl::OkStatus();
  }

  // `# TYPE`, `# HELP` or `# UNIT` (`# EOF` is the caller's).
  absl::Status MetadataLine(std::string_view line) {
    std::string_view s = line;
    std::string_view keyword = StartsWith(s, "# ") ? s.substr(2, 4) : std::string_view();
    if (keyword != "TYPE" && keyword != "HELP" && keyword != "UNIT") {
      return Fail(line_no_, StrCat("unexpected comment \"", line.substr(0, 40),
                                   "\" (OpenMetrics allows only # TYPE, # HELP, # UNIT and # EOF)"));
    }
    s.remove_prefix(2 + keyword.size());
    std::string_view name;
    if (!s.empty() && s[0] == ' ') {
      s.remove_prefix(1);
      name = TakeName(&s, /*label=*/false);
    }
    if (name.empty() || (!s.empty() && s[0] != ' ')) {
      return Fail(line_no_, StrCat("# ", keyword, " needs a valid metric name"));
    }
    if (s.empty()) return Fail(line_no_, StrCat("# ", keyword, " ", name, " needs a space and a value after the name"));
    s.remove_prefix(1);
    // The family: the current one if it has no samples yet, else a new one.
    if (f_ == nullptr || f_->name != name) {
      if (family_by_name_.contains(name)) {
        return Fail(line_no_, StrCat("metric family ", name,
                                     " appears a second time (OpenMetrics families are not interleaved or repeated)"));
      }
      if (auto st = NewFamily(name, MetricType::kUntyped); !st.ok()) return st;
    } else if (!f_->samples.empty()) {
      return Fail(line_no_, StrCat("# ", keyword, " for ", name, " after its samples"));
    }
    if (keyword == "TYPE") return SetType(name, s);
    if (keyword == "HELP") {
      if (cur_.has_help) return Fail(line_no_, StrCat("second # HELP line for ", name));
      cur_.has_help = true;
      f_->help = UnescapeOm(s);
      return absl::OkStatus();
    }
    return SetUnit(name, s);
  }

  absl::Status SetType(std::string_view name, std::string_view s) {
    auto type = OmTypeOf(s);
    if (!type) {
      return Fail(line_no_, StrCat("unknown metric type \"", s, "\" for ", name,
                                   " (counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown)"));
    }
    if (cur_.has_type) return Fail(line_no_, StrCat("second # TYPE line for ", name));
    cur_.has_type = true;
    f_->type = *type;
    if (auto st = CheckUnitType(); !st.ok()) return st;
    // The sample names the type gives the family are its own.
    static constexpr std::string_view kNone[] = {""};
    static constexpr std::string_view kCounter[] = {"_total", "_created"};
    static constexpr std::string_view kHistogram[] = {"_bucket", "_count", "_sum", "_created"};
    static constexpr std::string_view kGaugeHistogram[] = {"_bucket", "_gcount", "_gsum"};
    static constexpr std::string_view kSummary[] = {"_count", "_sum", "_created"};
    static constexpr std::string_view kInfo[] = {"_info"};
    std::span<const std::string_view> suffixes = kNone;
    switch (*type) {
      case MetricType::kCounter:
        suffixes = kCounter;
        break;
      case MetricType::kHistogram:
        suffixes = kHistogram;
        break;
      case MetricType::kGaugeHistogram:
        suffixes = kGaugeHistogram;
        break;
      case MetricType::kSummary:
        suffixes = kSummary;
        break;
      case MetricType::kInfo:
        suffixes = kInfo;
        break;
      default:
        break;
    }
    for (std::string_view suffix : suffixes) {
      if (suffix.empty()) continue;
      if (auto st = Claim(StrCat(name, suffix)); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

  // "MetricFamilies of type StateSets [and Info] MUST have an empty Unit string."
  absl::Status CheckUnitType() {
    if ((f_->type == MetricType::kInfo || f_->type == MetricType::kStateSet) && !f_->unit.empty()) {
      return Fail(line_no_, StrCat(MetricTypeName(f_->type), " ", f_->name, " has unit \"", f_->unit,
                                   "\" (info and stateset metrics have none)"));
    }
    return absl::OkStatus();
  }

  absl::Status SetUnit(std::string_view name, std::string_view unit) {
    if (cur_.has_unit) return Fail(line_no_, StrCat("second # UNIT line for ", name));
    cur_.has_unit = true;
    if (!std::all_of(unit.begin(), unit.end(), IsNameChar)) {
      return Fail(line_no_, StrCat("invalid unit \"", unit, "\" for ", name));
    }
    if (!unit.empty() &&
        !(EndsWith(name, unit) && name.size() > unit.size() && name[name.size() - unit.size() - 1] == '_')) {
      return Fail(line_no_, StrCat("unit \"", unit, "\" is not a suffix of the metric name ", name));
    }
    f_->unit = std::string(unit);
    return CheckUnitType();
  }

  // A sample: its tokens, its family, its point label, its metric.
  absl::Status SampleLine(std::string_view line) {
    Sample sample;
    sample.line = line_no_;
    std::string_view name;
    if (auto st = LexSample(line, &name, &sample); !st.ok()) return st;
    if (f_ == nullptr || name != prev_name_) {
      if (auto st = SetFamily(name); !st.ok()) return st;
    }
    const std::string_view suffix = name.substr(f_->name.size());
    std::string_view skip = PointLabel(*f_, name);
    std::string_view point;
    if (auto st = CheckPointLabel(name, sample, skip, &point); !st.ok()) return st;
    if (auto st = CheckValue(name, suffix, sample, skip, point); !st.ok()) return st;
    bool fresh = false;
    if (auto st = TrackMetric(name, sample, skip, &fresh); !st.ok()) return st;
    // A metric's MetricPoints: its samples with one timestamp (several points of a
    // series come as several samples, in time order). Timestamps are compared as
    // written (in seconds), not as the milliseconds kept.
    if (!fresh && pt_.active && ts_s_ != pt_.ts) {
      if (auto st = EndPoint(); !st.ok()) return st;
    }
    if (!pt_.active) {
      pt_ = Point{};
      pt_.active = true;
      pt_.begin = f_->samples.size();
      pt_.ts = ts_s_;
    }
    // Within a point, a series (name and point label) appears once.
    for (size_t i = pt_.begin; i < f_->samples.size(); ++i) {
      const Sample& o = f_->samples[i];
      if (o.name == name && (skip.empty() || LabelValue(o.labels, skip) == point)) {
        return Fail(line_no_,
                    StrCat("duplicate series ", name, LabelsText(sample.labels, ""), " (first on line ", o.line, ")"));
      }
    }
    if (auto st = AddToPoint(suffix, sample, skip, point); !st.ok()) return st;
    sample.name = std::string(name);
    f_->samples.push_back(std::move(sample));
    return absl::OkStatus();
  }

  // name[{labels}] value [timestamp] [# {labels} value [timestamp]]; `*name_out` is a
  // view into the line.
  absl::Status LexSample(std::string_view s, std::string_view* name_out, Sample* sample) {
    ts_s_.reset();
    std::string_view name = TakeName(&s, /*label=*/false);
    if (name.empty()) return Fail(line_no_, StrCat("invalid metric name at \"", s.substr(0, 40), "\""));
    *name_out = name;
    if (!s.empty() && s[0] == '{') {
      s.remove_prefix(1);
      if (!ParseOmLabels(&s, &sample->labels, &error_)) return Fail(line_no_, error_);
    }
    if (s.empty()) return Fail(line_no_, StrCat("missing value for ", name));
    if (s[0] != ' ') return Fail(line_no_, StrCat("expected a space before the value of ", name));
    s.remove_prefix(1);
    std::string_view value = s.substr(0, s.find(' '));
    s.remove_prefix(value.size());
    if (!ParseValue(value, &sample->value)) {
      return Fail(line_no_, StrCat("invalid value \"", value, "\" for ", name));
    }
    if (s.empty()) return absl::OkStatus();
    s.remove_prefix(1);  // the space
    if (s.empty()) return Fail(line_no_, StrCat("trailing space after the value of ", name));
    if (s[0] != '#') {
      std::string_view ts = s.substr(0, s.find(' '));
      s.remove_prefix(ts.size());
      double seconds;
      if (!ParseOmTimestamp(ts, &seconds)) {
        return Fail(line_no_, StrCat("invalid timestamp \"", ts, "\" for ", name, " (seconds)"));
      }
      int64_t ms;
      if (!SecondsToMs(seconds, &ms)) {
        return Fail(line_no_, StrCat("timestamp ", ts, " of ", name,
                                     " is out of range (64-bit milliseconds reach about 292 million years)"));
      }
      sample->timestamp_ms = ms;
      ts_s_ = seconds;
      if (!s.empty()) {
        s.remove_prefix(1);
        if (s.empty()) return Fail(line_no_, StrCat("trailing space after the timestamp of ", name));
      }
    }
    if (s.empty()) return absl::OkStatus();
    if (!StartsWith(s, "# {")) {
      return Fail(line_no_, StrCat("unexpected text after the ", sample->timestamp_ms ? "timestamp" : "value", " of ",
                                   name, ": \"", s.substr(0, 40), "\""));
    }
    s.remove_prefix(3);
    return LexExemplar(s, name, &sample->exemplar.emplace());
  }

  // An exemplar after its `# {`: labels} value [timestamp].
  absl::Status LexExemplar(std::string_view s, std::string_view name, Exemplar* ex) {
    if (!ParseOmLabels(&s, &ex->labels, &error_)) return Fail(line_no_, StrCat("exemplar: ", error_));
    size_t length = 0;
    for (const auto& [k, v] : ex->labels) length += CodePoints(k) + CodePoints(v);
    if (length > 128) {
      return Fail(line_no_,
                  StrCat("exemplar labels of ", name, " have ", length, " characters; OpenMetrics allows at most 128"));
    }
    if (s.empty() || s[0] != ' ') return Fail(line_no_, StrCat("exemplar of ", name, " needs a value"));
    s.remove_prefix(1);
    std::string_view ev = s.substr(0, s.find(' '));
    s.remove_prefix(ev.size());
    if (!ParseValue(ev, &ex->value)) return Fail(line_no_, StrCat("invalid exemplar value \"", ev, "\" for ", name));
    if (!s.empty()) {
      s.remove_prefix(1);
      double seconds;
      if (s.find(' ') != std::string_view::npos || !ParseOmTimestamp(s, &seconds)) {
        return Fail(line_no_, StrCat("invalid exemplar timestamp \"", s.substr(0, 40), "\" for ", name));
      }
      ex->timestamp_s = seconds;
    }
    return absl::OkStatus();
  }

  // The family of a sample named differently from the previous one: the current family
  // if it has samples of this name, else a new unknown one.
  absl::Status SetFamily(std::string_view name) {
    if (f_ == nullptr || !Accepts(*f_, name)) {
      if (f_ != nullptr && f_->name == name) {
        return Fail(line_no_, StrCat("sample ", name, " of ", MetricTypeName(f_->type), " ", name,
                                     " lacks the suffix its type requires (e.g. _total, _bucket, _info)"));
      }
      if (family_by_name_.contains(name) || family_by_sample_.contains(name)) {
        return Fail(line_no_, StrCat("metric family of ", name,
                                     " appears a second time (OpenMetrics families are not interleaved or repeated)"));
      }
      if (auto st = NewFamily(name, MetricType::kUntyped); !st.ok()) return st;
    }
    auto [it, added] = family_by_sample_.emplace(name, families_.size() - 1);
    if (!added && it->second != families_.size() - 1) {
      return Fail(line_no_, StrCat("sample ", name, " of family ", f_->name, " is also a sample of family ",
                                   families_[it->second].name));
    }
    prev_name_ = name;
    return absl::OkStatus();
  }

  // The point label `skip` (if the type has one) is there and valid; `*point` is its value.
  absl::Status CheckPointLabel(std::string_view name, const Sample& sample, std::string_view skip,
                               std::string_view* point) {
    if (skip.empty()) {
      // "A Histogram's Metric's LabelSet MUST NOT have a "le" label name"; "A Quantile's
      // Metric's LabelSet MUST NOT have "quantile" label name".
      std::string_view reserved = IsHistogram() ? "le" : f_->type == MetricType::kSummary ? "quantile" : "";
      if (!reserved.empty()) {
        for (const auto& [k, v] : sample.labels) {
          if (k == reserved) {
            return Fail(line_no_,
                        StrCat("sample ", name, " of ", MetricTypeName(f_->type), " ", f_->name, " has a \"", reserved,
                               "\" label (only its ", reserved == "le" ? "buckets" : "quantiles", " have one)"));
          }
        }
      }
      return absl::OkStatus();
    }
    bool present = false;
    for (const auto& [k, v] : sample.labels) {
      if (k == skip) present = true, *point = v;
    }
    double d;
    if (skip == "le" && (!present || !ParseValue(*point, &d))) {
      return Fail(line_no_, StrCat("histogram bucket ", name, " needs a numeric \"le\" label"));
    }
    if (skip == "quantile" && (!present || !ParseValue(*point, &d))) {
      return Fail(line_no_, StrCat("summary ", name, " needs a numeric \"quantile\" label"));
    }
    if (f_->type == MetricType::kStateSet && !present) {
      return Fail(line_no_, StrCat("stateset ", name, " needs a \"", skip, "\" label with the state"));
    }
    return absl::OkStatus();
  }

  // The metric of the sample (its labels without the point label): the current one, or
  // a new one (`*fresh`) that must not have been seen before. Within a metric,
  // timestamps go forward (MetricPoints are not interleaved).
  absl::Status TrackMetric(std::string_view name, const Sample& sample, std::string_view skip, bool* fresh) {
    uint64_t hash = MetricHash(sample.labels, skip);
    bool same = !f_->samples.empty() && hash == cur_.metric_hash &&
                SameMetric(f_->samples[cur_.metric_begin].labels, cur_.metric_skip, sample.labels, skip);
    if (same) {
      *fresh = false;
      if (ts_s_.has_value() != cur_.timed) {
        return Fail(line_no_, StrCat("metric ", f_->name, LabelsText(sample.labels, skip),
                                     " has samples with and without a timestamp (line ",
                                     f_->samples[cur_.metric_begin].line, ")"));
      }
      if (ts_s_ && pt_.active && pt_.ts && *ts_s_ < *pt_.ts) {
        return Fail(line_no_,
                    StrCat("the timestamp of ", name, " goes back in time (line ", f_->samples[pt_.begin].line,
                           " has a later one): a metric's points come in time order, not interleaved"));
      }
      return absl::OkStatus();
    }
    if (!f_->samples.empty()) {
      if (auto st = EndMetric(); !st.ok()) return st;
      cur_.done.insert(cur_.metric_hash);
    }
    if (cur_.done.contains(hash)) {
      for (const Sample& o : f_->samples) {
        if (SameMetric(o.labels, PointLabel(*f_, o.name), sample.labels, skip)) {
          return Fail(line_no_, StrCat("metric ", f_->name, LabelsText(sample.labels, skip), " continues after line ",
                                       o.line, " after other metrics (OpenMetrics metrics are not interleaved)"));
        }
      }
    }
    cur_.metric_begin = f_->samples.size();
    cur_.metric_hash = hash;
    cur_.timed = ts_s_.has_value();
    cur_.metric_skip = skip;
    *fresh = true;
    return absl::OkStatus();
  }

  const std::string_view text_;
  std::vector<Family> families_;
  // Names are views into `text_`. A family, or a sample name, seen before the current
  // family is closed for good: OpenMetrics families are not interleaved or repeated.
  absl::flat_hash_map<std::string_view, size_t> family_by_name_;
  absl::flat_hash_map<std::string_view, size_t> family_by_sample_;
  // The current family and, in it, the current metric (label set without its point
  // label): metrics are not interleaved either.
  struct Current {
    bool has_type = false, has_help = false, has_unit = false;
    size_t metric_begin = 0;  // index of the metric's first sample
    uint64_t metric_hash = 0;
    std::string_view metric_skip;
    bool timed = false;                  // its samples have timestamps (all or none)
    absl::flat_hash_set<uint64_t> done;  // hashes of the family's finished metrics
  } cur_;
  std::optional<double> ts_s_;  // the current sample's timestamp, in seconds as written
  // The current MetricPoint of the current metric.
  struct Point {
    bool active = false;
    size_t begin = 0;          // index of its first sample
    std::optional<double> ts;  // seconds
    // Histograms and gaugehistograms: the buckets so far, count and sum.
    bool has_bucket = false, has_inf = false, negative_bucket = false;
    double last_le = 0, last_bucket = 0, inf_value = 0;
    std::optional<double> count, sum;
    int count_line = 0, sum_line = 0;
  } pt_;
  // Every family name and the sample names its type gives it (`x_total` of counter x):
  // a name belongs to one family.
  absl::flat_hash_map<std::string, size_t> claimed_;
  Family* f_ = nullptr;
  std::string_view prev_name_;  // of the previous sample, in the current family
  int line_no_ = 0;
  bool eof_ = false;
  std::string error_;
};

}  // namespace

absl::StatusOr<std::vector<Family>> ParseOpenMetrics(std::string_view text) { return OpenMetricsParser(text).Run(); }

}  // namespace outrigger::receivers::prometheus
