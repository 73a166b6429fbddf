// The count connector's config: upstream's defaults, testdata/config.yaml decodes to
// what it says, and a bad condition or attribute is an error naming its path.
#include "connectors/count/config.h"

#include <gtest/gtest.h>

#include "connectors/count/factory.h"
#include "tests/testutil/config_util.h"

namespace outrigger::connectors::count {
namespace {

constexpr char kTestdata[] = "connectors/count/testdata/config.yaml";

std::vector<std::string> Names(const std::vector<MetricInfo>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.name);
  return out;
}

TEST(CountConfig, DefaultsAreUpstreams) {
  auto factory = NewFactory();
  EXPECT_EQ(factory->Type(), "count");
  EXPECT_TRUE(factory->Aliases().empty());
  EXPECT_TRUE(factory->Supports(Signal::kTraces, Signal::kMetrics));
  EXPECT_TRUE(factory->Supports(Signal::kMetrics, Signal::kMetrics));
  EXPECT_TRUE(factory->Supports(Signal::kLogs, Signal::kMetrics));
  EXPECT_FALSE(factory->Supports(Signal::kLogs, Signal::kLogs));
  EXPECT_FALSE(factory->Supports(Signal::kTraces, Signal::kTraces));
  auto base = factory->CreateDefaultConfig();
  auto* cfg = dynamic_cast<Config*>(base.get());
  ASSERT_NE(cfg, nullptr);
  EXPECT_TRUE(cfg->Validate().ok());
  EXPECT_EQ(Names(cfg->spans), std::vector<std::string>{"trace.span.count"});
  EXPECT_EQ(Names(cfg->spanevents), std::vector<std::string>{"trace.span.event.count"});
  EXPECT_EQ(Names(cfg->metrics), std::vector<std::string>{"metric.count"});
  EXPECT_EQ(Names(cfg->datapoints), std::vector<std::string>{"metric.datapoint.count"});
  EXPECT_EQ(Names(cfg->logs), std::vector<std::string>{"log.record.count"});
  EXPECT_EQ(cfg->logs[0].description, "The number of log records observed.");
  EXPECT_TRUE(cfg->logs[0].conditions.empty());
  EXPECT_TRUE(cfg->logs[0].attributes.empty());

  // An empty map keeps the default.
  Config empty;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("spans: {}\nlogs:\n", &empty, &errors).ok()) << errors.Joined();
  EXPECT_EQ(Names(empty.spans), std::vector<std::string>{"trace.span.count"});
  EXPECT_EQ(Names(empty.logs), std::vector<std::string>{"log.record.count"});
}

TEST(CountConfig, TestdataDecodes) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "connectors", "count/custom", &cfg, &errors).ok())
      << errors.Joined();
  ASSERT_TRUE(cfg.Validate().ok());
  ASSERT_EQ(Names(cfg.spans), std::vector<std::string>{"span.errors"});
  EXPECT_EQ(cfg.spans[0].description, "Spans in error.");
  EXPECT_EQ(cfg.spans[0].conditions.size(), 2u);
  EXPECT_EQ(cfg.spans[0].conditions[1].text(), "attributes[\"error\"] == true");
  ASSERT_EQ(cfg.spans[0].attributes.size(), 2u);
  EXPECT_EQ(cfg.spans[0].attributes[0].key, "env");
  EXPECT_EQ(cfg.spans[0].attributes[0].default_value, "unknown");
  EXPECT_EQ(cfg.spans[0].attributes[1].key, "host");
  EXPECT_FALSE(cfg.spans[0].attributes[1].default_value.has_value());
  // The kinds not written keep their default.
  EXPECT_EQ(Names(cfg.spanevents), std::vector<std::string>{"trace.span.event.count"});
  EXPECT_EQ(Names(cfg.logs), std::vector<std::string>{"log.by.severity"});
  EXPECT_EQ(cfg.logs[0].attributes[0].default_value, "UNSPECIFIED");
  EXPECT_EQ(Names(cfg.datapoints), std::vector<std::string>{"prod.points"});
  EXPECT_EQ(cfg.datapoints[0].conditions[0].context(), ottl::ContextKind::kDataPoint);
  EXPECT_EQ(Names(cfg.metrics), std::vector<std::string>{"all.metrics"});
}

std::string Problems(const std::string& yaml) {
  Config cfg;
  config::Errors errors;
  if (!testutil::DecodeYaml(yaml, &cfg, &errors).ok()) return errors.Joined();
  absl::Status st = cfg.Validate();
  return st.ok() ? "" : std::string(st.message());
}

TEST(CountConfig, BadValuesAreErrorsNamingTheirPath) {
  // An OTTL condition that does not parse, or names a path the context lacks.
  std::string p = Problems("logs:\n  my.count:\n    conditions:\n      - 'severity_number >= '\n");
  EXPECT_NE(p.find("logs.my.count.conditions[0]"), std::string::npos) << p;
  p = Problems("spans:\n  s:\n    conditions:\n      - 'name == \"a\"'\n      - 'no_such_path == 1'\n");
  EXPECT_NE(p.find("spans.s.conditions[1]"), std::string::npos) << p;
  // A span path in a log condition.
  p = Problems("logs:\n  l:\n    conditions:\n      - 'kind == SPAN_KIND_SERVER'\n");
  EXPECT_NE(p.find("logs.l.conditions[0]"), std::string::npos) << p;
  // Attributes: a key is required; upstream refuses them on `metrics`; any_depth is not here.
  p = Problems("logs:\n  l:\n    attributes:\n      - default_value: x\n");
  EXPECT_NE(p.find("attribute key missing"), std::string::npos) << p;
  p = Problems("metrics:\n  m:\n    attributes:\n      - key: env\n");
  EXPECT_NE(p.find("metrics.m.attributes"), std::string::npos) << p;
  EXPECT_NE(p.find("not supported"), std::string::npos) << p;
  p = Problems("logs:\n  l:\n    attributes:\n      - key: env\n        any_depth: true\n");
  EXPECT_NE(p.find("any_depth"), std::string::npos) << p;
  p = Problems("logs:\n  l:\n    descripton: typo\n");
  EXPECT_NE(p.find("descripton"), std::string::npos) << p;
  EXPECT_NE(Problems("logs: [a]\n").find("logs"), std::string::npos);
  EXPECT_EQ(Problems("logs:\n  l:\n    conditions: ['severity_number >= SEVERITY_NUMBER_ERROR']\n"), "");
}

}  // namespace
}  // namespace outrigger::connectors::count
