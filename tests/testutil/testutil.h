#pragma once
// Shared test helpers: data builders, a recording sink, a host with a running event
// loop. Tests may build OTLP messages directly; components may not. Decoding configs:
// tests/testutil/config_util.h.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "collector/component/component.h"
#include "collector/component/factory.h"
#include "collector/telemetry/telemetry.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace outrigger::testutil {

namespace tpb = opentelemetry::proto::collector::trace::v1;
namespace mpb = opentelemetry::proto::collector::metrics::v1;
namespace lpb = opentelemetry::proto::collector::logs::v1;

// `spans` spans in one resource ("service.name" = service), named "<prefix>-<i>", with
// distinct 16-byte trace ids and 8-byte span ids derived from `seed` and i.
pdata::Traces MakeTraces(int spans, const std::string& service = "svc", const std::string& prefix = "span",
                         int seed = 0);
// `points` gauge points on one metric "gauge" valued 0..points-1.
pdata::Metrics MakeMetrics(int points, const std::string& service = "svc");
pdata::Logs MakeLogs(int records, const std::string& service = "svc");

using StringAttrs = std::vector<std::pair<std::string, std::string>>;
// Appends string-valued attributes to an OTLP attribute list.
void SetStringAttrs(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* out,
                    const StringAttrs& attrs);
// One metrics request with one resource and one scope; `fill` adds the metrics.
pdata::Metrics MetricsWith(const StringAttrs& resource,
                           const std::function<void(opentelemetry::proto::metrics::v1::ScopeMetrics*)>& fill,
                           const std::string& scope_name = "", const std::string& scope_version = "");

// Every span name in `d`, in order.
std::vector<std::string> SpanNames(const pdata::Traces& d);

// Waits until pred() holds or `timeout` passes (checking every few milliseconds); true if
// it held. For conditions no event announces (a counter, a file); prefer it to a sleep.
bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(10));

// Records what it consumes; can be told to fail.
class Sink : public Exporter {
 public:
  absl::Status ConsumeTraces(pdata::Traces&& d) override;
  absl::Status ConsumeMetrics(pdata::Metrics&& d) override;
  absl::Status ConsumeLogs(pdata::Logs&& d) override;

  // The next `n` calls return `st` (and keep nothing).
  void FailNext(int n, absl::Status st);
  // Until Unblock(): calls wait.
  void Block();
  void Unblock();

  size_t SpanCount() const;
  size_t PointCount() const;
  size_t LogCount() const;
  size_t Calls() const;
  std::vector<std::string> SpanNames() const;
  std::vector<size_t> BatchSizes() const;
  // Waits until pred() holds or `timeout` passes; true if it held.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  template <typename T>
  absl::Status Take(T&& d, std::vector<T>* into);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<pdata::Traces> traces_;
  std::vector<pdata::Metrics> metrics_;
  std::vector<pdata::Logs> logs_;
  int fail_next_ = 0;
  absl::Status fail_status_;
  bool blocked_ = false;
  size_t calls_ = 0;
};

// A Host whose event loop runs on its own thread for the test's lifetime.
class TestHost : public Host {
 public:
  TestHost();
  ~TestHost() override;
  boost::asio::io_context& IoContext() override { return io_; }
  bool Ready() const override { return true; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

CreateSettings Settings(Telemetry* t, const std::string& id, Kind kind);

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
uint16_t FreePort();

// A blocking TCP socket connected to 127.0.0.1:port; -1 if the connection failed.
int ConnectTcp(uint16_t port);

}  // namespace outrigger::testutil
