#include "collector/common/worker_set.h"

#include <gtest/gtest.h>

#include <pthread.h>

#include <deque>
#include <string>

#include "tests/testutil/testutil.h"

namespace outrigger {
namespace {

// A queue drained by a WorkerSet, the way the batch processor and the exporter queue use
// it. `gate` holds every worker inside its "send" until opened.
class Queue {
 public:
  Queue(size_t max, absl::Duration idle_exit) : set_(max, idle_exit, [this] { Run(); }) {}
  ~Queue() { Stop(); }

  void Push(int v) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(v);
    set_.Wake(cv_, items_.size());
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    gate_.notify_all();
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      open_ = true;
    }
    cv_.notify_all();
    gate_.notify_all();
    set_.JoinAll(mu_);
  }
  size_t running() {
    std::lock_guard<std::mutex> lock(mu_);
    return set_.running();
  }
  size_t busy() {
    std::lock_guard<std::mutex> lock(mu_);
    return busy_;
  }
  int done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (!set_.Wait(lock, cv_, [&] { return !items_.empty() || stopping_; })) return;
      if (items_.empty()) return;  // stopping
      items_.pop_front();
      ++busy_;
      gate_.wait(lock, [&] { return open_; });
      --busy_;
      ++done_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_, gate_;
  std::deque<int> items_;
  bool open_ = false;
  bool stopping_ = false;
  size_t busy_ = 0;
  int done_ = 0;
  WorkerSet set_;
};

TEST(WorkerSet, NoThreadUntilWorkThenLeavesWhenIdle) {
  Queue q(4, absl::Milliseconds(50));
  EXPECT_EQ(q.running(), 0u);
  q.Open();
  q.Push(1);
  EXPECT_GE(q.running(), 1u);
  ASSERT_TRUE(testutil::WaitFor([&] { return q.done() == 1; }));
  // Idle for longer than idle_exit: the worker leaves.
  ASSERT_TRUE(testutil::WaitFor([&] { return q.running() == 0; }));
  // ...and the next item brings one back.
  q.Push(2);
  ASSERT_TRUE(testutil::WaitFor([&] { return q.done() == 2; }));
}

TEST(WorkerSet, StartsUpToMaxWhileAllAreBusy) {
  Queue q(3, absl::Seconds(60));
  for (int i = 0; i < 10; ++i) q.Push(i);
  // Items that find fewer waiting workers than queued items start one, up to 3; they all
  // block in the gate.
  ASSERT_TRUE(testutil::WaitFor([&] { return q.busy() == 3; }));
  EXPECT_EQ(q.running(), 3u);
  q.Open();
  ASSERT_TRUE(testutil::WaitFor([&] { return q.done() == 10; }));
  EXPECT_EQ(q.running(), 3u);  // idle_exit not reached: they stay
}

TEST(WorkerSet, StopJoinsWorkersThatAreWaitingOrLeft) {
  Queue q(2, absl::Milliseconds(20));
  q.Open();
  for (int round = 0; round < 20; ++round) {
    q.Push(round);
    q.Push(round);
    ASSERT_TRUE(testutil::WaitFor([&] { return q.done() == 2 * (round + 1); }));
  }
  q.Stop();
  EXPECT_EQ(q.running(), 0u);
}

TEST(WorkerSet, WorkersCarryTheSetsName) {
  std::mutex mu;
  std::condition_variable cv;
  std::string seen;
  bool stopping = false;
  WorkerSet set(
      1, absl::Seconds(60),
      [&] {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        std::unique_lock<std::mutex> lock(mu);
        seen = name;
        cv.notify_all();
        cv.wait(lock, [&] { return stopping; });
        set.Leave();
      },
      "a-long-worker-name");
  {
    std::unique_lock<std::mutex> lock(mu);
    set.Wake(1);
    cv.wait(lock, [&] { return !seen.empty(); });
    stopping = true;
  }
  cv.notify_all();
  set.JoinAll(mu);
  EXPECT_EQ(seen, "a-long-worker-n");  // the kernel keeps 15 characters
}

}  // namespace
}  // namespace outrigger
