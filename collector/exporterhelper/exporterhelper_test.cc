#include "collector/exporterhelper/exporterhelper.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/testutil/testutil.h"

namespace outrigger::exporterhelper {
namespace {

using testutil::MakeTraces;

TEST(RetryDelay, TravelsOnTheStatus) {
  auto st = WithRetryDelay(absl::UnavailableError("x"), absl::Milliseconds(1500));
  EXPECT_EQ(RetryDelay(st), absl::Milliseconds(1500));
  EXPECT_FALSE(RetryDelay(absl::UnavailableError("x")).has_value());
  EXPECT_TRUE(IsRetryable(absl::ResourceExhaustedError("")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("")));
}

// A pusher scripted by the test.
class ScriptedPusher : public Pusher {
 public:
  absl::Status PushTraces(const pdata::Traces& d, absl::Time) override {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !blocked; });
    ++calls;
    if (!script.empty()) {
      auto st = script.front();
      script.erase(script.begin());
      if (!st.ok()) return st;
    }
    sent += d.ItemCount();
    sizes.push_back(d.ItemCount());
    cv.notify_all();
    return absl::OkStatus();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<absl::Status> script;
  bool blocked = false;
  size_t sent = 0;
  std::vector<size_t> sizes;  // items per successful push
  int calls = 0;
};

class HelperTest : public ::testing::Test {
 protected:
  std::unique_ptr<QueuedExporter> Make(HelperConfig cfg) {
    auto p = std::make_unique<ScriptedPusher>();
    pusher_ = p.get();
    auto e =
        std::make_unique<QueuedExporter>(testutil::Settings(&telemetry_, "otlp", Kind::kExporter), cfg, std::move(p));
    EXPECT_TRUE(e->Start(host_).ok());
    return e;
  }
  double Metric(const char* name) { return telemetry_.Value(name, {{"exporter", "otlp"}}); }
  bool Eventually(const std::function<bool()>& pred) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::unique_lock<std::mutex> lock(pusher_->mu);
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      pusher_->cv.wait_for(lock, std::chrono::milliseconds(5));
    }
    return true;
  }
  Telemetry telemetry_;
  testutil::TestHost host_;
  ScriptedPusher* pusher_ = nullptr;
};

HelperConfig FastRetry() {
  HelperConfig c;
  c.retry_on_failure.initial_interval = absl::Milliseconds(1);
  c.retry_on_failure.max_interval = absl::Milliseconds(5);
  c.retry_on_failure.max_elapsed_time = absl::Seconds(5);
  return c;
}

TEST_F(HelperTest, RetriesRetryableErrorsUntilSent) {
  auto e = Make(FastRetry());
  pusher_->script = {absl::UnavailableError("down"), absl::ResourceExhaustedError("slow down")};
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(5)).ok());
  ASSERT_TRUE(Eventually([&] { return pusher_->sent == 5; }));
  EXPECT_EQ(pusher_->calls, 3);
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(Metric("outrigger_exporter_sent_spans_total"), 5);
  EXPECT_EQ(Metric("outrigger_exporter_send_failed_spans_total"), 10);
  EXPECT_EQ(Metric("outrigger_exporter_retries_total"), 2);
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 0);
}

// A pusher that dropped some items of a push for good reports them: they count as
// dropped, the rest as sent, however many attempts the push took.
class PartialDropPusher : public Pusher {
 public:
  absl::Status PushTraces(const pdata::Traces& d, absl::Time) override {
    if (++calls == 1) {
      ReportDropped(2);  // two items rejected for good, the others retryable
      return absl::UnavailableError("3 of 5 not indexed yet");
    }
    ReportDropped(1);  // one more rejected on the resend, the rest indexed
    return absl::OkStatus();
  }
  std::atomic<int> calls{0};
};

TEST(HelperPartialDrops, CountedAsDroppedNotSent) {
  Telemetry telemetry;
  testutil::TestHost host;
  HelperConfig c = FastRetry();
  c.sending_queue.enabled = false;
  QueuedExporter e(testutil::Settings(&telemetry, "otlp", Kind::kExporter), c, std::make_unique<PartialDropPusher>());
  ASSERT_TRUE(e.Start(host).ok());
  ASSERT_TRUE(e.ConsumeTraces(MakeTraces(5)).ok());
  ASSERT_TRUE(e.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  auto metric = [&](const char* name) { return telemetry.Value(name, {{"exporter", "otlp"}}); };
  EXPECT_EQ(metric("outrigger_exporter_sent_spans_total"), 2);
  EXPECT_EQ(metric("outrigger_exporter_dropped_spans_total"), 3);
}

// Issue 14: a retry the backoff (here the server's delay) would schedule past the
// shutdown deadline is made before it instead, and what it delivers is not lost.
TEST_F(HelperTest, LastRetryIsMadeBeforeTheShutdownDeadline) {
  HelperConfig c = FastRetry();
  c.retry_on_failure.max_elapsed_time = absl::ZeroDuration();  // until shutdown
  auto e = Make(c);
  pusher_->script = {WithRetryDelay(absl::ResourceExhaustedError("429"), absl::Minutes(1))};
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(5)).ok());
  ASSERT_TRUE(Eventually([&] { return pusher_->calls == 1; }));
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  ASSERT_TRUE(e->Shutdown(deadline).ok());
  EXPECT_LT(absl::Now(), deadline);
  EXPECT_EQ(pusher_->calls, 2);
  EXPECT_EQ(Metric("outrigger_exporter_sent_spans_total"), 5);
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 0);
}

// A push that keeps failing for some items although it delivered others: when the helper
// gives up, only the items not delivered count as dropped.
class PartialDeliveryPusher : public Pusher {
 public:
  absl::Status PushTraces(const pdata::Traces& d, absl::Time) override {
    if (++calls == 1) ReportDelivered(d.ItemCount() - 2);  // all but two indexed
    return absl::ResourceExhaustedError("2 documents not indexed yet: 429");
  }
  std::atomic<int> calls{0};
};

TEST(HelperPartialDelivery, GivingUpDropsOnlyWhatWasNotDelivered) {
  Telemetry telemetry;
  testutil::TestHost host;
  HelperConfig c = FastRetry();
  c.retry_on_failure.max_elapsed_time = absl::ZeroDuration();
  QueuedExporter e(testutil::Settings(&telemetry, "otlp", Kind::kExporter), c,
                   std::make_unique<PartialDeliveryPusher>());
  ASSERT_TRUE(e.Start(host).ok());
  ASSERT_TRUE(e.ConsumeTraces(MakeTraces(2000)).ok());
  auto metric = [&](const char* name) { return telemetry.Value(name, {{"exporter", "otlp"}}); };
  ASSERT_TRUE(testutil::WaitFor([&] { return metric("outrigger_exporter_retries_total") >= 3; }));
  ASSERT_TRUE(e.Shutdown(absl::Now() + absl::Milliseconds(300)).ok());
  EXPECT_EQ(metric("outrigger_exporter_sent_spans_total"), 1998);
  EXPECT_EQ(metric("outrigger_exporter_dropped_spans_total"), 2);
}

TEST_F(HelperTest, PermanentErrorsAreNotRetriedAndAreCounted) {
  auto e = Make(FastRetry());
  pusher_->script = {absl::InvalidArgumentError("bad data")};
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(3)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->calls, 1);
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 3);
}

TEST_F(HelperTest, DropModeCountsWhatDoesNotFit) {
  HelperConfig c = FastRetry();
  c.sending_queue.num_consumers = 1;
  c.sending_queue.sizer = "requests";
  c.sending_queue.queue_size = 2;
  c.sending_queue.block_on_overflow = false;
  auto e = Make(c);
  pusher_->blocked = true;
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());  // taken by the worker (blocked)
  ASSERT_TRUE(Eventually([&] { return e->QueueSize() == 0; }));
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());
  EXPECT_EQ(e->QueueSize(), 2u);
  EXPECT_EQ(e->ConsumeTraces(MakeTraces(4)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 4);
  EXPECT_EQ(Metric("outrigger_exporter_queue_capacity"), 2);
  {
    std::lock_guard<std::mutex> lock(pusher_->mu);
    pusher_->blocked = false;
    pusher_->cv.notify_all();
  }
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->sent, 3u);
}

TEST_F(HelperTest, BlockModeWaitsThenPushesBackWithoutDropping) {
  HelperConfig c = FastRetry();
  c.sending_queue.num_consumers = 1;
  c.sending_queue.sizer = "requests";
  c.sending_queue.queue_size = 1;
  c.timeout = absl::Milliseconds(50);
  auto e = Make(c);
  pusher_->blocked = true;
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());
  ASSERT_TRUE(Eventually([&] { return e->QueueSize() == 0; }));
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());
  auto st = e->ConsumeTraces(MakeTraces(1));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);  // the caller keeps it and retries
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 0);
  {
    std::lock_guard<std::mutex> lock(pusher_->mu);
    pusher_->blocked = false;
    pusher_->cv.notify_all();
  }
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->sent, 2u);
}

TEST_F(HelperTest, ItemsSizerBoundsTheQueueByItems) {
  HelperConfig c = FastRetry();
  c.sending_queue.num_consumers = 1;
  c.sending_queue.queue_size = 10;  // items
  c.sending_queue.block_on_overflow = false;
  auto e = Make(c);
  pusher_->blocked = true;
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());  // taken by the blocked worker
  ASSERT_TRUE(Eventually([&] { return e->QueueSize() == 0; }));
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(6)).ok());
  EXPECT_EQ(e->QueueSize(), 6u);
  EXPECT_EQ(e->ConsumeTraces(MakeTraces(5)).code(), absl::StatusCode::kResourceExhausted);  // 11 > 10
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(4)).ok());                                        // 10 fits
  EXPECT_EQ(Metric("outrigger_exporter_queue_size"), 10);
  EXPECT_EQ(Metric("outrigger_exporter_queue_capacity"), 10);
  {
    std::lock_guard<std::mutex> lock(pusher_->mu);
    pusher_->blocked = false;
    pusher_->cv.notify_all();
  }
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->sent, 11u);
}

TEST_F(HelperTest, ARequestLargerThanTheQueueStillGoesThrough) {
  HelperConfig c = FastRetry();
  c.sending_queue.queue_size = 4;
  auto e = Make(c);
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(9)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->sent, 9u);
}

TEST_F(HelperTest, ShutdownDrainsTheQueue) {
  HelperConfig c = FastRetry();
  c.sending_queue.num_consumers = 1;
  auto e = Make(c);
  pusher_->blocked = true;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(2)).ok());
  {
    std::lock_guard<std::mutex> lock(pusher_->mu);
    pusher_->blocked = false;
    pusher_->cv.notify_all();
  }
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(pusher_->sent, 40u);
}

TEST_F(HelperTest, ShutdownDeadlineDropsAndCountsWhatIsLeft) {
  HelperConfig c = FastRetry();
  c.sending_queue.num_consumers = 1;
  c.retry_on_failure.max_elapsed_time = absl::ZeroDuration();  // retry forever
  auto e = Make(c);
  pusher_->script.assign(1000000, absl::UnavailableError("down"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(2)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Milliseconds(100)).ok());
  EXPECT_EQ(pusher_->sent, 0u);
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 6);
}

HelperConfig Batching(int64_t min_size, int64_t max_size, absl::Duration flush_timeout) {
  HelperConfig c = FastRetry();
  c.sending_queue.num_consumers = 1;
  c.sending_queue.batch.enabled = true;
  c.sending_queue.batch.min_size = min_size;
  c.sending_queue.batch.max_size = max_size;
  c.sending_queue.batch.flush_timeout = flush_timeout;
  return c;
}

TEST_F(HelperTest, BatchMergesQueuedRequestsUntilMinSize) {
  // flush_timeout is far beyond the test's deadline: only reaching min_size sends.
  auto e = Make(Batching(10, 0, absl::Hours(1)));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(2)).ok());
  ASSERT_TRUE(Eventually([&] { return pusher_->sent == 10; }));
  EXPECT_EQ(pusher_->sizes, std::vector<size_t>{10});
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST_F(HelperTest, BatchFlushesASmallRequestAfterFlushTimeout) {
  auto e = Make(Batching(1000, 0, absl::Milliseconds(50)));
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(3)).ok());
  ASSERT_TRUE(Eventually([&] { return pusher_->sent == 3; }));
  EXPECT_EQ(pusher_->sizes, std::vector<size_t>{3});
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST_F(HelperTest, BatchNeverExceedsMaxSize) {
  auto e = Make(Batching(4, 4, absl::Milliseconds(20)));
  pusher_->blocked = true;  // everything queues up first
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(3)).ok());
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(1)).ok());
  {
    std::lock_guard<std::mutex> lock(pusher_->mu);
    pusher_->blocked = false;
    pusher_->cv.notify_all();
  }
  ASSERT_TRUE(Eventually([&] { return pusher_->sent == 10; }));
  for (size_t n : pusher_->sizes) EXPECT_LE(n, 4u);
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST_F(HelperTest, ShutdownSendsAPartialBatchAtOnce) {
  auto e = Make(Batching(1000, 0, absl::Hours(1)));
  ASSERT_TRUE(e->ConsumeTraces(MakeTraces(3)).ok());
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(pusher_->sent, 3u);
  EXPECT_EQ(Metric("outrigger_exporter_dropped_spans_total"), 0);
}

TEST(HelperConfig, BatchDecodesAndValidates) {
  config::Errors errors;
  config::Node node(YAML::Load("sending_queue: {batch: {flush_timeout: 1s, sizer: bytes, min_size: 100}}"),
                    "exporters.x", &errors);
  HelperConfig c;
  c.Decode(node);
  node.Finish();
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  EXPECT_TRUE(c.sending_queue.batch.enabled);
  EXPECT_EQ(c.sending_queue.batch.sizer, "bytes");
  EXPECT_EQ(c.sending_queue.batch.min_size, 100);
  EXPECT_EQ(c.sending_queue.batch.flush_timeout, absl::Seconds(1));
  EXPECT_TRUE(c.Validate().ok());
  c.sending_queue.batch.max_size = 10;  // below min_size
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_FALSE(HelperConfig().sending_queue.batch.enabled);
}

TEST(HelperConfig, Validation) {
  HelperConfig c;
  EXPECT_TRUE(c.Validate().ok());
  c.sending_queue.queue_size = -1;
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_EQ(HelperConfig().sending_queue.Capacity(), kDefaultQueueSizeItems);
  c = HelperConfig();
  c.retry_on_failure.randomization_factor = 1.5;
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace outrigger::exporterhelper
