#pragma once
// Factories: a type name, a default config, and create functions. Registration is the
// explicit list generated into RegisterBuiltins() (see cmake/Builtins.cmake).

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/component/component.h"
#include "collector/config/node.h"

namespace outrigger {

// A component's configuration: a plain struct with defaults (named constants next to
// it), Decode() reading its keys and Validate() checking the values.
class ComponentConfig {
 public:
  virtual ~ComponentConfig() = default;
  virtual void Decode(config::Node& node) = 0;
  virtual absl::Status Validate() const { return absl::OkStatus(); }
};

class Factory {
 public:
  virtual ~Factory() = default;
  virtual std::string_view Type() const = 0;
  // Other names the same component is configured by (upstream renames: `otlp_grpc` for
  // `otlp`, `spanmetrics` for `span_metrics`). Each resolves to this factory.
  virtual std::vector<std::string_view> Aliases() const { return {}; }
  virtual Kind kind() const = 0;
  virtual std::unique_ptr<ComponentConfig> CreateDefaultConfig() const = 0;
  // The signals it handles (receivers, processors, exporters).
  virtual std::set<Signal> Signals() const { return {}; }
};

class ReceiverFactory : public Factory {
 public:
  Kind kind() const final { return Kind::kReceiver; }
  virtual absl::StatusOr<std::unique_ptr<Receiver>> CreateReceiver(const CreateSettings& settings,
                                                                   const ComponentConfig& cfg) const = 0;
};

class ProcessorFactory : public Factory {
 public:
  Kind kind() const final { return Kind::kProcessor; }
  virtual absl::StatusOr<std::unique_ptr<Processor>> CreateProcessor(const CreateSettings& settings,
                                                                     const ComponentConfig& cfg, Signal signal,
                                                                     Consumer* next) const = 0;
};

class ExporterFactory : public Factory {
 public:
  Kind kind() const final { return Kind::kExporter; }
  virtual absl::StatusOr<std::unique_ptr<Exporter>> CreateExporter(const CreateSettings& settings,
                                                                   const ComponentConfig& cfg) const = 0;
};

class ExtensionFactory : public Factory {
 public:
  Kind kind() const final { return Kind::kExtension; }
  virtual absl::StatusOr<std::unique_ptr<Extension>> CreateExtension(const CreateSettings& settings,
                                                                     const ComponentConfig& cfg) const = 0;
};

// A config with no options.
class EmptyConfig : public ComponentConfig {
 public:
  void Decode(config::Node&) override {}
};

}  // namespace outrigger

namespace outrigger {

// A connector joins pipelines: the exporter of one pipeline, the receiver of others.
class Connector : public Component, public Consumer {};

class ConnectorFactory : public Factory {
 public:
  Kind kind() const final { return Kind::kConnector; }
  // Signals it can take in (as an exporter) and put out (as a receiver).
  virtual bool Supports(Signal in, Signal out) const = 0;
  virtual absl::StatusOr<std::unique_ptr<Connector>> CreateConnector(const CreateSettings& settings,
                                                                     const ComponentConfig& cfg, Signal in, Signal out,
                                                                     Consumer* next) const = 0;
};

}  // namespace outrigger
