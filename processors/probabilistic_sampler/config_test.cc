#include "processors/probabilistic_sampler/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::probabilistic_sampler {
namespace {

constexpr char kTestdata[] = "processors/probabilistic_sampler/testdata/config.yaml";

TEST(ProbabilisticSamplerConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.sampling_percentage, 0);
  EXPECT_EQ(c.hash_seed, 0u);
  EXPECT_EQ(c.mode, Mode::kUnset);
  EXPECT_EQ(c.EffectiveMode(), Mode::kHashSeed);  // upstream's default
  EXPECT_TRUE(c.fail_closed);
  EXPECT_EQ(c.sampling_precision, 4);
  EXPECT_EQ(c.attribute_source, "traceID");
  EXPECT_EQ(c.from_attribute, "");
  EXPECT_EQ(c.sampling_priority, "");
  EXPECT_TRUE(c.Validate().ok());
}

TEST(ProbabilisticSamplerConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(
      testutil::DecodeComponentConfig(kTestdata, "processors", "probabilistic_sampler/tracing", &c, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(c.sampling_percentage, 15.3f);
  EXPECT_EQ(c.hash_seed, 22u);
  EXPECT_EQ(c.mode, Mode::kProportional);
  EXPECT_EQ(c.sampling_precision, 6);
  EXPECT_FALSE(c.fail_closed);
  EXPECT_TRUE(c.Validate().ok());

  Config l;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "probabilistic_sampler/logs", &l, &errors).ok())
      << errors.Joined();
  EXPECT_EQ(l.sampling_percentage, 15.0f);
  EXPECT_EQ(l.attribute_source, "record");
  EXPECT_EQ(l.from_attribute, "logID");
  EXPECT_EQ(l.sampling_priority, "priority");
  EXPECT_EQ(l.EffectiveMode(), Mode::kHashSeed);
}

TEST(ProbabilisticSamplerConfig, BadValues) {
  auto decode_error = [](std::string_view yaml) {
    Config c;
    config::Errors errors;
    if (!testutil::DecodeYaml(yaml, &c, &errors).ok()) return errors.Joined();
    absl::Status st = c.Validate();
    return st.ok() ? std::string("<ok>") : std::string(st.message());
  };
  EXPECT_NE(decode_error("mode: downsample\n").find("mode"), std::string::npos);
  EXPECT_NE(decode_error("attribute_source: spanID\n").find("attribute_source"), std::string::npos);
  EXPECT_NE(decode_error("hash_seed: -1\n").find("must be an unsigned 32-bit integer"), std::string::npos)
      << decode_error("hash_seed: -1\n");
  EXPECT_NE(decode_error("hash_seed: 4294967296\n").find("hash_seed"), std::string::npos);
  EXPECT_EQ(decode_error("hash_seed: 4294967295\n"), "<ok>");
  EXPECT_NE(decode_error("sampling_percentage: -1\n").find("sampling_percentage: must not be negative"),
            std::string::npos);
  EXPECT_NE(decode_error("sampling_percentage: 1e-20\n").find("too small"), std::string::npos);
  EXPECT_NE(decode_error("sampling_percentage: .inf\n").find("sampling_percentage"), std::string::npos);
  EXPECT_EQ(decode_error("sampling_percentage: 250\n"), "<ok>");  // >= 100 is 100%
  EXPECT_NE(decode_error("sampling_precision: 0\n").find("sampling_precision"), std::string::npos);
  EXPECT_NE(decode_error("sampling_precision: 15\n").find("sampling_precision"), std::string::npos);
  EXPECT_NE(decode_error("attribute_source: record\n").find("from_attribute: required"), std::string::npos);
  EXPECT_NE(decode_error("sampling_percentag: 5\n").find("did you mean 'sampling_percentage'"), std::string::npos);
}

}  // namespace
}  // namespace outrigger::processors::probabilistic_sampler
