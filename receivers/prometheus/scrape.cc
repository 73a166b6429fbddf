#include "receivers/prometheus/scrape.h"

#include <algorithm>
#include <cmath>

namespace outrigger::receivers::prometheus {

namespace {

constexpr uint64_t kMsToNs = 1000000;

// Unix seconds (an OpenMetrics `_created` value or exemplar timestamp) to nanoseconds,
// with the millisecond precision of sample timestamps; 0 if not a positive time.
uint64_t SecondsToNs(double s) {
  if (!std::isfinite(s) || s <= 0 || s > 9e9) return 0;
  return static_cast<uint64_t>(std::llround(s * 1000)) * kMsToNs;
}

// The same label set, in any order.
bool SameLabels(const Labels& a, const Labels& b) {
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

std::string KeyOf(int kind, const std::string& name, const pdata::Attributes& attrs) {
  std::string key = StrCat(kind, "\x1f", name);
  for (const auto& [k, v] : attrs) StrAppend(&key, "\x1f", k, "\x1e", v);
  return key;
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
  job_ = job;
  resource_ = {{"service.name", job}, {"service.instance.id", instance_}};
  size_t colon = instance.rfind(':');
  std::string host = instance.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  resource_.emplace_back("server.address", host);
  if (colon != std::string::npos) resource_.emplace_back("server.port", instance.substr(colon + 1));
  resource_.emplace_back("url.scheme", scheme.empty() ? sc.scheme : std::string(scheme));
}

pdata::Attributes TargetState::AttrsOf(const Labels& labels, std::string_view drop) const {
  pdata::Attributes out;
  out.reserve(labels.size() + target_labels_.size());
  if (!sc_.metric_relabel_configs.empty()) {
    // RelabelSamples merged the target labels already; job and instance stay the
    // resource's unless relabeling changed them.
    for (const auto& [k, v] : labels) {
      if (k == drop || v.empty() || (k == "job" && v == job_) || (k == "instance" && v == instance_)) continue;
      out.emplace_back(k, v);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  auto in_target = [&](const std::string& k) {
    if (k == "job" || k == "instance") return true;  // always set by the target (the resource)
    for (const auto& [tk, tv] : target_labels_) {
      if (tk == k) return true;
    }
    return false;
  };
  for (const auto& [k, v] : labels) {
    if (k == drop || v.empty()) continue;
    if (!sc_.honor_labels && in_target(k)) {
      out.emplace_back("exported_" + k, v);
    } else {
      out.emplace_back(k, v);
    }
  }
  for (const auto& [k, v] : target_labels_) {
    bool scraped = false;
    if (sc_.honor_labels) {
      for (const auto& [ok, ov] : out) scraped |= ok == k;
    }
    if (!scraped) out.emplace_back(k, v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t TargetState::StartOf(Kind kind, const std::string& name, const pdata::Attributes& attrs, double value,
                              uint64_t t, std::map<std::string, Series>* next, uint64_t created_ns,
                              const std::string& unit) {
  std::string key = KeyOf(static_cast<int>(kind), name, attrs);
  Series s{kind, name, attrs, t, t, value, unit};
  auto it = series_.find(key);
  if (created_ns != 0) {
    s.start_ns = created_ns;  // the exposer knows (OpenMetrics `_created`)
  } else if (it != series_.end()) {
    s.start_ns = it->second.start_ns;
    // A decrease is a reset: the new run started after the previous observation.
    if (kind != Kind::kUpDownSum && value < it->second.last) s.start_ns = std::min(it->second.last_ns, t);
  }
  uint64_t start = s.start_ns;
  (*next)[key] = std::move(s);
  return start;
}

void TargetState::Convert(const std::vector<Family>& families, uint64_t scrape_ns, pdata::MetricsBuilder* b,
                                  std::map<std::string, Series>* next) {
  auto time_of = [&](const Sample& s) -> uint64_t {
    if (sc_.honor_timestamps && s.timestamp_ms && *s.timestamp_ms > 0) {
      return static_cast<uint64_t>(*s.timestamp_ms) * kMsToNs;
    }
    return scrape_ns;
  };
  for (const Family& f : families) {
    // Sample names are the family's name and a suffix (the parser checked).
    auto suffix = [&f](const Sample& s) { return std::string_view(s.name).substr(std::min(f.name.size(), s.name.size())); };
    const std::string unit = f.unit.empty() ? std::string() : OtelUnit(f.unit);
    switch (f.type) {
      case MetricType::kCounter:
        for (size_t i = 0; i < f.samples.size(); ++i) {
          const Sample& s = f.samples[i];
          if (suffix(s) == "_created") continue;
          auto attrs = AttrsOf(s.labels, {});
          uint64_t t = time_of(s);
          // OpenMetrics: the `_created` sample of the same metric is next to it.
          uint64_t created = 0;
          for (size_t j : {i + 1, i - 1}) {
            if (j < f.samples.size() && suffix(f.samples[j]) == "_created" && SameLabels(f.samples[j].labels, s.labels)) {
              created = SecondsToNs(f.samples[j].value);
            }
          }
          uint64_t start = StartOf(Kind::kSum, s.name, attrs, s.value, t, next, created, unit);
          if (s.exemplar) {
            pdata::Exemplar e = ExemplarOf(*s.exemplar, t);
            b->Sum(s.name, unit, attrs, s.value, start, t, /*monotonic=*/true, pdata::Temporality::kCumulative,
                   false, {&e, 1});
          } else {
            b->Sum(s.name, unit, attrs, s.value, start, t, /*monotonic=*/true, pdata::Temporality::kCumulative);
          }
        }
        break;
      case MetricType::kGauge:
      case MetricType::kUntyped:
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, {});
          uint64_t t = time_of(s);
          Series ser{Kind::kGauge, s.name, attrs, t, t, s.value, unit};
          (*next)[KeyOf(static_cast<int>(Kind::kGauge), s.name, attrs)] = ser;
          b->Gauge(s.name, unit, attrs, s.value, t);
        }
        break;
      case MetricType::kInfo:
      case MetricType::kStateSet:
        // Non-monotonic sums, as the OpenTelemetry compatibility spec says (their 1s
        // count when labels are aggregated away). An info keeps its sample's name
        // (`x_info`); a stateset's state stays a label (named as the family).
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, {});
          uint64_t t = time_of(s);
          uint64_t start = StartOf(Kind::kUpDownSum, s.name, attrs, s.value, t, next, 0, unit);
          b->Sum(s.name, unit, attrs, s.value, start, t, /*monotonic=*/false, pdata::Temporality::kCumulative);
        }
        break;
      case MetricType::kGaugeHistogram:
        break;  // dropped (the spec says so), counted in Process
      case MetricType::kHistogram: {
        struct Group {
          pdata::Attributes attrs;
          std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
          std::optional<double> sum, count;
          uint64_t t = 0;
          uint64_t created = 0;
          std::vector<pdata::Exemplar> exemplars;
        };
        std::vector<Group> groups;
        std::map<pdata::Attributes, size_t> index;
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, "le");
          auto [it, added] = index.emplace(attrs, groups.size());
          if (added) groups.push_back(Group{attrs, {}, {}, {}, time_of(s), 0, {}});
          Group& g = groups[it->second];
          std::string_view sfx = suffix(s);
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
        for (Group& g : groups) {
          std::sort(g.buckets.begin(), g.buckets.end());
          pdata::HistogramPoint p;
          p.has_min_max = false;
          double prev = 0, inf_count = -1;
          for (auto [le, cum] : g.buckets) {
            if (std::isnan(cum) || cum < 0) cum = 0;  // invalid counts count as 0
            if (std::isinf(le) && le > 0) {
              inf_count = cum;
              continue;
            }
            p.bounds.push_back(le);
            p.bucket_counts.push_back(static_cast<uint64_t>(std::max(0.0, cum - prev)));
            prev = std::max(prev, cum);
          }
          double count = g.count ? *g.count : inf_count >= 0 ? inf_count : prev;
          if (std::isnan(count) || count < 0) count = 0;
          // The +Inf bucket is implicit in OTLP: what the finite buckets do not hold.
          if (!p.bounds.empty() || inf_count >= 0) {
            p.bucket_counts.push_back(static_cast<uint64_t>(std::max(0.0, count - prev)));
          }
          p.count = static_cast<uint64_t>(count);
          p.sum = g.sum.value_or(0);
          uint64_t start = StartOf(Kind::kHistogram, f.name, g.attrs, count, g.t, next, g.created, unit);
          b->Histogram(f.name, unit, g.attrs, p, start, g.t, pdata::Temporality::kCumulative, false, g.exemplars);
        }
        break;
      }
      case MetricType::kSummary: {
        struct Group {
          pdata::Attributes attrs;
          pdata::SummaryPoint p;
          uint64_t t = 0;
          uint64_t created = 0;
        };
        std::vector<Group> groups;
        std::map<pdata::Attributes, size_t> index;
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, "quantile");
          auto [it, added] = index.emplace(attrs, groups.size());
          if (added) groups.push_back(Group{attrs, {}, time_of(s), 0});
          Group& g = groups[it->second];
          std::string_view sfx = suffix(s);
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
          uint64_t start =
              StartOf(Kind::kSummary, f.name, g.attrs, static_cast<double>(g.p.count), g.t, next, g.created, unit);
          b->Summary(f.name, unit, g.attrs, g.p, start, g.t);
        }
        break;
      }
    }
  }
}

void TargetState::EmitStale(const Series& s, uint64_t t, pdata::MetricsBuilder* b) const {
  switch (s.kind) {
    case Kind::kGauge:
      b->Gauge(s.name, s.unit, s.attrs, NAN, t, /*no_recorded_value=*/true);
      break;
    case Kind::kSum:
    case Kind::kUpDownSum:
      b->Sum(s.name, s.unit, s.attrs, 0, s.start_ns, t, s.kind == Kind::kSum, pdata::Temporality::kCumulative, true);
      break;
    case Kind::kHistogram: {
      pdata::HistogramPoint p;
      p.has_min_max = false;
      b->Histogram(s.name, s.unit, s.attrs, p, s.start_ns, t, pdata::Temporality::kCumulative, true);
      break;
    }
    case Kind::kSummary:
      b->Summary(s.name, s.unit, s.attrs, pdata::SummaryPoint{}, s.start_ns, t, true);
      break;
  }
}

ScrapeResult TargetState::Process(const absl::StatusOr<std::string>& body, uint64_t scrape_ns,
                                  double duration_seconds, pdata::MetricsBuilder* b) {
  return Process(body, Format::kPrometheusText, scrape_ns, duration_seconds, b);
}

ScrapeResult TargetState::Process(const absl::StatusOr<std::string>& body, Format format, uint64_t scrape_ns,
                                  double duration_seconds, pdata::MetricsBuilder* b) {
  ScrapeResult r;
  std::map<std::string, Series> next;
  if (!body.ok()) {
    r.status = body.status();
  } else {
    auto families = Parse(*body, format);
    if (!families.ok()) {
      r.status = absl::InvalidArgumentError(StrCat("invalid exposition: ", families.status().message()));
      r.malformed = true;
    } else {
      for (const auto& f : *families) {
        r.samples += f.samples.size();
        if (f.type == MetricType::kGaugeHistogram) r.dropped += f.samples.size();
      }
      // sample_limit counts what metric relabeling leaves, as in Prometheus.
      const size_t kept = sc_.metric_relabel_configs.empty() ? r.samples : RelabelSamples(&*families);
      if (sc_.sample_limit > 0 && kept > static_cast<size_t>(sc_.sample_limit)) {
        r.status = absl::ResourceExhaustedError(
            StrCat("sample_limit exceeded: ", kept, " samples, the limit is ", sc_.sample_limit));
      } else {
        Convert(*families, scrape_ns, b, &next);
      }
    }
  }
  // Staleness: every series of the last successful scrape that is not in this one.
  for (const auto& [key, s] : series_) {
    if (next.count(key)) continue;
    EmitStale(s, scrape_ns, b);
    ++r.stale;
  }
  if (r.status.ok()) {
    for (const auto& [key, s] : next) r.series_added += series_.count(key) == 0;
    series_ = std::move(next);
  } else {
    series_.clear();  // the markers were sent once
  }
  const pdata::Attributes attrs = target_labels_;
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
  for (const auto& [key, s] : series_) EmitStale(s, t, b);
  series_.clear();
  for (const char* name : {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}) {
    b->Gauge(name, std::string_view(name) == "scrape_duration_seconds" ? "s" : "", target_labels_, NAN, t,
             /*no_recorded_value=*/true);
  }
}

}  // namespace outrigger::receivers::prometheus
