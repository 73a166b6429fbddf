#include "processors/batch/config.h"

#include <gtest/gtest.h>

#include "tests/testutil/config_util.h"

namespace outrigger::processors::batch {
namespace {

constexpr char kTestdata[] = "processors/batch/testdata/config.yaml";

TEST(BatchProcessorConfig, Defaults) {
  Config c;
  EXPECT_EQ(c.send_batch_size, 8192u);
  EXPECT_EQ(c.send_batch_max_size, 0u);
  EXPECT_EQ(c.timeout, absl::Milliseconds(200));
  EXPECT_EQ(c.max_pending_items, 0u);
  EXPECT_EQ(c.max_pending_bytes, 64u << 20);
  EXPECT_EQ(c.PendingLimit(), 2u * 8192u);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(BatchProcessorConfig, Testdata) {
  Config c;
  config::Errors errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "batch", &c, &errors).ok()) << errors.Joined();
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.send_batch_size, 1000u);
  EXPECT_EQ(c.send_batch_max_size, 2000u);
  EXPECT_EQ(c.timeout, absl::Seconds(1));
  EXPECT_EQ(c.max_pending_items, 50000u);
  EXPECT_EQ(c.max_pending_bytes, 16u << 20);
  EXPECT_EQ(c.PendingLimit(), 50000u);

  Config now;
  config::Errors now_errors;
  ASSERT_TRUE(testutil::DecodeComponentConfig(kTestdata, "processors", "batch/immediate", &now, &now_errors).ok())
      << now_errors.Joined();
  EXPECT_TRUE(now.Validate().ok());
  EXPECT_EQ(now.send_batch_size, 0u);
  EXPECT_EQ(now.timeout, absl::ZeroDuration());
  EXPECT_EQ(now.send_batch_max_size, 0u);
  EXPECT_EQ(now.max_pending_items, 0u);
}

}  // namespace
}  // namespace outrigger::processors::batch
