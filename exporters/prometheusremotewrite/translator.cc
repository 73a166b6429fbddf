#include "exporters/prometheusremotewrite/translator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_map>
#include <utility>

#include "absl/strings/escaping.h"
#include "collector/prometheus/labels.h"
#include "collector/prometheus/naming.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace outrigger::exporters::prometheusremotewrite {

namespace mpb = opentelemetry::proto::metrics::v1;
namespace cpb = opentelemetry::proto::common::v1;
using Attributes = google::protobuf::RepeatedPtrField<cpb::KeyValue>;
using prom::LabelMap;
using prom::MergeAttributes;
using prom::MetricName;
using prom::NameKind;
using prom::SanitizeLabelName;
using ::prometheus::MetricMetadata;

double StaleNaN() {
  double d;
  uint64_t bits = kStaleNaNBits;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

bool IsStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

namespace {

constexpr uint32_t kNoRecordedValue = 1;  // DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
constexpr size_t kMaxDropReasons = 100;

// Go's strconv.DoubleString(v, 'f', -1, 64), as Prometheus writes le and quantile.
using prom::DoubleString;
using prom::ValueString;

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Builder {
  const Config& cfg;
  int64_t now_ms;
  prom::TranslationStrategy strategy;
  std::string ns;  // as the strategy makes it
  Translation* out;
  std::unordered_map<std::string, size_t> index;  // label key -> series
  std::map<std::string, size_t> families;         // name -> metadata index

  // Per resource and scope.
  Pairs resource_labels;  // fill in where absent
  Pairs overrides;        // scope, job, instance
  int64_t max_ts = 0;     // latest sample of the resource, for target_info

  int64_t Ms(uint64_t ns) const { return ns == 0 ? now_ms : static_cast<int64_t>(ns / 1000000); }

  void Add(LabelMap labels, double value, int64_t ts) {
    max_ts = std::max(max_ts, ts);
    std::string key;
    for (auto it = labels.begin(); it != labels.end();) {
      if (it->second.empty()) {  // Prometheus treats an empty label as absent
        it = labels.erase(it);
        continue;
      }
      key.append(it->first).push_back('\xff');
      key.append(it->second).push_back('\xff');
      ++it;
    }
    auto [pos, fresh] = index.try_emplace(key, out->series.size());
    if (fresh) {
      auto& ts_ = out->series.emplace_back();
      for (auto& [k, v] : labels) {
        auto* l = ts_.add_labels();
        l->set_name(k);
        l->set_value(std::move(v));
      }
    }
    auto* s = out->series[pos->second].add_samples();
    s->set_value(value);
    s->set_timestamp(ts);
  }

  // The labels of a point, without __name__.
  LabelMap PointLabels(const Attributes& attrs) const {
    LabelMap m;
    MergeAttributes(attrs, &m, strategy);
    for (const auto& [k, v] : resource_labels) m.emplace(k, v);
    for (const auto& [k, v] : overrides) m[k] = v;
    for (const auto& [k, v] : cfg.external_labels) m.emplace(k, v);
    return m;
  }

  void Sample(const LabelMap& base, const std::string& name, const char* extra_name, const std::string& extra_value,
              double value, int64_t ts) {
    LabelMap m = base;
    m["__name__"] = name;
    if (extra_name != nullptr) m[extra_name] = extra_value;
    Add(std::move(m), value, ts);
  }

  void Family(const std::string& name, MetricMetadata::MetricType type, const mpb::Metric& m) {
    if (!cfg.send_metadata || families.count(name)) return;
    families[name] = out->metadata.size();
    auto& md = out->metadata.emplace_back();
    md.set_type(type);
    md.set_metric_family_name(name);
    md.set_help(m.description());
    md.set_unit(m.unit());
  }

  void Drop(const mpb::Metric& m, size_t n, const char* why) {
    out->dropped += n;
    if (n > 0 && out->drop_reasons.size() < kMaxDropReasons) out->drop_reasons.emplace_back(m.name(), why);
  }

  template <typename P>
  static double NumberValue(const P& p) {
    return p.value_case() == mpb::NumberDataPoint::kAsInt ? static_cast<double>(p.as_int()) : p.as_double();
  }

  void Numbers(const mpb::Metric& m, const google::protobuf::RepeatedPtrField<mpb::NumberDataPoint>& pts,
               const std::string& name, MetricMetadata::MetricType type) {
    if (pts.empty()) return;
    Family(name, type, m);
    for (const auto& p : pts) {
      ++out->points;
      double v = (p.flags() & kNoRecordedValue) ? StaleNaN() : NumberValue(p);
      const LabelMap base = PointLabels(p.attributes());
      Sample(base, name, nullptr, "", v, Ms(p.time_unix_nano()));
      if (type == MetricMetadata::COUNTER) Created(base, name, p, Ms(p.time_unix_nano()));
    }
  }

  std::string Name(const mpb::Metric& m, NameKind kind) const {
    return prom::MetricNameFor(strategy, m.name(), m.unit(), kind, ns);
  }

  // export_created_metric: "<name>_created", the point's start time in milliseconds (as
  // upstream writes it), for a point that has one.
  template <typename P>
  void Created(const LabelMap& base, const std::string& name, const P& p, int64_t ts) {
    if (!cfg.export_created_metric || p.start_time_unix_nano() == 0 || (p.flags() & kNoRecordedValue) != 0) return;
    Sample(base, name + "_created", nullptr, "", static_cast<double>(p.start_time_unix_nano() / 1000000), ts);
  }

  void Metric(const mpb::Metric& m) {
    switch (m.data_case()) {
      case mpb::Metric::kGauge:
        Numbers(m, m.gauge().data_points(), Name(m, NameKind::kGauge), MetricMetadata::GAUGE);
        break;
      case mpb::Metric::kSum: {
        const auto& s = m.sum();
        if (s.aggregation_temporality() != mpb::AGGREGATION_TEMPORALITY_CUMULATIVE) {
          Drop(m, static_cast<size_t>(s.data_points_size()),
               "delta (or unspecified) temporality sums cannot be remote-written; use a cumulative SDK or "
               "a deltatocumulative processor");
          break;
        }
        NameKind kind = s.is_monotonic() ? NameKind::kCounter : NameKind::kOther;
        Numbers(m, s.data_points(), Name(m, kind), s.is_monotonic() ? MetricMetadata::COUNTER : MetricMetadata::GAUGE);
        break;
      }
      case mpb::Metric::kHistogram: {
        const auto& h = m.histogram();
        if (h.aggregation_temporality() != mpb::AGGREGATION_TEMPORALITY_CUMULATIVE) {
          Drop(m, static_cast<size_t>(h.data_points_size()),
               "delta (or unspecified) temporality histograms cannot be remote-written");
          break;
        }
        if (h.data_points().empty()) break;
        const std::string name = Name(m, NameKind::kOther);
        Family(name, MetricMetadata::HISTOGRAM, m);
        for (const auto& p : h.data_points()) {
          ++out->points;
          const bool stale = (p.flags() & kNoRecordedValue) != 0;
          const int64_t ts = Ms(p.time_unix_nano());
          const LabelMap base = PointLabels(p.attributes());
          auto val = [&](double v) { return stale ? StaleNaN() : v; };
          uint64_t cum = 0;
          if (p.bucket_counts_size() == p.explicit_bounds_size() + 1 || stale) {
            for (int i = 0; i < p.explicit_bounds_size(); ++i) {
              if (i < p.bucket_counts_size()) cum += p.bucket_counts(i);
              Sample(base, name + "_bucket", "le", DoubleString(p.explicit_bounds(i)), val(static_cast<double>(cum)),
                     ts);
            }
          }
          Sample(base, name + "_bucket", "le", "+Inf", val(static_cast<double>(p.count())), ts);
          if (p.has_sum()) Sample(base, name + "_sum", nullptr, "", val(p.sum()), ts);
          Sample(base, name + "_count", nullptr, "", val(static_cast<double>(p.count())), ts);
          Created(base, name, p, ts);
        }
        break;
      }
      case mpb::Metric::kSummary: {
        if (m.summary().data_points().empty()) break;
        const std::string name = Name(m, NameKind::kOther);
        Family(name, MetricMetadata::SUMMARY, m);
        for (const auto& p : m.summary().data_points()) {
          ++out->points;
          const bool stale = (p.flags() & kNoRecordedValue) != 0;
          const int64_t ts = Ms(p.time_unix_nano());
          const LabelMap base = PointLabels(p.attributes());
          auto val = [&](double v) { return stale ? StaleNaN() : v; };
          for (const auto& q : p.quantile_values()) {
            Sample(base, name, "quantile", DoubleString(q.quantile()), val(q.value()), ts);
          }
          Sample(base, name + "_sum", nullptr, "", val(p.sum()), ts);
          Sample(base, name + "_count", nullptr, "", val(static_cast<double>(p.count())), ts);
          Created(base, name, p, ts);
        }
        break;
      }
      case mpb::Metric::kExponentialHistogram:
        Drop(m, static_cast<size_t>(m.exponential_histogram().data_points_size()),
             "exponential histograms need native histograms, which remote write 1.0 does not carry");
        break;
      default:
        break;
    }
  }
};

}  // namespace

Translation Translate(const pdata::Metrics& data, const Config& cfg, int64_t now_ms) {
  Translation t;
  const prom::TranslationStrategy strategy = cfg.Strategy();
  Builder b{cfg, now_ms, strategy, prom::NamespaceFor(strategy, cfg.metric_namespace), &t, {}, {}, {}, {}, 0};
  data.ForEachRequest([&](const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& req) {
    for (const auto& rm : req.resource_metrics()) {
      // job and instance from service.*; the other attributes go to target_info.
      prom::ResourceIdentity rid = prom::IdentityOf(rm.resource());
      const Pairs& identity = rid.labels;
      const Attributes& other = rid.other;
      b.resource_labels.clear();
      if (cfg.resource_to_telemetry_conversion) {
        Attributes wanted;
        for (const auto& kv : rm.resource().attributes()) {
          const std::string& k = kv.key();
          if (cfg.exclude_service_attributes &&
              (k == "service.name" || k == "service.namespace" || k == "service.instance.id")) {
            continue;
          }
          *wanted.Add() = kv;
        }
        LabelMap all;
        MergeAttributes(wanted, &all, b.strategy);
        b.resource_labels.assign(all.begin(), all.end());
      }
      b.max_ts = 0;
      const size_t points_before = t.points;
      for (const auto& sm : rm.scope_metrics()) {
        b.overrides.clear();
        if (!cfg.disable_scope_info) prom::AppendScopeLabels(sm.scope(), &b.overrides);
        b.overrides.insert(b.overrides.end(), identity.begin(), identity.end());
        for (const auto& m : sm.metrics()) b.Metric(m);
      }
      // target_info: the resource's other attributes, once per resource with points,
      // at the time of its latest point.
      if (cfg.target_info && !other.empty() && t.points > points_before) {
        LabelMap m;
        MergeAttributes(other, &m, b.strategy);
        for (const auto& [k, v] : identity) m[k] = v;
        for (const auto& [k, v] : cfg.external_labels) m.emplace(k, v);
        const std::string target_info = prom::MetricNameFor(b.strategy, "target_info", "", NameKind::kGauge, b.ns);
        m["__name__"] = target_info;
        int64_t ts = b.max_ts;
        b.Add(std::move(m), 1, ts);
        if (cfg.send_metadata && !b.families.count(target_info)) {
          b.families[target_info] = t.metadata.size();
          auto& md = t.metadata.emplace_back();
          md.set_type(MetricMetadata::GAUGE);
          md.set_metric_family_name(target_info);
          md.set_help("Target metadata");
        }
      }
    }
  });
  // Samples of one series in time order (a batch can hold several points of a series).
  for (auto& ts : t.series) {
    if (ts.samples_size() > 1) {
      std::stable_sort(
          ts.mutable_samples()->begin(), ts.mutable_samples()->end(),
          [](const ::prometheus::Sample& a, const ::prometheus::Sample& b) { return a.timestamp() < b.timestamp(); });
    }
  }
  return t;
}

std::vector<::prometheus::WriteRequest> Split(Translation&& t, int64_t max_samples, uint64_t max_bytes) {
  std::vector<::prometheus::WriteRequest> out;
  ::prometheus::WriteRequest cur;
  int64_t cur_samples = 0;
  uint64_t cur_bytes = 0;
  for (auto& md : t.metadata) {
    cur_bytes += md.ByteSizeLong() + 4;
    *cur.add_metadata() = std::move(md);
  }
  auto flush = [&] {
    if (cur.timeseries_size() == 0 && cur.metadata_size() == 0) return;
    out.push_back(std::move(cur));
    cur = ::prometheus::WriteRequest();
    cur_samples = 0;
    cur_bytes = 0;
  };
  for (auto& ts : t.series) {
    // Labels' size, and the samples one by one, so that a series with more samples
    // than fit is continued in the next request.
    ::prometheus::TimeSeries head;
    *head.mutable_labels() = ts.labels();
    const uint64_t label_bytes = head.ByteSizeLong() + 4;
    ::prometheus::TimeSeries* into = nullptr;
    for (const auto& s : ts.samples()) {
      const uint64_t sb = s.ByteSizeLong() + 2;
      if (cur_samples >= max_samples ||
          (cur.timeseries_size() > 0 && cur_bytes + sb + (into ? 0 : label_bytes) > max_bytes)) {
        flush();
        into = nullptr;
      }
      if (into == nullptr) {
        into = cur.add_timeseries();
        *into->mutable_labels() = head.labels();
        cur_bytes += label_bytes;
      }
      *into->add_samples() = s;
      cur_bytes += sb;
      ++cur_samples;
    }
  }
  flush();
  return out;
}

}  // namespace outrigger::exporters::prometheusremotewrite
