#include "processors/resource/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::resource {
namespace {

constexpr char kTestdata[] = "processors/resource/testdata/config.yaml";

TEST(ResourceProcessorConfig, AttributesAreRequired) {
  Config c;
  EXPECT_TRUE(c.attributes.empty());
  EXPECT_NE(c.Validate().message().find("missing required field \"attributes\""), std::string::npos);
}

TEST(ResourceProcessorConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "resource", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  ASSERT_EQ(c.attributes.size(), 3u);
  EXPECT_EQ(c.attributes[0].key, "cloud.availability_zone");
  EXPECT_EQ(c.attributes[0].value->string_value(), "zone-1");
  EXPECT_EQ(c.attributes[1].from_attribute, "k8s-cluster");
  EXPECT_EQ(c.attributes[2].action, "delete");
  Config client;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "resource/client", &client, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(client.attributes[0].from_context, "client.address");
  EXPECT_EQ(client.attributes[1].value->int_value(), 3);
}

TEST(ResourceProcessorConfig, BadActionsAreRefused) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeYaml("attributes:\n  - {key: a, action: extract, pattern: 'x(y)'}\n", &c, &errors).ok());
  EXPECT_EQ(c.Validate().message(),
            "error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group at the 0-th "
            "actions");
  Config unknown;
  EXPECT_FALSE(testutil::DecodeYaml("actions:\n  - {key: a, action: delete}\n", &unknown, &errors).ok());
  EXPECT_NE(errors.Joined().find("actions"), std::string::npos);
}

}  // namespace
}  // namespace outrigger::processors::resource
