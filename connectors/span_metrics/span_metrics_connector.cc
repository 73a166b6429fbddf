#include "connectors/span_metrics/span_metrics_connector.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>

#include "absl/time/clock.h"
#include "collector/common/glob.h"
#include "collector/common/strings.h"
#include "collector/filterset/filterset.h"
#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "spdlog/spdlog.h"

namespace outrigger::connectors::span_metrics {
namespace {

namespace asio = boost::asio;
namespace tpb = opentelemetry::proto::collector::trace::v1;
using filterset::AnyValue;
using Attrs = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

// Refused delta points kept for the next flush, at most (beyond, they are dropped).
constexpr size_t kMaxPendingPoints = 200000;
constexpr char kScopeName[] = "spanmetricsconnector";
constexpr char kOverflowKey[] =
    "\xff\xff"
    "otel.metric.overflow";
constexpr char kServiceName[] = "service.name";
constexpr char kSpanName[] = "span.name";
constexpr char kSpanKind[] = "span.kind";
constexpr char kStatusCode[] = "status.code";
constexpr char kScopeNameKey[] = "span.instrumentation.scope.name";
constexpr char kScopeVersionKey[] = "span.instrumentation.scope.version";

std::string_view StatusName(int code) {
  switch (code) {
    case 1:
      return "STATUS_CODE_OK";
    case 2:
      return "STATUS_CODE_ERROR";
    default:
      return "STATUS_CODE_UNSET";
  }
}

const AnyValue* Find(const Attrs& attrs, const std::string& key) {
  for (const auto& kv : attrs) {
    if (kv.key().size() == key.size() && kv.key() == key) return &kv.value();
  }
  return nullptr;
}

std::vector<SpanMetricsConnector::Dim> Compile(const std::vector<Dimension>& dims) {
  std::vector<SpanMetricsConnector::Dim> out;
  for (const Dimension& d : dims) out.push_back({d.name, d.default_value, d.glob});
  return out;
}

// Where a span's dimension values come from, most specific first: the span's attributes,
// the event's (events metric only), the resource's; then the dimension's default.
struct Sources {
  const Attrs& span;
  const Attrs* event;
  const Attrs& resource;
  const std::vector<const AnyValue*>& resource_values;  // per dimension, looked up once per resource
};

// Appends the values of `dims` to *key (positional: a marker for a missing one) and,
// when `attrs` is given, the attributes they make.
void AppendDims(const std::vector<SpanMetricsConnector::Dim>& dims, const Sources& src, std::string* key,
                pdata::Attributes* attrs) {
  if (dims.empty()) return;
  // One pass over the span's attributes finds every named dimension (the first of a key,
  // as a lookup would): each key is loaded once, not once per dimension.
  constexpr size_t kMaxFast = 16;
  const AnyValue* in_span[kMaxFast] = {};
  const bool fast = dims.size() <= kMaxFast;
  if (fast) {
    for (const auto& kv : src.span) {
      const std::string& k = kv.key();
      for (size_t i = 0; i < dims.size(); ++i) {
        const std::string& n = dims[i].name;
        if (in_span[i] == nullptr && n.size() == k.size() && !n.empty() &&
            std::memcmp(n.data(), k.data(), n.size()) == 0) {
          in_span[i] = &kv.value();
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < dims.size(); ++i) {
    const auto& d = dims[i];
    if (!d.glob.empty()) {
      // Every matching attribute, span's first; a key once.
      std::vector<std::string_view> seen;
      auto scan = [&](const Attrs& from) {
        for (const auto& kv : from) {
          if (!common::GlobMatch(d.glob, kv.key())) continue;
          if (std::find(seen.begin(), seen.end(), kv.key()) != seen.end()) continue;
          seen.push_back(kv.key());
          key->push_back('\x03');
          key->append(kv.key());
          key->push_back('\0');
          size_t at = key->size();
          filterset::AppendAsString(kv.value(), key);
          if (attrs) attrs->emplace_back(kv.key(), key->substr(at));
        }
      };
      scan(src.span);
      if (src.event) scan(*src.event);
      scan(src.resource);
      key->push_back('\x05');
      continue;
    }
    const AnyValue* v = fast ? in_span[i] : Find(src.span, d.name);
    if (!v && src.event) v = Find(*src.event, d.name);
    if (!v) v = src.resource_values[i];
    if (v) {
      key->push_back('\x01');
      size_t at = key->size();
      if (v->value_case() == AnyValue::kStringValue) {
        key->append(v->string_value());
      } else {
        filterset::AppendAsString(*v, key);
      }
      if (attrs) attrs->emplace_back(d.name, key->substr(at));
    } else if (d.default_value) {
      key->push_back('\x01');
      key->append(*d.default_value);
      if (attrs) attrs->emplace_back(d.name, *d.default_value);
    } else {
      key->push_back('\x02');
    }
  }
}

void ResourceValues(const std::vector<SpanMetricsConnector::Dim>& dims, const Attrs& resource,
                    std::vector<const AnyValue*>* out) {
  out->assign(dims.size(), nullptr);
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].glob.empty()) (*out)[i] = Find(resource, dims[i].name);
  }
}

bool HasTraceId(const std::string& id) {
  return id.size() == 16 && std::any_of(id.begin(), id.end(), [](char c) { return c != 0; });
}

}  // namespace

SpanMetricsConnector::SpanMetricsConnector(const CreateSettings& settings, const Config& cfg, Consumer* next)
    : settings_(settings), cfg_(cfg), next_(next) {
  auto excluded = [&](std::string_view name) {
    return std::find(cfg.exclude_dimensions.begin(), cfg.exclude_dimensions.end(), name) !=
           cfg.exclude_dimensions.end();
  };
  keep_[0] = !excluded(kServiceName);
  keep_[1] = !excluded(kSpanName);
  keep_[2] = !excluded(kSpanKind);
  keep_[3] = !excluded(kStatusCode);
  common_ = Compile(cfg.dimensions);
  calls_only_ = Compile(cfg.calls_dimensions);
  hist_only_ = Compile(cfg.histogram.dimensions);
  event_dims_ = Compile(cfg.events.dimensions);
  split_ = !calls_only_.empty() || !hist_only_.empty();
  bounds_ = cfg.Bounds();
  ns_per_unit_ = cfg.histogram.unit == "s" ? 1e9 : 1e6;
  key_attrs_.insert(cfg.resource_metrics_key_attributes.begin(), cfg.resource_metrics_key_attributes.end());
  scopes_.insert(cfg.include_instrumentation_scope.begin(), cfg.include_instrumentation_scope.end());
  const std::string prefix = cfg.name_space.empty() ? "" : cfg.name_space + ".";
  calls_name_ = prefix + "calls";
  duration_name_ = prefix + "duration";
  events_name_ = prefix + "events";
  temporality_ = cfg.delta() ? pdata::Temporality::kDelta : pdata::Temporality::kCumulative;

  Telemetry& t = *settings.telemetry;
  const prometheus::Labels labels = {{"connector", settings.id.String()}};
  series_gauge_ = &t.AddGauge("outrigger_connector_span_metrics_series",
                              "Series held by the span_metrics connector (calls, duration and events)", labels);
  spans_ = &t.AddCounter("outrigger_connector_span_metrics_spans_total",
                         "Spans counted into metrics by the span_metrics connector", labels);
  no_service_ =
      &t.AddCounter("outrigger_connector_span_metrics_spans_without_service_name_total",
                    "Spans skipped by the span_metrics connector: their resource has no service.name", labels);
  overflow_ = &t.AddCounter("outrigger_connector_span_metrics_overflow_total",
                            "Recordings that went to the otel.metric.overflow series (aggregation_cardinality_limit "
                            "reached)",
                            labels);
  expired_ = &t.AddCounter("outrigger_connector_span_metrics_series_expired_total",
                           "Series removed by the span_metrics connector: not seen for the expiration, evicted with "
                           "their resource (resource_metrics_cache_size) or from the delta timestamp cache",
                           labels);
  evicted_ = &t.AddCounter("outrigger_connector_span_metrics_resources_evicted_total",
                           "Resources evicted by the span_metrics connector (resource_metrics_cache_size)", labels);
  refused_ = &t.AddCounter("outrigger_connector_span_metrics_flushes_refused_total",
                           "Flushes of the span_metrics connector that the metrics pipeline refused", labels);
}

SpanMetricsConnector::~SpanMetricsConnector() = default;

absl::Status SpanMetricsConnector::Start(Host& host) {
  ticker_.Start(host.IoContext(), cfg_.metrics_flush_interval,
                [this] { (void)Flush(static_cast<uint64_t>(absl::GetCurrentTimeNanos())); });
  return absl::OkStatus();
}

absl::Status SpanMetricsConnector::Shutdown(absl::Time) {
  {
    std::lock_guard l(flush_mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
  }
  ticker_.Stop();  // waits for a flush it is running
  // What was aggregated since the last flush goes downstream (still running: connectors
  // stop before exporters).
  absl::Status st = Flush(static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
  if (!st.ok() && settings_.logger) {
    settings_.logger->warn("the last flush of span metrics at shutdown was refused: {}", st.ToString());
  }
  return absl::OkStatus();
}

absl::Status SpanMetricsConnector::ConsumeTraces(pdata::Traces&& d) {
  Aggregate(d, static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
  return absl::OkStatus();
}

template <typename MakeAttrs>
SpanMetricsConnector::Series* SpanMetricsConnector::FindOrCreate(SeriesMap& map, const std::string& key,
                                                                 uint64_t now_ns, MakeAttrs&& make_attrs) {
  if (auto it = map.find(key); it != map.end()) return it->second.get();
  const std::string* k = &key;
  static const std::string overflow_key = kOverflowKey;
  bool overflow = false;
  if (cfg_.aggregation_cardinality_limit > 0) {
    size_t held = map.size() - (map.contains(overflow_key) ? 1 : 0);
    if (held >= static_cast<size_t>(cfg_.aggregation_cardinality_limit)) {
      overflow = true;
      overflow_->Increment();
      k = &overflow_key;
      if (auto it = map.find(overflow_key); it != map.end()) return it->second.get();
    }
  }
  auto s = std::make_unique<Series>();
  s->attrs = overflow ? pdata::Attributes{{"otel.metric.overflow", "true"}} : make_attrs();
  s->start_ns = now_ns;
  s->last_seen_ns = now_ns;
  if (cfg_.histogram.exponential) {
    s->expo = std::make_unique<ExponentialHistogram>(cfg_.histogram.max_size);
  } else {
    s->buckets.assign(bounds_.size() + 1, 0);
  }
  Series* out = s.get();
  map.emplace(*k, std::move(s));
  ++series_;
  return out;
}

void SpanMetricsConnector::Record(Series* s, double value, uint64_t now_ns, bool histogram, const std::string& trace_id,
                                  const std::string& span_id, uint64_t time_ns) {
  s->last_seen_ns = now_ns;
  s->dirty = true;
  if (histogram) {
    if (s->count == 0) {
      s->min = s->max = value;
    } else {
      s->min = std::min(s->min, value);
      s->max = std::max(s->max, value);
    }
    ++s->count;
    s->sum += value;
    if (s->expo) {
      s->expo->Record(value);
    } else {
      s->buckets[static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin())]++;
    }
  }
  if (cfg_.exemplars.enabled && HasTraceId(trace_id) &&
      (cfg_.exemplars.max_per_data_point == 0 ||
       s->exemplars.size() < static_cast<size_t>(cfg_.exemplars.max_per_data_point))) {
    s->exemplars.push_back(pdata::Exemplar{value, time_ns, trace_id, span_id, {}});
  }
}

void SpanMetricsConnector::Aggregate(const pdata::Traces& d, uint64_t now_ns) {
  uint64_t counted = 0, skipped = 0;
  std::string key, rkey;
  key.reserve(256);
  std::vector<const AnyValue*> common_res, calls_res, hist_res, event_res;
  std::vector<const opentelemetry::proto::common::v1::KeyValue*> sorted;
  const bool hist = !cfg_.histogram.disable;
  absl::MutexLock lock(&mu_);
  d.ForEachRequest([&](const tpb::ExportTraceServiceRequest& req) {
    for (const auto& rs : req.resource_spans()) {
      const Attrs& rattrs = rs.resource().attributes();
      const AnyValue* svc = Find(rattrs, kServiceName);
      if (svc == nullptr) {
        for (const auto& ss : rs.scope_spans()) skipped += static_cast<uint64_t>(ss.spans_size());
        continue;
      }
      // The resource: by all its attributes, or those of resource_metrics_key_attributes.
      sorted.clear();
      for (const auto& kv : rattrs) {
        if (key_attrs_.empty() || key_attrs_.contains(kv.key())) sorted.push_back(&kv);
      }
      std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
      rkey.clear();
      for (const auto* kv : sorted) {
        rkey.append(kv->key());
        rkey.push_back('\0');
        rkey.push_back(static_cast<char>('0' + kv->value().value_case()));
        filterset::AppendAsString(kv->value(), &rkey);
        rkey.push_back('\0');
      }
      auto rit = resources_.find(rkey);
      if (rit == resources_.end()) {
        if (resources_.size() >= static_cast<size_t>(cfg_.resource_metrics_cache_size)) {
          auto lru = std::min_element(resources_.begin(), resources_.end(), [](const auto& a, const auto& b) {
            return a.second->last_seen_ns < b.second->last_seen_ns;
          });
          size_t n = lru->second->calls.size() + lru->second->durations.size() + lru->second->events.size();
          series_ -= n;
          expired_->Increment(static_cast<double>(n));
          evicted_->Increment();
          resources_.erase(lru);
        }
        auto r = std::make_unique<Resource>();
        for (const auto& kv : rattrs) r->attrs.emplace_back(kv.key(), filterset::AsString(kv.value()));
        rit = resources_.emplace(rkey, std::move(r)).first;
      }
      Resource& r = *rit->second;
      r.last_seen_ns = now_ns;
      ResourceValues(common_, rattrs, &common_res);
      ResourceValues(calls_only_, rattrs, &calls_res);
      ResourceValues(hist_only_, rattrs, &hist_res);
      ResourceValues(event_dims_, rattrs, &event_res);
      const std::string service = filterset::AsString(*svc);

      for (const auto& ss : rs.scope_spans()) {
        const bool with_scope = !scopes_.empty() && scopes_.contains(ss.scope().name());
        for (const auto& span : ss.spans()) {
          ++counted;
          const uint64_t start = span.start_time_unix_nano(), end = span.end_time_unix_nano();
          const double value = end > start ? static_cast<double>(end - start) / ns_per_unit_ : 0.0;

          // The default dimensions (and the scope's, if included).
          key.clear();
          if (keep_[0]) key.append(service);
          key.push_back('\0');
          if (keep_[1]) key.append(span.name());
          key.push_back('\0');
          if (keep_[2]) key.push_back(static_cast<char>('0' + span.kind()));
          if (keep_[3]) key.push_back(static_cast<char>('0' + span.status().code()));
          if (with_scope) {
            key.push_back('\x04');
            key.append(ss.scope().name());
            key.push_back('\0');
            key.append(ss.scope().version());
            key.push_back('\0');
          }
          const size_t base_len = key.size();
          auto base_attrs = [&] {
            pdata::Attributes a;
            a.reserve(6 + common_.size() + calls_only_.size() + hist_only_.size());
            if (keep_[0]) a.emplace_back(kServiceName, service);
            if (keep_[1]) a.emplace_back(kSpanName, span.name());
            if (keep_[2]) a.emplace_back(kSpanKind, filterset::SpanKindName(span.kind()));
            if (keep_[3]) a.emplace_back(kStatusCode, StatusName(span.status().code()));
            if (with_scope) {
              a.emplace_back(kScopeNameKey, ss.scope().name());
              a.emplace_back(kScopeVersionKey, ss.scope().version());
            }
            return a;
          };
          const Sources common_src{span.attributes(), nullptr, rattrs, common_res};
          AppendDims(common_, common_src, &key, nullptr);
          const size_t common_len = key.size();

          if (!split_) {
            Series* s = FindOrCreate(r.calls, key, now_ns, [&] {
              pdata::Attributes a = base_attrs();
              std::string scratch;
              AppendDims(common_, common_src, &scratch, &a);
              return a;
            });
            ++s->calls;
            Record(s, value, now_ns, hist, span.trace_id(), span.span_id(), end);
          } else {
            const Sources calls_src{span.attributes(), nullptr, rattrs, calls_res};
            AppendDims(calls_only_, calls_src, &key, nullptr);
            Series* c = FindOrCreate(r.calls, key, now_ns, [&] {
              pdata::Attributes a = base_attrs();
              std::string scratch;
              AppendDims(common_, common_src, &scratch, &a);
              AppendDims(calls_only_, calls_src, &scratch, &a);
              return a;
            });
            ++c->calls;
            Record(c, value, now_ns, false, span.trace_id(), span.span_id(), end);
            if (hist) {
              key.resize(common_len);
              const Sources hist_src{span.attributes(), nullptr, rattrs, hist_res};
              AppendDims(hist_only_, hist_src, &key, nullptr);
              Series* h = FindOrCreate(r.durations, key, now_ns, [&] {
                pdata::Attributes a = base_attrs();
                std::string scratch;
                AppendDims(common_, common_src, &scratch, &a);
                AppendDims(hist_only_, hist_src, &scratch, &a);
                return a;
              });
              Record(h, value, now_ns, true, span.trace_id(), span.span_id(), end);
            }
          }

          if (cfg_.events.enabled) {
            for (const auto& ev : span.events()) {
              key.resize(base_len);
              const Sources esrc{span.attributes(), &ev.attributes(), rattrs, common_res};
              const Sources edsrc{span.attributes(), &ev.attributes(), rattrs, event_res};
              AppendDims(common_, esrc, &key, nullptr);
              AppendDims(event_dims_, edsrc, &key, nullptr);
              Series* e = FindOrCreate(r.events, key, now_ns, [&] {
                pdata::Attributes a = base_attrs();
                std::string scratch;
                AppendDims(common_, esrc, &scratch, &a);
                AppendDims(event_dims_, edsrc, &scratch, &a);
                return a;
              });
              ++e->calls;
              Record(e, value, now_ns, false, span.trace_id(), span.span_id(), end);
            }
          }
        }
      }
    }
  });
  UpdateSeriesGauge();
  if (counted) spans_->Increment(static_cast<double>(counted));
  if (skipped) no_service_->Increment(static_cast<double>(skipped));
}

void SpanMetricsConnector::UpdateSeriesGauge() { series_gauge_->Set(static_cast<double>(series_)); }

size_t SpanMetricsConnector::SeriesCount() const {
  absl::MutexLock lock(&mu_);
  return series_;
}

void SpanMetricsConnector::Expire(uint64_t now_ns) {
  const absl::Duration exp = cfg_.expiration();
  if (exp <= absl::ZeroDuration()) return;
  const uint64_t max_age = static_cast<uint64_t>(absl::ToInt64Nanoseconds(exp));
  size_t removed = 0;
  for (auto it = resources_.begin(); it != resources_.end();) {
    Resource& r = *it->second;
    for (SeriesMap* m : {&r.calls, &r.durations, &r.events}) {
      removed += absl::erase_if(*m, [&](const auto& kv) {
        return now_ns > kv.second->last_seen_ns && now_ns - kv.second->last_seen_ns >= max_age;
      });
    }
    if (r.calls.empty() && r.durations.empty() && r.events.empty()) {
      resources_.erase(it++);
    } else {
      ++it;
    }
  }
  series_ -= removed;
  if (removed) expired_->Increment(static_cast<double>(removed));
}

void SpanMetricsConnector::EvictIdleDelta() {
  const size_t cap = static_cast<size_t>(cfg_.metric_timestamp_cache_size);
  if (series_ <= cap) return;
  // The least recently seen series go; their next point starts a new delta series.
  std::vector<uint64_t> seen;
  seen.reserve(series_);
  for (auto& [k, r] : resources_) {
    for (SeriesMap* m : {&r->calls, &r->durations, &r->events}) {
      for (auto& [sk, s] : *m) seen.push_back(s->last_seen_ns);
    }
  }
  const size_t drop = series_ - cap;
  std::nth_element(seen.begin(), seen.begin() + static_cast<ptrdiff_t>(drop - 1), seen.end());
  const uint64_t cutoff = seen[drop - 1];
  size_t removed = 0;
  for (auto it = resources_.begin(); it != resources_.end();) {
    Resource& r = *it->second;
    for (SeriesMap* m : {&r.calls, &r.durations, &r.events}) {
      for (auto sit = m->begin(); sit != m->end();) {
        if (removed < drop && sit->second->last_seen_ns <= cutoff) {
          m->erase(sit++);
          ++removed;
        } else {
          ++sit;
        }
      }
    }
    if (r.calls.empty() && r.durations.empty() && r.events.empty()) {
      resources_.erase(it++);
    } else {
      ++it;
    }
  }
  series_ -= removed;
  if (removed) expired_->Increment(static_cast<double>(removed));
}

pdata::Metrics SpanMetricsConnector::Build(uint64_t now_ns) {
  Expire(now_ns);
  pdata::Metrics out;
  const bool delta = cfg_.delta();
  const bool hist = !cfg_.histogram.disable;
  for (auto& [rk, r] : resources_) {
    pdata::MetricsBuilder b(r->attrs, kScopeName, "");
    for (auto& [k, s] : r->calls) {
      if (delta && !s->dirty) continue;
      b.Sum(calls_name_, "", s->attrs, static_cast<double>(s->calls), s->start_ns, now_ns, true, temporality_, false,
            s->exemplars);
    }
    if (hist) {
      for (auto& [k, s] : split_ ? r->durations : r->calls) {
        if (delta && !s->dirty) continue;
        if (s->expo) {
          pdata::ExponentialHistogramPoint p;
          p.count = s->count;
          p.sum = s->sum;
          p.min = s->min;
          p.max = s->max;
          p.scale = s->expo->scale();
          p.zero_count = s->expo->zero_count();
          p.positive_offset = s->expo->offset();
          p.positive = s->expo->counts();
          // The builder takes no exemplars on exponential histograms: they are on `calls`.
          b.ExponentialHistogram(duration_name_, cfg_.histogram.unit, s->attrs, p, s->start_ns, now_ns, temporality_);
        } else {
          pdata::HistogramPoint p;
          p.count = s->count;
          p.sum = s->sum;
          p.min = s->min;
          p.max = s->max;
          p.has_min_max = s->count > 0;
          p.bounds = bounds_;
          p.bucket_counts = s->buckets;
          b.Histogram(duration_name_, cfg_.histogram.unit, s->attrs, p, s->start_ns, now_ns, temporality_, false,
                      s->exemplars);
        }
      }
    }
    for (auto& [k, s] : r->events) {
      if (delta && !s->dirty) continue;
      b.Sum(events_name_, "", s->attrs, static_cast<double>(s->calls), s->start_ns, now_ns, true, temporality_, false,
            s->exemplars);
    }
    if (b.points() > 0) out.Append(b.Build());
    // Reset: exemplars belong to one flush; delta series start over.
    for (SeriesMap* m : {&r->calls, &r->durations, &r->events}) {
      for (auto& [k, s] : *m) {
        s->exemplars.clear();
        if (delta && s->dirty) {
          s->calls = s->count = 0;
          s->sum = s->min = s->max = 0;
          std::fill(s->buckets.begin(), s->buckets.end(), 0);
          if (s->expo) s->expo->Reset();
          s->start_ns = now_ns;
        }
        s->dirty = false;
      }
    }
  }
  if (delta) EvictIdleDelta();
  UpdateSeriesGauge();
  return out;
}

absl::Status SpanMetricsConnector::Flush(uint64_t now_ns) {
  std::lock_guard fl(flush_mu_);
  pdata::Metrics m;
  {
    absl::MutexLock lock(&mu_);
    m = Build(now_ns);
  }
  if (pending_) {
    pending_->Append(std::move(m));
    m = std::move(*pending_);
    pending_.reset();
  }
  if (m.empty()) return absl::OkStatus();
  const size_t points = m.ItemCount();
  absl::Status st = cfg_.delta() ? next_->ConsumeMetrics(m.Clone()) : next_->ConsumeMetrics(std::move(m));
  if (!st.ok()) {
    refused_->Increment();
    const bool retry = absl::IsUnavailable(st) || absl::IsResourceExhausted(st);
    if (cfg_.delta() && retry && points <= kMaxPendingPoints) {
      // Delta points are gone once refused: keep them for the next flush.
      pending_ = std::move(m);
    }
    if (settings_.logger) {
      settings_.logger->warn("the metrics pipeline refused {} span metric points ({}); {}", points, st.ToString(),
                             cfg_.delta() ? (pending_ ? "offering them again at the next flush" : "dropped")
                                          : "the next flush carries the cumulative values");
    }
  }
  return st;
}

}  // namespace outrigger::connectors::span_metrics
