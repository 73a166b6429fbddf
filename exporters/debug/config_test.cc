#include "exporters/debug/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::exporters::debug {
namespace {

constexpr char kTestdata[] = "exporters/debug/testdata/config.yaml";

TEST(DebugExporterConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.verbosity, "basic");
  // Synchronous: no queue, no retries.
  EXPECT_FALSE(c.helper.sending_queue.enabled);
  EXPECT_FALSE(c.helper.retry_on_failure.enabled);
  EXPECT_EQ(c.helper.timeout, exporterhelper::kDefaultTimeout);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(DebugExporterConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "debug", &c, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.verbosity, "detailed");
  EXPECT_FALSE(c.helper.sending_queue.enabled);

  Config q;
  config::Errors q_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "exporters", "debug/queued", &q, &q_errors).ok())
      << q_errors.Joined();
  EXPECT_TRUE(q.Validate().ok());
  EXPECT_EQ(q.verbosity, "normal");
  EXPECT_TRUE(q.helper.sending_queue.enabled);
  EXPECT_EQ(q.helper.sending_queue.num_consumers, 1);
  EXPECT_EQ(q.helper.sending_queue.sizer, "requests");
  EXPECT_EQ(q.helper.sending_queue.queue_size, 100);
  EXPECT_EQ(q.helper.timeout, absl::Seconds(1));
  EXPECT_FALSE(q.helper.retry_on_failure.enabled);
}

TEST(DebugExporterConfig, UnknownVerbosityIsAnError) {
  Config c;
  config::Errors errors;
  EXPECT_FALSE(testutil::DecodeYaml("verbosity: loud\n", &c, &errors).ok());
}

}  // namespace
}  // namespace outrigger::exporters::debug
