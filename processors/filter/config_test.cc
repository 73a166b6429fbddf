#include "processors/filter/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::filter {
namespace {

constexpr char kTestdata[] = "processors/filter/testdata/config.yaml";

TEST(FilterConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.error_mode, ottl::ErrorMode::kIgnore);
  EXPECT_TRUE(c.Empty(Signal::kTraces));
  EXPECT_TRUE(c.Empty(Signal::kMetrics));
  EXPECT_TRUE(c.Empty(Signal::kLogs));
}

TEST(FilterConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "filter/ottl", &c, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(c.error_mode, ottl::ErrorMode::kIgnore);
  EXPECT_EQ(c.span.size(), 3u);
  EXPECT_EQ(c.spanevent.size(), 2u);
  EXPECT_EQ(c.metric.size(), 2u);
  EXPECT_EQ(c.datapoint.size(), 2u);
  ASSERT_EQ(c.log_record.size(), 2u);
  EXPECT_EQ(c.log_record[1].text(), "severity_number < SEVERITY_NUMBER_WARN");
  EXPECT_EQ(c.span[0].context(), ottl::ContextKind::kSpan);
  EXPECT_EQ(c.datapoint[0].context(), ottl::ContextKind::kDataPoint);
}

TEST(FilterConfig, ErrorsPointIntoTheYaml) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml(R"y(traces:
  span:
    - 'name == "a" and attributes["x"] = 1'
    - set(name, "x")
logs:
  log_record:
    - severity_number < SEVERITY_NUMBER_WARNING
)y",
                                    &c, &errors)
                   .ok());
  ASSERT_EQ(errors.list().size(), 3u) << errors.Joined();
  EXPECT_EQ(errors.list()[0],
            "traces.span[0] (line 3): column 24: expected a boolean expression (a comparison, true/false, a converter, "
            "and/or/not) (in `name == \"a\" and "
            "attributes[\"x\"] = 1`)");
  EXPECT_EQ(errors.list()[1].substr(0, 50), "traces.span[1] (line 4): column 7: editor set cann");
  EXPECT_EQ(errors.list()[2],
            "logs.log_record[0] (line 7): column 25: unknown enum SEVERITY_NUMBER_WARNING (in `severity_number < "
            "SEVERITY_NUMBER_WARNING`)");
}

TEST(FilterConfig, RefusesWhatWeLack) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("trace_conditions: ['true']\n", &c, &errors).ok());
  EXPECT_NE(errors.Joined().find("trace_conditions is not supported: use traces.span and traces.spanevent"),
            std::string::npos)
      << errors.Joined();
  // include/exclude are checked as upstream does for the signal.
  Config legacy;
  config::Errors ok;
  ASSERT_TRUE(testutil::DecodeYaml("spans:\n  include:\n    match_type: strict\n", &legacy, &ok).ok()) << ok.Joined();
  EXPECT_NE(legacy.Validate().message().find("spans: include: at least one of"), std::string::npos)
      << legacy.Validate();
}

}  // namespace
}  // namespace outrigger::processors::filter
