#include "receivers/statsd/aggregator.h"

#include <algorithm>
#include <cmath>

namespace outrigger::receivers::statsd {
namespace {

constexpr int kIdleFlushesBeforeForgetting = 5;
constexpr int kMaxScale = 20;
constexpr int kMinScale = -10;

char TypeChar(MetricType t) { return static_cast<char>('a' + static_cast<int>(t)); }

std::string_view MappingKey(MetricType t) {
  return t == MetricType::kTiming ? "timing" : t == MetricType::kHistogram ? "histogram" : "distribution";
}

int64_t ExpIndex(double v, int scale) {
  // Bucket i holds (2^(i/2^scale), 2^((i+1)/2^scale)].
  return static_cast<int64_t>(std::ceil(std::log2(v) * std::ldexp(1.0, scale))) - 1;
}

uint64_t Round(double w) { return static_cast<uint64_t>(std::llround(w)); }

}  // namespace

Aggregator::Aggregator(const Config& cfg) : cfg_(cfg) {}

bool Aggregator::Add(const MetricLine& line, uint64_t now_ns) {
  if (interval_start_ns_ == 0) interval_start_ns_ = now_ns;
  sorted_.assign(line.tags.begin(), line.tags.end());
  std::sort(sorted_.begin(), sorted_.end(),
            [](const Tag& a, const Tag& b) { return a.key != b.key ? a.key < b.key : a.value < b.value; });
  key_.clear();
  key_.push_back(TypeChar(line.type));
  key_.append(line.name);
  key_.push_back('\x1f');
  key_.append(line.container_id);
  for (const auto& t : sorted_) {
    key_.push_back('\x1f');
    key_.append(t.key);
    key_.push_back('\x1e');
    key_.append(t.value);
  }
  auto it = series_.find(key_);
  if (it == series_.end()) {
    if (cfg_.max_series_per_metric > 0) {
      auto& n = per_name_[ToAbsl(line.name)];
      if (n >= cfg_.max_series_per_metric) return false;
      ++n;
    }
    Series s;
    s.type = line.type;
    s.name = std::string(line.name);
    s.start_ns = now_ns;
    for (const auto& t : sorted_) s.attrs.emplace_back(std::string(t.key), std::string(t.value));
    if (!line.container_id.empty()) s.attrs.emplace_back("container.id", std::string(line.container_id));
    if (cfg_.enable_metric_type) s.attrs.emplace_back("metric_type", std::string(TypeName(line.type)));
    it = series_.emplace(key_, std::move(s)).first;
  }
  Series& s = it->second;
  s.touched = true;
  s.idle_flushes = 0;
  const double w = 1.0 / line.sample_rate;
  switch (line.type) {
    case MetricType::kCounter:
      for (double v : line.values) s.value += v * w;
      break;
    case MetricType::kGauge:
      for (double v : line.values) s.value = line.gauge_delta ? s.value + v : v;
      break;
    case MetricType::kSet:
      s.members.emplace(std::string(line.set_value));
      break;
    default:
      for (double v : line.values) s.samples.emplace_back(v, w);
  }
  return true;
}

pdata::ExponentialHistogramPoint Aggregator::ExponentialFrom(const std::vector<std::pair<double, double>>& samples,
                                                             int max_size) {
  pdata::ExponentialHistogramPoint p;
  double count = 0, zero = 0;
  double pmin = INFINITY, pmax = 0, nmin = INFINITY, nmax = 0;  // of |v|
  p.min = INFINITY;
  p.max = -INFINITY;
  for (const auto& [v, w] : samples) {
    count += w;
    p.sum += v * w;
    p.min = std::min(p.min, v);
    p.max = std::max(p.max, v);
    if (v > 0) { pmin = std::min(pmin, v); pmax = std::max(pmax, v); }
    else if (v < 0) { nmin = std::min(nmin, -v); nmax = std::max(nmax, -v); }
    else zero += w;
  }
  p.count = Round(count);
  p.zero_count = Round(zero);
  if (samples.empty()) p.min = p.max = 0;
  int scale = kMaxScale;
  auto fits = [&](double lo, double hi) {
    return lo > hi || ExpIndex(hi, scale) - ExpIndex(lo, scale) + 1 <= max_size;
  };
  while (scale > kMinScale && !(fits(pmin, pmax) && fits(nmin, nmax))) --scale;
  p.scale = scale;
  auto fill = [&](double lo, double hi, int sign, int32_t* offset, std::vector<uint64_t>* buckets) {
    if (lo > hi) return;
    int64_t first = ExpIndex(lo, scale), last = ExpIndex(hi, scale);
    *offset = static_cast<int32_t>(first);
    std::vector<double> acc(static_cast<size_t>(last - first + 1), 0.0);
    for (const auto& [v, w] : samples) {
      if (sign * v <= 0) continue;
      int64_t i = std::clamp<int64_t>(ExpIndex(sign * v, scale), first, last);
      acc[static_cast<size_t>(i - first)] += w;
    }
    for (double a : acc) buckets->push_back(Round(a));
  };
  fill(pmin, pmax, 1, &p.positive_offset, &p.positive);
  fill(nmin, nmax, -1, &p.negative_offset, &p.negative);
  return p;
}

void Aggregator::Emit(pdata::MetricsBuilder& b, Series& s, uint64_t start_ns, uint64_t now_ns) {
  const auto temporality =
      cfg_.aggregation_temporality == "cumulative" ? pdata::Temporality::kCumulative : pdata::Temporality::kDelta;
  switch (s.type) {
    case MetricType::kCounter:
      b.Sum(s.name, "", s.attrs, s.value,
            temporality == pdata::Temporality::kCumulative ? s.start_ns : start_ns, now_ns,
            cfg_.is_monotonic_counter, temporality);
      if (temporality == pdata::Temporality::kDelta) s.value = 0;
      return;
    case MetricType::kGauge:
      b.Gauge(s.name, "", s.attrs, s.value, now_ns);
      return;
    case MetricType::kSet:
      b.Gauge(s.name, "", s.attrs, static_cast<double>(s.members.size()), now_ns);
      s.members.clear();
      return;
    default:
      break;
  }
  const TimerMapping& m = cfg_.MappingFor(MappingKey(s.type));
  const std::string unit = s.type == MetricType::kTiming ? "ms" : "";
  if (m.observer_type == "gauge") {
    b.Gauge(s.name, unit, s.attrs, s.samples.back().first, now_ns);
  } else if (m.observer_type == "summary") {
    std::sort(s.samples.begin(), s.samples.end());
    double total = 0, sum = 0;
    for (const auto& [v, w] : s.samples) {
      total += w;
      sum += v * w;
    }
    pdata::SummaryPoint p;
    p.count = Round(total);
    p.sum = sum;
    for (double pct : m.percentiles) {
      // The smallest value whose cumulative weight reaches pct% of the total.
      double want = pct / 100.0 * total, cum = 0, value = s.samples.back().first;
      if (pct <= 0) {
        value = s.samples.front().first;
      } else {
        for (const auto& [v, w] : s.samples) {
          cum += w;
          if (cum >= want - 1e-9) {
            value = v;
            break;
          }
        }
      }
      p.quantiles.emplace_back(pct / 100.0, value);
    }
    b.Summary(s.name, unit, s.attrs, p, start_ns, now_ns);
  } else if (!m.explicit_buckets.empty()) {
    pdata::HistogramPoint p;
    p.bounds = m.explicit_buckets;
    std::vector<double> acc(p.bounds.size() + 1, 0.0);
    double total = 0;
    p.min = INFINITY;
    p.max = -INFINITY;
    for (const auto& [v, w] : s.samples) {
      total += w;
      p.sum += v * w;
      p.min = std::min(p.min, v);
      p.max = std::max(p.max, v);
      // Bucket i holds (bounds[i-1], bounds[i]].
      size_t i = static_cast<size_t>(std::lower_bound(p.bounds.begin(), p.bounds.end(), v) - p.bounds.begin());
      acc[i] += w;
    }
    p.count = Round(total);
    for (double a : acc) p.bucket_counts.push_back(Round(a));
    b.Histogram(s.name, unit, s.attrs, p, start_ns, now_ns, pdata::Temporality::kDelta);
  } else {
    b.ExponentialHistogram(s.name, unit, s.attrs, ExponentialFrom(s.samples, m.max_size), start_ns, now_ns,
                           pdata::Temporality::kDelta);
  }
  s.samples.clear();
}

void Aggregator::Flush(pdata::MetricsBuilder& b, uint64_t now_ns) {
  const uint64_t start = interval_start_ns_ == 0 ? now_ns : interval_start_ns_;
  const bool cumulative = cfg_.aggregation_temporality == "cumulative";
  for (auto it = series_.begin(); it != series_.end();) {
    Series& s = it->second;
    const bool keep_reporting = cumulative && s.type == MetricType::kCounter;
    if (s.touched || keep_reporting) {
      Emit(b, s, start, now_ns);
      s.touched = false;
      ++it;
      continue;
    }
    if (!keep_reporting && ++s.idle_flushes >= kIdleFlushesBeforeForgetting) {
      if (cfg_.max_series_per_metric > 0) {
        auto n = per_name_.find(s.name);
        if (n != per_name_.end() && --n->second == 0) per_name_.erase(n);
      }
      series_.erase(it++);
      continue;
    }
    ++it;
  }
  interval_start_ns_ = now_ns;
}

}  // namespace outrigger::receivers::statsd
