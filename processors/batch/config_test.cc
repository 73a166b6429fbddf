#include "processors/batch/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace outrigger::processors::batch {
namespace {

constexpr char kTestdata[] = "processors/batch/testdata/config.yaml";

TEST(BatchProcessorConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.send_batch_size, 8192u);
  EXPECT_EQ(c.send_batch_max_size, 0u);
  EXPECT_EQ(c.timeout, absl::Milliseconds(200));
  EXPECT_EQ(c.max_pending_items, 0u);
  EXPECT_EQ(c.PendingLimit(), 2u * 8192u);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(BatchProcessorConfig, Testdata) {
  Config c;
  ASSERT_EQ(testutil::DecodeTestdata(kTestdata, "processors", "batch", &c), "");
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.send_batch_size, 1000u);
  EXPECT_EQ(c.send_batch_max_size, 2000u);
  EXPECT_EQ(c.timeout, absl::Seconds(1));
  EXPECT_EQ(c.max_pending_items, 50000u);
  EXPECT_EQ(c.PendingLimit(), 50000u);

  Config now;
  ASSERT_EQ(testutil::DecodeTestdata(kTestdata, "processors", "batch/immediate", &now), "");
  EXPECT_TRUE(now.Validate().ok());
  EXPECT_EQ(now.send_batch_size, 0u);
  EXPECT_EQ(now.timeout, absl::ZeroDuration());
  EXPECT_EQ(now.send_batch_max_size, 0u);
  EXPECT_EQ(now.max_pending_items, 0u);
}

}  // namespace
}  // namespace outrigger::processors::batch
