#pragma once
// The component model. Contracts, written once:
//  - Start(host) returns fast; long work moves to the background. Start is called in
//    dependency order: exporters, then processors, then receivers (extensions first).
//  - Shutdown(deadline) is idempotent, safe without Start, and flushes what the
//    component buffers before returning (at the latest by `deadline`).
//  - Consume*(data) takes ownership of `data`. It returns OK once the data is accepted
//    (queued or delivered); UNAVAILABLE or RESOURCE_EXHAUSTED mean "try again later"
//    (backpressure, which receivers turn into their protocol's answer); any other
//    error is permanent and the data was refused.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/pdata/pdata.h"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace outrigger {

class Telemetry;

enum class Kind { kReceiver, kProcessor, kExporter, kExtension, kConnector };
std::string_view KindName(Kind k);  // "receiver", ...

// `type[/name]`, e.g. `otlp` or `otlp/2`.
struct ComponentId {
  std::string type;
  std::string name;
  static absl::StatusOr<ComponentId> Parse(std::string_view s);
  std::string String() const { return name.empty() ? type : type + "/" + name; }
  bool operator==(const ComponentId&) const = default;
  auto operator<=>(const ComponentId&) const = default;
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  virtual absl::Status ConsumeTraces(pdata::Traces&& data);
  virtual absl::Status ConsumeMetrics(pdata::Metrics&& data);
  virtual absl::Status ConsumeLogs(pdata::Logs&& data);
  // True if the consumer changes the data it is given.
  virtual bool MutatesData() const { return false; }

  // Signal-generic entry point, for code written once for the three signals.
  absl::Status Consume(pdata::Traces&& d) { return ConsumeTraces(std::move(d)); }
  absl::Status Consume(pdata::Metrics&& d) { return ConsumeMetrics(std::move(d)); }
  absl::Status Consume(pdata::Logs&& d) { return ConsumeLogs(std::move(d)); }
};

class Extension;

// What a running component may ask of the collector.
class Host {
 public:
  virtual ~Host() = default;
  // The collector's one event loop (HTTP/UDP/TCP servers, timers).
  virtual boost::asio::io_context& IoContext() = 0;
  // True once every pipeline has started, until shutdown begins.
  virtual bool Ready() const = 0;
  // The started extension `id` ("bearertokenauth/client") named in service.extensions,
  // or null. Extensions start before receivers and exporters.
  virtual Extension* GetExtension(const std::string& id) { return nullptr; }
};

class Component {
 public:
  virtual ~Component() = default;
  virtual absl::Status Start(Host& host) { return absl::OkStatus(); }
  virtual absl::Status Shutdown(absl::Time deadline) { return absl::OkStatus(); }
};

// A receiver is one instance per id, whatever pipelines and signals use it. The graph
// hands it one consumer per signal it feeds (null for the others) before Start.
class Receiver : public Component {
 public:
  struct Consumers {
    Consumer* traces = nullptr;
    Consumer* metrics = nullptr;
    Consumer* logs = nullptr;
    Consumer* For(Signal s) const { return s == Signal::kTraces ? traces : s == Signal::kMetrics ? metrics : logs; }
  };
  void SetConsumers(Consumers c) { consumers_ = c; }

 protected:
  Consumers consumers_;
};

// A processor is created per pipeline and signal, with its next consumer.
class Processor : public Component, public Consumer {};

// An exporter is one instance per id; it consumes the signals of its pipelines.
class Exporter : public Component, public Consumer {};

class Extension : public Component {};

// Everything a factory gets to create a component.
struct CreateSettings {
  ComponentId id;
  Kind kind;
  Telemetry* telemetry = nullptr;
  std::shared_ptr<spdlog::logger> logger;
};

}  // namespace outrigger
