#pragma once
// The count connector (traces, metrics or logs → metrics): upstream's countconnector.
// Each Consume counts the records of that request (spans and span events; metrics and
// data points; log records) that meet a metric's conditions (any of them; none: all),
// split by the metric's attributes, and hands on at once one Metrics with a monotonic
// delta Sum per count metric, per resource of the input (its attributes copied), as
// upstream does. Nothing is held between calls; the downstream answer is returned.

#include <cstdint>
#include <string>
#include <vector>

#include "collector/component/factory.h"
#include "connectors/count/config.h"

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace outrigger::connectors::count {

// The scope of the metrics it makes (upstream's).
inline constexpr char kScopeName[] =
    "github.com/open-telemetry/opentelemetry-collector-contrib/connector/countconnector";

class CountConnector : public Connector {
 public:
  CountConnector(const CreateSettings& settings, const Config& cfg, Consumer* next);

  absl::Status ConsumeTraces(pdata::Traces&& d) override;
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override;
  absl::Status ConsumeLogs(pdata::Logs&& d) override;

  // The same with the clock given (tests).
  absl::Status CountTraces(pdata::Traces&& d, uint64_t now_ns);
  absl::Status CountMetrics(pdata::Metrics&& d, uint64_t now_ns);
  absl::Status CountLogs(pdata::Logs&& d, uint64_t now_ns);

 private:
  // Hands `out` on (nothing when it holds no point); counts refusals.
  absl::Status Send(pdata::Metrics&& out, size_t points, const absl::Status& eval);

  CreateSettings settings_;
  Config cfg_;
  Consumer* next_;
  prometheus::Counter* errors_;
  prometheus::Counter* refused_;
};

}  // namespace outrigger::connectors::count
