// The persistent sending queue (sending_queue.storage): requests go through the store,
// leave it only once pushed or refused for good, stay there at shutdown and are replayed
// by the next start; a full store pushes back without losing anything.
#include <gtest/gtest.h>

#include <filesystem>

#include "collector/exporterhelper/exporterhelper.h"
#include "collector/storage/storage.h"
#include "tests/testutil/testutil.h"

namespace outrigger::exporterhelper {
namespace {

using testutil::MakeLogs;
using testutil::MakeTraces;

// A storage extension over a temporary directory (what file_storage does, without the
// component around it).
class TempStorage : public Extension, public storage::StorageExtension {
 public:
  explicit TempStorage(std::string dir, int64_t budget = 0) : dir_(std::move(dir)) {
    if (budget > 0) budget_ = std::make_shared<storage::ByteBudget>(budget);
  }
  absl::StatusOr<std::unique_ptr<storage::SegmentLog>> OpenLog(
      std::string_view kind, std::string_view id, const std::function<void(std::string_view)>& visit) override {
    storage::LogOptions o;
    o.directory = dir_ + "/" + storage::StoreName(kind, id);
    o.segment_size = storage::kMinSegmentSize;
    o.budget = budget_;
    return storage::SegmentLog::Open(o, visit);
  }
  absl::StatusOr<std::string> Directory(std::string_view kind, std::string_view id) override {
    return dir_ + "/" + storage::StoreName(kind, id);
  }

 private:
  std::string dir_;
  std::shared_ptr<storage::ByteBudget> budget_;
};

class StorageHost : public testutil::TestHost {
 public:
  explicit StorageHost(Extension* ext) : ext_(ext) {}
  Extension* GetExtension(const std::string& id) override { return id == "file_storage" ? ext_ : nullptr; }

 private:
  Extension* ext_;
};

// Counts what it is given; fails while told to.
class CountingPusher : public Pusher {
 public:
  explicit CountingPusher(absl::Status fail = absl::OkStatus()) : fail_(std::move(fail)) {}
  absl::Status PushTraces(const pdata::Traces& d, absl::Time) override { return Take(d.ItemCount()); }
  absl::Status PushLogs(const pdata::Logs& d, absl::Time) override { return Take(d.ItemCount()); }
  absl::Status Take(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (!fail_.ok()) return fail_;
    sent_ += n;
    sizes_.push_back(n);
    return absl::OkStatus();
  }
  void Heal() {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = absl::OkStatus();
  }
  size_t sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<size_t> sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sizes_;
  }

 private:
  mutable std::mutex mu_;
  absl::Status fail_;
  size_t sent_ = 0;
  int calls_ = 0;
  std::vector<size_t> sizes_;
};

class PersistentQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/persistent_queue_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static HelperConfig Cfg() {
    HelperConfig c;
    c.sending_queue.storage = "file_storage";
    c.retry_on_failure.initial_interval = absl::Milliseconds(1);
    c.retry_on_failure.max_interval = absl::Milliseconds(5);
    c.retry_on_failure.max_elapsed_time = absl::ZeroDuration();  // retry for ever
    return c;
  }
  // A fresh exporter "otlp" over the same storage (a restart of the process).
  std::unique_ptr<QueuedExporter> Make(HelperConfig c, std::unique_ptr<CountingPusher> p, Telemetry* t,
                                       StorageHost* host) {
    pusher_ = p.get();
    auto e = std::make_unique<QueuedExporter>(testutil::Settings(t, "otlp", Kind::kExporter), c, std::move(p));
    auto st = e->Start(*host);
    EXPECT_TRUE(st.ok()) << st;
    return e;
  }
  static double Metric(Telemetry& t, const char* name) { return t.Value(name, {{"exporter", "otlp"}}); }

  std::string dir_;
  CountingPusher* pusher_ = nullptr;
};

TEST_F(PersistentQueueTest, RequestsGoThroughTheStoreAndLeaveItWhenSent) {
  TempStorage fs(dir_);
  StorageHost host(&fs);
  Telemetry t;
  auto e = Make(Cfg(), std::make_unique<CountingPusher>(), &t, &host);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(3, "svc", "s", i)).ok());
  ASSERT_TRUE(e->ConsumeLogs(MakeLogs(4)).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return pusher_->sent() == 64; }));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(Metric(t, "outrigger_exporter_sent_spans_total"), 60);
  EXPECT_EQ(Metric(t, "outrigger_exporter_dropped_spans_total"), 0);
  // Nothing is left for a next start.
  Telemetry t2;
  auto again = Make(Cfg(), std::make_unique<CountingPusher>(), &t2, &host);
  EXPECT_EQ(again->QueueSize(), 0u);
  ASSERT_TRUE(again->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->calls(), 0);
}

TEST_F(PersistentQueueTest, UnsentAtShutdownStaysAndTheNextStartSendsIt) {
  TempStorage fs(dir_);
  StorageHost host(&fs);
  Telemetry t1;
  {
    auto e = Make(Cfg(), std::make_unique<CountingPusher>(absl::UnavailableError("backend down")), &t1, &host);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(10, "svc", "s", i)).ok());
    ASSERT_TRUE(testutil::WaitFor([&] { return pusher_->calls() >= 3; }));  // retrying
    ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Milliseconds(100)).ok());
    EXPECT_EQ(pusher_->sent(), 0u);
  }
  // Nothing was dropped: it stayed in the store.
  EXPECT_EQ(Metric(t1, "outrigger_exporter_dropped_spans_total"), 0);
  Telemetry t2;
  auto e = Make(Cfg(), std::make_unique<CountingPusher>(), &t2, &host);
  ASSERT_TRUE(testutil::WaitFor([&] { return pusher_->sent() == 50; }));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->sent(), 50u);  // each exactly once: the interrupted ones were not acknowledged twice
  EXPECT_EQ(Metric(t2, "outrigger_exporter_sent_spans_total"), 50);
}

TEST_F(PersistentQueueTest, WithoutStorageWhatIsLeftAtTheDeadlineIsCountedAsDropped) {
  Telemetry t;
  testutil::TestHost host;
  HelperConfig c = Cfg();
  c.sending_queue.storage.clear();
  auto p = std::make_unique<CountingPusher>(absl::UnavailableError("backend down"));
  auto* pusher = p.get();
  QueuedExporter e(testutil::Settings(&t, "otlp", Kind::kExporter), c, std::move(p));
  ASSERT_TRUE(e.Start(host).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(e.ConsumeTraces(MakeTraces(10)).ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return pusher->calls() >= 3; }));
  ASSERT_TRUE(e.Shutdown(absl::Now() + absl::Milliseconds(100)).ok());
  EXPECT_EQ(Metric(t, "outrigger_exporter_dropped_spans_total"), 50);
}

TEST_F(PersistentQueueTest, PermanentlyRefusedRequestsLeaveTheStore) {
  TempStorage fs(dir_);
  StorageHost host(&fs);
  Telemetry t1;
  {
    auto e = Make(Cfg(), std::make_unique<CountingPusher>(absl::InvalidArgumentError("bad data")), &t1, &host);
    ASSERT_TRUE(e->ConsumeTraces(MakeTraces(7)).ok());
    ASSERT_TRUE(testutil::WaitFor([&] { return Metric(t1, "outrigger_exporter_dropped_spans_total") == 7; }));
    ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  }
  Telemetry t2;
  auto e = Make(Cfg(), std::make_unique<CountingPusher>(), &t2, &host);
  EXPECT_EQ(e->QueueSize(), 0u);
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(pusher_->calls(), 0);
}

TEST_F(PersistentQueueTest, AFullStorePushesBackAndLosesNothing) {
  TempStorage fs(dir_, 4 * storage::kMinSegmentSize);
  StorageHost host(&fs);
  Telemetry t;
  HelperConfig c = Cfg();
  c.sending_queue.num_consumers = 1;
  auto e = Make(c, std::make_unique<CountingPusher>(absl::UnavailableError("backend down")), &t, &host);
  size_t accepted = 0;
  absl::Status st;
  for (int i = 0; i < 1000; ++i) {
    st = e->ConsumeTraces(MakeTraces(10, "svc", "s", i));
    if (!st.ok()) break;
    accepted += 10;
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("max_size"), std::string_view::npos) << st;
  EXPECT_GT(accepted, 0u);
  EXPECT_GE(Metric(t, "outrigger_exporter_storage_write_errors_total"), 1);
  pusher_->Heal();
  ASSERT_TRUE(testutil::WaitFor([&] { return pusher_->sent() == accepted; }));
  // Room again once what was stored is sent and its segments deleted.
  ASSERT_TRUE(testutil::WaitFor([&] { return e->ConsumeTraces(MakeTraces(10)).ok(); }));
  ASSERT_TRUE(testutil::WaitFor([&] { return pusher_->sent() == accepted + 10; }));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(Metric(t, "outrigger_exporter_dropped_spans_total"), 0);
}

TEST_F(PersistentQueueTest, BatchingMergesStoredRequests) {
  TempStorage fs(dir_);
  StorageHost host(&fs);
  Telemetry t1;
  HelperConfig c = Cfg();
  c.sending_queue.num_consumers = 1;
  {
    // Stored while the backend is down, so that the next start finds them all queued.
    auto e = Make(c, std::make_unique<CountingPusher>(absl::UnavailableError("down")), &t1, &host);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(e->ConsumeTraces(MakeTraces(10, "svc", "s", i)).ok());
    ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Milliseconds(50)).ok());
  }
  c.sending_queue.batch.enabled = true;
  c.sending_queue.batch.min_size = 40;
  c.sending_queue.batch.max_size = 40;
  Telemetry t2;
  auto e = Make(c, std::make_unique<CountingPusher>(), &t2, &host);
  ASSERT_TRUE(testutil::WaitFor([&] { return pusher_->sent() == 100; }));
  ASSERT_TRUE(e->Shutdown(absl::Now() + absl::Seconds(5)).ok());
  // The request held by the first start's worker when it stopped comes first, alone or
  // not; after it, requests merge up to max_size.
  auto sizes = pusher_->sizes();
  for (size_t s : sizes) EXPECT_LE(s, 40u);
  EXPECT_LE(sizes.size(), 4u);
}

TEST_F(PersistentQueueTest, StartFailsWhenTheStorageIsNotAnExtension) {
  Telemetry t;
  testutil::TestHost host;  // knows no extension
  QueuedExporter e(testutil::Settings(&t, "otlp", Kind::kExporter), Cfg(), std::make_unique<CountingPusher>());
  auto st = e.Start(host);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("file_storage"), std::string_view::npos) << st;
  EXPECT_NE(st.message().find("service.extensions"), std::string_view::npos) << st;
}

TEST(PersistentQueueConfig, StorageNeedsTheQueue) {
  HelperConfig c;
  c.sending_queue.storage = "file_storage";
  EXPECT_TRUE(c.Validate().ok());
  c.sending_queue.enabled = false;
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace outrigger::exporterhelper
