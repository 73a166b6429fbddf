#include "receivers/prometheus/scrape.h"

#include <algorithm>
#include <cmath>

namespace outrigger::receivers::prometheus {

namespace {

constexpr uint64_t kMsToNs = 1000000;

std::string KeyOf(int kind, const std::string& name, const pdata::Attributes& attrs) {
  std::string key = StrCat(kind, "\x1f", name);
  for (const auto& [k, v] : attrs) StrAppend(&key, "\x1f", k, "\x1e", v);
  return key;
}

}  // namespace

TargetState::TargetState(const ScrapeConfig& sc, const std::string& instance,
                         const std::map<std::string, std::string>& labels)
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
  resource_ = {{"service.name", job}, {"service.instance.id", instance_}};
  size_t colon = instance.rfind(':');
  std::string host = instance.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  resource_.emplace_back("server.address", host);
  if (colon != std::string::npos) resource_.emplace_back("server.port", instance.substr(colon + 1));
  resource_.emplace_back("url.scheme", sc.scheme);
}

pdata::Attributes TargetState::AttrsOf(const Labels& labels, std::string_view drop) const {
  pdata::Attributes out;
  out.reserve(labels.size() + target_labels_.size());
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
                              uint64_t t, std::map<std::string, Series>* next) {
  std::string key = KeyOf(static_cast<int>(kind), name, attrs);
  Series s{kind, name, attrs, t, t, value};
  auto it = series_.find(key);
  if (it != series_.end()) {
    s.start_ns = it->second.start_ns;
    // A decrease is a reset: the new run started after the previous observation.
    if (value < it->second.last) s.start_ns = std::min(it->second.last_ns, t);
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
    switch (f.type) {
      case MetricType::kCounter:
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, {});
          uint64_t t = time_of(s);
          uint64_t start = StartOf(Kind::kSum, s.name, attrs, s.value, t, next);
          b->Sum(s.name, "", attrs, s.value, start, t, /*monotonic=*/true, pdata::Temporality::kCumulative);
        }
        break;
      case MetricType::kGauge:
      case MetricType::kUntyped:
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, {});
          uint64_t t = time_of(s);
          Series ser{Kind::kGauge, s.name, attrs, t, t, s.value};
          (*next)[KeyOf(static_cast<int>(Kind::kGauge), s.name, attrs)] = ser;
          b->Gauge(s.name, "", attrs, s.value, t);
        }
        break;
      case MetricType::kHistogram: {
        struct Group {
          pdata::Attributes attrs;
          std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
          std::optional<double> sum, count;
          uint64_t t = 0;
        };
        std::vector<Group> groups;
        std::map<pdata::Attributes, size_t> index;
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, "le");
          auto [it, added] = index.emplace(attrs, groups.size());
          if (added) groups.push_back(Group{attrs, {}, {}, {}, time_of(s)});
          Group& g = groups[it->second];
          if (s.name == f.name + "_bucket") {
            double le = 0;
            ParseValue(LabelValue(s.labels, "le"), &le);  // checked by the parser
            g.buckets.emplace_back(le, s.value);
          } else if (s.name == f.name + "_sum") {
            g.sum = s.value;
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
          uint64_t start = StartOf(Kind::kHistogram, f.name, g.attrs, count, g.t, next);
          b->Histogram(f.name, "", g.attrs, p, start, g.t, pdata::Temporality::kCumulative);
        }
        break;
      }
      case MetricType::kSummary: {
        struct Group {
          pdata::Attributes attrs;
          pdata::SummaryPoint p;
          uint64_t t = 0;
        };
        std::vector<Group> groups;
        std::map<pdata::Attributes, size_t> index;
        for (const Sample& s : f.samples) {
          auto attrs = AttrsOf(s.labels, "quantile");
          auto [it, added] = index.emplace(attrs, groups.size());
          if (added) groups.push_back(Group{attrs, {}, time_of(s)});
          Group& g = groups[it->second];
          if (s.name == f.name) {
            double q = 0;
            ParseValue(LabelValue(s.labels, "quantile"), &q);
            g.p.quantiles.emplace_back(q, s.value);
          } else if (s.name == f.name + "_sum") {
            g.p.sum = s.value;
          } else {
            g.p.count = std::isnan(s.value) || s.value < 0 ? 0 : static_cast<uint64_t>(s.value);
          }
        }
        for (Group& g : groups) {
          std::sort(g.p.quantiles.begin(), g.p.quantiles.end());
          uint64_t start = StartOf(Kind::kSummary, f.name, g.attrs, static_cast<double>(g.p.count), g.t, next);
          b->Summary(f.name, "", g.attrs, g.p, start, g.t);
        }
        break;
      }
    }
  }
}

void TargetState::EmitStale(const Series& s, uint64_t t, pdata::MetricsBuilder* b) const {
  switch (s.kind) {
    case Kind::kGauge:
      b->Gauge(s.name, "", s.attrs, NAN, t, /*no_recorded_value=*/true);
      break;
    case Kind::kSum:
      b->Sum(s.name, "", s.attrs, 0, s.start_ns, t, true, pdata::Temporality::kCumulative, true);
      break;
    case Kind::kHistogram: {
      pdata::HistogramPoint p;
      p.has_min_max = false;
      b->Histogram(s.name, "", s.attrs, p, s.start_ns, t, pdata::Temporality::kCumulative, true);
      break;
    }
    case Kind::kSummary:
      b->Summary(s.name, "", s.attrs, pdata::SummaryPoint{}, s.start_ns, t, true);
      break;
  }
}

ScrapeResult TargetState::Process(const absl::StatusOr<std::string>& body, uint64_t scrape_ns,
                                  double duration_seconds, pdata::MetricsBuilder* b) {
  ScrapeResult r;
  std::map<std::string, Series> next;
  if (!body.ok()) {
    r.status = body.status();
  } else {
    auto families = Parse(*body);
    if (!families.ok()) {
      r.status = absl::InvalidArgumentError(StrCat("invalid exposition: ", families.status().message()));
      r.malformed = true;
    } else {
      for (const auto& f : *families) r.samples += f.samples.size();
      if (sc_.sample_limit > 0 && r.samples > static_cast<size_t>(sc_.sample_limit)) {
        r.status = absl::ResourceExhaustedError(
            StrCat("sample_limit exceeded: ", r.samples, " samples, the limit is ", sc_.sample_limit));
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

}  // namespace outrigger::receivers::prometheus
