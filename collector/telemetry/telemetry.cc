#include "collector/telemetry/telemetry.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace outrigger {
namespace {
const auto kStart = std::chrono::steady_clock::now();
}

Telemetry::Telemetry() : registry_(std::make_shared<prometheus::Registry>()) {
  recv_accepted_ = PerSignal("outrigger_receiver_accepted_", "_total", "Items a receiver accepted into its pipelines");
  recv_refused_ = PerSignal("outrigger_receiver_refused_", "_total",
                            "Items a receiver refused (malformed, or the pipeline pushed back)");
  recv_malformed_ = &prometheus::BuildCounter()
                         .Name("outrigger_receiver_malformed_requests_total")
                         .Help(
                             "Requests refused before any item could be read: malformed, too large, "
                             "unsupported content type or encoding")
                         .Register(*registry_);
  proc_dropped_ = PerSignal("outrigger_processor_dropped_", "_total", "Items a processor dropped");
  exp_sent_ = PerSignal("outrigger_exporter_sent_", "_total", "Items an exporter delivered");
  exp_failed_ =
      PerSignal("outrigger_exporter_send_failed_", "_total", "Items whose send attempt failed (they may be retried)");
  exp_dropped_ = PerSignal("outrigger_exporter_dropped_", "_total",
                           "Items an exporter gave up on (queue full in drop mode, permanent error, "
                           "retries exhausted, shutdown deadline)");
  exp_retries_ = &prometheus::BuildCounter()
                      .Name("outrigger_exporter_retries_total")
                      .Help("Send attempts retried after a retryable failure")
                      .Register(*registry_);
  queue_size_ = &prometheus::BuildGauge()
                     .Name("outrigger_exporter_queue_size")
                     .Help("What an exporter's sending queue holds, in its sizer's unit (items or requests)")
                     .Register(*registry_);
  queue_capacity_ = &prometheus::BuildGauge()
                         .Name("outrigger_exporter_queue_capacity")
                         .Help("Capacity of an exporter's sending queue, in its sizer's unit")
                         .Register(*registry_);
  cpu_seconds_ = &prometheus::BuildCounter()
                      .Name("outrigger_process_cpu_seconds_total")
                      .Help("User and system CPU time of the process")
                      .Register(*registry_)
                      .Add({});
  rss_bytes_ = &prometheus::BuildGauge()
                    .Name("outrigger_process_resident_memory_bytes")
                    .Help("Resident set size of the process")
                    .Register(*registry_)
                    .Add({});
  uptime_ = &prometheus::BuildGauge()
                 .Name("outrigger_process_uptime_seconds")
                 .Help("Seconds since the process started")
                 .Register(*registry_)
                 .Add({});
}

std::array<Telemetry::CounterFamily*, 3> Telemetry::PerSignal(std::string_view prefix, std::string_view suffix,
                                                              std::string_view help) {
  std::array<CounterFamily*, 3> out{};
  for (Signal s : kAllSignals) {
    out[static_cast<size_t>(s)] = &prometheus::BuildCounter()
                                       .Name(StrCat(prefix, ItemNoun(s), suffix))
                                       .Help(std::string(help))
                                       .Register(*registry_);
  }
  return out;
}

ReceiverMeter Telemetry::ForReceiver(const ComponentId& id, std::string_view transport) {
  ReceiverMeter m;
  prometheus::Labels labels{{"receiver", id.String()}, {"transport", std::string(transport)}};
  for (size_t i = 0; i < 3; ++i) {
    m.accepted_[i] = &recv_accepted_[i]->Add(labels);
    m.refused_[i] = &recv_refused_[i]->Add(labels);
  }
  m.malformed_ = &recv_malformed_->Add(labels);
  return m;
}

ProcessorMeter Telemetry::ForProcessor(const ComponentId& id, std::string_view signal) {
  ProcessorMeter m;
  prometheus::Labels labels{{"processor", id.String()}, {"signal", std::string(signal)}};
  for (size_t i = 0; i < 3; ++i) m.dropped_[i] = &proc_dropped_[i]->Add(labels);
  return m;
}

ExporterMeter Telemetry::ForExporter(const ComponentId& id) {
  ExporterMeter m;
  prometheus::Labels labels{{"exporter", id.String()}};
  for (size_t i = 0; i < 3; ++i) {
    m.sent_[i] = &exp_sent_[i]->Add(labels);
    m.failed_[i] = &exp_failed_[i]->Add(labels);
    m.dropped_[i] = &exp_dropped_[i]->Add(labels);
  }
  m.retries_ = &exp_retries_->Add(labels);
  m.queue_size_ = &queue_size_->Add(labels);
  m.queue_capacity_ = &queue_capacity_->Add(labels);
  return m;
}

prometheus::Counter& Telemetry::AddCounter(std::string_view name, std::string_view help,
                                           const prometheus::Labels& labels) {
  return prometheus::BuildCounter().Name(std::string(name)).Help(std::string(help)).Register(*registry_).Add(labels);
}

prometheus::Gauge& Telemetry::AddGauge(std::string_view name, std::string_view help, const prometheus::Labels& labels) {
  return prometheus::BuildGauge().Name(std::string(name)).Help(std::string(help)).Register(*registry_).Add(labels);
}

prometheus::Histogram& Telemetry::AddHistogram(std::string_view name, std::string_view help,
                                               const prometheus::Labels& labels,
                                               const prometheus::Histogram::BucketBoundaries& buckets) {
  return prometheus::BuildHistogram()
      .Name(std::string(name))
      .Help(std::string(help))
      .Register(*registry_)
      .Add(labels, buckets);
}

void Telemetry::RefreshProcess() {
  std::lock_guard<std::mutex> lock(mu_);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (cpu > last_cpu_) {
    cpu_seconds_->Increment(cpu - last_cpu_);
    last_cpu_ = cpu;
  }
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_rss = 0;
  if (statm >> pages_total >> pages_rss) {
    rss_bytes_->Set(static_cast<double>(pages_rss) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  }
  uptime_->Set(std::chrono::duration<double>(std::chrono::steady_clock::now() - kStart).count());
}

std::string Telemetry::Render() {
  RefreshProcess();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

double Telemetry::Value(std::string_view name, const std::map<std::string, std::string>& labels) {
  for (const auto& fam : registry_->Collect()) {
    if (fam.name != name) continue;
    for (const auto& m : fam.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& lp : m.label) found |= (lp.name == k && lp.value == v);
        match &= found;
      }
      if (!match) continue;
      if (fam.type == prometheus::MetricType::Counter) return m.counter.value;
      if (fam.type == prometheus::MetricType::Gauge) return m.gauge.value;
      if (fam.type == prometheus::MetricType::Histogram) return static_cast<double>(m.histogram.sample_count);
    }
  }
  return 0;
}

}  // namespace outrigger
