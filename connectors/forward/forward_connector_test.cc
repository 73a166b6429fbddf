// The forward connector passes each signal on unchanged, with the downstream answer.
#include "connectors/forward/forward_connector.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace outrigger::connectors::forward {
namespace {

TEST(ForwardConnector, PassesEachSignalOnUnchanged) {
  testutil::Sink sink;
  ForwardConnector fwd(&sink);
  ASSERT_TRUE(fwd.ConsumeTraces(testutil::MakeTraces(2, "svc", "x")).ok());
  ASSERT_TRUE(fwd.ConsumeMetrics(testutil::MakeMetrics(3)).ok());
  ASSERT_TRUE(fwd.ConsumeLogs(testutil::MakeLogs(4)).ok());
  EXPECT_EQ(sink.SpanNames(), (std::vector<std::string>{"x-0", "x-1"}));
  EXPECT_EQ(sink.PointCount(), 3u);
  EXPECT_EQ(sink.LogCount(), 4u);
  EXPECT_EQ(sink.Calls(), 3u);
}

TEST(ForwardConnector, PassesPushbackBack) {
  testutil::Sink sink;
  ForwardConnector fwd(&sink);
  sink.FailNext(1, absl::ResourceExhaustedError("full"));
  EXPECT_EQ(fwd.ConsumeLogs(testutil::MakeLogs(1)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(fwd.ConsumeLogs(testutil::MakeLogs(1)).ok());
  EXPECT_EQ(sink.LogCount(), 1u);
}

}  // namespace
}  // namespace outrigger::connectors::forward
