#include "exporters/debug/describe.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace outrigger::exporters::debug {
namespace {

TEST(DebugDescribe, BasicIsOneSummaryLine) {
  EXPECT_EQ(Describe(testutil::MakeTraces(3), Verbosity::kBasic),
            (std::vector<std::string>{"Traces: 1 resources, 3 spans"}));
  EXPECT_EQ(Describe(testutil::MakeMetrics(2), Verbosity::kBasic),
            (std::vector<std::string>{"Metrics: 1 resources, 2 data points"}));
  EXPECT_EQ(Describe(testutil::MakeLogs(4), Verbosity::kBasic),
            (std::vector<std::string>{"Logs: 1 resources, 4 log records"}));
}

TEST(DebugDescribe, NormalAddsALinePerItem) {
  auto spans = Describe(testutil::MakeTraces(2, "svc", "s"), Verbosity::kNormal);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_TRUE(spans[1].ends_with(" s-0")) << spans[1];
  EXPECT_EQ(spans[1].size(), 32 + 1 + 16 + 1 + 3);  // hex trace id, hex span id, name
  EXPECT_EQ(Describe(testutil::MakeMetrics(2), Verbosity::kNormal),
            (std::vector<std::string>{"Metrics: 1 resources, 2 data points", "gauge 2 points"}));
  EXPECT_EQ(Describe(testutil::MakeLogs(3), Verbosity::kNormal).size(), 4u);
}

TEST(DebugDescribe, DetailedAddsTheJson) {
  auto lines = Describe(testutil::MakeTraces(1, "svc", "only"), Verbosity::kDetailed);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("\"name\": \"only-0\""), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace outrigger::exporters::debug
