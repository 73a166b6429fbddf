#include "processors/resource/resource_processor.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::processors::resource {
namespace {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;

class ResourceProcessor : public Processor {
 public:
  ResourceProcessor(attraction::AttrProc actions, Consumer* next) : actions_(std::move(actions)), next_(next) {}

  bool MutatesData() const override { return true; }

  absl::Status ConsumeTraces(pdata::Traces&& d) override {
    d.ForEachMutableRequestWithClient([this](tpb::ExportTraceServiceRequest& req, const pdata::ClientInfo* client) {
      for (auto& rs : *req.mutable_resource_spans())
        actions_.Process(client, rs.mutable_resource()->mutable_attributes());
    });
    return next_->ConsumeTraces(std::move(d));
  }
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override {
    d.ForEachMutableRequestWithClient([this](mpb::ExportMetricsServiceRequest& req, const pdata::ClientInfo* client) {
      for (auto& rm : *req.mutable_resource_metrics()) {
        actions_.Process(client, rm.mutable_resource()->mutable_attributes());
      }
    });
    return next_->ConsumeMetrics(std::move(d));
  }
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    d.ForEachMutableRequestWithClient([this](lpb::ExportLogsServiceRequest& req, const pdata::ClientInfo* client) {
      for (auto& rl : *req.mutable_resource_logs())
        actions_.Process(client, rl.mutable_resource()->mutable_attributes());
    });
    return next_->ConsumeLogs(std::move(d));
  }

 private:
  const attraction::AttrProc actions_;
  Consumer* next_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Processor>> NewResourceProcessor(const CreateSettings& settings, const Config& cfg,
                                                                Signal signal, Consumer* next) {
  auto actions = attraction::AttrProc::Create(cfg.attributes);
  if (!actions.ok()) return actions.status();
  return std::make_unique<ResourceProcessor>(std::move(*actions), next);
}

}  // namespace outrigger::processors::resource
