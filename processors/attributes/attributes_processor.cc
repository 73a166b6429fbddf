#include "processors/attributes/attributes_processor.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::processors::attributes {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;
using Metric = opentelemetry::proto::metrics::v1::Metric;

// Calls fn(attributes) for every data point of `m`, whatever its type.
template <typename F>
void ForEachPoint(Metric& m, F&& fn) {
  switch (m.data_case()) {
    case Metric::kGauge:
      for (auto& p : *m.mutable_gauge()->mutable_data_points()) fn(p.mutable_attributes());
      break;
    case Metric::kSum:
      for (auto& p : *m.mutable_sum()->mutable_data_points()) fn(p.mutable_attributes());
      break;
    case Metric::kHistogram:
      for (auto& p : *m.mutable_histogram()->mutable_data_points()) fn(p.mutable_attributes());
      break;
    case Metric::kExponentialHistogram:
      for (auto& p : *m.mutable_exponential_histogram()->mutable_data_points()) fn(p.mutable_attributes());
      break;
    case Metric::kSummary:
      for (auto& p : *m.mutable_summary()->mutable_data_points()) fn(p.mutable_attributes());
      break;
    default:
      break;
  }
}

class AttributesProcessor : public Processor {
 public:
  AttributesProcessor(attraction::AttrProc actions, filterset::Matcher matcher, Consumer* next)
      : actions_(std::move(actions)), matcher_(std::move(matcher)), next_(next) {}

  bool MutatesData() const override { return true; }

  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    d.ForEachMutableRequestWithClient([this](tpb::ExportTraceServiceRequest& req, const pdata::ClientInfo* client) {
      for (auto& rs : *req.mutable_resource_spans()) {
        for (auto& ss : *rs.mutable_scope_spans()) {
          for (auto& span : *ss.mutable_spans()) {
            if (!matcher_.empty() && matcher_.SkipSpan(rs.resource(), ss.scope(), span)) continue;
            actions_.Process(client, span.mutable_attributes());
          }
        }
      }
    });
    return next_->ConsumeTraces(std::move(d));
  }

  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    d.ForEachMutableRequestWithClient([this](lpb::ExportLogsServiceRequest& req, const pdata::ClientInfo* client) {
      for (auto& rl : *req.mutable_resource_logs()) {
        for (auto& sl : *rl.mutable_scope_logs()) {
          for (auto& log : *sl.mutable_log_records()) {
            if (!matcher_.empty() && matcher_.SkipLog(rl.resource(), sl.scope(), log)) continue;
            actions_.Process(client, log.mutable_attributes());
          }
        }
      }
    });
    return next_->ConsumeLogs(std::move(d));
  }

  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    d.ForEachMutableRequestWithClient([this](mpb::ExportMetricsServiceRequest& req, const pdata::ClientInfo* client) {
      for (auto& rm : *req.mutable_resource_metrics()) {
        for (auto& sm : *rm.mutable_scope_metrics()) {
          for (auto& m : *sm.mutable_metrics()) {
            ForEachPoint(m, [&](attraction::Attributes* attrs) {
              if (!matcher_.empty() && matcher_.SkipDataPoint(rm.resource(), m, *attrs)) return;
              actions_.Process(client, attrs);
            });
          }
        }
      }
    });
    return next_->ConsumeMetrics(std::move(d));
  }

 private:
  const attraction::AttrProc actions_;
  const filterset::Matcher matcher_;
  Consumer* next_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Processor>> NewAttributesProcessor(const CreateSettings& settings, const Config& cfg,
                                                                  Signal signal, Consumer* next) {
  auto actions = attraction::AttrProc::Create(cfg.actions);
  if (!actions.ok()) return actions.status();
  auto matcher = filterset::Matcher::Compile(cfg.match, signal);
  if (!matcher.ok()) {
    return absl::InvalidArgumentError(StrCat("for ", SignalName(signal), ": ", matcher.status().message()));
  }
  return std::make_unique<AttributesProcessor>(std::move(*actions), std::move(*matcher), next);
}

}  // namespace outrigger::processors::attributes
