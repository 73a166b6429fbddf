#pragma once
// The collector's own metrics (prometheus-cpp), served on service.telemetry.metrics.
// Components get small "meters" bound to their labels at creation; recording is a
// relaxed atomic add. A component with metrics of its own registers them itself
// (AddCounter, AddGauge, AddHistogram): the core names no component.

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "collector/component/component.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace outrigger {

class ReceiverMeter {
 public:
  void Accepted(Signal s, size_t n) { accepted_[Idx(s)]->Increment(static_cast<double>(n)); }
  void Refused(Signal s, size_t n) { refused_[Idx(s)]->Increment(static_cast<double>(n)); }
  // A request refused before any item could be read (malformed, too large, wrong type).
  void Malformed() { malformed_->Increment(); }

 private:
  friend class Telemetry;
  static size_t Idx(Signal s) { return static_cast<size_t>(s); }
  std::array<prometheus::Counter*, 3> accepted_{};
  std::array<prometheus::Counter*, 3> refused_{};
  prometheus::Counter* malformed_ = nullptr;
};

class ProcessorMeter {
 public:
  void Dropped(Signal s, size_t n) { dropped_[static_cast<size_t>(s)]->Increment(static_cast<double>(n)); }

 private:
  friend class Telemetry;
  std::array<prometheus::Counter*, 3> dropped_{};
};

class ExporterMeter {
 public:
  void Sent(Signal s, size_t n) { sent_[Idx(s)]->Increment(static_cast<double>(n)); }
  void Failed(Signal s, size_t n) { failed_[Idx(s)]->Increment(static_cast<double>(n)); }
  void Dropped(Signal s, size_t n) { dropped_[Idx(s)]->Increment(static_cast<double>(n)); }
  void Retried() { retries_->Increment(); }
  void QueueSize(double v) { queue_size_->Set(v); }
  void QueueCapacity(double v) { queue_capacity_->Set(v); }

 private:
  friend class Telemetry;
  static size_t Idx(Signal s) { return static_cast<size_t>(s); }
  std::array<prometheus::Counter*, 3> sent_{};
  std::array<prometheus::Counter*, 3> failed_{};
  std::array<prometheus::Counter*, 3> dropped_{};
  prometheus::Counter* retries_ = nullptr;
  prometheus::Gauge* queue_size_ = nullptr;
  prometheus::Gauge* queue_capacity_ = nullptr;
};

class Telemetry {
 public:
  Telemetry();
  prometheus::Registry& registry() { return *registry_; }

  // The metrics every component of a kind has, labelled with its id.
  ReceiverMeter ForReceiver(const ComponentId& id, std::string_view transport);
  ProcessorMeter ForProcessor(const ComponentId& id, std::string_view signal);
  ExporterMeter ForExporter(const ComponentId& id);

  // A component's own metrics, beside those: name them "outrigger_<type>_...", label
  // them with the component's id. The family of a name is created on first use and
  // shared by every instance (its help is the first one given); the metric of a label
  // set likewise. Thread-safe; what is returned lives as long as this Telemetry.
  prometheus::Counter& AddCounter(std::string_view name, std::string_view help, const prometheus::Labels& labels);
  prometheus::Gauge& AddGauge(std::string_view name, std::string_view help, const prometheus::Labels& labels);
  prometheus::Histogram& AddHistogram(std::string_view name, std::string_view help, const prometheus::Labels& labels,
                                      const prometheus::Histogram::BucketBoundaries& buckets);

  // Text exposition format 0.0.4 of every metric, with process CPU/RSS refreshed.
  std::string Render();
  // Reads a counter or gauge value, for tests (0 if absent).
  double Value(std::string_view name, const std::map<std::string, std::string>& labels);

 private:
  using CounterFamily = prometheus::Family<prometheus::Counter>;
  std::array<CounterFamily*, 3> PerSignal(std::string_view prefix, std::string_view suffix, std::string_view help);
  void RefreshProcess();

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<CounterFamily*, 3> recv_accepted_, recv_refused_, proc_dropped_;
  CounterFamily* recv_malformed_;
  std::array<CounterFamily*, 3> exp_sent_, exp_failed_, exp_dropped_;
  CounterFamily* exp_retries_;
  prometheus::Family<prometheus::Gauge>* queue_size_;
  prometheus::Family<prometheus::Gauge>* queue_capacity_;
  prometheus::Counter* cpu_seconds_;
  prometheus::Gauge* rss_bytes_;
  prometheus::Gauge* uptime_;
  std::mutex mu_;  // one process refresh at a time
  double last_cpu_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace outrigger
