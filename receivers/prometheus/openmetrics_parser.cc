// OpenMetrics 1.0 text: ParseOpenMetrics (parser.h).

#include <algorithm>
#include <cmath>
#include <cstdint>

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
  // Checks of a finished metric.
  absl::Status EndMetric() {
    if (f_ == nullptr || f_->samples.size() <= cur_.metric_begin) return absl::OkStatus();
    const Sample& first = f_->samples[cur_.metric_begin];
    if ((f_->type == MetricType::kHistogram || f_->type == MetricType::kGaugeHistogram) && !cur_.has_inf) {
      return Fail(first.line, StrCat(MetricTypeName(f_->type), " ", f_->name,
                                     LabelsText(first.labels, cur_.metric_skip), " has no +Inf bucket"));
    }
    return absl::OkStatus();
  }

  absl::Status NewFamily(std::string_view name, MetricType type) {
    if (auto st = EndMetric(); !st.ok()) return st;
    family_by_name_.emplace(name, families_.size());
    families_.push_back(Family{std::string(name), type, "", {}, ""});
    f_ = &families_.back();
    cur_.has_type = cur_.has_help = cur_.has_unit = false;
    cur_.metric_begin = 0;
    cur_.has_inf = false;
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
    return absl::OkStatus();
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
    std::string_view skip = PointLabel(*f_, name);
    std::string_view point;
    if (auto st = CheckPointLabel(name, sample, skip, &point); !st.ok()) return st;
    if (auto st = TrackMetric(name, sample, skip, point); !st.ok()) return st;
    if (skip == "le") {
      double le = 0;
      ParseValue(point, &le);
      cur_.has_inf |= std::isinf(le) && le > 0;
    }
    sample.name = std::string(name);
    f_->samples.push_back(std::move(sample));
    return absl::OkStatus();
  }

  // name[{labels}] value [timestamp] [# {labels} value [timestamp]]; `*name_out` is a
  // view into the line.
  absl::Status LexSample(std::string_view s, std::string_view* name_out, Sample* sample) {
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
      sample->timestamp_ms = std::llround(seconds * 1000);
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
    if (skip.empty()) return absl::OkStatus();
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
  // a new one that must not have been seen before. Within a metric, a series (name and
  // point label) appears once.
  absl::Status TrackMetric(std::string_view name, const Sample& sample, std::string_view skip, std::string_view point) {
    uint64_t hash = MetricHash(sample.labels, skip);
    bool same = !f_->samples.empty() && hash == cur_.metric_hash &&
                SameMetric(f_->samples[cur_.metric_begin].labels, cur_.metric_skip, sample.labels, skip);
    if (same) {
      for (size_t i = cur_.metric_begin; i < f_->samples.size(); ++i) {
        const Sample& o = f_->samples[i];
        if (o.name == name && (skip.empty() || LabelValue(o.labels, skip) == point)) {
          return Fail(line_no_, StrCat("duplicate series ", name, LabelsText(sample.labels, ""), " (first on line ",
                                       o.line, ")"));
        }
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
    cur_.metric_skip = skip;
    cur_.has_inf = false;
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
    bool has_inf = false;
    absl::flat_hash_set<uint64_t> done;  // hashes of the family's finished metrics
  } cur_;
  Family* f_ = nullptr;
  std::string_view prev_name_;  // of the previous sample, in the current family
  int line_no_ = 0;
  bool eof_ = false;
  std::string error_;
};

}  // namespace

absl::StatusOr<std::vector<Family>> ParseOpenMetrics(std::string_view text) { return OpenMetricsParser(text).Run(); }

}  // namespace outrigger::receivers::prometheus
