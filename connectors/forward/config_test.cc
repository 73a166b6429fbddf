// The forward connector's config: it has no options (README.md), testdata/config.yaml
// declares it with empty values, and any key under it is an error.
#include "connectors/forward/config.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "connectors/forward/factory.h"
#include "tests/testutil/config_util.h"

namespace outrigger::connectors::forward {
namespace {

constexpr char kTestdata[] = "connectors/forward/testdata/config.yaml";

TEST(ForwardConnectorConfig, DefaultHasNoOptionsAndIsValid) {
  auto cfg = NewFactory()->CreateDefaultConfig();
  ASSERT_NE(dynamic_cast<Config*>(cfg.get()), nullptr);
  EXPECT_TRUE(cfg->Validate().ok());
}

TEST(ForwardConnectorConfig, TestdataDecodes) {
  for (const char* id : {"forward/traces", "forward/logs"}) {
    Config cfg;
    config::Errors errors;
    EXPECT_TRUE(testutil::DecodeComponentConfig(kTestdata, "connectors", id, &cfg, &errors).ok())
        << id << ": " << errors.Joined();
    EXPECT_TRUE(cfg.Validate().ok());
  }
}

TEST(ForwardConnectorConfig, AnyKeyIsAnError) {
  const std::string path = ::testing::TempDir() + "/outrigger-forward-config-test.yaml";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("connectors:\n  forward:\n    buffer: 10\n", f);
    std::fclose(f);
  }
  Config cfg;
  config::Errors errors;
  EXPECT_EQ(testutil::DecodeComponentConfig(path, "connectors", "forward", &cfg, &errors).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(errors.Joined().find("connectors.forward.buffer"), std::string::npos) << errors.Joined();
  EXPECT_NE(errors.Joined().find("unknown key"), std::string::npos) << errors.Joined();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outrigger::connectors::forward
