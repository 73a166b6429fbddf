#include "receivers/otlp/http_workers.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "tests/testutil/testutil.h"

namespace outrigger::receivers::otlp {
namespace {

namespace asio = boost::asio;

// Threads of this process, as the kernel lists them.
size_t ProcessThreads() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

// An event loop on its own thread (Submit is called on it) and a gate that holds the
// requests that run until opened.
class HttpWorkersTest : public ::testing::Test {
 protected:
  HttpWorkersTest() : guard_(asio::make_work_guard(io_)), loop_([this] { io_.run(); }) {}
  ~HttpWorkersTest() override {
    Open();
    workers_.reset();
    io_.stop();  // a max_wait timer may still be set
    loop_.join();
  }

  void Make(HttpWorkers::Limits limits) { workers_ = std::make_unique<HttpWorkers>(io_, limits); }

  // Submits, on the loop, a request that counts itself started, waits for the gate if
  // `hold`, then counts itself done.
  bool Submit(bool hold) {
    std::promise<bool> queued;
    asio::post(io_, [&] {
      queued.set_value(workers_->Submit(
          1,
          [this, hold] {
            ++started_;
            if (hold) {
              std::unique_lock<std::mutex> lock(mu_);
              cv_.wait(lock, [&] { return open_; });
            }
            ++done_;
          },
          [this] { ++refused_; }));
    });
    return queued.get_future().get();
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread loop_;
  std::unique_ptr<HttpWorkers> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<int> started_{0}, done_{0}, refused_{0};
};

TEST_F(HttpWorkersTest, NoThreadWhileIdleOneWithARequestGoneAfterIdleExit) {
  const size_t before = ProcessThreads();
  Make({.threads = 4, .max_wait = absl::Seconds(30), .idle_exit = absl::Milliseconds(50)});
  EXPECT_EQ(workers_->Threads(), 0u);
  EXPECT_EQ(ProcessThreads(), before);
  ASSERT_TRUE(Submit(/*hold=*/true));
  ASSERT_TRUE(testutil::WaitFor([&] { return started_ == 1; }));
  EXPECT_EQ(workers_->Threads(), 1u);
  EXPECT_EQ(ProcessThreads(), before + 1);
  Open();
  ASSERT_TRUE(testutil::WaitFor([&] { return done_ == 1; }));
  // Without a request for idle_exit the thread leaves (and the kernel's task with it).
  ASSERT_TRUE(testutil::WaitFor([&] { return workers_->Threads() == 0; }));
  ASSERT_TRUE(testutil::WaitFor([&] { return ProcessThreads() == before; }));
  // And a new request starts one again.
  ASSERT_TRUE(Submit(/*hold=*/false));
  ASSERT_TRUE(testutil::WaitFor([&] { return done_ == 2; }));
  EXPECT_EQ(refused_, 0);
}

TEST_F(HttpWorkersTest, StartsOneThreadPerWaitingRequestUpToTheLimit) {
  Make({.threads = 3, .max_wait = absl::Seconds(30), .idle_exit = absl::Seconds(30)});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Submit(/*hold=*/true));
  ASSERT_TRUE(testutil::WaitFor([&] { return started_ == 3; }));
  EXPECT_EQ(workers_->Threads(), 3u);
  ASSERT_TRUE(Submit(/*hold=*/true));  // waits: every thread is busy and there are 3 at most
  EXPECT_EQ(workers_->Threads(), 3u);
  EXPECT_EQ(started_, 3);
  Open();
  ASSERT_TRUE(testutil::WaitFor([&] { return done_ == 4; }));
  EXPECT_EQ(workers_->Threads(), 3u);  // idle_exit has not passed
  EXPECT_EQ(refused_, 0);
}

TEST_F(HttpWorkersTest, AnIdleThreadTakesTheNextRequestInsteadOfANewOne) {
  Make({.threads = 4, .max_wait = absl::Seconds(30), .idle_exit = absl::Seconds(30)});
  Open();
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(Submit(/*hold=*/false));
    ASSERT_TRUE(testutil::WaitFor([&] { return done_ == i; }));
    // The request is done but its thread may not be asleep yet: then a second starts.
    EXPECT_LE(workers_->Threads(), 2u);
  }
}

TEST_F(HttpWorkersTest, StopJoinsSleepingThreadsAndRefusesWhatWaits) {
  Make({.threads = 1, .max_wait = absl::Seconds(30), .idle_exit = absl::Seconds(30)});
  ASSERT_TRUE(Submit(/*hold=*/true));
  ASSERT_TRUE(testutil::WaitFor([&] { return started_ == 1; }));
  ASSERT_TRUE(Submit(/*hold=*/true));  // waits for the only thread
  std::thread stop([&] { workers_->Stop(); });
  ASSERT_TRUE(testutil::WaitFor([&] { return refused_ == 1; }));
  Open();
  stop.join();
  EXPECT_EQ(done_, 1);
  EXPECT_EQ(workers_->Threads(), 0u);
  EXPECT_FALSE(Submit(/*hold=*/false));
}

}  // namespace
}  // namespace outrigger::receivers::otlp
