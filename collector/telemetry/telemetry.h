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
#include <vector>

#include "absl/base/thread_annotations.h"
#include "collector/component/component.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace outrigger {

namespace telemetry_internal {
using CounterFamily = prometheus::Family<prometheus::Counter>;
// Counters of one label set in groups of families (accepted, refused, ...), one counter per
// signal. A signal's counters are created in their families the first time the component
// records something for that signal, all of its group at once (so `refused_spans` is there,
// at 0, beside the first `accepted_spans`): a series that cannot occur (spans of a StatsD
// receiver, metric points of a logs batch, log records of a traces-only exporter) is never
// exported. After the first record, recording is an acquire load and a relaxed add.
class PerSignalCounters {
 public:
  PerSignalCounters(std::vector<std::array<CounterFamily*, 3>> families, prometheus::Labels labels);
  prometheus::Counter& Get(size_t group, Signal s) {
    const auto i = static_cast<size_t>(s);
    std::call_once(once_[i], [this, i] { Create(i); });
    return *counters_[group][i];
  }

 private:
  void Create(size_t signal);
  const std::vector<std::array<CounterFamily*, 3>> families_;
  const prometheus::Labels labels_;
  std::array<std::once_flag, 3> once_;
  std::vector<std::array<prometheus::Counter*, 3>> counters_;
};
}  // namespace telemetry_internal

class ReceiverMeter {
 public:
  void Accepted(Signal s, size_t n) { c_->Get(kAccepted, s).Increment(static_cast<double>(n)); }
  void Refused(Signal s, size_t n) { c_->Get(kRefused, s).Increment(static_cast<double>(n)); }
  // A request refused before any item could be read (malformed, too large, wrong type).
  void Malformed() { malformed_->Increment(); }

 private:
  friend class Telemetry;
  enum { kAccepted, kRefused };
  std::shared_ptr<telemetry_internal::PerSignalCounters> c_;
  prometheus::Counter* malformed_ = nullptr;
};

class ProcessorMeter {
 public:
  void Dropped(Signal s, size_t n) { c_->Get(0, s).Increment(static_cast<double>(n)); }

 private:
  friend class Telemetry;
  std::shared_ptr<telemetry_internal::PerSignalCounters> c_;
};

class ExporterMeter {
 public:
  void Sent(Signal s, size_t n) { c_->Get(kSent, s).Increment(static_cast<double>(n)); }
  void Failed(Signal s, size_t n) { c_->Get(kFailed, s).Increment(static_cast<double>(n)); }
  // Given up on: permanent error, retries exhausted, shutdown deadline.
  void Dropped(Signal s, size_t n) { c_->Get(kDropped, s).Increment(static_cast<double>(n)); }
  // Refused at the door because the sending queue was full: counted as dropped too, and
  // apart (upstream's `otelcol_exporter_enqueue_failed_*`).
  void EnqueueFailed(Signal s, size_t n) {
    Dropped(s, n);
    c_->Get(kEnqueueFailed, s).Increment(static_cast<double>(n));
  }
  void Retried() { retries_->Increment(); }
  void QueueSize(double v) { queue_size_->Set(v); }
  void QueueCapacity(double v) { queue_capacity_->Set(v); }

 private:
  friend class Telemetry;
  enum { kSent, kFailed, kDropped, kEnqueueFailed };
  std::shared_ptr<telemetry_internal::PerSignalCounters> c_;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Gauge* queue_size_ = nullptr;
  prometheus::Gauge* queue_capacity_ = nullptr;
};

// How /metrics names the collector's own metrics (service.telemetry.metrics.naming).
enum class MetricNaming {
  kOutrigger,  // ours: outrigger_*, Prometheus conventions (_total, units)
  kOtelcol,    // upstream's current names and labels for what has an upstream equivalent
};

// Options of upstream's Prometheus pull reader that change names (otelcol naming only).
struct ExpositionOptions {
  MetricNaming naming = MetricNaming::kOutrigger;
  bool without_type_suffix = true;  // false: counters get "_total"
  bool without_units = true;        // false: a unit suffix where upstream's has one ("_bytes")
};

// The upstream name of one of our metrics (or of the series of it whose `label` is `value`).
// The series are renamed `to` and keep only `keep_labels`; series that end up with the same
// labels are summed (histograms bucket by bucket).
struct OtelcolName {
  std::string from;
  std::string label, value;  // empty: every series of `from`
  std::string to;
  std::vector<std::string> keep_labels;
  std::string unit_suffix;  // added unless without_units ("_bytes", "_seconds")
  bool as_counter = false;  // exposed as a counter although ours is a gauge (uptime)
  std::string help;         // empty: ours
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

  // Registers the upstream name of a metric for MetricNaming::kOtelcol; a metric without
  // one keeps its outrigger_* name there. Components register the names of their own
  // metrics the same way. Idempotent.
  void AddOtelcolName(OtelcolName n);

  // Text exposition format 0.0.4 of every metric, with process CPU/RSS refreshed.
  std::string Render(const ExpositionOptions& opts = {});
  // Reads a counter or gauge value, for tests (0 if absent).
  double Value(std::string_view name, const std::map<std::string, std::string>& labels);

 private:
  using CounterFamily = telemetry_internal::CounterFamily;
  std::array<CounterFamily*, 3> PerSignal(std::string_view prefix, std::string_view suffix, std::string_view help);
  void RefreshProcess();

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<CounterFamily*, 3> recv_accepted_, recv_refused_, proc_dropped_;
  CounterFamily* recv_malformed_;
  std::array<CounterFamily*, 3> exp_sent_, exp_failed_, exp_dropped_, exp_enqueue_failed_;
  CounterFamily* exp_retries_;
  prometheus::Family<prometheus::Gauge>* queue_size_;
  prometheus::Family<prometheus::Gauge>* queue_capacity_;
  prometheus::Counter* cpu_seconds_;
  prometheus::Gauge* rss_bytes_;
  prometheus::Gauge* uptime_;
  prometheus::Gauge* heap_in_use_;
  prometheus::Gauge* heap_from_os_;
  std::mutex names_mu_;
  std::map<std::string, std::vector<OtelcolName>> otelcol_names_ ABSL_GUARDED_BY(names_mu_);
  std::mutex mu_;  // one process refresh at a time
  double last_cpu_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace outrigger
