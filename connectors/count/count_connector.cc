#include "connectors/count/count_connector.h"

#include <map>

#include "absl/time/clock.h"
#include "collector/common/strings.h"
#include "collector/filterset/filterset.h"
#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::connectors::count {
namespace {

namespace cpb = opentelemetry::proto::common::v1;
namespace mpb = opentelemetry::proto::metrics::v1;
namespace rpb = opentelemetry::proto::resource::v1;
namespace cmpb = opentelemetry::proto::collector::metrics::v1;
using Attrs = google::protobuf::RepeatedPtrField<cpb::KeyValue>;

const cpb::AnyValue* Find(const Attrs* attrs, const std::string& key) {
  if (attrs == nullptr) return nullptr;
  for (const auto& kv : *attrs) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

// The counts of one resource: per metric (config order), per attribute values.
class Counts {
 public:
  explicit Counts(const std::vector<MetricInfo>* a, const std::vector<MetricInfo>* b = nullptr) {
    for (const auto* defs : {a, b}) {
      if (defs == nullptr) continue;
      for (const MetricInfo& m : *defs) metrics_.push_back({&m, {}});
    }
  }

  // Counts one record for the metrics of `defs` (a slice of those given, by offset):
  // its attributes looked up on the record, the scope, then the resource.
  absl::Status Update(size_t first, size_t n, ottl::EvalContext& c, const Attrs* record, const Attrs* scope,
                      const Attrs* resource) {
    absl::Status err;
    for (size_t i = first; i < first + n; ++i) {
      auto& [def, counts] = metrics_[i];
      std::vector<std::pair<std::string, std::string>> key;
      bool complete = true;
      for (const AttributeConfig& a : def->attributes) {
        const cpb::AnyValue* v = Find(record, a.key);
        if (v == nullptr) v = Find(scope, a.key);
        if (v == nullptr) v = Find(resource, a.key);
        if (v != nullptr) {
          std::string s;
          filterset::AppendAsString(*v, &s);
          key.emplace_back(a.key, std::move(s));
        } else if (a.default_value) {
          key.emplace_back(a.key, *a.default_value);
        } else {
          complete = false;  // upstream: not counted
          break;
        }
      }
      if (!complete) continue;
      bool match = def->conditions.empty();
      for (const ottl::Condition& cond : def->conditions) {
        absl::StatusOr<bool> r = cond.Eval(c);
        if (!r.ok()) {
          if (err.ok())
            err = absl::InvalidArgumentError(
                StrCat("count metric ", def->name, ": condition `", cond.text(), "`: ", r.status().message()));
          continue;
        }
        if (*r) {
          match = true;
          break;
        }
      }
      if (match) ++counts[std::move(key)];
    }
    return err;
  }

  // Appends a ResourceMetrics for `resource` with one Sum per metric that counted
  // something; the number of points.
  size_t AppendTo(cmpb::ExportMetricsServiceRequest* out, const rpb::Resource& resource, const std::string& schema_url,
                  uint64_t now_ns) const {
    size_t points = 0;
    mpb::ScopeMetrics* sm = nullptr;
    for (const auto& [def, counts] : metrics_) {
      if (counts.empty()) continue;
      if (sm == nullptr) {
        auto* rm = out->add_resource_metrics();
        *rm->mutable_resource() = resource;
        rm->set_schema_url(schema_url);
        sm = rm->add_scope_metrics();
        sm->mutable_scope()->set_name(kScopeName);
      }
      mpb::Metric* m = sm->add_metrics();
      m->set_name(def->name);
      m->set_description(def->description);
      mpb::Sum* sum = m->mutable_sum();
      sum->set_is_monotonic(true);
      sum->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_DELTA);
      for (const auto& [attrs, n] : counts) {
        mpb::NumberDataPoint* p = sum->add_data_points();
        for (const auto& [k, v] : attrs) {
          cpb::KeyValue* kv = p->add_attributes();
          kv->set_key(k);
          kv->mutable_value()->set_string_value(v);
        }
        p->set_time_unix_nano(now_ns);
        p->set_as_int(n);
        ++points;
      }
    }
    return points;
  }

 private:
  std::vector<std::pair<const MetricInfo*, std::map<std::vector<std::pair<std::string, std::string>>, int64_t>>>
      metrics_;
};

}  // namespace

CountConnector::CountConnector(const CreateSettings& settings, const Config& cfg, Consumer* next)
    : settings_(settings), cfg_(cfg), next_(next) {
  Telemetry& t = *settings.telemetry;
  const prometheus::Labels labels = {{"connector", settings.id.String()}};
  errors_ = &t.AddCounter("outrigger_connector_count_condition_errors_total",
                          "Requests whose count conditions could not be evaluated (the request is refused, as "
                          "upstream does)",
                          labels);
  refused_ =
      &t.AddCounter("outrigger_connector_count_refused_total",
                    "Count metrics that the metrics pipeline refused (the refusal is returned upstream)", labels);
}

absl::Status CountConnector::ConsumeTraces(pdata::Traces&& d) {
  return CountTraces(std::move(d), static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
}
absl::Status CountConnector::ConsumeMetrics(pdata::Metrics&& d) {
  return CountMetrics(std::move(d), static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
}
absl::Status CountConnector::ConsumeLogs(pdata::Logs&& d) {
  return CountLogs(std::move(d), static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
}

absl::Status CountConnector::Send(pdata::Metrics&& out, size_t points, const absl::Status& eval) {
  if (!eval.ok()) {
    errors_->Increment();
    return eval;
  }
  if (points == 0) return absl::OkStatus();
  absl::Status st = next_->ConsumeMetrics(std::move(out));
  if (!st.ok()) refused_->Increment();
  return st;
}

// The records are read through OTTL's EvalContext, which takes mutable pointers: the
// requests are walked with mutable access (conditions only read them).
absl::Status CountConnector::CountTraces(pdata::Traces&& d, uint64_t now_ns) {
  cmpb::ExportMetricsServiceRequest* req = nullptr;
  pdata::Metrics out = pdata::Metrics::New(&req);
  size_t points = 0;
  absl::Status err;
  const size_t nspans = cfg_.spans.size(), nevents = cfg_.spanevents.size();
  d.ForEachMutableRequest([&](auto& in) {
    for (auto& rs : *in.mutable_resource_spans()) {
      Counts counts(&cfg_.spans, &cfg_.spanevents);
      ottl::EvalContext c;
      c.resource = rs.mutable_resource();
      c.resource_schema_url = rs.mutable_schema_url();
      const Attrs* rattrs = &rs.resource().attributes();
      for (auto& ss : *rs.mutable_scope_spans()) {
        c.scope = ss.mutable_scope();
        c.scope_schema_url = ss.mutable_schema_url();
        const Attrs* sattrs = &ss.scope().attributes();
        for (auto& span : *ss.mutable_spans()) {
          c.span = &span;
          c.event = nullptr;
          c.cache.Clear();
          absl::Status st = counts.Update(0, nspans, c, &span.attributes(), sattrs, rattrs);
          if (err.ok()) err = st;
          for (auto& ev : *span.mutable_events()) {
            c.event = &ev;
            c.cache.Clear();
            st = counts.Update(nspans, nevents, c, &ev.attributes(), sattrs, rattrs);
            if (err.ok()) err = st;
          }
        }
      }
      points += counts.AppendTo(req, rs.resource(), rs.schema_url(), now_ns);
    }
  });
  return Send(std::move(out), points, err);
}

absl::Status CountConnector::CountMetrics(pdata::Metrics&& d, uint64_t now_ns) {
  cmpb::ExportMetricsServiceRequest* req = nullptr;
  pdata::Metrics out = pdata::Metrics::New(&req);
  size_t points = 0;
  absl::Status err;
  const size_t nmetrics = cfg_.metrics.size(), npoints = cfg_.datapoints.size();
  d.ForEachMutableRequest([&](auto& in) {
    for (auto& rm : *in.mutable_resource_metrics()) {
      Counts counts(&cfg_.metrics, &cfg_.datapoints);
      ottl::EvalContext c;
      c.resource = rm.mutable_resource();
      c.resource_schema_url = rm.mutable_schema_url();
      const Attrs* rattrs = &rm.resource().attributes();
      for (auto& sm : *rm.mutable_scope_metrics()) {
        c.scope = sm.mutable_scope();
        c.scope_schema_url = sm.mutable_schema_url();
        const Attrs* sattrs = &sm.scope().attributes();
        for (auto& m : *sm.mutable_metrics()) {
          c.metric = &m;
          c.ClearDataPoint();
          c.cache.Clear();
          // A metric has no attributes of its own (upstream counts it with an empty map).
          absl::Status st = counts.Update(0, nmetrics, c, nullptr, sattrs, rattrs);
          if (err.ok()) err = st;
          auto point = [&](const Attrs& attrs) {
            c.cache.Clear();
            absl::Status s = counts.Update(nmetrics, npoints, c, &attrs, sattrs, rattrs);
            if (err.ok()) err = s;
            c.ClearDataPoint();
          };
          switch (m.data_case()) {
            case mpb::Metric::kGauge:
              for (auto& p : *m.mutable_gauge()->mutable_data_points()) c.number = &p, point(p.attributes());
              break;
            case mpb::Metric::kSum:
              for (auto& p : *m.mutable_sum()->mutable_data_points()) c.number = &p, point(p.attributes());
              break;
            case mpb::Metric::kHistogram:
              for (auto& p : *m.mutable_histogram()->mutable_data_points()) c.histogram = &p, point(p.attributes());
              break;
            case mpb::Metric::kExponentialHistogram:
              for (auto& p : *m.mutable_exponential_histogram()->mutable_data_points()) {
                c.exp_histogram = &p, point(p.attributes());
              }
              break;
            case mpb::Metric::kSummary:
              for (auto& p : *m.mutable_summary()->mutable_data_points()) c.summary = &p, point(p.attributes());
              break;
            default:
              break;
          }
        }
      }
      points += counts.AppendTo(req, rm.resource(), rm.schema_url(), now_ns);
    }
  });
  return Send(std::move(out), points, err);
}

absl::Status CountConnector::CountLogs(pdata::Logs&& d, uint64_t now_ns) {
  cmpb::ExportMetricsServiceRequest* req = nullptr;
  pdata::Metrics out = pdata::Metrics::New(&req);
  size_t points = 0;
  absl::Status err;
  d.ForEachMutableRequest([&](auto& in) {
    for (auto& rl : *in.mutable_resource_logs()) {
      Counts counts(&cfg_.logs);
      ottl::EvalContext c;
      c.resource = rl.mutable_resource();
      c.resource_schema_url = rl.mutable_schema_url();
      const Attrs* rattrs = &rl.resource().attributes();
      for (auto& sl : *rl.mutable_scope_logs()) {
        c.scope = sl.mutable_scope();
        c.scope_schema_url = sl.mutable_schema_url();
        const Attrs* sattrs = &sl.scope().attributes();
        for (auto& log : *sl.mutable_log_records()) {
          c.log = &log;
          c.cache.Clear();
          absl::Status st = counts.Update(0, cfg_.logs.size(), c, &log.attributes(), sattrs, rattrs);
          if (err.ok()) err = st;
        }
      }
      points += counts.AppendTo(req, rl.resource(), rl.schema_url(), now_ns);
    }
  });
  return Send(std::move(out), points, err);
}

}  // namespace outrigger::connectors::count
