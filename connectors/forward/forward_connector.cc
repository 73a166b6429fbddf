#include "connectors/forward/forward_connector.h"

namespace outrigger::connectors::forward {

absl::Status ForwardConnector::ConsumeTraces(pdata::Traces&& d) { return next_->ConsumeTraces(std::move(d)); }
absl::Status ForwardConnector::ConsumeMetrics(pdata::Metrics&& d) { return next_->ConsumeMetrics(std::move(d)); }
absl::Status ForwardConnector::ConsumeLogs(pdata::Logs&& d) { return next_->ConsumeLogs(std::move(d)); }

}  // namespace outrigger::connectors::forward
