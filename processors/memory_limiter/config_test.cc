#include "processors/memory_limiter/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::memory_limiter {
namespace {

constexpr char kTestdata[] = "processors/memory_limiter/testdata/config.yaml";

absl::Status Decoded(std::string_view yaml, Config* c) {
  config::Errors errors;
  if (auto st = testutil::DecodeYaml(yaml, c, &errors); !st.ok()) return st;
  return c->Validate();
}

TEST(MemoryLimiterConfig, DefaultsNeedAnIntervalAndALimit) {
  Config c;
  EXPECT_EQ(c.check_interval, absl::ZeroDuration());
  EXPECT_EQ(c.limit_mib, 0u);
  EXPECT_EQ(c.spike_limit_mib, 0u);
  EXPECT_EQ(c.limit_percentage, 0u);
  EXPECT_EQ(c.spike_limit_percentage, 0u);
  EXPECT_EQ(c.Validate().message(), "'check_interval' must be greater than zero");
  c.check_interval = absl::Seconds(1);
  EXPECT_EQ(c.Validate().message(), "'limit_mib' or 'limit_percentage' must be greater than zero");
}

TEST(MemoryLimiterConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "memory_limiter", &c, &errors).ok())
      << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.check_interval, absl::Milliseconds(100));
  EXPECT_EQ(c.limit_mib, 400u);
  EXPECT_EQ(c.spike_limit_mib, 80u);
  EXPECT_TRUE(c.ignored.empty());
  auto l = c.Resolve([]() -> absl::StatusOr<uint64_t> { return absl::InternalError("not asked for limit_mib"); });
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->hard, 400u << 20);
  EXPECT_EQ(l->soft(), 320u << 20);

  Config p;
  config::Errors p_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "memory_limiter/percent", &p, &p_errors).ok())
      << p_errors.Joined();
  EXPECT_TRUE(p.Validate().ok());
  EXPECT_EQ(p.check_interval, absl::Seconds(1));
  EXPECT_EQ(p.limit_percentage, 80u);
  EXPECT_EQ(p.spike_limit_percentage, 25u);
  EXPECT_EQ(p.ignored,
            (std::vector<std::string>{"min_gc_interval_when_soft_limited", "min_gc_interval_when_hard_limited"}));
  auto pl = p.Resolve([]() -> absl::StatusOr<uint64_t> { return uint64_t{1000} << 20; });
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ(pl->hard, 800u << 20);
  EXPECT_EQ(pl->spike, 250u << 20);
}

TEST(MemoryLimiterConfig, UpstreamValidation) {
  Config c;
  EXPECT_EQ(Decoded("check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 100\n", &c).message(),
            "'spike_limit_mib' must be smaller than 'limit_mib'");
  Config p;
  EXPECT_EQ(Decoded("check_interval: 1s\nlimit_percentage: 101\n", &p).message(),
            "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to "
            "hundred");
  Config s;
  EXPECT_EQ(Decoded("check_interval: 1s\nlimit_percentage: 50\nspike_limit_percentage: 60\n", &s).message(),
            "'spike_limit_percentage' must be smaller than 'limit_percentage'");
  Config both;  // limit_mib wins over limit_percentage, as upstream
  ASSERT_TRUE(Decoded("check_interval: 1s\nlimit_mib: 100\nlimit_percentage: 50\n", &both).ok());
  auto l = both.Resolve([]() -> absl::StatusOr<uint64_t> { return uint64_t{1} << 40; });
  EXPECT_EQ(l->hard, 100u << 20);
  EXPECT_EQ(l->spike, 20u << 20);
}

TEST(MemoryLimiterConfig, GcOptionsAreAcceptedAndIgnored) {
  Config c;
  ASSERT_TRUE(Decoded("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_soft_limited: 10s\n"
                      "max_gc_interval_when_hard_limited: 30s\n",
                      &c)
                  .ok());
  EXPECT_EQ(c.ignored,
            (std::vector<std::string>{"min_gc_interval_when_soft_limited", "max_gc_interval_when_hard_limited"}));
  Config bad;  // still a duration
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_hard_limited: soon\n",
                                    &bad, &errors)
                   .ok());
  EXPECT_NE(errors.Joined().find("min_gc_interval_when_hard_limited"), std::string::npos) << errors.Joined();
}

TEST(MemoryLimiterConfig, GcIntervalsKeepUpstreamsOrderRule) {
  Config soft_below_hard;
  EXPECT_EQ(Decoded("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_soft_limited: 1s\n"
                    "min_gc_interval_when_hard_limited: 5s\n",
                    &soft_below_hard)
                .message(),
            "'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'");
  Config hard_above_default_soft;  // the soft default is 10s, as upstream
  EXPECT_FALSE(
      Decoded("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_hard_limited: 20s\n", &hard_above_default_soft)
          .ok());
  Config equal;
  EXPECT_TRUE(Decoded("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_soft_limited: 5s\n"
                      "min_gc_interval_when_hard_limited: 5s\n",
                      &equal)
                  .ok());
}

TEST(MemoryLimiterConfig, AdmissionModelIsRefusedGcstatsAccepted) {
  Config gcstats;
  EXPECT_TRUE(Decoded("model: gcstats\ncheck_interval: 1s\nlimit_mib: 100\n", &gcstats).ok());
  Config admission;
  config::Errors errors;
  EXPECT_FALSE(
      testutil::DecodeYaml("model: admission\nadmission:\n  request_limit_mib: 64\n", &admission, &errors).ok());
  EXPECT_NE(errors.Joined().find("model 'admission' is not supported"), std::string::npos) << errors.Joined();
  EXPECT_NE(errors.Joined().find("admission is not supported"), std::string::npos) << errors.Joined();
}

TEST(MemoryLimiterConfig, BallastAndUnknownKeysAreErrors) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("check_interval: 1s\nlimit_mib: 100\nballast_size_mib: 50\n", &c, &errors).ok());
  EXPECT_NE(errors.Joined().find("ballast_size_mib is not supported"), std::string::npos) << errors.Joined();
  Config u;
  config::Errors u_errors;
  EXPECT_FALSE(testutil::DecodeYaml("check_interval: 1s\nlimit_mb: 100\n", &u, &u_errors).ok());
  EXPECT_NE(u_errors.Joined().find("limit_mib"), std::string::npos) << u_errors.Joined();
  Config neg;
  config::Errors n_errors;
  EXPECT_FALSE(testutil::DecodeYaml("check_interval: 1s\nlimit_mib: -2000\n", &neg, &n_errors).ok());
  EXPECT_NE(n_errors.Joined().find("limit_mib"), std::string::npos) << n_errors.Joined();
}

}  // namespace
}  // namespace outrigger::processors::memory_limiter
