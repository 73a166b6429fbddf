// The health_check extension's config: the defaults documented in README.md, and
// testdata/config.yaml decoding to the values written in it.
#include "extensions/health_check/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::extensions::health_check {
namespace {

TEST(HealthCheckConfig, DefaultsAreTheDocumentedOnes) {
  Config cfg;
  EXPECT_EQ(cfg.endpoint, "127.0.0.1:13133");
  EXPECT_EQ(cfg.path, "/");
  EXPECT_EQ(cfg.liveness_path, "/live");
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(HealthCheckConfig, TestdataDecodesToItsValues) {
  Config cfg;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig("extensions/health_check/testdata/config.yaml", "extensions",
                                              "health_check", &cfg, &errors)
                  .ok())
      << errors.Joined();
  EXPECT_EQ(cfg.endpoint, "0.0.0.0:13134");
  EXPECT_EQ(cfg.path, "/ready");
  EXPECT_EQ(cfg.liveness_path, "/healthz");
  EXPECT_TRUE(cfg.Validate().ok());
}

TEST(HealthCheckConfig, PathsMustStartWithASlash) {
  Config cfg;
  cfg.path = "ready";
  EXPECT_FALSE(cfg.Validate().ok());
  cfg.path = "/ready";
  cfg.liveness_path = "";
  EXPECT_FALSE(cfg.Validate().ok());
}

}  // namespace
}  // namespace outrigger::extensions::health_check
