#pragma once
// The forward connector: what one pipeline exports, the pipelines that receive from it
// get unchanged (same signal). It keeps nothing: each call is passed on, and its answer
// (pushback included) is the caller's.

#include "collector/component/factory.h"

namespace outrigger::connectors::forward {

class ForwardConnector : public Connector {
 public:
  explicit ForwardConnector(Consumer* next) : next_(next) {}
  absl::Status ConsumeTraces(pdata::Traces&& d) override;
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override;
  absl::Status ConsumeLogs(pdata::Logs&& d) override;

 private:
  Consumer* next_;
};

}  // namespace outrigger::connectors::forward
