#pragma once
// Walks the records of an OTLP request at one OTTL context, setting an EvalContext for
// each (resource, scope, span, span event, metric, data point, log record), for the
// processors that run OTTL (transform, filter) and anything else that evaluates
// conditions per record. `fn(EvalContext&)` returns absl::StatusOr<bool>: true removes the
// record (and then a scope, resource or metric left empty by removals goes too); an
// error stops the walk and is returned. The cache is cleared before each record.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/ottl/context.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::ottl {

// Removes the elements for which `remove` is true, keeping the order; returns how many.
template <typename T, typename Pred>
size_t RemoveIf(google::protobuf::RepeatedPtrField<T>* f, Pred remove) {
  int w = 0;
  const int n = f->size();
  for (int i = 0; i < n; ++i) {
    if (!remove(f->Get(i))) {
      if (w != i) f->SwapElements(i, w);
      ++w;
    }
  }
  if (w < n) f->DeleteSubrange(w, n - w);
  return static_cast<size_t>(n - w);
}

namespace walk_internal {
// A mark for removal that survives SwapElements: records flagged in `flags` by index.
template <typename T, typename Fn>
absl::Status Each(google::protobuf::RepeatedPtrField<T>* f, EvalContext& c, Fn&& on_item, size_t* removed) {
  // Two passes: evaluate in order, then compact; `flags` is reused across calls.
  thread_local std::vector<char> flags;
  size_t base = flags.size();
  flags.resize(base + f->size(), 0);
  absl::Status st;
  for (int i = 0; i < f->size(); ++i) {
    absl::StatusOr<bool> r = on_item(*f->Mutable(i));
    if (!r.ok()) {
      st = r.status();
      break;
    }
    flags[base + i] = *r ? 1 : 0;
  }
  if (st.ok()) {
    int idx = 0;
    *removed += RemoveIf(f, [&](const T&) { return flags[base + idx++] != 0; });
  }
  flags.resize(base);
  return st;
}
}  // namespace walk_internal

template <typename Fn>
absl::Status WalkTraces(opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& req, ContextKind ctx,
                        EvalContext& c, Fn&& fn, size_t* removed_items = nullptr) {
  namespace tpb = opentelemetry::proto::trace::v1;
  size_t removed = 0, spans_removed = 0;
  auto st = walk_internal::Each(
      req.mutable_resource_spans(), c,
      [&](tpb::ResourceSpans& rs) -> absl::StatusOr<bool> {
        c.resource = rs.mutable_resource();
        c.resource_schema_url = rs.mutable_schema_url();
        if (ctx == ContextKind::kResource) {
          c.cache.Clear();
          auto r = fn(c);
          if (r.ok() && *r) {
            for (const auto& ss : rs.scope_spans()) spans_removed += ss.spans_size();
          }
          return r;
        }
        size_t scopes_removed = 0;
        auto s = walk_internal::Each(
            rs.mutable_scope_spans(), c,
            [&](tpb::ScopeSpans& ss) -> absl::StatusOr<bool> {
              c.scope = ss.mutable_scope();
              c.scope_schema_url = ss.mutable_schema_url();
              if (ctx == ContextKind::kScope) {
                c.cache.Clear();
                auto r = fn(c);
                if (r.ok() && *r) spans_removed += ss.spans_size();
                return r;
              }
              size_t gone = 0;
              auto s2 = walk_internal::Each(
                  ss.mutable_spans(), c,
                  [&](tpb::Span& span) -> absl::StatusOr<bool> {
                    c.span = &span;
                    if (ctx == ContextKind::kSpan) {
                      c.cache.Clear();
                      return fn(c);
                    }
                    size_t events_gone = 0;
                    auto s3 = walk_internal::Each(
                        span.mutable_events(), c,
                        [&](tpb::Span_Event& ev) -> absl::StatusOr<bool> {
                          c.event = &ev;
                          c.cache.Clear();
                          return fn(c);
                        },
                        &events_gone);
                    removed += events_gone;
                    if (!s3.ok()) return s3;
                    return false;
                  },
                  &gone);
              spans_removed += gone;
              if (!s2.ok()) return s2;
              return gone > 0 && ss.spans_size() == 0;
            },
            &scopes_removed);
        if (!s.ok()) return s;
        return scopes_removed > 0 && rs.scope_spans_size() == 0;
      },
      &removed);
  if (removed_items) *removed_items = ctx == ContextKind::kSpanEvent ? removed : spans_removed;
  return st;
}

template <typename Fn>
absl::Status WalkLogs(opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& req, ContextKind ctx,
                      EvalContext& c, Fn&& fn, size_t* removed_items = nullptr) {
  namespace lpb = opentelemetry::proto::logs::v1;
  size_t removed = 0, logs_removed = 0;
  auto st = walk_internal::Each(
      req.mutable_resource_logs(), c,
      [&](lpb::ResourceLogs& rl) -> absl::StatusOr<bool> {
        c.resource = rl.mutable_resource();
        c.resource_schema_url = rl.mutable_schema_url();
        if (ctx == ContextKind::kResource) {
          c.cache.Clear();
          auto r = fn(c);
          if (r.ok() && *r) {
            for (const auto& sl : rl.scope_logs()) logs_removed += sl.log_records_size();
          }
          return r;
        }
        size_t scopes_removed = 0;
        auto s = walk_internal::Each(
            rl.mutable_scope_logs(), c,
            [&](lpb::ScopeLogs& sl) -> absl::StatusOr<bool> {
              c.scope = sl.mutable_scope();
              c.scope_schema_url = sl.mutable_schema_url();
              if (ctx == ContextKind::kScope) {
                c.cache.Clear();
                auto r = fn(c);
                if (r.ok() && *r) logs_removed += sl.log_records_size();
                return r;
              }
              size_t gone = 0;
              auto s2 = walk_internal::Each(
                  sl.mutable_log_records(), c,
                  [&](lpb::LogRecord& log) -> absl::StatusOr<bool> {
                    c.log = &log;
                    c.cache.Clear();
                    return fn(c);
                  },
                  &gone);
              logs_removed += gone;
              if (!s2.ok()) return s2;
              return gone > 0 && sl.log_records_size() == 0;
            },
            &scopes_removed);
        if (!s.ok()) return s;
        return scopes_removed > 0 && rl.scope_logs_size() == 0;
      },
      &removed);
  if (removed_items) *removed_items = logs_removed;
  return st;
}

// Metrics: `removed_items` counts data points.
template <typename Fn>
absl::Status WalkMetrics(opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& req,
                         ContextKind ctx, EvalContext& c, Fn&& fn, size_t* removed_items = nullptr) {
  namespace mpb = opentelemetry::proto::metrics::v1;
  size_t removed = 0, points_removed = 0;
  auto points = [](const mpb::Metric& m) -> size_t {
    switch (m.data_case()) {
      case mpb::Metric::kGauge:
        return m.gauge().data_points_size();
      case mpb::Metric::kSum:
        return m.sum().data_points_size();
      case mpb::Metric::kHistogram:
        return m.histogram().data_points_size();
      case mpb::Metric::kExponentialHistogram:
        return m.exponential_histogram().data_points_size();
      case mpb::Metric::kSummary:
        return m.summary().data_points_size();
      default:
        return 0;
    }
  };
  auto st = walk_internal::Each(
      req.mutable_resource_metrics(), c,
      [&](mpb::ResourceMetrics& rm) -> absl::StatusOr<bool> {
        c.resource = rm.mutable_resource();
        c.resource_schema_url = rm.mutable_schema_url();
        if (ctx == ContextKind::kResource) {
          c.cache.Clear();
          auto r = fn(c);
          if (r.ok() && *r) {
            for (const auto& sm : rm.scope_metrics()) {
              for (const auto& m : sm.metrics()) points_removed += points(m);
            }
          }
          return r;
        }
        size_t scopes_removed = 0;
        auto s = walk_internal::Each(
            rm.mutable_scope_metrics(), c,
            [&](mpb::ScopeMetrics& sm) -> absl::StatusOr<bool> {
              c.scope = sm.mutable_scope();
              c.scope_schema_url = sm.mutable_schema_url();
              if (ctx == ContextKind::kScope) {
                c.cache.Clear();
                auto r = fn(c);
                if (r.ok() && *r) {
                  for (const auto& m : sm.metrics()) points_removed += points(m);
                }
                return r;
              }
              size_t gone = 0;
              auto s2 = walk_internal::Each(
                  sm.mutable_metrics(), c,
                  [&](mpb::Metric& m) -> absl::StatusOr<bool> {
                    c.metric = &m;
                    if (ctx == ContextKind::kMetric) {
                      c.cache.Clear();
                      auto r = fn(c);
                      if (r.ok() && *r) points_removed += points(m);
                      return r;
                    }
                    size_t dp_gone = 0;
                    auto each_point = [&](auto* field, auto set) -> absl::Status {
                      return walk_internal::Each(
                          field, c,
                          [&](auto& p) -> absl::StatusOr<bool> {
                            c.ClearDataPoint();
                            set(p);
                            c.cache.Clear();
                            return fn(c);
                          },
                          &dp_gone);
                    };
                    absl::Status s3;
                    switch (m.data_case()) {
                      case mpb::Metric::kGauge:
                        s3 = each_point(m.mutable_gauge()->mutable_data_points(), [&](auto& p) { c.number = &p; });
                        break;
                      case mpb::Metric::kSum:
                        s3 = each_point(m.mutable_sum()->mutable_data_points(), [&](auto& p) { c.number = &p; });
                        break;
                      case mpb::Metric::kHistogram:
                        s3 = each_point(m.mutable_histogram()->mutable_data_points(),
                                        [&](auto& p) { c.histogram = &p; });
                        break;
                      case mpb::Metric::kExponentialHistogram:
                        s3 = each_point(m.mutable_exponential_histogram()->mutable_data_points(),
                                        [&](auto& p) { c.exp_histogram = &p; });
                        break;
                      case mpb::Metric::kSummary:
                        s3 = each_point(m.mutable_summary()->mutable_data_points(), [&](auto& p) { c.summary = &p; });
                        break;
                      default:
                        break;
                    }
                    c.ClearDataPoint();
                    points_removed += dp_gone;
                    if (!s3.ok()) return s3;
                    return dp_gone > 0 && points(m) == 0;
                  },
                  &gone);
              if (!s2.ok()) return s2;
              return gone > 0 && sm.metrics_size() == 0;
            },
            &scopes_removed);
        if (!s.ok()) return s;
        return scopes_removed > 0 && rm.scope_metrics_size() == 0;
      },
      &removed);
  if (removed_items) *removed_items = points_removed;
  return st;
}

}  // namespace outrigger::ottl
