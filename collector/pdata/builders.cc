#include "collector/pdata/builders.h"

#include <iterator>

#include "absl/container/flat_hash_map.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace outrigger::pdata {

namespace mpb = opentelemetry::proto::metrics::v1;
using Request = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

namespace {
// `attrs`: Attributes or AttributeViews.
template <typename P, typename A>
void SetAttrs(P* p, const A& attrs) {
  auto* out = p->mutable_attributes();
  out->Reserve(out->size() + static_cast<int>(std::size(attrs)));
  for (const auto& [k, v] : attrs) {
    auto* kv = out->Add();
    // A std::string rvalue is moved into the arena; (data, size) would copy it twice.
    kv->set_key(std::string(k));
    kv->mutable_value()->set_string_value(std::string(v));
  }
}

void ToAnyValue(const Value& v, opentelemetry::proto::common::v1::AnyValue* out);

template <typename P>
void AddExemplars(P* p, std::span<const Exemplar> exemplars) {
  for (const Exemplar& e : exemplars) {
    auto* out = p->add_exemplars();
    out->set_as_double(e.value);
    out->set_time_unix_nano(e.time_ns);
    if (!e.trace_id.empty()) out->set_trace_id(e.trace_id);
    if (!e.span_id.empty()) out->set_span_id(e.span_id);
    for (const auto& [k, v] : e.attrs) {
      auto* kv = out->add_filtered_attributes();
      kv->set_key(k);
      kv->mutable_value()->set_string_value(v);
    }
  }
}

template <typename P>
void SetValueMap(P* p, const ValueMap& m) {
  for (const auto& [k, v] : m) {
    auto* kv = p->add_attributes();
    kv->set_key(k);
    ToAnyValue(v, kv->mutable_value());
  }
}

void ToAnyValue(const Value& v, opentelemetry::proto::common::v1::AnyValue* out) {
  struct Visitor {
    opentelemetry::proto::common::v1::AnyValue* out;
    void operator()(const std::monostate&) const {}
    void operator()(const std::string& s) const { out->set_string_value(s); }
    void operator()(bool b) const { out->set_bool_value(b); }
    void operator()(int64_t i) const { out->set_int_value(i); }
    void operator()(double d) const { out->set_double_value(d); }
    void operator()(const Bytes& b) const { out->set_bytes_value(b.data); }
    void operator()(const ValueList& l) const {
      auto* arr = out->mutable_array_value();
      for (const auto& e : l) ToAnyValue(e, arr->add_values());
    }
    void operator()(const ValueMap& m) const {
      auto* kvl = out->mutable_kvlist_value();
      for (const auto& [k, e] : m) {
        auto* kv = kvl->add_values();
        kv->set_key(k);
        ToAnyValue(e, kv->mutable_value());
      }
    }
  };
  std::visit(Visitor{out}, v.v);
}
}  // namespace

bool Value::operator==(const Value& o) const { return v == o.v; }

const Value* Find(const ValueMap& m, std::string_view key) {
  for (const auto& [k, v] : m) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Find(ValueMap& m, std::string_view key) {
  for (auto& [k, v] : m) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Set(ValueMap& m, std::string key, Value v) {
  if (Value* old = Find(m, key)) {
    *old = std::move(v);
    return;
  }
  m.emplace_back(std::move(key), std::move(v));
}

Value Remove(ValueMap& m, std::string_view key) {
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (it->first == key) {
      Value out = std::move(it->second);
      m.erase(it);
      return out;
    }
  }
  return Value();
}

struct MetricsBuilder::Impl {
  Attributes resource;
  std::string scope_name, scope_version;
  Metrics data;
  Request* req = nullptr;
  mpb::ScopeMetrics* scope = nullptr;
  // Metrics by kind (the Metric data case) and name. Points of one metric usually come
  // one after the other: the last one is checked first.
  static constexpr int kKinds = mpb::Metric::kSummary + 1;
  absl::flat_hash_map<std::string, mpb::Metric*> metrics[kKinds];
  std::string last_name;
  int last_kind = -1;
  mpb::Metric* last = nullptr;

  void Reset() {
    data = Metrics::New(&req);
    auto* rm = req->add_resource_metrics();
    SetAttrs(rm->mutable_resource(), resource);
    scope = rm->add_scope_metrics();
    scope->mutable_scope()->set_name(scope_name);
    scope->mutable_scope()->set_version(scope_version);
    for (auto& m : metrics) m.clear();
    last_kind = -1;
    last = nullptr;
  }

  mpb::Metric* Get(std::string_view name, std::string_view unit, int kind) {
    if (kind == last_kind && name == last_name) return last;
    auto [it, added] = metrics[kind].try_emplace(ToAbsl(name), nullptr);
    if (added) {
      it->second = scope->add_metrics();
      it->second->set_name(name.data(), name.size());
      it->second->set_unit(unit.data(), unit.size());
    }
    last_name.assign(name);
    last_kind = kind;
    last = it->second;
    return last;
  }
};

MetricsBuilder::MetricsBuilder(const Attributes& resource, const std::string& scope_name,
                               const std::string& scope_version)
    : impl_(std::make_unique<Impl>()) {
  impl_->resource = resource;
  impl_->scope_name = scope_name;
  impl_->scope_version = scope_version;
  impl_->Reset();
}

MetricsBuilder::~MetricsBuilder() = default;

template <typename A>
void MetricsBuilder::GaugeImpl(std::string_view name, std::string_view unit, const A& attrs, double value,
                               uint64_t time_ns, bool no_recorded_value) {
  auto* p = impl_->Get(name, unit, mpb::Metric::kGauge)->mutable_gauge()->add_data_points();
  SetAttrs(p, attrs);
  p->set_as_double(value);
  p->set_time_unix_nano(time_ns);
  if (no_recorded_value) p->set_flags(mpb::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  ++points_;
}

template <typename A>
void MetricsBuilder::SumImpl(std::string_view name, std::string_view unit, const A& attrs, double value,
                             uint64_t start_ns, uint64_t time_ns, bool monotonic, Temporality t, bool no_recorded_value,
                             std::span<const Exemplar> exemplars) {
  auto* sum = impl_->Get(name, unit, mpb::Metric::kSum)->mutable_sum();
  sum->set_is_monotonic(monotonic);
  sum->set_aggregation_temporality(static_cast<mpb::AggregationTemporality>(t));
  auto* p = sum->add_data_points();
  SetAttrs(p, attrs);
  p->set_as_double(value);
  p->set_start_time_unix_nano(start_ns);
  p->set_time_unix_nano(time_ns);
  if (no_recorded_value) p->set_flags(mpb::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  AddExemplars(p, exemplars);
  ++points_;
}

namespace {
// What explicit and exponential histogram points share.
template <typename P, typename A, typename H>
void SetHistogramCommon(P* p, const A& attrs, uint64_t start_ns, uint64_t time_ns, const H& h) {
  SetAttrs(p, attrs);
  p->set_start_time_unix_nano(start_ns);
  p->set_time_unix_nano(time_ns);
  p->set_count(h.count);
  p->set_sum(h.sum);
  if constexpr (requires { h.has_min_max; }) {
    if (!h.has_min_max) return;
  }
  p->set_min(h.min);
  p->set_max(h.max);
}
}  // namespace

template <typename A>
void MetricsBuilder::HistogramImpl(std::string_view name, std::string_view unit, const A& attrs,
                                   const HistogramPoint& h, uint64_t start_ns, uint64_t time_ns, Temporality t,
                                   bool no_recorded_value, std::span<const Exemplar> exemplars) {
  auto* hist = impl_->Get(name, unit, mpb::Metric::kHistogram)->mutable_histogram();
  hist->set_aggregation_temporality(static_cast<mpb::AggregationTemporality>(t));
  auto* p = hist->add_data_points();
  SetHistogramCommon(p, attrs, start_ns, time_ns, h);
  p->mutable_explicit_bounds()->Add(h.bounds.begin(), h.bounds.end());
  p->mutable_bucket_counts()->Add(h.bucket_counts.begin(), h.bucket_counts.end());
  if (no_recorded_value) p->set_flags(mpb::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  AddExemplars(p, exemplars);
  ++points_;
}

template <typename A>
void MetricsBuilder::SummaryImpl(std::string_view name, std::string_view unit, const A& attrs, const SummaryPoint& s,
                                 uint64_t start_ns, uint64_t time_ns, bool no_recorded_value) {
  auto* p = impl_->Get(name, unit, mpb::Metric::kSummary)->mutable_summary()->add_data_points();
  SetAttrs(p, attrs);
  p->set_start_time_unix_nano(start_ns);
  p->set_time_unix_nano(time_ns);
  p->set_count(s.count);
  p->set_sum(s.sum);
  for (const auto& [q, v] : s.quantiles) {
    auto* qv = p->add_quantile_values();
    qv->set_quantile(q);
    qv->set_value(v);
  }
  if (no_recorded_value) p->set_flags(mpb::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  ++points_;
}

void MetricsBuilder::Gauge(const std::string& name, const std::string& unit, const Attributes& attrs, double value,
                           uint64_t time_ns, bool no_recorded_value) {
  GaugeImpl(name, unit, attrs, value, time_ns, no_recorded_value);
}

void MetricsBuilder::Gauge(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs,
                           double value, uint64_t time_ns, bool no_recorded_value) {
  GaugeImpl(name, unit, attrs, value, time_ns, no_recorded_value);
}

void MetricsBuilder::Sum(const std::string& name, const std::string& unit, const Attributes& attrs, double value,
                         uint64_t start_ns, uint64_t time_ns, bool monotonic, Temporality t, bool no_recorded_value,
                         std::span<const Exemplar> exemplars) {
  SumImpl(name, unit, attrs, value, start_ns, time_ns, monotonic, t, no_recorded_value, exemplars);
}

void MetricsBuilder::Sum(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs,
                         double value, uint64_t start_ns, uint64_t time_ns, bool monotonic, Temporality t,
                         bool no_recorded_value, std::span<const Exemplar> exemplars) {
  SumImpl(name, unit, attrs, value, start_ns, time_ns, monotonic, t, no_recorded_value, exemplars);
}

void MetricsBuilder::Histogram(const std::string& name, const std::string& unit, const Attributes& attrs,
                               const HistogramPoint& h, uint64_t start_ns, uint64_t time_ns, Temporality t,
                               bool no_recorded_value, std::span<const Exemplar> exemplars) {
  HistogramImpl(name, unit, attrs, h, start_ns, time_ns, t, no_recorded_value, exemplars);
}

void MetricsBuilder::Histogram(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs,
                               const HistogramPoint& h, uint64_t start_ns, uint64_t time_ns, Temporality t,
                               bool no_recorded_value, std::span<const Exemplar> exemplars) {
  HistogramImpl(name, unit, attrs, h, start_ns, time_ns, t, no_recorded_value, exemplars);
}

void MetricsBuilder::ExponentialHistogram(const std::string& name, const std::string& unit, const Attributes& attrs,
                                          const ExponentialHistogramPoint& h, uint64_t start_ns, uint64_t time_ns,
                                          Temporality t) {
  auto* hist = impl_->Get(name, unit, mpb::Metric::kExponentialHistogram)->mutable_exponential_histogram();
  hist->set_aggregation_temporality(static_cast<mpb::AggregationTemporality>(t));
  auto* p = hist->add_data_points();
  SetHistogramCommon(p, attrs, start_ns, time_ns, h);
  p->set_scale(h.scale);
  p->set_zero_count(h.zero_count);
  p->mutable_positive()->set_offset(h.positive_offset);
  for (uint64_t c : h.positive) p->mutable_positive()->add_bucket_counts(c);
  p->mutable_negative()->set_offset(h.negative_offset);
  for (uint64_t c : h.negative) p->mutable_negative()->add_bucket_counts(c);
  ++points_;
}

void MetricsBuilder::Summary(const std::string& name, const std::string& unit, const Attributes& attrs,
                             const SummaryPoint& s, uint64_t start_ns, uint64_t time_ns, bool no_recorded_value) {
  SummaryImpl(name, unit, attrs, s, start_ns, time_ns, no_recorded_value);
}

void MetricsBuilder::Summary(std::string_view name, std::string_view unit, std::span<const AttributeView> attrs,
                             const SummaryPoint& s, uint64_t start_ns, uint64_t time_ns, bool no_recorded_value) {
  SummaryImpl(name, unit, attrs, s, start_ns, time_ns, no_recorded_value);
}

Metrics MetricsBuilder::Build() {
  Metrics out = std::move(impl_->data);
  impl_->Reset();
  points_ = 0;
  return out;
}

namespace {
// ToAnyValue and SetValueMap, moving strings into the message (protobuf moves a
// std::string rvalue into an arena message: its buffer is taken, not copied).
void MoveToAnyValue(Value&& v, opentelemetry::proto::common::v1::AnyValue* out) {
  struct Visitor {
    opentelemetry::proto::common::v1::AnyValue* out;
    void operator()(std::monostate&) const {}
    void operator()(std::string& s) const { out->set_string_value(std::move(s)); }
    void operator()(bool b) const { out->set_bool_value(b); }
    void operator()(int64_t i) const { out->set_int_value(i); }
    void operator()(double d) const { out->set_double_value(d); }
    void operator()(Bytes& b) const { out->set_bytes_value(std::move(b.data)); }
    void operator()(ValueList& l) const {
      auto* arr = out->mutable_array_value();
      arr->mutable_values()->Reserve(static_cast<int>(l.size()));
      for (auto& e : l) MoveToAnyValue(std::move(e), arr->add_values());
    }
    void operator()(ValueMap& m) const {
      auto* kvl = out->mutable_kvlist_value();
      kvl->mutable_values()->Reserve(static_cast<int>(m.size()));
      for (auto& [k, e] : m) {
        auto* kv = kvl->add_values();
        kv->set_key(std::move(k));
        MoveToAnyValue(std::move(e), kv->mutable_value());
      }
    }
  };
  std::visit(Visitor{out}, v.v);
}
}  // namespace

struct LogsBuilder::Impl {
  ValueMap resource;
  std::string scope_name;
  Logs data;
  opentelemetry::proto::logs::v1::ScopeLogs* scope = nullptr;
  // The arena of the next batch is sized for about as many records as the last one (the
  // message structure: strings longer than 15 bytes are allocated outside the arena).
  size_t last_records = 0;
  // NewSized's hint is an encoded size, of which the arena holds about 3x.
  static constexpr size_t kArenaBytesPerRecord = 128;
  void Reset() {
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest* req;
    data = Logs::NewSized(&req, last_records * kArenaBytesPerRecord);
    auto* rl = req->add_resource_logs();
    SetValueMap(rl->mutable_resource(), resource);
    scope = rl->add_scope_logs();
    scope->mutable_scope()->set_name(scope_name);
  }
};

LogsBuilder::LogsBuilder(const Attributes& resource, const std::string& scope_name) : impl_(std::make_unique<Impl>()) {
  for (const auto& [k, v] : resource) impl_->resource.emplace_back(k, Value(v));
  impl_->scope_name = scope_name;
  impl_->Reset();
}

LogsBuilder::LogsBuilder(const ValueMap& resource, const std::string& scope_name) : impl_(std::make_unique<Impl>()) {
  impl_->resource = resource;
  impl_->scope_name = scope_name;
  impl_->Reset();
}

void LogsBuilder::Add(const LogRecord& r) {
  auto* l = impl_->scope->add_log_records();
  ToAnyValue(r.body, l->mutable_body());
  if (r.body.empty()) l->clear_body();
  l->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(r.severity_number));
  l->set_severity_text(r.severity_text);
  l->set_time_unix_nano(r.time_ns);
  l->set_observed_time_unix_nano(r.observed_time_ns);
  SetValueMap(l, r.attributes);
  l->set_trace_id(r.trace_id);
  l->set_span_id(r.span_id);
  l->set_flags(r.flags);
  ++records_;
}

void LogsBuilder::Add(LogRecord&& r) {
  auto* l = impl_->scope->add_log_records();
  if (!r.body.empty()) MoveToAnyValue(std::move(r.body), l->mutable_body());
  l->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(r.severity_number));
  // Empty strings are left unset (the same message): setting one allocates on the arena.
  if (!r.severity_text.empty()) l->set_severity_text(std::move(r.severity_text));
  l->set_time_unix_nano(r.time_ns);
  l->set_observed_time_unix_nano(r.observed_time_ns);
  if (!r.attributes.empty()) {
    l->mutable_attributes()->Reserve(static_cast<int>(r.attributes.size()));
    for (auto& [k, v] : r.attributes) {
      auto* kv = l->add_attributes();
      kv->set_key(std::move(k));
      MoveToAnyValue(std::move(v), kv->mutable_value());
    }
  }
  if (!r.trace_id.empty()) l->set_trace_id(std::move(r.trace_id));
  if (!r.span_id.empty()) l->set_span_id(std::move(r.span_id));
  l->set_flags(r.flags);
  ++records_;
}

std::string* LogsBuilder::AddLine(uint64_t observed_time_ns, const ValueMap& attrs, bool bytes) {
  auto* l = impl_->scope->add_log_records();
  l->set_observed_time_unix_nano(observed_time_ns);
  if (!attrs.empty()) {
    l->mutable_attributes()->Reserve(static_cast<int>(attrs.size()));
    SetValueMap(l, attrs);
  }
  ++records_;
  return bytes ? l->mutable_body()->mutable_bytes_value() : l->mutable_body()->mutable_string_value();
}

LogsBuilder::~LogsBuilder() = default;

void LogsBuilder::Add(const std::string& body, int severity_number, const std::string& severity_text,
                      const Attributes& attrs, uint64_t time_ns) {
  auto* l = impl_->scope->add_log_records();
  l->mutable_body()->set_string_value(body);
  l->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(severity_number));
  l->set_severity_text(severity_text);
  l->set_time_unix_nano(time_ns);
  l->set_observed_time_unix_nano(time_ns);
  SetAttrs(l, attrs);
  ++records_;
}

Logs LogsBuilder::Build() {
  Logs out = std::move(impl_->data);
  impl_->last_records = records_;
  impl_->Reset();
  records_ = 0;
  return out;
}

}  // namespace outrigger::pdata
