#include "collector/telemetry/telemetry.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace outrigger {
namespace {

bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

ComponentId Id(const std::string& s) { return *ComponentId::Parse(s); }

TEST(TelemetryTest, ReceiverSeriesExistOnlyForTheSignalsItCarried) {
  Telemetry t;
  ReceiverMeter statsd = t.ForReceiver(Id("statsd"), "udp");
  std::string before = t.Render();
  EXPECT_FALSE(Has(before, "outrigger_receiver_accepted_")) << before;
  EXPECT_FALSE(Has(before, "outrigger_receiver_refused_")) << before;

  statsd.Accepted(Signal::kMetrics, 3);
  std::string text = t.Render();
  EXPECT_TRUE(Has(text, "outrigger_receiver_accepted_metric_points_total{receiver=\"statsd\",transport=\"udp\"} 3"))
      << text;
  // Its sibling is there at 0 from the first record on, so rates and ratios work.
  EXPECT_TRUE(Has(text, "outrigger_receiver_refused_metric_points_total{receiver=\"statsd\",transport=\"udp\"} 0"))
      << text;
  // A StatsD receiver has no spans or log records: no series, not even HELP/TYPE lines.
  EXPECT_FALSE(Has(text, "spans")) << text;
  EXPECT_FALSE(Has(text, "log_records")) << text;
}

TEST(TelemetryTest, ProcessorSeriesAreThoseOfItsPipelineSignalOnly) {
  Telemetry t;
  t.ForProcessor(Id("batch"), "logs");
  std::string text = t.Render();
  EXPECT_TRUE(Has(text, "outrigger_processor_dropped_log_records_total{processor=\"batch\",signal=\"logs\"} 0"))
      << text;
  EXPECT_FALSE(Has(text, "outrigger_processor_dropped_metric_points")) << text;
  EXPECT_FALSE(Has(text, "outrigger_processor_dropped_spans")) << text;
}

TEST(TelemetryTest, ExporterSeriesFollowTheSignalsItSent) {
  Telemetry t;
  ExporterMeter e = t.ForExporter(Id("otlp"));
  e.Sent(Signal::kTraces, 4);
  e.EnqueueFailed(Signal::kTraces, 2);
  std::string text = t.Render();
  EXPECT_TRUE(Has(text, "outrigger_exporter_sent_spans_total{exporter=\"otlp\"} 4")) << text;
  EXPECT_TRUE(Has(text, "outrigger_exporter_send_failed_spans_total{exporter=\"otlp\"} 0")) << text;
  // A queue-full refusal is a drop, and counted apart as upstream's enqueue failure.
  EXPECT_TRUE(Has(text, "outrigger_exporter_dropped_spans_total{exporter=\"otlp\"} 2")) << text;
  EXPECT_TRUE(Has(text, "outrigger_exporter_enqueue_failed_spans_total{exporter=\"otlp\"} 2")) << text;
  EXPECT_FALSE(Has(text, "log_records")) << text;
  EXPECT_FALSE(Has(text, "metric_points")) << text;
}

TEST(TelemetryTest, OtelcolNamingUsesUpstreamNamesAndLabels) {
  Telemetry t;
  t.ForReceiver(Id("otlp"), "grpc").Accepted(Signal::kTraces, 5);
  ExporterMeter e = t.ForExporter(Id("otlphttp/a"));
  e.Sent(Signal::kLogs, 7);
  e.Failed(Signal::kLogs, 1);
  e.EnqueueFailed(Signal::kLogs, 2);
  e.QueueSize(3);
  e.QueueCapacity(1000);
  t.ForProcessor(Id("batch"), "traces").Dropped(Signal::kTraces, 6);

  ExpositionOptions otelcol;
  otelcol.naming = MetricNaming::kOtelcol;
  std::string text = t.Render(otelcol);
  for (const char* want : {
           "# TYPE otelcol_receiver_accepted_spans counter",
           "otelcol_receiver_accepted_spans{receiver=\"otlp\",transport=\"grpc\"} 5",
           "otelcol_receiver_refused_spans{receiver=\"otlp\",transport=\"grpc\"} 0",
           "otelcol_exporter_sent_log_records{exporter=\"otlphttp/a\"} 7",
           "otelcol_exporter_send_failed_log_records{exporter=\"otlphttp/a\"} 1",
           "otelcol_exporter_enqueue_failed_log_records{exporter=\"otlphttp/a\"} 2",
           "otelcol_exporter_queue_size{exporter=\"otlphttp/a\"} 3",
           "otelcol_exporter_queue_capacity{exporter=\"otlphttp/a\"} 1000",
           "otelcol_processor_dropped_spans{processor=\"batch\"} 6",
           "# TYPE otelcol_process_uptime counter",
           "# TYPE otelcol_process_cpu_seconds counter",
           "# TYPE otelcol_process_memory_rss gauge",
           "# TYPE otelcol_process_runtime_heap_alloc_bytes gauge",
           "# TYPE otelcol_process_runtime_total_sys_memory_bytes gauge",
       }) {
    EXPECT_TRUE(Has(text, want)) << want << "\n" << text;
  }
  // Renamed metrics are not also served under our names; the ones upstream has no
  // equivalent of keep theirs (nothing is lost).
  EXPECT_FALSE(Has(text, "outrigger_receiver_accepted")) << text;
  EXPECT_FALSE(Has(text, "outrigger_exporter_sent")) << text;
  EXPECT_FALSE(Has(text, "outrigger_process_uptime")) << text;
  {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("otelcol_")) {
        EXPECT_FALSE(line.substr(0, line.find_first_of("{ ")).ends_with("_total"))
            << "no renamed counter carries _total by default: " << line;
      }
    }
  }
  EXPECT_TRUE(Has(text, "outrigger_exporter_retries_total{exporter=\"otlphttp/a\"} 0")) << text;
  EXPECT_TRUE(Has(text, "outrigger_exporter_dropped_log_records_total{exporter=\"otlphttp/a\"} 2")) << text;
  EXPECT_FALSE(Has(text, "signal=")) << "upstream's processor metrics have no signal label:\n" << text;

  // Ours is unchanged by default.
  std::string ours = t.Render();
  EXPECT_TRUE(Has(ours, "outrigger_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 5")) << ours;
  EXPECT_FALSE(Has(ours, "otelcol_")) << ours;
}

TEST(TelemetryTest, OtelcolSuffixOptionsOfThePullReader) {
  Telemetry t;
  t.ForReceiver(Id("otlp"), "http").Accepted(Signal::kLogs, 1);
  ExpositionOptions o;
  o.naming = MetricNaming::kOtelcol;
  o.without_type_suffix = false;
  o.without_units = false;
  std::string text = t.Render(o);
  EXPECT_TRUE(Has(text, "otelcol_receiver_accepted_log_records_total{receiver=\"otlp\",transport=\"http\"} 1")) << text;
  EXPECT_TRUE(Has(text, "# TYPE otelcol_process_uptime_seconds_total counter")) << text;
  EXPECT_TRUE(Has(text, "# TYPE otelcol_process_memory_rss_bytes gauge")) << text;
  EXPECT_TRUE(Has(text, "# TYPE otelcol_process_cpu_seconds_total counter")) << text;
}

TEST(TelemetryTest, ComponentNamesAreRenamedAndSeriesThatMergeAreSummed) {
  Telemetry t;
  // As the batch processor registers its own: one metric split by a label into two
  // upstream metrics, and a label upstream does not have (its series are summed).
  t.AddCounter("outrigger_x_sends_total", "sends", {{"processor", "batch"}, {"signal", "traces"}, {"trigger", "size"}})
      .Increment(2);
  t.AddCounter("outrigger_x_sends_total", "sends", {{"processor", "batch"}, {"signal", "logs"}, {"trigger", "size"}})
      .Increment(3);
  t.AddCounter("outrigger_x_sends_total", "sends", {{"processor", "batch"}, {"signal", "logs"}, {"trigger", "timeout"}})
      .Increment(4);
  auto& h1 = t.AddHistogram("outrigger_x_size", "size", {{"processor", "batch"}, {"signal", "traces"}}, {10, 100});
  auto& h2 = t.AddHistogram("outrigger_x_size", "size", {{"processor", "batch"}, {"signal", "logs"}}, {10, 100});
  h1.Observe(5);
  h2.Observe(50);
  for (auto [label, value, to] :
       {std::tuple{"trigger", "size", "otelcol_x_size_trigger_send"},
        std::tuple{"trigger", "timeout", "otelcol_x_timeout_trigger_send"}, std::tuple{"", "", ""}}) {
    OtelcolName n;
    n.from = *to ? "outrigger_x_sends_total" : "outrigger_x_size";
    n.label = label;
    n.value = value;
    n.to = *to ? to : "otelcol_x_send_size";
    n.keep_labels = {"processor"};
    t.AddOtelcolName(n);
    t.AddOtelcolName(n);  // idempotent
  }
  ExpositionOptions o;
  o.naming = MetricNaming::kOtelcol;
  std::string text = t.Render(o);
  EXPECT_TRUE(Has(text, "otelcol_x_size_trigger_send{processor=\"batch\"} 5")) << text;
  EXPECT_TRUE(Has(text, "otelcol_x_timeout_trigger_send{processor=\"batch\"} 4")) << text;
  EXPECT_TRUE(Has(text, "otelcol_x_send_size_bucket{processor=\"batch\",le=\"10\"} 1")) << text;
  EXPECT_TRUE(Has(text, "otelcol_x_send_size_bucket{processor=\"batch\",le=\"100\"} 2")) << text;
  EXPECT_TRUE(Has(text, "otelcol_x_send_size_count{processor=\"batch\"} 2")) << text;
  EXPECT_FALSE(Has(text, "outrigger_x_")) << text;
}

}  // namespace
}  // namespace outrigger
