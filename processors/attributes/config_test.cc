#include "processors/attributes/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::attributes {
namespace {

constexpr char kTestdata[] = "processors/attributes/testdata/config.yaml";

TEST(AttributesProcessorConfig, DefaultsAndActionsAreRequired) {
  Config c;
  EXPECT_TRUE(c.match.empty());
  EXPECT_TRUE(c.actions.empty());
  EXPECT_NE(c.Validate().message().find("missing required field \"actions\""), std::string::npos);
}

TEST(AttributesProcessorConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "attributes/example", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  ASSERT_EQ(c.actions.size(), 12u);
  EXPECT_EQ(c.actions[1].key, "redacted_span");
  EXPECT_TRUE(c.actions[1].value->bool_value());
  EXPECT_EQ(c.actions[2].from_attribute, "key_original");
  EXPECT_EQ(c.actions[3].value->int_value(), 2245);
  EXPECT_EQ(c.actions[6].converted_type, "int");
  EXPECT_EQ(c.actions[7].default_value->string_value(), "us-east-1");
  EXPECT_EQ(c.actions[8].from_context, "metadata.x-tenant");
  EXPECT_EQ(c.actions[10].action, "extract");
  EXPECT_EQ(c.actions[11].pattern, "^secret\\.");
  EXPECT_TRUE(c.match.empty());

  Config spans;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "attributes/spans", &spans, &errors).ok())
      << errors.Joined();
  ASSERT_TRUE(spans.match.include && spans.match.exclude);
  EXPECT_EQ(spans.match.include->match_type, "regexp");
  EXPECT_EQ(spans.match.include->regexp_cache_max_num_entries, 100);
  EXPECT_EQ(spans.match.include->libraries.at(0).version, "1\\..*");
  EXPECT_FALSE(spans.match.exclude->attributes.at(0).value->bool_value());
  EXPECT_TRUE(filterset::Matcher::Compile(spans.match, Signal::kTraces).ok());

  Config logs;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "attributes/logs", &logs, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(logs.match.include->log_severity_number->min, 13);
  EXPECT_TRUE(filterset::Matcher::Compile(logs.match, Signal::kLogs).ok());

  Config metrics;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "attributes/metrics", &metrics, &errors).ok())
      << errors.Joined();
  EXPECT_FALSE(metrics.match.include->attributes.at(0).value);
  EXPECT_TRUE(filterset::Matcher::Compile(metrics.match, Signal::kMetrics).ok());
}

TEST(AttributesProcessorConfig, ErrorsNameThePathOrTheAction) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("actions:\n  - {key: a, action: upsert, vlaue: 1}\n", &c, &errors).ok());
  EXPECT_NE(errors.Joined().find("actions[0].vlaue"), std::string::npos) << errors.Joined();
  Config bad;
  config::Errors e2;
  ASSERT_TRUE(testutil::DecodeYaml("actions:\n  - {key: a, action: insert}\n", &bad, &e2).ok());
  EXPECT_NE(bad.Validate().message().find("0-th action"), std::string::npos);
  Config bad_type;
  ASSERT_TRUE(testutil::DecodeYaml("include: {match_type: exact, span_names: [a]}\nactions:\n  - {key: a, "
                                   "action: delete}\n",
                                   &bad_type, &e2)
                  .ok());
  EXPECT_EQ(bad_type.Validate().message(),
            "include: unrecognized match_type: 'exact', valid types are: [regexp strict]");
}

}  // namespace
}  // namespace outrigger::processors::attributes
