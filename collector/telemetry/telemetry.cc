#include "collector/telemetry/telemetry.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace outrigger {
namespace {
const auto kStart = std::chrono::steady_clock::now();

OtelcolName Upstream(std::string from, std::string to, std::vector<std::string> keep = {}, std::string unit = "",
                     bool as_counter = false) {
  OtelcolName n;
  n.from = std::move(from);
  n.to = std::move(to);
  n.keep_labels = std::move(keep);
  n.unit_suffix = std::move(unit);
  n.as_counter = as_counter;
  return n;
}
}  // namespace

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
  exp_enqueue_failed_ = PerSignal("outrigger_exporter_enqueue_failed_", "_total",
                                  "Items refused because the sending queue was full (counted in dropped too)");
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
  heap_in_use_ = &prometheus::BuildGauge()
                      .Name("outrigger_process_heap_in_use_bytes")
                      .Help("Bytes the allocator has handed out and not taken back (mallinfo2)")
                      .Register(*registry_)
                      .Add({});
  heap_from_os_ = &prometheus::BuildGauge()
                       .Name("outrigger_process_heap_from_os_bytes")
                       .Help("Bytes the allocator holds from the operating system (mallinfo2: arena and mmapped)")
                       .Register(*registry_)
                       .Add({});
  // Upstream's current names (collector v0.153+: no "_total", no unit suffix by default).
  for (Signal s : kAllSignals) {
    const std::string noun(ItemNoun(s));
    auto add = [&](std::string_view ours, std::string_view theirs, std::vector<std::string> keep) {
      AddOtelcolName(Upstream(StrCat(ours, noun, "_total"), StrCat(theirs, noun), std::move(keep)));
    };
    add("outrigger_receiver_accepted_", "otelcol_receiver_accepted_", {"receiver", "transport"});
    add("outrigger_receiver_refused_", "otelcol_receiver_refused_", {"receiver", "transport"});
    add("outrigger_processor_dropped_", "otelcol_processor_dropped_", {"processor"});
    add("outrigger_exporter_sent_", "otelcol_exporter_sent_", {"exporter"});
    add("outrigger_exporter_send_failed_", "otelcol_exporter_send_failed_", {"exporter"});
    add("outrigger_exporter_enqueue_failed_", "otelcol_exporter_enqueue_failed_", {"exporter"});
  }
  AddOtelcolName(Upstream("outrigger_exporter_queue_size", "otelcol_exporter_queue_size", {"exporter"}));
  AddOtelcolName(Upstream("outrigger_exporter_queue_capacity", "otelcol_exporter_queue_capacity", {"exporter"}));
  AddOtelcolName(Upstream("outrigger_process_cpu_seconds_total", "otelcol_process_cpu_seconds"));
  AddOtelcolName(Upstream("outrigger_process_resident_memory_bytes", "otelcol_process_memory_rss", {}, "_bytes"));
  AddOtelcolName(Upstream("outrigger_process_uptime_seconds", "otelcol_process_uptime", {}, "_seconds", true));
  AddOtelcolName(Upstream("outrigger_process_heap_in_use_bytes", "otelcol_process_runtime_heap_alloc_bytes"));
  AddOtelcolName(Upstream("outrigger_process_heap_from_os_bytes", "otelcol_process_runtime_total_sys_memory_bytes"));
}

namespace telemetry_internal {

PerSignalCounters::PerSignalCounters(std::vector<std::array<CounterFamily*, 3>> families, prometheus::Labels labels)
    : families_(std::move(families)), labels_(std::move(labels)), counters_(families_.size()) {}

void PerSignalCounters::Create(size_t signal) {
  for (size_t g = 0; g < families_.size(); ++g) counters_[g][signal] = &families_[g][signal]->Add(labels_);
}

}  // namespace telemetry_internal

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
  m.c_ = std::make_shared<telemetry_internal::PerSignalCounters>(
      std::vector<std::array<CounterFamily*, 3>>{recv_accepted_, recv_refused_}, labels);
  m.malformed_ = &recv_malformed_->Add(labels);
  return m;
}

ProcessorMeter Telemetry::ForProcessor(const ComponentId& id, std::string_view signal) {
  ProcessorMeter m;
  prometheus::Labels labels{{"processor", id.String()}, {"signal", std::string(signal)}};
  m.c_ = std::make_shared<telemetry_internal::PerSignalCounters>(
      std::vector<std::array<CounterFamily*, 3>>{proc_dropped_}, std::move(labels));
  // A processor instance serves one pipeline's signal: its series are there from the
  // start (at 0), the other signals' never.
  for (Signal s : kAllSignals) {
    if (SignalName(s) == signal) m.c_->Get(0, s);
  }
  return m;
}

ExporterMeter Telemetry::ForExporter(const ComponentId& id) {
  ExporterMeter m;
  prometheus::Labels labels{{"exporter", id.String()}};
  m.c_ = std::make_shared<telemetry_internal::PerSignalCounters>(
      std::vector<std::array<CounterFamily*, 3>>{exp_sent_, exp_failed_, exp_dropped_, exp_enqueue_failed_}, labels);
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
  struct mallinfo2 mi = mallinfo2();
  heap_in_use_->Set(static_cast<double>(mi.uordblks + mi.hblkhd));
  heap_from_os_->Set(static_cast<double>(mi.arena + mi.hblkhd));
}

void Telemetry::AddOtelcolName(OtelcolName n) {
  std::lock_guard<std::mutex> lock(names_mu_);
  auto& list = otelcol_names_[n.from];
  for (const auto& e : list) {
    if (e.label == n.label && e.value == n.value) return;
  }
  list.push_back(std::move(n));
}

namespace {

using Family = prometheus::MetricFamily;
using Metric = prometheus::ClientMetric;

const std::string* LabelValue(const Metric& m, const std::string& name) {
  for (const auto& l : m.label) {
    if (l.name == name) return &l.value;
  }
  return nullptr;
}

// Adds `m` to `into`, or sums it into the series of the same labels already there.
void Merge(Family& into, Metric m) {
  std::sort(m.label.begin(), m.label.end());
  for (auto& e : into.metric) {
    if (e.label != m.label) continue;
    e.counter.value += m.counter.value;
    e.gauge.value += m.gauge.value;
    e.untyped.value += m.untyped.value;
    e.histogram.sample_count += m.histogram.sample_count;
    e.histogram.sample_sum += m.histogram.sample_sum;
    for (size_t i = 0; i < e.histogram.bucket.size() && i < m.histogram.bucket.size(); ++i) {
      e.histogram.bucket[i].cumulative_count += m.histogram.bucket[i].cumulative_count;
    }
    return;
  }
  into.metric.push_back(std::move(m));
}

}  // namespace

std::string Telemetry::Render(const ExpositionOptions& opts) {
  RefreshProcess();
  std::vector<Family> families = registry_->Collect();
  // A family whose series were never created (a signal the component never carried) is
  // not exported at all, not even its HELP and TYPE lines.
  std::erase_if(families, [](const Family& f) { return f.metric.empty(); });
  if (opts.naming == MetricNaming::kOutrigger) return prometheus::TextSerializer().Serialize(families);

  std::vector<Family> out;
  std::map<std::string, size_t> index;  // name -> position in out
  auto family_for = [&](const std::string& name, const Family& like, prometheus::MetricType type,
                        const std::string& help) -> Family& {
    auto [it, added] = index.emplace(name, out.size());
    if (added) out.push_back(Family{name, help.empty() ? like.help : help, type, {}});
    return out[it->second];
  };
  std::lock_guard<std::mutex> lock(names_mu_);
  for (auto& fam : families) {
    auto rules = otelcol_names_.find(fam.name);
    for (auto& m : fam.metric) {
      const OtelcolName* rule = nullptr;
      if (rules != otelcol_names_.end()) {
        for (const auto& r : rules->second) {
          const std::string* v = r.label.empty() ? nullptr : LabelValue(m, r.label);
          if (r.label.empty() || (v != nullptr && *v == r.value)) {
            rule = &r;
            break;
          }
        }
      }
      if (rule == nullptr) {  // no upstream equivalent: keeps our name
        Merge(family_for(fam.name, fam, fam.type, ""), std::move(m));
        continue;
      }
      auto type = fam.type;
      if (rule->as_counter && type == prometheus::MetricType::Gauge) {
        m.counter.value = m.gauge.value;
        m.gauge.value = 0;
        type = prometheus::MetricType::Counter;
      }
      std::string name = rule->to;
      if (!opts.without_units) name += rule->unit_suffix;
      if (!opts.without_type_suffix && type == prometheus::MetricType::Counter) name += "_total";
      std::erase_if(m.label, [&](const Metric::Label& l) {
        return std::find(rule->keep_labels.begin(), rule->keep_labels.end(), l.name) == rule->keep_labels.end();
      });
      Merge(family_for(name, fam, type, rule->help), std::move(m));
    }
  }
  return prometheus::TextSerializer().Serialize(out);
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
