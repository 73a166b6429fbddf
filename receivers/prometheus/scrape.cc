#include "receivers/prometheus/scrape.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "re2/re2.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <type_traits>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "collector/common/hash.h"

namespace outrigger::receivers::prometheus {

namespace {

constexpr uint64_t kMsToNs = 1000000;
// The last millisecond an OTLP time (unsigned 64-bit nanoseconds) holds: in 2554.
constexpr int64_t kMaxTimestampMs = static_cast<int64_t>(UINT64_MAX / kMsToNs);

// Unix seconds (an OpenMetrics `_created` value or exemplar timestamp) to nanoseconds,
// with the millisecond precision of sample timestamps; 0 if not a positive time.
uint64_t SecondsToNs(double s) {
  if (!std::isfinite(s) || s <= 0 || s > 9e9) return 0;
  return static_cast<uint64_t>(std::llround(s * 1000)) * kMsToNs;
}

// The same label set, in any order.
template <typename L>
bool SameLabels(const L& a, const L& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    if (LabelValue(b, a[i].first) != a[i].second) return false;
  }
  return true;
}

// `n` hex digits (lower or upper case) to n/2 bytes.
bool HexToBytes(std::string_view hex, size_t bytes, std::string* out) {
  if (hex.size() != 2 * bytes) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string b(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    b[i] = static_cast<char>(hi << 4 | lo);
  }
  *out = std::move(b);
  return true;
}

// An OpenMetrics exemplar as OTLP's: `trace_id`/`span_id` (hex) become the IDs, the
// other labels filtered attributes; without a timestamp, the point's time.
pdata::Exemplar ExemplarOf(const Exemplar& e, uint64_t point_ns) {
  pdata::Exemplar out;
  out.value = e.value;
  out.time_ns = e.timestamp_s ? SecondsToNs(*e.timestamp_s) : point_ns;
  for (const auto& [k, v] : e.labels) {
    if (k == "trace_id" && HexToBytes(v, 16, &out.trace_id)) continue;
    if (k == "span_id" && HexToBytes(v, 8, &out.span_id)) continue;
    out.attrs.emplace_back(k, v);
  }
  return out;
}

// The order the series of a target are kept in (for the order of staleness markers).
template <typename A>
std::string KeyOf(int kind, std::string_view name, const A& attrs) {
  std::string key = StrCat(kind, "\x1f", name);
  for (const auto& [k, v] : attrs) StrAppend(&key, "\x1f", k, "\x1e", v);
  return key;
}

size_t HashOf(int kind, std::string_view name, std::span<const pdata::AttributeView> attrs) {
  uint64_t h = HashBytes(name, static_cast<uint64_t>(kind));
  for (const auto& [k, v] : attrs) h = HashBytes(v, HashBytes(k, h));
  return static_cast<size_t>(h);
}

template <typename A, typename B>
bool SameAttrs(const A& a, const B& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::string_view(a[i].first) != std::string_view(b[i].first) ||
        std::string_view(a[i].second) != std::string_view(b[i].second)) {
      return false;
    }
  }
  return true;
}

// A series' kind, name and attributes as one string (compared, and hashed, at once):
// the kind, then each string as its 4-byte length and bytes.
void EncodeKey(int kind, std::string_view name, std::span<const pdata::AttributeView> attrs, std::string* out) {
  size_t size = 1 + 4 + name.size();
  for (const auto& [k, v] : attrs) size += 8 + k.size() + v.size();
  out->resize(size);
  char* p = out->data();
  *p++ = static_cast<char>(kind);
  auto put = [&p](std::string_view v) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    std::memcpy(p, &n, 4);
    if (n > 0) std::memcpy(p + 4, v.data(), n);
    p += 4 + n;
  };
  put(name);
  for (const auto& [k, v] : attrs) {
    put(k);
    put(v);
  }
}

// The inverse of EncodeKey: views into `key`.
int DecodeKey(std::string_view key, std::string_view* name, std::vector<pdata::AttributeView>* attrs) {
  const int kind = key[0];
  key.remove_prefix(1);
  auto take = [&key] {
    uint32_t n;
    std::memcpy(&n, key.data(), sizeof(n));
    std::string_view v = key.substr(sizeof(n), n);
    key.remove_prefix(sizeof(n) + n);
    return v;
  };
  *name = take();
  attrs->clear();
  while (!key.empty()) {
    std::string_view k = take();
    attrs->emplace_back(k, take());
  }
  return kind;
}

// Histograms and summaries: the samples of one metric (same labels but the point
// label) make one point (a group). They are usually next to each other; else found by
// hash. `G` has `attrs` and `hash`.
struct GroupIndex {
  absl::flat_hash_map<size_t, size_t> first;  // hash -> the last group with it
  std::vector<size_t> next;                   // group -> the previous one with its hash
  size_t last = SIZE_MAX;
  template <typename G>
  // The group of `attrs` at time `t` (a series may have several points in a scrape,
  // with different timestamps).
  size_t Find(std::vector<G>& groups, const std::vector<pdata::AttributeView>& attrs, uint64_t t, bool* added) {
    const size_t h = HashOf(0, {}, attrs) ^ (t * 0x9E3779B97F4A7C15ull);
    *added = false;
    auto same = [&](const G& g) { return g.hash == h && g.t == t && SameAttrs(g.attrs, attrs); };
    if (last != SIZE_MAX && same(groups[last])) return last;
    auto [it, fresh] = first.try_emplace(h, groups.size());
    if (!fresh) {
      for (size_t j = it->second; j != SIZE_MAX; j = next[j]) {
        if (same(groups[j])) return last = j;
      }
    }
    next.push_back(fresh ? SIZE_MAX : it->second);
    it->second = groups.size();
    groups.emplace_back();
    groups.back().attrs = attrs;
    groups.back().hash = h;
    groups.back().t = t;
    *added = true;
    return last = groups.size() - 1;
  }
};

// A sample's name after its family's (the parser checked that it starts with it).
template <typename F, typename S>
std::string_view SuffixOf(const F& f, const S& s) {
  return std::string_view(s.name).substr(std::min(f.name.size(), s.name.size()));
}

// The samples of one histogram point (see GroupIndex).
struct HistogramGroup {
  std::vector<pdata::AttributeView> attrs;
  size_t hash = 0;
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
  std::optional<double> sum, count;
  uint64_t t = 0;
  uint64_t created = 0;
  std::vector<pdata::Exemplar> exemplars;
};

// The OTLP point of a histogram's samples (sorts `g->buckets`); returns its count.
double PointOf(HistogramGroup* g, pdata::HistogramPoint* p) {
  std::sort(g->buckets.begin(), g->buckets.end());
  p->has_min_max = false;
  p->bounds.clear();
  p->bucket_counts.clear();
  double prev = 0, inf_count = -1;
  for (auto [le, cum] : g->buckets) {
    if (std::isnan(cum) || cum < 0) cum = 0;  // invalid counts count as 0
    if (std::isinf(le) && le > 0) {
      inf_count = cum;
      continue;
    }
    p->bounds.push_back(le);
    p->bucket_counts.push_back(static_cast<uint64_t>(std::max(0.0, cum - prev)));
    prev = std::max(prev, cum);
  }
  double count = g->count ? *g->count : inf_count >= 0 ? inf_count : prev;
  if (std::isnan(count) || count < 0) count = 0;
  // The +Inf bucket is implicit in OTLP: what the finite buckets do not hold.
  if (!p->bounds.empty() || inf_count >= 0) {
    p->bucket_counts.push_back(static_cast<uint64_t>(std::max(0.0, count - prev)));
  }
  p->count = static_cast<uint64_t>(count);
  p->sum = g->sum.value_or(0);
  return count;
}

}  // namespace

TargetState::TargetState(const ScrapeConfig& sc, const std::string& instance,
                         const std::map<std::string, std::string>& labels, std::string_view scheme)
    : sc_(sc), instance_(instance) {
  std::string job = sc.job_name;
  for (const auto& [k, v] : labels) {
    if (k == "job") {
      job = v;
    } else if (k == "instance") {
      instance_ = v;
    } else if (!v.empty()) {
      target_labels_.emplace_back(k, v);
    }
  }
  std::sort(target_labels_.begin(), target_labels_.end());
  exported_names_ = {"exported_job", "exported_instance"};
  for (const auto& [k, v] : target_labels_) exported_names_.push_back("exported_" + k);
  job_ = job;
  resource_ = {{"service.name", job}, {"service.instance.id", instance_}};
  size_t colon = instance.rfind(':');
  std::string host = instance.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  resource_.emplace_back("server.address", host);
  if (colon != std::string::npos) resource_.emplace_back("server.port", instance.substr(colon + 1));
  resource_.emplace_back("url.scheme", scheme.empty() ? sc.scheme : std::string(scheme));
}

template <typename L>
void TargetState::AttrsOf(const L& labels, std::string_view drop, AttrViews* out) const {
  out->clear();
  if (!sc_.metric_relabel_configs.empty()) {
    // RelabelSamples merged the target labels already; job and instance stay the
    // resource's unless relabeling changed them.
    for (const auto& [k, v] : labels) {
      if (k == drop || v.empty() || (k == "job" && v == job_) || (k == "instance" && v == instance_)) continue;
      out->emplace_back(k, v);
    }
  } else {
    // A scraped label the target sets (job and instance always: the resource's) becomes
    // exported_<name>, unless honor_labels.
    auto exported = [&](std::string_view k) -> const std::string* {
      if (k == "job") return &exported_names_[0];
      if (k == "instance") return &exported_names_[1];
      for (size_t i = 0; i < target_labels_.size(); ++i) {
        if (target_labels_[i].first == k) return &exported_names_[2 + i];
      }
      return nullptr;
    };
    for (const auto& [k, v] : labels) {
      if (k == drop || v.empty()) continue;
      const std::string* e = sc_.honor_labels ? nullptr : exported(k);
      out->emplace_back(e != nullptr ? std::string_view(*e) : std::string_view(k), v);
    }
    for (const auto& [k, v] : target_labels_) {
      bool scraped = false;
      if (sc_.honor_labels) {
        for (const auto& [ok, ov] : *out) scraped |= ok == k;
      }
      if (!scraped) out->emplace_back(k, v);
    }
  }
  if (!std::is_sorted(out->begin(), out->end())) std::sort(out->begin(), out->end());
}

uint64_t TargetState::StartOf(Kind kind, std::string_view name, std::span<const pdata::AttributeView> attrs,
                              double value, uint64_t t, uint64_t created_ns, std::string_view unit) {
  EncodeKey(static_cast<int>(kind), name, attrs, &key_);
  const size_t hash = HashBytes(key_, 0);
  // Usually the series after the previous one, as in the last scrape.
  size_t i = SIZE_MAX;
  if (cursor_ < series_.size() && series_[cursor_].hash == hash && series_[cursor_].key == key_) {
    i = cursor_;
  } else if (auto it = index_.find(hash); it != index_.end()) {
    for (uint32_t j = it->second; j != UINT32_MAX; j = series_[j].next_same_hash) {
      if (series_[j].hash == hash && series_[j].key == key_) {
        i = j;
        break;
      }
    }
  }
  if (i == SIZE_MAX) {
    i = series_.size();
    Series& n = series_.emplace_back();
    n.key = key_;
    n.hash = hash;
    auto [it, added] = index_.try_emplace(hash, static_cast<uint32_t>(i));
    if (!added) {
      n.next_same_hash = it->second;
      it->second = static_cast<uint32_t>(i);
    }
    ++added_;
  }
  cursor_ = i + 1;
  Series& s = series_[i];
  if (s.scrape != scrape_) {  // first time in this scrape
    s.had_before = s.scrape != 0;
    s.before_start_ns = s.start_ns;
    s.before_last_ns = s.last_ns;
    s.before_last = s.last;
    s.scrape = scrape_;
    ++touched_;
  }
  uint64_t start = t;
  if (created_ns != 0) {
    start = created_ns;  // the exposer knows (OpenMetrics `_created`)
  } else if (start_metric_ns_ != 0 && kind != Kind::kGauge) {
    start = start_metric_ns_;  // use_start_time_metric
  } else if (s.had_before) {
    start = s.before_start_ns;
    // A decrease is a reset: the new run started after the previous observation.
    if (kind != Kind::kUpDownSum && value < s.before_last) start = std::min(s.before_last_ns, t);
  }
  s.start_ns = start;
  s.last_ns = t;
  s.last = value;
  if (s.unit != unit) s.unit.assign(unit);
  return start;
}

void TargetState::Describe(std::string_view name, std::string_view help) {
  if (help.empty() || (!descriptions_.empty() && descriptions_.back().first == name)) return;
  descriptions_.emplace_back(std::string(name), std::string(help));
}

void TargetState::AddDescriptions(pdata::Metrics* m) const {
  if (descriptions_.empty()) return;
  absl::flat_hash_map<std::string_view, std::string_view> by_name;
  for (const auto& [name, help] : descriptions_) by_name.emplace(name, help);
  m->ForEachMutableRequest([&](opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& req) {
    for (auto& rm : *req.mutable_resource_metrics()) {
      for (auto& sm : *rm.mutable_scope_metrics()) {
        for (auto& metric : *sm.mutable_metrics()) {
          auto it = by_name.find(std::string_view(metric.name()));
          if (it != by_name.end()) metric.set_description(it->second.data(), it->second.size());
        }
      }
    }
  });
}

std::string_view TargetState::OutName(std::string_view name, bool sum, std::string_view prom_unit) const {
  if (!sc_.trim_metric_suffixes || name.find('_') == std::string_view::npos) return name;
  // Upstream's TrimPromSuffixes: a sum's `_total`, then the unit as the name's last tokens.
  if (sum && name.size() > 6 && absl::EndsWith(ToAbsl(name), "_total")) name.remove_suffix(6);
  if (!prom_unit.empty() && name.size() > prom_unit.size() + 1 &&
      name.substr(name.size() - prom_unit.size()) == prom_unit && name[name.size() - prom_unit.size() - 1] == '_') {
    name.remove_suffix(prom_unit.size() + 1);
  }
  return name;
}

template <typename F>
uint64_t TargetState::StartTimeMetric(const std::vector<F>& families) const {
  if (!sc_.use_start_time_metric) return 0;
  RE2 re(sc_.start_time_metric_regex.empty() ? kDefaultStartTimeMetricRegex : sc_.start_time_metric_regex);
  for (const F& f : families) {
    if (f.type != MetricType::kGauge && f.type != MetricType::kUntyped && f.type != MetricType::kCounter) continue;
    for (const auto& s : f.samples) {
      if (RE2::FullMatch(re2::StringPiece(s.name.data(), s.name.size()), re) && std::isfinite(s.value) && s.value > 0) {
        return SecondsToNs(s.value);
      }
    }
  }
  return 0;
}

template <typename S>
uint64_t TargetState::TimeOf(const S& s, uint64_t scrape_ns) const {
  // An explicit timestamp, 0 included, is the sample's time (ConvertChecked refused the
  // ones OTLP cannot hold).
  if (sc_.honor_timestamps && s.timestamp_ms) return static_cast<uint64_t>(*s.timestamp_ms) * kMsToNs;
  return scrape_ns;
}

template <typename F>
void TargetState::Convert(const std::vector<F>& families, uint64_t scrape_ns, pdata::MetricsBuilder* b) {
  for (const F& f : families) {
    const std::string unit = f.unit.empty() ? std::string() : OtelUnit(f.unit);
    switch (f.type) {
      case MetricType::kCounter:
        ConvertCounter(f, unit, scrape_ns, b);
        break;
      case MetricType::kGauge:
      case MetricType::kUntyped:
        ConvertGauge(f, unit, scrape_ns, b);
        break;
      case MetricType::kInfo:
      case MetricType::kStateSet:
        ConvertUpDownSum(f, unit, scrape_ns, b);
        break;
      case MetricType::kGaugeHistogram:
        break;  // dropped (the spec says so), counted in Process
      case MetricType::kHistogram:
        ConvertHistogram(f, unit, scrape_ns, b);
        break;
      case MetricType::kSummary:
        ConvertSummary(f, unit, scrape_ns, b);
        break;
    }
  }
}

template <typename F>
void TargetState::ConvertCounter(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b) {
  using SampleT = typename decltype(F::samples)::value_type;
  for (size_t i = 0; i < f.samples.size(); ++i) {
    const SampleT& s = f.samples[i];
    if (SuffixOf(f, s) == "_created") continue;
    AttrsOf(s.labels, {}, &attrs_);
    uint64_t t = TimeOf(s, scrape_ns);
    // OpenMetrics: the `_created` sample of the same metric is next to it.
    uint64_t created = 0;
    for (size_t j : {i + 1, i - 1}) {
      if (j < f.samples.size() && SuffixOf(f, f.samples[j]) == "_created" &&
          SameLabels(f.samples[j].labels, s.labels)) {
        created = SecondsToNs(f.samples[j].value);
      }
    }
    const std::string_view name = OutName(s.name, /*sum=*/true, f.unit);
    uint64_t start = StartOf(Kind::kSum, name, attrs_, s.value, t, created, unit);
    Describe(name, f.help);
    if (s.exemplar) {
      pdata::Exemplar e = ExemplarOf(*s.exemplar, t);
      b->Sum(name, unit, attrs_, s.value, start, t, /*monotonic=*/true, pdata::Temporality::kCumulative, false,
             {&e, 1});
    } else {
      b->Sum(name, unit, attrs_, s.value, start, t, /*monotonic=*/true, pdata::Temporality::kCumulative);
    }
  }
}

template <typename F>
void TargetState::ConvertGauge(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b) {
  for (const auto& s : f.samples) {
    AttrsOf(s.labels, {}, &attrs_);
    uint64_t t = TimeOf(s, scrape_ns);
    const std::string_view name = OutName(s.name, /*sum=*/false, f.unit);
    StartOf(Kind::kGauge, name, attrs_, s.value, t, 0, unit);
    Describe(name, f.help);
    b->Gauge(name, unit, attrs_, s.value, t);
  }
}

// Non-monotonic sums, as the OpenTelemetry compatibility spec says (their 1s count when
// labels are aggregated away). An info keeps its sample's name (`x_info`); a stateset's
// state stays a label (named as the family).
template <typename F>
void TargetState::ConvertUpDownSum(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b) {
  for (const auto& s : f.samples) {
    AttrsOf(s.labels, {}, &attrs_);
    uint64_t t = TimeOf(s, scrape_ns);
    const std::string_view name = OutName(s.name, /*sum=*/true, f.unit);
    uint64_t start = StartOf(Kind::kUpDownSum, name, attrs_, s.value, t, 0, unit);
    Describe(name, f.help);
    b->Sum(name, unit, attrs_, s.value, start, t, /*monotonic=*/false, pdata::Temporality::kCumulative);
  }
}

template <typename F>
void TargetState::ConvertHistogram(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b) {
  std::vector<HistogramGroup> groups;
  GroupIndex index;
  for (const auto& s : f.samples) {
    AttrsOf(s.labels, "le", &attrs_);
    bool added;
    HistogramGroup& g = groups[index.Find(groups, attrs_, TimeOf(s, scrape_ns), &added)];
    std::string_view sfx = SuffixOf(f, s);
    if (sfx == "_bucket") {
      double le = 0;
      ParseValue(LabelValue(s.labels, "le"), &le);  // checked by the parser
      g.buckets.emplace_back(le, s.value);
      if (s.exemplar) g.exemplars.push_back(ExemplarOf(*s.exemplar, g.t));
    } else if (sfx == "_sum") {
      g.sum = s.value;
    } else if (sfx == "_created") {
      g.created = SecondsToNs(s.value);
    } else {
      g.count = s.value;
    }
  }
  pdata::HistogramPoint p;
  for (HistogramGroup& g : groups) {
    const double count = PointOf(&g, &p);
    const std::string_view name = OutName(f.name, /*sum=*/false, f.unit);
    uint64_t start = StartOf(Kind::kHistogram, name, g.attrs, count, g.t, g.created, unit);
    Describe(name, f.help);
    b->Histogram(name, unit, g.attrs, p, start, g.t, pdata::Temporality::kCumulative, false, g.exemplars);
  }
}

template <typename F>
void TargetState::ConvertSummary(const F& f, const std::string& unit, uint64_t scrape_ns, pdata::MetricsBuilder* b) {
  struct Group {
    AttrViews attrs;
    size_t hash = 0;
    pdata::SummaryPoint p;
    uint64_t t = 0;
    uint64_t created = 0;
  };
  std::vector<Group> groups;
  GroupIndex index;
  for (const auto& s : f.samples) {
    AttrsOf(s.labels, "quantile", &attrs_);
    bool added;
    Group& g = groups[index.Find(groups, attrs_, TimeOf(s, scrape_ns), &added)];
    std::string_view sfx = SuffixOf(f, s);
    if (sfx.empty()) {
      double q = 0;
      ParseValue(LabelValue(s.labels, "quantile"), &q);
      g.p.quantiles.emplace_back(q, s.value);
    } else if (sfx == "_sum") {
      g.p.sum = s.value;
    } else if (sfx == "_created") {
      g.created = SecondsToNs(s.value);
    } else {
      g.p.count = std::isnan(s.value) || s.value < 0 ? 0 : static_cast<uint64_t>(s.value);
    }
  }
  for (Group& g : groups) {
    std::sort(g.p.quantiles.begin(), g.p.quantiles.end());
    const std::string_view name = OutName(f.name, /*sum=*/false, f.unit);
    uint64_t start = StartOf(Kind::kSummary, name, g.attrs, static_cast<double>(g.p.count), g.t, g.created, unit);
    Describe(name, f.help);
    b->Summary(name, unit, g.attrs, g.p, start, g.t);
  }
}

void TargetState::EmitStale(const Series& s, uint64_t t, pdata::MetricsBuilder* b) const {
  std::string_view name;
  AttrViews attrs;
  const Kind kind = static_cast<Kind>(DecodeKey(s.key, &name, &attrs));
  switch (kind) {
    case Kind::kGauge:
      b->Gauge(name, s.unit, attrs, NAN, t, /*no_recorded_value=*/true);
      break;
    case Kind::kSum:
    case Kind::kUpDownSum:
      b->Sum(name, s.unit, attrs, 0, s.start_ns, t, kind == Kind::kSum, pdata::Temporality::kCumulative, true);
      break;
    case Kind::kHistogram: {
      pdata::HistogramPoint p;
      p.has_min_max = false;
      b->Histogram(name, s.unit, attrs, p, s.start_ns, t, pdata::Temporality::kCumulative, true);
      break;
    }
    case Kind::kSummary:
      b->Summary(name, s.unit, attrs, pdata::SummaryPoint{}, s.start_ns, t, true);
      break;
  }
}

void TargetState::EmitStaleSeries(uint64_t t, bool all, pdata::MetricsBuilder* b, ScrapeResult* r) {
  if (!all && touched_ == series_.size()) return;
  auto gone = [&](const Series& s) { return all || s.scrape != scrape_; };
  // In the order of the series' keys (as the map Prometheus-style state used to be).
  std::vector<std::pair<std::string, size_t>> stale;
  std::string_view name;
  AttrViews attrs;
  for (size_t i = 0; i < series_.size(); ++i) {
    if (!gone(series_[i])) continue;
    const int kind = DecodeKey(series_[i].key, &name, &attrs);
    stale.emplace_back(KeyOf(kind, name, attrs), i);
  }
  std::sort(stale.begin(), stale.end());
  for (const auto& [key, i] : stale) EmitStale(series_[i], t, b);
  if (r != nullptr) r->stale += stale.size();
  // Keep the others in their order, and index them again.
  std::erase_if(series_, gone);
  index_.clear();
  for (size_t i = 0; i < series_.size(); ++i) {
    Series& s = series_[i];
    s.next_same_hash = UINT32_MAX;
    auto [it, added] = index_.try_emplace(s.hash, static_cast<uint32_t>(i));
    if (!added) {
      s.next_same_hash = it->second;
      it->second = static_cast<uint32_t>(i);
    }
  }
}

template <typename F>
void TargetState::ConvertChecked(std::vector<F>* families, bool relabel, uint64_t scrape_ns, pdata::MetricsBuilder* b,
                                 ScrapeResult* r) {
  for (const auto& f : *families) {
    r->samples += f.samples.size();
    if (f.type == MetricType::kGaugeHistogram) r->dropped += f.samples.size();
    if (!sc_.honor_timestamps) continue;
    // Valid in the exposition (int64 milliseconds), but an OTLP time is unsigned
    // nanoseconds: 1970 to 2554. Such a scrape fails as a malformed one would.
    for (const auto& s : f.samples) {
      if (s.timestamp_ms && (*s.timestamp_ms < 0 || *s.timestamp_ms > kMaxTimestampMs)) {
        r->status = absl::InvalidArgumentError(
            StrCat("invalid exposition: line ", s.line, ": timestamp ", *s.timestamp_ms, " ms of ", s.name,
                   " cannot be an OTLP time (1970 to 2554); honor_timestamps: false uses the scrape time instead"));
        r->malformed = true;
        return;
      }
    }
  }
  // sample_limit counts what metric relabeling leaves, as in Prometheus.
  size_t kept = r->samples;
  if constexpr (std::is_same_v<F, Family>) {
    if (relabel) kept = RelabelSamples(families);
  }
  if (sc_.sample_limit > 0 && kept > static_cast<size_t>(sc_.sample_limit)) {
    r->status = absl::ResourceExhaustedError(
        StrCat("sample_limit exceeded: ", kept, " samples, the limit is ", sc_.sample_limit));
    r->limit = "sample_limit";
    return;
  }
  // use_start_time_metric: the process's start time, when the scrape has it (upstream
  // fails such a scrape; here the usual start times apply), is every cumulative
  // point's start (an OpenMetrics _created still wins).
  start_metric_ns_ = StartTimeMetric(*families);
  if (absl::Status st = CheckLabelLimits(*families, relabel); !st.ok()) {
    r->status = st;
    for (std::string_view limit : {"label_limit", "label_name_length_limit", "label_value_length_limit"}) {
      if (absl::StartsWith(st.message(), StrCat(limit, " "))) r->limit = limit;
    }
    return;
  }
  Convert(*families, scrape_ns, b);
}

size_t CountSampleLines(std::string_view text, size_t stop_after) {
  size_t n = 0;
  size_t pos = 0;
  while (pos < text.size() && n <= stop_after) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    size_t i = pos;
    while (i < end && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
    if (i < end && text[i] != '#') ++n;
    pos = end + 1;
  }
  return n;
}

template <typename F>
absl::Status TargetState::CheckLabelLimits(const std::vector<F>& families, bool relabeled) const {
  const size_t label_limit = static_cast<size_t>(sc_.label_limit);
  const size_t name_limit = static_cast<size_t>(sc_.label_name_length_limit);
  const size_t value_limit = static_cast<size_t>(sc_.label_value_length_limit);
  if (label_limit == 0 && name_limit == 0 && value_limit == 0) return absl::OkStatus();
  auto check = [&](std::string_view metric, std::string_view k, std::string_view v) -> absl::Status {
    if (name_limit > 0 && k.size() > name_limit) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("label_name_length_limit exceeded (metric: %.50s, label name: %.50s, length: %d, limit: %d)",
                          metric, k, k.size(), name_limit));
    }
    if (value_limit > 0 && v.size() > value_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_value_length_limit exceeded (metric: %.50s, label name: %.50s, value: \"%.50s\", length: %d, "
          "limit: %d)",
          metric, k, v, v.size(), value_limit));
    }
    return absl::OkStatus();
  };
  // The target labels every sample gets (unless relabeling already merged them).
  const size_t target_count = relabeled ? 0 : 2 + target_labels_.size();
  auto is_target_label = [&](std::string_view k) {
    if (k == "job" || k == "instance") return true;
    auto it = std::lower_bound(target_labels_.begin(), target_labels_.end(), k,
                               [](const auto& kv, std::string_view key) { return kv.first < key; });
    return it != target_labels_.end() && it->first == k;
  };
  for (const auto& f : families) {
    for (const auto& s : f.samples) {
      if (auto st = check(s.name, "__name__", s.name); !st.ok()) return st;
      size_t count = 1 + target_count;  // __name__
      for (const auto& [k, v] : s.labels) {
        if (v.empty()) continue;  // no label at all
        if (auto st = check(s.name, k, v); !st.ok()) return st;
        // With honor_labels the scraped label replaces the target's; without, both stay
        // (the scraped one as exported_<name>).
        if (!relabeled && sc_.honor_labels && is_target_label(k)) continue;
        ++count;
      }
      if (label_limit > 0 && count > label_limit) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)", s.name, count, label_limit));
      }
    }
  }
  if (!relabeled && !families.empty()) {
    const std::string_view metric = families.front().name;
    for (const auto& [k, v] : {std::pair<std::string_view, std::string_view>{"job", job_}, {"instance", instance_}}) {
      if (auto st = check(metric, k, v); !st.ok()) return st;
    }
    for (const auto& [k, v] : target_labels_) {
      if (auto st = check(metric, k, v); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

ScrapeResult TargetState::Process(const absl::StatusOr<std::string>& body, uint64_t scrape_ns, double duration_seconds,
                                  pdata::MetricsBuilder* b) {
  return Process(body, Format::kPrometheusText, scrape_ns, duration_seconds, b);
}

ScrapeResult TargetState::Process(const absl::StatusOr<std::string>& body, Format format, uint64_t scrape_ns,
                                  double duration_seconds, pdata::MetricsBuilder* b) {
  ScrapeResult r;
  ++scrape_;
  descriptions_.clear();
  touched_ = 0;
  added_ = 0;
  cursor_ = 0;
  const bool relabel = !sc_.metric_relabel_configs.empty();
  // sample_limit before parsing: a scrape of a million series is refused for the price
  // of reading its lines, not of materialising them. With metric_relabel_configs the
  // limit counts what relabeling keeps (as in Prometheus), so the exposition is parsed,
  // unless it has more than kRelabelSampleFactor times the limit (ours: a bound on the
  // memory of that parse).
  const size_t sample_cap =
      sc_.sample_limit <= 0 ? 0 : static_cast<size_t>(sc_.sample_limit) * (relabel ? kRelabelSampleFactor : 1);
  size_t lines = 0;
  if (body.ok() && sample_cap > 0) lines = CountSampleLines(*body, sample_cap);
  if (!body.ok()) {
    r.status = body.status();
    if (absl::IsResourceExhausted(body.status())) r.limit = "body_size_limit";
  } else if (sample_cap > 0 && lines > sample_cap) {
    r.status = absl::ResourceExhaustedError(
        relabel ? StrCat("sample_limit exceeded: more than ", sample_cap, " samples before metric relabeling (",
                         kRelabelSampleFactor, " times the limit, ", sc_.sample_limit, "); not parsed")
                : StrCat("sample_limit exceeded: more than ", sc_.sample_limit, " samples; not parsed"));
    r.limit = "sample_limit";
    r.samples = lines;
  } else {
    if (format == Format::kPrometheusText && !relabel) {
      // The common case: views into the body, no copies of its strings.
      auto exposition = ParseView(*body);
      if (!exposition.ok()) {
        r.status = absl::InvalidArgumentError(StrCat("invalid exposition: ", exposition.status().message()));
        r.malformed = true;
      } else {
        ConvertChecked(&exposition->families, /*relabel=*/false, scrape_ns, b, &r);
      }
    } else {
      auto families = Parse(*body, format);
      if (!families.ok()) {
        r.status = absl::InvalidArgumentError(StrCat("invalid exposition: ", families.status().message()));
        r.malformed = true;
      } else {
        ConvertChecked(&*families, relabel, scrape_ns, b, &r);
      }
    }
  }
  // Staleness: every series of the last successful scrape that is not in this one (on
  // failure, all of them: the markers are sent once).
  EmitStaleSeries(scrape_ns, /*all=*/!r.status.ok(), b, &r);
  if (r.status.ok()) r.series_added = added_;
  const pdata::Attributes& attrs = target_labels_;
  b->Gauge("up", "", attrs, r.status.ok() ? 1 : 0, scrape_ns);
  b->Gauge("scrape_duration_seconds", "s", attrs, duration_seconds, scrape_ns);
  b->Gauge("scrape_samples_scraped", "", attrs, static_cast<double>(r.status.ok() ? r.samples : 0), scrape_ns);
  b->Gauge("scrape_series_added", "", attrs, static_cast<double>(r.series_added), scrape_ns);
  return r;
}

size_t TargetState::RelabelSamples(std::vector<Family>* families) const {
  std::vector<Family> out;
  std::map<std::pair<std::string, MetricType>, size_t> index;
  size_t left = 0;
  for (Family& f : *families) {
    std::vector<Sample> samples = std::move(f.samples);
    f.samples.clear();
    for (Sample& s : samples) {
      LabelSet ls;
      for (const auto& [k, v] : s.labels) {
        if (!v.empty()) ls[k] = v;
      }
      // The target labels win unless honor_labels; a scraped one they replace is kept
      // as exported_<name> (Prometheus's mutateSampleLabels).
      auto merge = [&](const std::string& k, const std::string& v) {
        auto it = ls.find(k);
        if (it != ls.end()) {
          if (sc_.honor_labels) return;
          ls["exported_" + k] = it->second;
        }
        ls[k] = v;
      };
      merge("job", job_);
      merge("instance", instance_);
      for (const auto& [k, v] : target_labels_) merge(k, v);
      ls["__name__"] = s.name;
      if (!Relabel(sc_.metric_relabel_configs, &ls)) continue;
      auto name = ls.find("__name__");
      if (name == ls.end()) continue;  // relabeling removed the name: not a sample any more
      std::string new_name = std::move(name->second);
      ls.erase(name);
      std::string family = f.name;
      MetricType type = f.type;
      if (new_name != s.name) {
        // `foo_bucket` renamed `bar_bucket` belongs to the histogram `bar`; a name that
        // lost its family's suffix is a sample of its own, untyped unless a counter or gauge.
        const bool prefixed = s.name.compare(0, f.name.size(), f.name) == 0;
        const std::string suffix = prefixed ? s.name.substr(f.name.size()) : "";
        if (new_name.size() > suffix.size() &&
            new_name.compare(new_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
          family = new_name.substr(0, new_name.size() - suffix.size());
        } else {
          family = new_name;
          if (type != MetricType::kCounter && type != MetricType::kGauge) type = MetricType::kUntyped;
        }
      }
      s.name = std::move(new_name);
      s.labels.assign(ls.begin(), ls.end());
      auto [it, added] = index.emplace(std::pair{family, type}, out.size());
      if (added) {
        out.push_back(f);  // the family's metadata (its samples were moved out)
        out.back().name = family;
        out.back().type = type;
      }
      out[it->second].samples.push_back(std::move(s));
      ++left;
    }
  }
  *families = std::move(out);
  return left;
}

void TargetState::EmitStaleAll(uint64_t t, pdata::MetricsBuilder* b) {
  EmitStaleSeries(t, /*all=*/true, b, nullptr);
  for (const char* name : {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}) {
    b->Gauge(name, std::string_view(name) == "scrape_duration_seconds" ? "s" : "", target_labels_, NAN, t,
             /*no_recorded_value=*/true);
  }
}

}  // namespace outrigger::receivers::prometheus
