#include "exporters/prometheus/accumulator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "collector/prometheus/labels.h"
#include "collector/prometheus/naming.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "spdlog/spdlog.h"

namespace outrigger::exporters::prometheus {

namespace mpb = opentelemetry::proto::metrics::v1;
namespace cpb = opentelemetry::proto::common::v1;
using Attributes = google::protobuf::RepeatedPtrField<cpb::KeyValue>;
using prom::AppendDouble;
using prom::DoubleString;
using prom::IdentityOf;
using prom::KeyValues;
using prom::LabelMap;
using prom::Labels;
using prom::MergeAttributes;
using prom::NameKind;
using prom::ResourceIdentity;

namespace {

constexpr uint32_t kNoRecordedValue = 1;  // DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
// Buckets kept per sign of an exponential histogram; merging deltas past this lowers
// the scale (as an SDK does).
constexpr size_t kMaxExpBuckets = 320;
constexpr size_t kMaxWarned = 1000;

}  // namespace

struct ExpBuckets {
  int32_t offset = 0;
  std::vector<uint64_t> counts;
};

struct ExpState {
  int32_t scale = 0;
  double zero_threshold = 0;
  uint64_t zero_count = 0;
  ExpBuckets pos, neg;
};

struct Accumulator::Series {
  uint64_t start_ns = 0;
  uint64_t time_ns = 0;
  absl::Time updated;
  double value = 0;  // counter, gauge
  // Histogram: explicit bounds and per-bucket (not cumulative) counts, bounds + 1 of
  // them or none; or an exponential histogram.
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  std::unique_ptr<ExpState> exp;
  bool has_sum = false;
  double sum = 0;
  uint64_t count = 0;
  std::vector<std::pair<double, double>> quantiles;  // summary
};

struct Accumulator::Family {
  MetricType type;
  std::string help;
  std::map<std::string, Series, std::less<>> series;  // by rendered labels
};

// The labels every data point of one resource and scope gets.
struct Accumulator::Scope {
  std::vector<std::pair<std::string, std::string>> resource_labels;  // only where no attribute has the name
  std::vector<std::pair<std::string, std::string>> overrides;        // scope, job, instance, const labels
};

namespace {

// ---- Text helpers ----------------------------------------------------------------

// `le` and `quantile` label values: OpenMetrics wants them canonical ("1.0", not "1").
std::string BoundString(double v, Format f) {
  std::string s = DoubleString(v);
  if (f == Format::kOpenMetrics && s.find_first_of(".eIN") == std::string::npos) s.append(".0");
  return s;
}

void AppendEscapedLabelValue(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// A metric or label name where a name stands: as it is when legacy, else quoted (the
// text and OpenMetrics formats' UTF-8 extension).
void AppendQuotedName(std::string_view name, std::string* out) {
  out->push_back('"');
  AppendEscapedLabelValue(name, out);
  out->push_back('"');
}

void AppendLabelName(std::string_view name, std::string* out) {
  if (prom::IsLegacyLabelName(name)) {
    out->append(name);
  } else {
    AppendQuotedName(name, out);
  }
}

// Unescapes a quoted string of our own rendering starting after its opening quote at
// *i; *i ends after the closing quote.
std::string ReadQuoted(std::string_view s, size_t* i) {
  std::string out;
  while (*i < s.size() && s[*i] != '"') {
    if (s[*i] == '\\' && *i + 1 < s.size()) {
      ++*i;
      out.push_back(s[*i] == 'n' ? '\n' : s[*i]);
    } else {
      out.push_back(s[*i]);
    }
    ++*i;
  }
  ++*i;
  return out;
}

// A series key (RenderLabels' output) with its label names escaped for `e`.
std::string EscapeLabelKey(std::string_view key, Escaping e) {
  std::string out;
  size_t i = 0;
  while (i < key.size()) {
    std::string name;
    if (key[i] == '"') {
      ++i;
      name = ReadQuoted(key, &i);
    } else {
      size_t eq = key.find('=', i);
      if (eq == std::string_view::npos) break;
      name = std::string(key.substr(i, eq - i));
      i = eq;
    }
    // i is at '='; the value runs to its closing quote.
    const size_t value_start = i;
    i += 2;  // '=' '"'
    while (i < key.size() && key[i] != '"') i += key[i] == '\\' ? 2 : 1;
    ++i;
    if (!out.empty()) out.push_back(',');
    AppendLabelName(prom::EscapeName(name, e, true), &out);
    out.append(key.substr(value_start, i - value_start));
    if (i < key.size() && key[i] == ',') ++i;
  }
  return out;
}

void AppendEscapedHelp(std::string_view v, Format f, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && f == Format::kOpenMetrics) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// name="value",... sorted by name; empty values are left out (Prometheus treats an
// empty label as absent).
std::string RenderLabels(const LabelMap& m) {
  std::string s;
  for (const auto& [k, v] : m) {
    if (v.empty()) continue;
    if (!s.empty()) s.push_back(',');
    AppendLabelName(k, &s);
    s.append("=\"");
    AppendEscapedLabelValue(v, &s);
    s.push_back('"');
  }
  return s;
}

std::string SeriesKey(const Attributes& attrs, const std::vector<std::pair<std::string, std::string>>& resource,
                      const std::vector<std::pair<std::string, std::string>>& overrides, std::string_view reserved,
                      prom::TranslationStrategy strategy) {
  LabelMap m;
  MergeAttributes(attrs, &m, strategy);
  for (const auto& [k, v] : resource) m.emplace(k, v);
  for (const auto& [k, v] : overrides) m[k] = v;
  if (!reserved.empty()) {
    if (auto it = m.find(reserved); it != m.end()) m.erase(it);
  }
  return RenderLabels(m);
}

// ---- Exponential histograms ------------------------------------------------------

void Downscale(ExpBuckets& b, int by) {
  if (b.counts.empty() || by <= 0) return;
  by = std::min(by, 40);
  const int64_t first = b.offset;
  const int64_t last = first + static_cast<int64_t>(b.counts.size()) - 1;
  const int64_t lo = first >> by, hi = last >> by;
  std::vector<uint64_t> out(static_cast<size_t>(hi - lo + 1));
  for (size_t i = 0; i < b.counts.size(); ++i) {
    out[static_cast<size_t>(((first + static_cast<int64_t>(i)) >> by) - lo)] += b.counts[i];
  }
  b.offset = static_cast<int32_t>(lo);
  b.counts = std::move(out);
}

void AddBuckets(ExpBuckets& into, const ExpBuckets& from) {
  if (from.counts.empty()) return;
  if (into.counts.empty()) {
    into = from;
    return;
  }
  const int64_t lo = std::min<int64_t>(into.offset, from.offset);
  const int64_t hi = std::max<int64_t>(into.offset + static_cast<int64_t>(into.counts.size()),
                                       from.offset + static_cast<int64_t>(from.counts.size()));
  std::vector<uint64_t> out(static_cast<size_t>(hi - lo));
  for (size_t i = 0; i < into.counts.size(); ++i) out[static_cast<size_t>(into.offset - lo) + i] += into.counts[i];
  for (size_t i = 0; i < from.counts.size(); ++i) out[static_cast<size_t>(from.offset - lo) + i] += from.counts[i];
  into.offset = static_cast<int32_t>(lo);
  into.counts = std::move(out);
}

// Keeps at most kMaxExpBuckets per sign by lowering the scale.
void Fit(ExpState& e) {
  for (int i = 0; i < 64 && (e.pos.counts.size() > kMaxExpBuckets || e.neg.counts.size() > kMaxExpBuckets); ++i) {
    Downscale(e.pos, 1);
    Downscale(e.neg, 1);
    --e.scale;
  }
}

void Merge(ExpState& into, ExpState from) {
  if (from.scale < into.scale) {
    Downscale(into.pos, into.scale - from.scale);
    Downscale(into.neg, into.scale - from.scale);
    into.scale = from.scale;
  } else if (from.scale > into.scale) {
    Downscale(from.pos, from.scale - into.scale);
    Downscale(from.neg, from.scale - into.scale);
  }
  AddBuckets(into.pos, from.pos);
  AddBuckets(into.neg, from.neg);
  into.zero_count += from.zero_count;
  into.zero_threshold = std::max(into.zero_threshold, from.zero_threshold);
  Fit(into);
}

// The upper bound of bucket `index`: base^(index+1), base = 2^(2^-scale).
double UpperBound(int64_t index, int32_t scale) {
  const int64_t e = index + 1;
  if (scale <= 0) return std::ldexp(1.0, static_cast<int>(std::clamp<int64_t>(e << std::min(-scale, 20), -2000, 2000)));
  const int64_t q = e >> scale;  // floor(e / 2^scale)
  const int64_t r = e - (q << scale);
  return std::ldexp(std::exp2(static_cast<double>(r) / static_cast<double>(int64_t{1} << scale)),
                    static_cast<int>(std::clamp<int64_t>(q, -2000, 2000)));
}

// Cumulative (le, count) pairs, increasing in le, without +Inf.
void ExpToCumulative(const ExpState& e, std::vector<std::pair<double, uint64_t>>* out) {
  uint64_t cum = 0;
  auto push = [&](double le) {
    if (!out->empty() && le <= out->back().first) {
      out->back().second = cum;
    } else {
      out->emplace_back(le, cum);
    }
  };
  // Negative bucket i holds values in [-base^(i+1), -base^i): counted at le = -base^i.
  for (size_t k = e.neg.counts.size(); k-- > 0;) {
    cum += e.neg.counts[k];
    push(-UpperBound(static_cast<int64_t>(e.neg.offset) + static_cast<int64_t>(k) - 1, e.scale));
  }
  if (e.zero_count > 0 || !e.neg.counts.empty()) {
    cum += e.zero_count;
    push(e.zero_threshold);
  }
  for (size_t k = 0; k < e.pos.counts.size(); ++k) {
    cum += e.pos.counts[k];
    push(UpperBound(static_cast<int64_t>(e.pos.offset) + static_cast<int64_t>(k), e.scale));
  }
}

ExpBuckets FromProto(const mpb::ExponentialHistogramDataPoint::Buckets& b) {
  ExpBuckets out;
  out.offset = b.offset();
  out.counts.assign(b.bucket_counts().begin(), b.bucket_counts().end());
  return out;
}

// ---- Rendering -------------------------------------------------------------------

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
  }
  return "untyped";
}

struct Writer {
  std::string* out;
  Format format;
  bool timestamps;

  void Sample(std::string_view name, std::string_view suffix, std::string_view labels, std::string_view extra_name,
              std::string_view extra_value, double value, uint64_t time_ns) {
    const bool quoted = !prom::IsLegacyMetricName(name);
    if (quoted) {
      // {"name",labels}: the name is the first item between the braces.
      out->append("{\"");
      AppendEscapedLabelValue(name, out);
      AppendEscapedLabelValue(suffix, out);
      out->push_back('"');
    } else {
      out->append(name);
      out->append(suffix);
    }
    if (quoted || !labels.empty() || !extra_name.empty()) {
      if (!quoted) out->push_back('{');
      if (quoted && (!labels.empty() || !extra_name.empty())) out->push_back(',');
      out->append(labels);
      if (!extra_name.empty()) {
        if (!labels.empty()) out->push_back(',');
        out->append(extra_name);
        out->append("=\"");
        out->append(extra_value);
        out->push_back('"');
      }
      out->push_back('}');
    }
    out->push_back(' ');
    AppendDouble(value, out);
    if (timestamps && time_ns != 0) {
      char buf[48];
      if (format == Format::kOpenMetrics) {
        std::snprintf(buf, sizeof buf, " %llu.%03llu", static_cast<unsigned long long>(time_ns / 1000000000),
                      static_cast<unsigned long long>((time_ns / 1000000) % 1000));
      } else {
        std::snprintf(buf, sizeof buf, " %llu", static_cast<unsigned long long>(time_ns / 1000000));
      }
      out->append(buf);
    }
    out->push_back('\n');
  }
};

}  // namespace

// ---- Accumulator -------------------------------------------------------------------

Accumulator::Accumulator(const Config& cfg, std::shared_ptr<spdlog::logger> logger, Clock clock)
    : cfg_(cfg),
      strategy_(cfg.Strategy()),
      namespace_(prom::NamespaceFor(strategy_, cfg.metric_namespace)),
      logger_(std::move(logger)),
      clock_(std::move(clock)) {
  // Under an escaping strategy every name is legacy, const labels too ("another label" ->
  // "another_label", as Prometheus's client escapes it).
  for (const auto& [k, v] : cfg_.const_labels) {
    const_labels_.emplace_back(prom::AllowsUtf8(strategy_) ? k : prom::EscapeName(k, Escaping::kUnderscores, true), v);
  }
}

Accumulator::~Accumulator() = default;

void Accumulator::WarnOnce(const std::string& name, const std::string& message) {
  if (!logger_ || warned_.size() >= kMaxWarned || !warned_.insert(name).second) return;
  logger_->warn("{}", message);
}

Accumulator::Family* Accumulator::FamilyFor(const std::string& name, MetricType type, const std::string& help) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, Family{type, help, {}}).first;
  } else if (it->second.type != type) {
    if (!it->second.series.empty()) {
      WarnOnce(name,
               StrCat("metric \"", name, "\" is a ", TypeName(it->second.type), "; data points that would make it a ",
                      TypeName(type), " are dropped while it has series (logged once per name)"));
      return nullptr;
    }
    it->second.type = type;
    it->second.help = help;
  }
  if (it->second.help.empty()) it->second.help = help;
  return &it->second;
}

Accumulator::AddResult Accumulator::Add(const pdata::Metrics& data) {
  AddResult res;
  // Received bytes are decoded on first read: do that before taking the lock, so a
  // scrape does not wait for it.
  data.ForEachRequest([](const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest&) {});
  const absl::Time now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  data.ForEachRequest([&](const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& req) {
    for (const auto& rm : req.resource_metrics()) {
      // job and instance from service.*; the other attributes go to target_info.
      ResourceIdentity rid = IdentityOf(rm.resource());
      const Labels& identity = rid.labels;
      const KeyValues& other = rid.other;
      Scope scope;
      if (cfg_.ResourceLabelsWanted()) {
        KeyValues wanted;
        for (const auto& kv : rm.resource().attributes()) {
          if (cfg_.ResourceLabelWanted(kv.key())) *wanted.Add() = kv;
        }
        LabelMap all;
        MergeAttributes(wanted, &all, strategy_);
        scope.resource_labels.assign(all.begin(), all.end());
      }
      if (!other.empty()) {
        std::vector<std::pair<std::string, std::string>> overrides = identity;
        overrides.insert(overrides.end(), const_labels_.begin(), const_labels_.end());
        std::string key = SeriesKey(other, {}, overrides, "", strategy_);
        std::string name = prom::MetricNameFor(strategy_, "target_info", "", NameKind::kGauge, namespace_);
        if (Family* f = FamilyFor(name, MetricType::kGauge, "Target metadata")) {
          Series& s = f->series[key];
          s.value = 1;
          s.updated = now;
        }
      }
      for (const auto& sm : rm.scope_metrics()) {
        scope.overrides.clear();
        if (!cfg_.without_scope_info) {
          prom::AppendScopeInfoLabels(sm.scope(), sm.schema_url(), strategy_, &scope.overrides);
        }
        scope.overrides.insert(scope.overrides.end(), identity.begin(), identity.end());
        scope.overrides.insert(scope.overrides.end(), const_labels_.begin(), const_labels_.end());
        for (const auto& m : sm.metrics()) AddMetric(m, scope, now, &res);
      }
    }
  });
  if (now - last_sweep_ >= std::min(cfg_.metric_expiration, absl::Minutes(1))) Sweep(now);
  return res;
}

// Adding the points of one metric, with mu_ held: one method per OTLP metric type.
struct Accumulator::MetricAdder {
  Accumulator& acc;
  const mpb::Metric& m;
  const Scope& sc;
  const absl::Time now;
  AddResult* res;
  const prom::TranslationStrategy strategy = acc.strategy_;
  const std::string& ns = acc.namespace_;

  std::string Name(NameKind kind) const { return prom::MetricNameFor(strategy, m.name(), m.unit(), kind, ns); }

  // The series a point updates; null if the point was handled otherwise (staleness
  // marker, older than what is stored). `*fresh`: the series is new.
  template <typename P>
  Series* SeriesFor(Family* f, const P& p, std::string_view reserved, bool ordered, bool* fresh) {
    std::string key = SeriesKey(p.attributes(), sc.resource_labels, sc.overrides, reserved, strategy);
    ++res->taken;
    if ((p.flags() & kNoRecordedValue) != 0) {
      if (auto it = f->series.find(key); it != f->series.end()) f->series.erase(it);
      return nullptr;
    }
    auto [it, inserted] = f->series.try_emplace(std::move(key));
    *fresh = inserted;
    Series& s = it->second;
    if (ordered && !inserted && p.time_unix_nano() < s.time_ns) return nullptr;  // keep the newer one
    s.updated = now;
    return &s;
  }

  void DropAll(int n, const std::string& why) {
    res->dropped += static_cast<size_t>(n);
    acc.WarnOnce(StrCat(m.name(), "\n", why),
                 StrCat("metric \"", m.name(), "\": ", why, "; its data points are dropped"));
  }

  // The family of a (exponential) histogram; null when its points were dropped
  // (unspecified temporality, or a name clash).
  template <typename H>
  Family* HistogramFamily(const H& h, const char* what) {
    if (h.aggregation_temporality() == mpb::AGGREGATION_TEMPORALITY_UNSPECIFIED) {
      DropAll(h.data_points_size(), StrCat(what, " with unspecified aggregation temporality"));
      return nullptr;
    }
    Family* f = acc.FamilyFor(Name(NameKind::kOther), MetricType::kHistogram, m.description());
    if (f == nullptr) res->dropped += static_cast<size_t>(h.data_points_size());
    return f;
  }

  // Gauges and sums.
  void Numbers() {
    const bool is_sum = m.data_case() == mpb::Metric::kSum;
    const auto& points = is_sum ? m.sum().data_points() : m.gauge().data_points();
    bool delta = false, monotonic = false;
    if (is_sum) {
      if (m.sum().aggregation_temporality() == mpb::AGGREGATION_TEMPORALITY_UNSPECIFIED) {
        DropAll(points.size(), "sum with unspecified aggregation temporality");
        return;
      }
      delta = m.sum().aggregation_temporality() == mpb::AGGREGATION_TEMPORALITY_DELTA;
      monotonic = m.sum().is_monotonic();
    }
    const NameKind kind = !is_sum ? NameKind::kGauge : monotonic ? NameKind::kCounter : NameKind::kOther;
    Family* f = acc.FamilyFor(Name(kind), monotonic ? MetricType::kCounter : MetricType::kGauge, m.description());
    if (f == nullptr) {
      res->dropped += static_cast<size_t>(points.size());
      return;
    }
    for (const auto& p : points) {
      double v;
      if (p.value_case() == mpb::NumberDataPoint::kAsInt) {
        v = static_cast<double>(p.as_int());
      } else if (p.value_case() == mpb::NumberDataPoint::kAsDouble) {
        v = p.as_double();
      } else if ((p.flags() & kNoRecordedValue) != 0) {
        v = 0;
      } else {
        ++res->dropped;
        continue;
      }
      bool fresh = false;
      Series* s = SeriesFor(f, p, "", !delta, &fresh);
      if (s == nullptr) continue;
      if (delta && !fresh) {
        s->value += v;
        s->time_ns = std::max<uint64_t>(s->time_ns, p.time_unix_nano());
      } else {
        s->value = v;
        s->start_ns = p.start_time_unix_nano();
        s->time_ns = p.time_unix_nano();
      }
    }
  }

  void Histogram() {
    const auto& h = m.histogram();
    const bool delta = h.aggregation_temporality() == mpb::AGGREGATION_TEMPORALITY_DELTA;
    Family* f = HistogramFamily(h, "histogram");
    if (f == nullptr) return;
    for (const auto& p : h.data_points()) {
      if (p.bucket_counts_size() != 0 && p.bucket_counts_size() != p.explicit_bounds_size() + 1) {
        DropAll(1, "histogram point with bucket_counts not one more than explicit_bounds");
        continue;
      }
      bool fresh = false;
      Series* s = SeriesFor(f, p, "le", !delta, &fresh);
      if (s == nullptr) continue;
      const bool same_layout =
          !fresh && !s->exp && s->buckets.size() == static_cast<size_t>(p.bucket_counts_size()) &&
          std::equal(s->bounds.begin(), s->bounds.end(), p.explicit_bounds().begin(), p.explicit_bounds().end());
      if (delta && same_layout) {
        for (size_t i = 0; i < s->buckets.size(); ++i) s->buckets[i] += p.bucket_counts(static_cast<int>(i));
        s->count += p.count();
        s->sum += p.sum();
        s->has_sum = s->has_sum && p.has_sum();
        s->time_ns = std::max<uint64_t>(s->time_ns, p.time_unix_nano());
      } else {
        // New, cumulative, or the buckets changed (a delta series restarts from it).
        s->exp.reset();
        s->bounds.assign(p.explicit_bounds().begin(), p.explicit_bounds().end());
        s->buckets.assign(p.bucket_counts().begin(), p.bucket_counts().end());
        s->count = p.count();
        s->sum = p.sum();
        s->has_sum = p.has_sum();
        s->start_ns = p.start_time_unix_nano();
        s->time_ns = p.time_unix_nano();
      }
    }
  }

  void ExponentialHistogram() {
    const auto& h = m.exponential_histogram();
    const bool delta = h.aggregation_temporality() == mpb::AGGREGATION_TEMPORALITY_DELTA;
    Family* f = HistogramFamily(h, "exponential histogram");
    if (f == nullptr) return;
    for (const auto& p : h.data_points()) {
      if (p.scale() < -10 || p.scale() > 20) {
        DropAll(1, "exponential histogram point with a scale outside [-10, 20]");
        continue;
      }
      bool fresh = false;
      Series* s = SeriesFor(f, p, "le", !delta, &fresh);
      if (s == nullptr) continue;
      ExpState in;
      in.scale = p.scale();
      in.zero_threshold = p.zero_threshold();
      in.zero_count = p.zero_count();
      in.pos = FromProto(p.positive());
      in.neg = FromProto(p.negative());
      if (delta && !fresh && s->exp) {
        Merge(*s->exp, std::move(in));
        s->count += p.count();
        s->sum += p.sum();
        s->has_sum = s->has_sum && p.has_sum();
        s->time_ns = std::max<uint64_t>(s->time_ns, p.time_unix_nano());
      } else {
        Fit(in);
        s->exp = std::make_unique<ExpState>(std::move(in));
        s->bounds.clear();
        s->buckets.clear();
        s->count = p.count();
        s->sum = p.sum();
        s->has_sum = p.has_sum();
        s->start_ns = p.start_time_unix_nano();
        s->time_ns = p.time_unix_nano();
      }
    }
  }

  void Summary() {
    const auto& sm = m.summary();
    Family* f = acc.FamilyFor(Name(NameKind::kOther), MetricType::kSummary, m.description());
    if (f == nullptr) {
      res->dropped += static_cast<size_t>(sm.data_points_size());
      return;
    }
    for (const auto& p : sm.data_points()) {
      bool fresh = false;
      Series* s = SeriesFor(f, p, "quantile", true, &fresh);
      if (s == nullptr) continue;
      s->quantiles.clear();
      for (const auto& q : p.quantile_values()) s->quantiles.emplace_back(q.quantile(), q.value());
      s->count = p.count();
      s->sum = p.sum();
      s->has_sum = true;
      s->start_ns = p.start_time_unix_nano();
      s->time_ns = p.time_unix_nano();
    }
  }
};

void Accumulator::AddMetric(const mpb::Metric& m, const Scope& sc, absl::Time now, AddResult* res) {
  MetricAdder add{*this, m, sc, now, res};
  switch (m.data_case()) {
    case mpb::Metric::kGauge:
    case mpb::Metric::kSum:
      return add.Numbers();
    case mpb::Metric::kHistogram:
      return add.Histogram();
    case mpb::Metric::kExponentialHistogram:
      return add.ExponentialHistogram();
    case mpb::Metric::kSummary:
      return add.Summary();
    default:
      return;
  }
}

void Accumulator::Sweep(absl::Time now) {
  last_sweep_ = now;
  for (auto fit = families_.begin(); fit != families_.end();) {
    auto& series = fit->second.series;
    for (auto it = series.begin(); it != series.end();) {
      if (now - it->second.updated >= cfg_.metric_expiration) {
        it = series.erase(it);
      } else {
        ++it;
      }
    }
    if (series.empty()) {
      fit = families_.erase(fit);
    } else {
      ++fit;
    }
  }
}

size_t Accumulator::SeriesCount() {
  std::lock_guard<std::mutex> lock(mu_);
  Sweep(clock_());
  size_t n = 0;
  for (const auto& [name, f] : families_) n += f.series.size();
  return n;
}

std::string Accumulator::Render(Format format, Escaping escaping) {
  const absl::Time now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  Sweep(now);
  std::string out;
  out.reserve(last_render_size_ + last_render_size_ / 8 + 64);
  Writer w{&out, format, cfg_.send_timestamps};
  std::vector<std::pair<double, uint64_t>> cumulative;
  // Names are stored as the strategy makes them: legacy ones need rewriting only for
  // "dots" (which doubles '_'), UTF-8 ones for anything but allow-utf-8.
  const bool rewrite = escaping == Escaping::kDots || (prom::AllowsUtf8(strategy_) && escaping != Escaping::kAllowUtf8);
  std::set<std::string, std::less<>> written;  // escaped family names, when rewriting
  std::string escaped_name, escaped_labels;
  for (const auto& [stored_name, f] : families_) {
    std::string_view name = stored_name;
    if (rewrite) {
      escaped_name = prom::EscapeName(stored_name, escaping, false);
      if (!written.insert(escaped_name).second) {
        WarnOnce(StrCat(stored_name, "\nescaped"),
                 StrCat("metric \"", stored_name, "\" escapes (", prom::EscapingName(escaping), ") to \"", escaped_name,
                        "\", which another metric already has: left out of such scrapes (logged once per name)"));
        continue;
      }
      name = escaped_name;
    }
    const bool quoted = !prom::IsLegacyMetricName(name);
    // OpenMetrics names a counter family without "_total" and its sample with it.
    std::string_view family = name;
    std::string_view sample = name;
    std::string with_total;
    if (format == Format::kOpenMetrics && f.type == MetricType::kCounter) {
      if (family.size() > 6 && family.substr(family.size() - 6) == "_total") {
        family.remove_suffix(6);
      } else {
        with_total = StrCat(name, "_total");
        sample = with_total;
      }
    }
    auto append_family = [&] {
      if (quoted) {
        AppendQuotedName(family, &out);
      } else {
        out.append(family);
      }
    };
    if (!f.help.empty()) {
      out.append("# HELP ");
      append_family();
      out.push_back(' ');
      AppendEscapedHelp(f.help, format, &out);
      out.push_back('\n');
    }
    out.append("# TYPE ");
    append_family();
    out.append(" ").append(TypeName(f.type)).push_back('\n');
    for (const auto& [stored_labels, s] : f.series) {
      std::string_view labels = stored_labels;
      if (rewrite) {
        escaped_labels = EscapeLabelKey(stored_labels, escaping);
        labels = escaped_labels;
      }
      switch (f.type) {
        case MetricType::kCounter:
        case MetricType::kGauge:
          w.Sample(sample, "", labels, "", "", s.value, s.time_ns);
          break;
        case MetricType::kHistogram: {
          cumulative.clear();
          if (s.exp) {
            ExpToCumulative(*s.exp, &cumulative);
          } else if (!s.buckets.empty()) {
            uint64_t cum = 0;
            for (size_t i = 0; i < s.bounds.size(); ++i) {
              cum += s.buckets[i];
              cumulative.emplace_back(s.bounds[i], cum);
            }
          }
          for (const auto& [le, c] : cumulative) {
            if (std::isinf(le) && le > 0) continue;  // +Inf comes last, from the count
            w.Sample(name, "_bucket", labels, "le", BoundString(le, format), static_cast<double>(c), s.time_ns);
          }
          w.Sample(name, "_bucket", labels, "le", "+Inf", static_cast<double>(s.count), s.time_ns);
          if (s.has_sum) w.Sample(name, "_sum", labels, "", "", s.sum, s.time_ns);
          w.Sample(name, "_count", labels, "", "", static_cast<double>(s.count), s.time_ns);
          break;
        }
        case MetricType::kSummary:
          for (const auto& [q, v] : s.quantiles) {
            w.Sample(name, "", labels, "quantile", BoundString(q, format), v, s.time_ns);
          }
          w.Sample(name, "_sum", labels, "", "", s.sum, s.time_ns);
          w.Sample(name, "_count", labels, "", "", static_cast<double>(s.count), s.time_ns);
          break;
      }
    }
  }
  if (format == Format::kOpenMetrics) out.append("# EOF\n");
  last_render_size_ = out.size();
  return out;
}

// ---- Content negotiation -----------------------------------------------------------

bool AcceptsOpenMetrics(std::string_view accept) { return Negotiate(accept).open_metrics; }

Negotiation Negotiate(std::string_view accept) {
  double om = -1, text = -1;
  std::optional<Escaping> om_escaping, text_escaping;
  bool text_v1 = false;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view part = accept.substr(pos, comma - pos);
    pos = comma + 1;
    // media-type *( ";" param )
    std::string media;
    double q = 1;
    std::string version;
    std::optional<Escaping> escaping;
    size_t p = 0;
    bool first = true;
    while (p <= part.size()) {
      size_t semi = part.find(';', p);
      if (semi == std::string_view::npos) semi = part.size();
      std::string tok = absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(part.substr(p, semi - p))));
      p = semi + 1;
      if (first) {
        media = tok;
        first = false;
      } else if (tok.rfind("q=", 0) == 0) {
        if (!absl::SimpleAtod(tok.substr(2), &q)) q = 0;
      } else if (tok.rfind("version=", 0) == 0) {
        version = tok.substr(8);
      } else if (tok.rfind("escaping=", 0) == 0) {
        escaping = prom::ParseEscaping(tok.substr(9));
      }
    }
    // The first range of the highest q wins, with its escaping.
    if (media == "application/openmetrics-text") {
      if ((version.empty() || version == "1.0.0" || version == "0.0.1") && q > om) {
        om = q;
        om_escaping = escaping;
      }
    } else if (media == "text/plain" || media == "*/*" || media == "text/*") {
      if (q > text) {
        text = q;
        text_escaping = escaping;
        text_v1 = media == "text/plain" && version == "1.0.0";
      }
    }
  }
  Negotiation n;
  n.open_metrics = om > 0 && om >= text;
  n.om_escaping = om_escaping;
  n.text_escaping = text_escaping;
  n.text_v1 = text_v1;
  return n;
}

}  // namespace outrigger::exporters::prometheus
