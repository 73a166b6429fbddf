#include "exporters/debug/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

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
  ASSERT_EQ(testutil::DecodeTestdata(kTestdata, "exporters", "debug", &c), "");
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.verbosity, "detailed");
  EXPECT_FALSE(c.helper.sending_queue.enabled);

  Config q;
  ASSERT_EQ(testutil::DecodeTestdata(kTestdata, "exporters", "debug/queued", &q), "");
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
  EXPECT_NE(testutil::DecodeYaml("verbosity: loud\n", &c), "");
}

}  // namespace
}  // namespace outrigger::exporters::debug
