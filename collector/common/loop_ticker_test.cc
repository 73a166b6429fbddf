#include "collector/common/loop_ticker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"
#include "collector/common/glob.h"
#include "tests/testutil/testutil.h"

namespace outrigger::common {
namespace {

// An event loop on a thread of its own, as the collector's.
class Loop {
 public:
  Loop() : guard_(io.get_executor()), thread_([this] { io.run(); }) {}
  ~Loop() {
    guard_.reset();
    io.stop();
    thread_.join();
  }
  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

TEST(LoopTicker, TicksOnTheLoopUntilStopped) {
  Loop loop;
  std::atomic<int> ticks{0};
  std::atomic<bool> on_other_thread{false};
  const auto caller = std::this_thread::get_id();
  LoopTicker t;
  EXPECT_FALSE(t.running());
  t.Start(loop.io, absl::Milliseconds(5), [&] {
    if (std::this_thread::get_id() == caller) on_other_thread = true;
    ++ticks;
  });
  EXPECT_TRUE(t.running());
  ASSERT_TRUE(testutil::WaitFor([&] { return ticks.load() >= 3; }));
  t.Stop();
  EXPECT_FALSE(t.running());
  const int at_stop = ticks.load();
  // A tick queued behind the Stop would run before this marker: none may.
  std::atomic<bool> marker{false};
  boost::asio::post(loop.io, [&] { marker = true; });
  ASSERT_TRUE(testutil::WaitFor([&] { return marker.load(); }));
  EXPECT_EQ(ticks.load(), at_stop);
  EXPECT_FALSE(on_other_thread.load());
  t.Stop();  // idempotent
}

TEST(LoopTicker, FirstTickAfterItsOwnDelay) {
  Loop loop;
  std::atomic<int> ticks{0};
  LoopTicker t;
  t.Start(loop.io, absl::Milliseconds(1), absl::Hours(1), [&] { ++ticks; });
  ASSERT_TRUE(testutil::WaitFor([&] { return ticks.load() == 1; }));  // not an hour from now
  // The next one is `every` later: not before a marker posted now has run.
  std::atomic<bool> marker{false};
  boost::asio::post(loop.io, [&] { marker = true; });
  ASSERT_TRUE(testutil::WaitFor([&] { return marker.load(); }));
  EXPECT_EQ(ticks.load(), 1);
  t.Stop();
}

TEST(LoopTicker, StopWaitsForARunningTick) {
  Loop loop;
  std::atomic<bool> in_tick{false}, release{false}, finished{false};
  LoopTicker t;
  t.Start(loop.io, absl::Milliseconds(1), [&] {
    in_tick = true;
    while (!release.load()) std::this_thread::yield();
    finished = true;
  });
  ASSERT_TRUE(testutil::WaitFor([&] { return in_tick.load(); }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Stop must be waiting by then
    release = true;
  });
  t.Stop();
  EXPECT_TRUE(finished.load()) << "Stop returned while the tick was still running";
  releaser.join();
}

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("k8s.*", "k8s.pod.name"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_TRUE(GlobMatch("*.name", "service.name"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_FALSE(GlobMatch("abc", "abcd"));
  EXPECT_FALSE(GlobMatch("", "x"));
}

}  // namespace
}  // namespace outrigger::common
