#include "receivers/statsd/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace outrigger::receivers::statsd {
namespace {

constexpr int kIdleFlushesBeforeForgetting = 5;
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

// A key is made of parts, each with its length first, so that no two lists of parts make
// the same key (a name, tag or container may hold any byte). It is written in one pass
// into a string sized once (appending part by part cost more than hashing the key).
size_t PartSize(std::string_view p) { return sizeof(uint32_t) + p.size(); }
char* PutPart(char* out, std::string_view p) {
  const auto len = static_cast<uint32_t>(p.size());
  std::memcpy(out, &len, sizeof len);
  out += sizeof len;
  if (!p.empty()) std::memcpy(out, p.data(), p.size());
  return out + p.size();
}

template <typename Parts>
void MakeKey(std::string* key, char type, const Parts& parts) {
  size_t n = 1;
  for (std::string_view p : parts) n += PartSize(p);
  key->resize(n);
  char* out = key->data();
  *out++ = type;
  for (std::string_view p : parts) out = PutPart(out, p);
}

// A line's series as sent: type, name, container and its "#" fields, unparsed.
void MakeSentKey(std::string* key, const MetricLine& line) {
  size_t n = 1 + PartSize(line.name) + PartSize(line.container_id);
  for (std::string_view f : line.tag_fields) n += PartSize(f);
  key->resize(n);
  char* out = key->data();
  *out++ = TypeChar(line.type);
  out = PutPart(out, line.name);
  out = PutPart(out, line.container_id);
  for (std::string_view f : line.tag_fields) out = PutPart(out, f);
}

}  // namespace

Observer ObserverOf(const TimerMapping& m) {
  if (m.observer_type == "summary") return Observer::kSummary;
  if (m.observer_type == "histogram") return Observer::kHistogram;
  if (m.observer_type == "disabled") return Observer::kDisabled;
  return Observer::kGauge;
}

Aggregator::Aggregator(const Config& cfg) : cfg_(cfg) {
  for (MetricType t : {MetricType::kTiming, MetricType::kHistogram, MetricType::kDistribution}) {
    mapping_[static_cast<size_t>(t)] = &cfg_.MappingFor(MappingKey(t));
    observer_[static_cast<size_t>(t)] = ObserverOf(*mapping_[static_cast<size_t>(t)]);
  }
}

// The line's series by its canonical key (type, name, container, tags sorted by key with
// one value per key), made if new and within the limits; null (and why) if refused.
Aggregator::Series* Aggregator::FindOrAdd(const MetricLine& line, uint64_t now_ns, AddResult* refused) {
  sorted_.clear();
  for (std::string_view f : line.tag_fields) ParseTags(f, &sorted_);
  std::sort(sorted_.begin(), sorted_.end(),
            [](const Tag& a, const Tag& b) { return a.key != b.key ? a.key < b.key : a.value < b.value; });
  // OTLP allows one attribute per key: of repeated tag keys, the smallest value stays.
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end(), [](const Tag& a, const Tag& b) { return a.key == b.key; }),
                sorted_.end());
  parts_.assign({line.name, line.container_id});
  for (const auto& t : sorted_) {
    parts_.push_back(t.key);
    parts_.push_back(t.value);
  }
  MakeKey(&key_, TypeChar(line.type), parts_);
  auto it = series_.find(key_);
  if (it != series_.end()) return &it->second;
  if (cfg_.max_series > 0 && series_.size() >= static_cast<size_t>(cfg_.max_series)) {
    limit_reached_ = true;
    *refused = AddResult::kSeriesLimit;
    return nullptr;
  }
  if (cfg_.max_series_per_metric > 0) {
    auto& n = per_name_[ToAbsl(line.name)];
    if (n >= cfg_.max_series_per_metric) {
      *refused = AddResult::kPerMetricLimit;
      return nullptr;
    }
    ++n;
  }
  Series s;
  s.type = line.type;
  s.name = std::string(line.name);
  s.start_ns = now_ns;
  for (const auto& t : sorted_) s.attrs.emplace_back(std::string(t.key), std::string(t.value));
  if (!line.container_id.empty()) s.attrs.emplace_back("container.id", std::string(line.container_id));
  if (cfg_.enable_metric_type) s.attrs.emplace_back("metric_type", std::string(TypeName(line.type)));
  if (line.type != MetricType::kCounter && line.type != MetricType::kGauge && line.type != MetricType::kSet) {
    // Observed as a gauge (upstream's default), a series keeps only its last value, in
    // `value`: no distribution to allocate, or to reach per line.
    if (observer_[static_cast<size_t>(line.type)] != Observer::kGauge) s.dist = std::make_unique<Distribution>();
  } else if (line.type == MetricType::kSet) {
    s.members = std::make_unique<absl::flat_hash_set<std::string>>();
  }
  sent_.clear();  // series_ may rehash: the pointers sent_ holds would dangle
  return &series_.emplace(key_, std::move(s)).first->second;
}

AddResult Aggregator::Add(const MetricLine& line, uint64_t now_ns) {
  if (observer_[static_cast<size_t>(line.type)] == Observer::kDisabled) return AddResult::kDisabled;
  if (interval_start_ns_ == 0) interval_start_ns_ = now_ns;
  MakeSentKey(&sent_key_, line);
  Series* found = nullptr;
  if (auto sent = sent_.find(sent_key_); sent != sent_.end()) {
    found = sent->second;
  } else {
    AddResult refused = AddResult::kAdded;
    found = FindOrAdd(line, now_ns, &refused);
    if (found == nullptr) return refused;
    if (sent_.size() >= std::max<size_t>(64, 2 * series_.size())) sent_.clear();
    sent_.emplace(sent_key_, found);
  }
  Series& s = *found;
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
      s.members->emplace(std::string(line.set_value));
      break;
    default:
      if (s.dist == nullptr) {
        if (!line.values.empty()) s.value = line.values.back();
      } else {
        const auto t = static_cast<size_t>(line.type);
        for (double v : line.values) s.dist->Add(v, w, *mapping_[t], observer_[t], rng_);
      }
  }
  return AddResult::kAdded;
}

void Distribution::Add(double v, double w, const TimerMapping& m, Observer o, std::mt19937_64& rng) {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  count += w;
  sum += v * w;
  last = v;
  if (o == Observer::kSummary) {
    ++offered;
    if (samples.size() < kMaxSummarySamples) {
      samples.emplace_back(v, w);
    } else {
      // Reservoir sampling: every value seen has the same chance to be kept.
      uint64_t j = std::uniform_int_distribution<uint64_t>(0, offered - 1)(rng);
      if (j < kMaxSummarySamples) samples[j] = {v, w};
    }
  } else if (o == Observer::kHistogram) {
    if (!m.explicit_buckets.empty()) {
      if (buckets.empty()) buckets.assign(m.explicit_buckets.size() + 1, 0.0);
      // Bucket i holds (bounds[i-1], bounds[i]].
      size_t i = static_cast<size_t>(std::lower_bound(m.explicit_buckets.begin(), m.explicit_buckets.end(), v) -
                                     m.explicit_buckets.begin());
      buckets[i] += w;
    } else if (v > 0) {
      positive[static_cast<int32_t>(ExpIndex(v, kCollectScale))] += w;
    } else if (v < 0) {
      negative[static_cast<int32_t>(ExpIndex(-v, kCollectScale))] += w;
    } else {
      zero += w;
    }
  }
}

void Distribution::Clear() { *this = Distribution(); }

pdata::ExponentialHistogramPoint Distribution::Exponential(int max_size) const {
  pdata::ExponentialHistogramPoint p;
  p.count = Round(count);
  p.zero_count = Round(zero);
  p.sum = sum;
  p.min = min;
  p.max = max;
  auto range = [](const absl::flat_hash_map<int32_t, double>& m, int32_t* lo, int32_t* hi) {
    *lo = INT32_MAX;
    *hi = INT32_MIN;
    for (const auto& [i, w] : m) {
      *lo = std::min(*lo, i);
      *hi = std::max(*hi, i);
    }
    return !m.empty();
  };
  int32_t plo, phi, nlo, nhi;
  bool has_p = range(positive, &plo, &phi), has_n = range(negative, &nlo, &nhi);
  // Downscaling by k merges 2^k neighbouring buckets: index >> k.
  int shift = 0;
  auto span = [&](bool has, int32_t lo, int32_t hi) { return has ? (hi >> shift) - (lo >> shift) + 1 : 0; };
  while (shift < kCollectScale - kMinScale && (span(has_p, plo, phi) > max_size || span(has_n, nlo, nhi) > max_size)) {
    ++shift;
  }
  p.scale = kCollectScale - shift;
  auto fill = [&](const absl::flat_hash_map<int32_t, double>& m, int32_t lo, int32_t hi, int32_t* offset,
                  std::vector<uint64_t>* out) {
    if (m.empty()) return;
    *offset = lo >> shift;
    std::vector<double> acc(static_cast<size_t>((hi >> shift) - *offset + 1), 0.0);
    for (const auto& [i, w] : m) acc[static_cast<size_t>((i >> shift) - *offset)] += w;
    for (double a : acc) out->push_back(Round(a));
  };
  fill(positive, plo, phi, &p.positive_offset, &p.positive);
  fill(negative, nlo, nhi, &p.negative_offset, &p.negative);
  return p;
}

void Aggregator::Emit(pdata::MetricsBuilder& b, Series& s, uint64_t start_ns, uint64_t now_ns) {
  const auto temporality =
      cfg_.aggregation_temporality == "cumulative" ? pdata::Temporality::kCumulative : pdata::Temporality::kDelta;
  switch (s.type) {
    case MetricType::kCounter:
      b.Sum(s.name, "", s.attrs, s.value, temporality == pdata::Temporality::kCumulative ? s.start_ns : start_ns,
            now_ns, cfg_.is_monotonic_counter, temporality);
      if (temporality == pdata::Temporality::kDelta) s.value = 0;
      return;
    case MetricType::kGauge:
      b.Gauge(s.name, "", s.attrs, s.value, now_ns);
      return;
    case MetricType::kSet:
      b.Gauge(s.name, "", s.attrs, static_cast<double>(s.members->size()), now_ns);
      s.members->clear();
      return;
    default:
      break;
  }
  const TimerMapping& m = *mapping_[static_cast<size_t>(s.type)];
  const std::string unit = s.type == MetricType::kTiming ? "ms" : "";
  if (s.dist == nullptr) {  // observed as a gauge
    b.Gauge(s.name, unit, s.attrs, s.value, now_ns);
    return;
  }
  Distribution& d = *s.dist;
  if (observer_[static_cast<size_t>(s.type)] == Observer::kSummary) {
    auto& samples = d.samples;  // cleared right after: sorted in place
    std::sort(samples.begin(), samples.end());
    double kept = 0;
    for (const auto& [v, w] : samples) kept += w;
    pdata::SummaryPoint p;
    p.count = Round(d.count);
    p.sum = d.sum;
    for (double pct : m.percentiles) {
      // The smallest value whose cumulative weight reaches pct% of the total.
      double value = d.max;
      if (pct <= 0) {
        value = d.min;
      } else if (pct < 100) {
        double want = pct / 100.0 * kept, cum = 0;
        for (const auto& [v, w] : samples) {
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
    p.count = Round(d.count);
    p.sum = d.sum;
    p.min = d.min;
    p.max = d.max;
    for (double a : d.buckets) p.bucket_counts.push_back(Round(a));
    b.Histogram(s.name, unit, s.attrs, p, start_ns, now_ns, pdata::Temporality::kDelta);
  } else {
    b.ExponentialHistogram(s.name, unit, s.attrs, d.Exponential(m.max_size), start_ns, now_ns,
                           pdata::Temporality::kDelta);
  }
  d.Clear();
}

void Aggregator::Forget(const Series& s) {
  if (cfg_.max_series_per_metric > 0) {
    auto n = per_name_.find(s.name);
    if (n != per_name_.end() && --n->second == 0) per_name_.erase(n);
  }
}

size_t Aggregator::Flush(pdata::MetricsBuilder& b, uint64_t now_ns) {
  const uint64_t start = interval_start_ns_ == 0 ? now_ns : interval_start_ns_;
  const bool cumulative = cfg_.aggregation_temporality == "cumulative";
  // At max_series, what was idle this interval goes now rather than after 5 flushes:
  // the next interval's new series find room (cumulative counters included: they would
  // otherwise hold the limit forever).
  const bool make_room = limit_reached_;
  limit_reached_ = false;
  size_t forgotten = 0;
  for (auto it = series_.begin(); it != series_.end();) {
    Series& s = it->second;
    const bool keep_reporting = cumulative && s.type == MetricType::kCounter;
    if (s.touched || (keep_reporting && !make_room)) {
      Emit(b, s, start, now_ns);
      s.touched = false;
      ++it;
      continue;
    }
    if (make_room || (!keep_reporting && ++s.idle_flushes >= kIdleFlushesBeforeForgetting)) {
      Forget(s);
      sent_.clear();
      series_.erase(it++);
      ++forgotten;
      continue;
    }
    ++it;
  }
  interval_start_ns_ = now_ns;
  // flat_hash_map never shrinks by itself: after a burst, its slots (and those of
  // per_name_) would stay allocated for good. Rebuilt to fit when mostly empty.
  constexpr size_t kMinCapacityToShrink = 1024;
  if (series_.capacity() > kMinCapacityToShrink && series_.size() < series_.capacity() / 4) {
    sent_.clear();
    series_.rehash(0);
  }
  if (per_name_.capacity() > kMinCapacityToShrink && per_name_.size() < per_name_.capacity() / 4) per_name_.rehash(0);
  return forgotten;
}

}  // namespace outrigger::receivers::statsd
