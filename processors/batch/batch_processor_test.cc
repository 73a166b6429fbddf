#include "processors/batch/batch_processor.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace outrigger::processors::batch {
namespace {

using testutil::MakeTraces;

class BatchTest : public ::testing::Test {
 protected:
  std::unique_ptr<Processor> Make(Config cfg) {
    auto p =
        NewBatchProcessor(testutil::Settings(&telemetry_, "batch", Kind::kProcessor), cfg, Signal::kTraces, &sink_);
    EXPECT_TRUE(p->Start(host_).ok());
    return p;
  }
  Telemetry telemetry_;
  testutil::Sink sink_;
  testutil::TestHost host_;
};

TEST_F(BatchTest, SendsWhenTheSizeIsReached) {
  Config cfg;
  cfg.send_batch_size = 10;
  cfg.timeout = absl::Hours(1);  // only size can trigger
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(4)).ok());
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(4)).ok());
  EXPECT_EQ(sink_.Calls(), 0u);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(4)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 12; }));
  EXPECT_EQ(sink_.BatchSizes(), (std::vector<size_t>{12}));
  // Recorded after the send returns.
  EXPECT_TRUE(sink_.WaitFor([&] {
    return telemetry_.Value("outrigger_processor_batch_sends_total", {{"trigger", "size"}}) == 1;
  }));
}

TEST_F(BatchTest, SendsAfterTheTimeout) {
  Config cfg;
  cfg.send_batch_size = 1000;
  cfg.timeout = absl::Milliseconds(50);
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(3)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 3; }));
  EXPECT_TRUE(sink_.WaitFor([&] {
    return telemetry_.Value("outrigger_processor_batch_sends_total", {{"trigger", "timeout"}}) == 1;
  }));
}

TEST_F(BatchTest, SplitsAtMaxSizeKeepingOrder) {
  Config cfg;
  cfg.send_batch_size = 5;
  cfg.send_batch_max_size = 5;
  cfg.timeout = absl::Milliseconds(20);
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(12, "svc", "s")).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 12; }));
  for (size_t n : sink_.BatchSizes()) EXPECT_LE(n, 5u);
  auto names = sink_.SpanNames();
  ASSERT_EQ(names.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(names[static_cast<size_t>(i)], "s-" + std::to_string(i));
}

TEST_F(BatchTest, RetryableRefusalDownstreamLosesNothing) {
  Config cfg;
  cfg.send_batch_size = 4;
  cfg.timeout = absl::Milliseconds(10);
  auto p = Make(cfg);
  sink_.FailNext(3, absl::UnavailableError("backend down"));
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(4, "svc", "r")).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 4; }));
  EXPECT_GE(sink_.Calls(), 4u);
  EXPECT_EQ(sink_.SpanNames(), (std::vector<std::string>{"r-0", "r-1", "r-2", "r-3"}));
  EXPECT_EQ(telemetry_.Value("outrigger_processor_dropped_spans_total", {{"processor", "batch"}}), 0);
}

TEST_F(BatchTest, PermanentRefusalIsCountedAsDropped) {
  Config cfg;
  cfg.send_batch_size = 2;
  auto p = Make(cfg);
  sink_.FailNext(1, absl::InvalidArgumentError("rejected"));
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(2)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.Calls() == 1; }));
  ASSERT_TRUE(sink_.WaitFor([&] {
    return telemetry_.Value("outrigger_processor_dropped_spans_total", {{"processor", "batch"}}) == 2;
  }));
}

TEST_F(BatchTest, RefusesNewDataWhenFullInsteadOfDropping) {
  Config cfg;
  cfg.send_batch_size = 2;
  cfg.max_pending_items = 4;
  cfg.timeout = absl::Milliseconds(1);
  auto p = Make(cfg);
  sink_.Block();
  // The worker takes the first batch and blocks in the sink; the rest piles up.
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(2)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] {
    auto st = p->ConsumeTraces(MakeTraces(1));
    return st.code() == absl::StatusCode::kResourceExhausted;
  }));
  sink_.Unblock();
  // Everything accepted arrives.
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() >= 6; }));
}

// Issue 15: batches were bounded in items only (8192 log records of 1 MiB are 8 GiB).
// Past half of max_pending_bytes a batch goes at once; past all of it new data is refused.
TEST_F(BatchTest, PendingBytesAreBounded) {
  const size_t one = MakeTraces(50).ByteSize();
  Config cfg;
  cfg.send_batch_size = 100000;  // items never trigger
  cfg.timeout = absl::Hours(1);
  cfg.max_pending_bytes = 3 * one;
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(50)).ok());
  EXPECT_EQ(sink_.Calls(), 0u);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(50)).ok());  // 2 of 3: over half, sent now
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 100; }));
  EXPECT_TRUE(sink_.WaitFor([&] {
    return telemetry_.Value("outrigger_processor_batch_sends_total", {{"trigger", "size"}}) == 1;
  }));
  // Blocked downstream: requests pile up until the next one would pass the bound.
  sink_.Block();
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(50)).ok());
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(50)).ok());  // taken by the worker, blocked in the sink
  ASSERT_TRUE(sink_.WaitFor([&] {
    auto st = p->ConsumeTraces(MakeTraces(50));
    if (st.code() != absl::StatusCode::kResourceExhausted) return false;
    EXPECT_NE(st.message().find("max_pending_bytes"), std::string::npos) << st.message();
    return true;
  }));
  EXPECT_GE(telemetry_.Value("outrigger_processor_batch_refused_over_bytes_total",
                             {{"processor", "batch"}, {"signal", "traces"}}),
            50);
  sink_.Unblock();
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() >= 200; }));
}

TEST_F(BatchTest, ARequestLargerThanMaxPendingBytesIsStillTakenAlone) {
  Config cfg;
  cfg.timeout = absl::Milliseconds(10);
  cfg.max_pending_bytes = 100;
  auto p = Make(cfg);
  ASSERT_GT(MakeTraces(20).ByteSize(), 100u);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(20)).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.SpanCount() == 20; }));
}

TEST_F(BatchTest, ShutdownFlushesPendingData) {
  Config cfg;
  cfg.send_batch_size = 1000;
  cfg.timeout = absl::Hours(1);
  auto p = Make(cfg);
  ASSERT_TRUE(p->ConsumeTraces(MakeTraces(7)).ok());
  EXPECT_EQ(sink_.SpanCount(), 0u);
  ASSERT_TRUE(p->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(sink_.SpanCount(), 7u);
  EXPECT_EQ(p->ConsumeTraces(MakeTraces(1)).code(), absl::StatusCode::kUnavailable);
}

TEST_F(BatchTest, ShutdownWithoutStartIsSafe) {
  Config cfg;
  auto p = NewBatchProcessor(testutil::Settings(&telemetry_, "batch", Kind::kProcessor), cfg, Signal::kTraces, &sink_);
  EXPECT_TRUE(p->Shutdown(absl::Now()).ok());
  EXPECT_TRUE(p->Shutdown(absl::Now()).ok());
}

TEST(BatchConfig, Validation) {
  Config c;
  EXPECT_TRUE(c.Validate().ok());
  c.send_batch_max_size = 10;
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_EQ(Config().PendingLimit(), 2 * kDefaultSendBatchSize);
}

}  // namespace
}  // namespace outrigger::processors::batch
