// The span_metrics connector's config: upstream's defaults, testdata/config.yaml decodes
// to what it says, and bad values are errors naming their path.
#include "connectors/span_metrics/config.h"

#include <gtest/gtest.h>

#include "connectors/span_metrics/factory.h"
#include "tests/testutil/config_util.h"

namespace outrigger::connectors::span_metrics {
namespace {

constexpr char kTestdata[] = "connectors/span_metrics/testdata/config.yaml";

TEST(SpanMetricsConfig, DefaultsAreUpstreams) {
  auto factory = NewFactory();
  EXPECT_EQ(factory->Type(), "span_metrics");
  EXPECT_EQ(factory->Aliases(), std::vector<std::string_view>{"spanmetrics"});
  EXPECT_TRUE(factory->Supports(Signal::kTraces, Signal::kMetrics));
  EXPECT_FALSE(factory->Supports(Signal::kTraces, Signal::kTraces));
  EXPECT_FALSE(factory->Supports(Signal::kLogs, Signal::kMetrics));
  auto base = factory->CreateDefaultConfig();
  auto* cfg = dynamic_cast<Config*>(base.get());
  ASSERT_NE(cfg, nullptr);
  EXPECT_TRUE(cfg->Validate().ok());
  EXPECT_EQ(cfg->name_space, "traces.span.metrics");
  EXPECT_EQ(cfg->aggregation_temporality, "AGGREGATION_TEMPORALITY_CUMULATIVE");
  EXPECT_EQ(cfg->metrics_flush_interval, absl::Seconds(60));
  EXPECT_EQ(cfg->metrics_expiration, absl::ZeroDuration());
  EXPECT_EQ(cfg->dimensions_cache_size, 1000);
  EXPECT_EQ(cfg->resource_metrics_cache_size, 1000);
  EXPECT_EQ(cfg->metric_timestamp_cache_size, 1000);
  EXPECT_EQ(cfg->aggregation_cardinality_limit, 0);
  EXPECT_EQ(cfg->histogram.unit, "ms");
  EXPECT_FALSE(cfg->histogram.disable);
  EXPECT_FALSE(cfg->histogram.exponential);
  EXPECT_EQ(cfg->histogram.max_size, 160);
  EXPECT_FALSE(cfg->exemplars.enabled);
  EXPECT_FALSE(cfg->events.enabled);
  EXPECT_EQ(cfg->Bounds(),
            (std::vector<double>{2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000}));
  cfg->histogram.unit = "s";
  EXPECT_EQ(cfg->Bounds().front(), 0.002);
  EXPECT_EQ(cfg->Bounds().back(), 15);
}

TEST(SpanMetricsConfig, TestdataDecodes) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "connectors", "span_metrics/full", &cfg, &errors).ok())
      << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok()) << cfg.Validate();
  EXPECT_EQ(cfg.histogram.unit, "s");
  ASSERT_TRUE(cfg.histogram.buckets.has_value());
  EXPECT_EQ(cfg.histogram.buckets->size(), 7u);
  EXPECT_EQ(cfg.Bounds()[0], 0.0001);
  EXPECT_EQ(cfg.Bounds()[6], 0.25);
  ASSERT_EQ(cfg.histogram.dimensions.size(), 1u);
  EXPECT_EQ(cfg.histogram.dimensions[0].name, "http.route");
  ASSERT_EQ(cfg.dimensions.size(), 3u);
  EXPECT_EQ(cfg.dimensions[0].name, "http.method");
  EXPECT_EQ(cfg.dimensions[0].default_value, "GET");
  EXPECT_FALSE(cfg.dimensions[1].default_value.has_value());
  EXPECT_EQ(cfg.dimensions[2].glob, "app.*");
  ASSERT_EQ(cfg.calls_dimensions.size(), 1u);
  EXPECT_EQ(cfg.exclude_dimensions, std::vector<std::string>{"status.code"});
  EXPECT_EQ(cfg.dimensions_cache_size, 500);
  EXPECT_EQ(cfg.resource_metrics_cache_size, 200);
  EXPECT_EQ(cfg.resource_metrics_key_attributes, (std::vector<std::string>{"service.name", "telemetry.sdk.language"}));
  EXPECT_TRUE(cfg.delta());
  EXPECT_EQ(cfg.metrics_flush_interval, absl::Seconds(30));
  EXPECT_EQ(cfg.metrics_expiration, absl::Minutes(5));
  EXPECT_EQ(cfg.expiration(), absl::Minutes(2));
  EXPECT_EQ(cfg.metric_timestamp_cache_size, 5000);
  EXPECT_EQ(cfg.name_space, "span.metrics");
  EXPECT_TRUE(cfg.exemplars.enabled);
  EXPECT_EQ(cfg.exemplars.max_per_data_point, 5);
  EXPECT_TRUE(cfg.events.enabled);
  ASSERT_EQ(cfg.events.dimensions.size(), 1u);
  EXPECT_EQ(cfg.include_instrumentation_scope, std::vector<std::string>{"io.opentelemetry.http"});
  EXPECT_EQ(cfg.aggregation_cardinality_limit, 1000);
  EXPECT_TRUE(cfg.add_resource_attributes);

  Config expo;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "connectors", "spanmetrics/exponential", &expo, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(expo.histogram.exponential);
  EXPECT_EQ(expo.histogram.max_size, 80);
  EXPECT_TRUE(expo.Validate().ok());
}

// Decodes `yaml` and validates; the joined errors (decode, then Validate).
std::string Problems(const std::string& yaml) {
  Config cfg;
  config::Errors errors;
  if (!testutil::DecodeYaml(yaml, &cfg, &errors).ok()) return errors.Joined();
  absl::Status st = cfg.Validate();
  return st.ok() ? "" : std::string(st.message());
}

TEST(SpanMetricsConfig, BadValuesAreErrors) {
  EXPECT_NE(Problems("aggregation_temporality: CUMULATIVE\n").find("aggregation_temporality"), std::string::npos);
  EXPECT_NE(Problems("histogram:\n  unit: us\n").find("histogram.unit"), std::string::npos);
  EXPECT_NE(Problems("histogram:\n  explicit:\n    buckets: [1ms, 2]\n").find("buckets[1]"), std::string::npos);
  EXPECT_NE(Problems("histogram:\n  explicit:\n    buckets: [2ms, 1ms]\n").find("increasing"), std::string::npos);
  EXPECT_NE(Problems("histogram:\n  explicit: {}\n  exponential: {}\n").find("either"), std::string::npos);
  EXPECT_NE(Problems("histogram:\n  exponential:\n    max_size: 1\n").find("max_size"), std::string::npos);
  EXPECT_NE(Problems("dimensions:\n  - name: service.name\n").find("duplicate dimension name service.name"),
            std::string::npos);
  EXPECT_NE(Problems("dimensions:\n  - name: a\n  - name: a\n").find("duplicate"), std::string::npos);
  EXPECT_NE(Problems("dimensions:\n  - default: x\n").find("exactly one of"), std::string::npos);
  EXPECT_NE(Problems("dimensions:\n  - name: a\n    glob: b*\n").find("exactly one of"), std::string::npos);
  EXPECT_NE(Problems("events:\n  enabled: true\n").find("no dimensions"), std::string::npos);
  EXPECT_NE(Problems("exclude_dimensions: [http.method]\n").find("not a default dimension"), std::string::npos);
  EXPECT_NE(Problems("metrics_flush_interval: 0s\n").find("metrics_flush_interval"), std::string::npos);
  EXPECT_NE(Problems("metrics_flush_interval: 1ns\n").find("at least 10ms"), std::string::npos);
  EXPECT_NE(Problems("resource_metrics_cache_size: 0\n").find("resource_metrics_cache_size"), std::string::npos);
  EXPECT_NE(Problems("aggregation_cardinality_limit: -1\n").find("aggregation_cardinality_limit"), std::string::npos);
  EXPECT_NE(Problems("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\nmetric_timestamp_cache_size: 0\n")
                .find("metric_timestamp_cache_size"),
            std::string::npos);
  EXPECT_NE(Problems("dimension:\n  - name: a\n").find("unknown key"), std::string::npos);
}

TEST(SpanMetricsConfig, UnsupportedOptionsSayWhatToDo) {
  std::string p = Problems("enable_metrics_sampling_method: true\n");
  EXPECT_NE(p.find("enable_metrics_sampling_method is not supported"), std::string::npos) << p;
  EXPECT_NE(p.find("before any sampling"), std::string::npos) << p;
  p = Problems("latency_histogram_buckets: [1ms]\n");
  EXPECT_NE(p.find("histogram.explicit.buckets"), std::string::npos) << p;
}

}  // namespace
}  // namespace outrigger::connectors::span_metrics
