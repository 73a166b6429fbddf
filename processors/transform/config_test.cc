#include "processors/transform/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::transform {
namespace {

constexpr char kTestdata[] = "processors/transform/testdata/config.yaml";

TEST(TransformConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.error_mode, ottl::ErrorMode::kIgnore);  // upstream's default (defaultErrorModeIgnore gate)
  EXPECT_TRUE(c.trace_statements.empty());
  EXPECT_TRUE(c.metric_statements.empty());
  EXPECT_TRUE(c.log_statements.empty());
}

TEST(TransformConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "transform", &c, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(c.error_mode, ottl::ErrorMode::kIgnore);
  ASSERT_EQ(c.trace_statements.size(), 3u);
  EXPECT_EQ(c.trace_statements[0].context, ottl::ContextKind::kSpan);
  EXPECT_EQ(c.trace_statements[0].statements.size(), 2u);
  EXPECT_EQ(c.trace_statements[1].context, ottl::ContextKind::kResource);
  EXPECT_EQ(c.trace_statements[2].context, ottl::ContextKind::kSpan);
  EXPECT_EQ(c.trace_statements[2].conditions.size(), 1u);
  EXPECT_EQ(c.trace_statements[2].error_mode, ottl::ErrorMode::kSilent);
  ASSERT_EQ(c.metric_statements.size(), 2u);
  EXPECT_EQ(c.metric_statements[1].context, ottl::ContextKind::kDataPoint);
  ASSERT_EQ(c.log_statements.size(), 1u);
  EXPECT_EQ(c.log_statements[0].statements[1].text(), R"(set(log.body, log.attributes["http.route"]))");
}

// Errors name the YAML path, line and column of the statement.
TEST(TransformConfig, ErrorsPointIntoTheYaml) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml(R"y(trace_statements:
  - set(span.name, "x") where span.kindd == 1
  - context: span
    statements:
      - 'sett(name, "y")'
  - context: spanevnt
    statements:
      - set(name, "z")
  - set(name, "no context")
metric_statements:
  - set(log.body, "x")
error_mode: loud
)y",
                                    &c, &errors)
                   .ok());
  ASSERT_EQ(errors.list().size(), 6u) << errors.Joined();
  EXPECT_EQ(errors.list()[1].substr(0, 101),
            "trace_statements[0] (line 2): column 31: unknown path span.kindd in the span context; span paths are:");
  EXPECT_EQ(errors.list()[2].substr(0, 77),
            "trace_statements[1].statements[0] (line 5): column 10: unknown editor 'sett';");
  EXPECT_EQ(errors.list()[3],
            "trace_statements[2].context (line 6): unknown context \"spanevnt\"; here it is one of: resource, scope, "
            "span, spanevent");
  EXPECT_EQ(errors.list()[4],
            "trace_statements[3] (line 9): cannot infer the context of `set(name, \"no context\")`: prefix its paths "
            "with one of resource, scope, span, spanevent (span.name, resource.attributes[\"k\"]) or give a context");
  EXPECT_EQ(errors.list()[5],
            "metric_statements[0] (line 11): the log context is not available here (in `set(log.body, \"x\")`); use "
            "resource, scope, metric, datapoint");
  EXPECT_NE(errors.list()[0].find("error_mode"), std::string::npos);
}

TEST(TransformConfig, RefusesUpstreamOptionsWeLack) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("flatten_data: true\n", &c, &errors).ok());
  EXPECT_NE(errors.Joined().find("flatten_data is not supported"), std::string::npos) << errors.Joined();
}

}  // namespace
}  // namespace outrigger::processors::transform
