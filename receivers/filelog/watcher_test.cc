#include "receivers/filelog/watcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog {
namespace {

namespace fs = std::filesystem;

TEST(GlobTest, MatchesStarsAndDoubleStars) {
  EXPECT_TRUE(Glob("/var/log/*.log").Match("/var/log/a.log"));
  EXPECT_FALSE(Glob("/var/log/*.log").Match("/var/log/x/a.log"));
  EXPECT_TRUE(Glob("/var/log/**/*.log").Match("/var/log/a.log"));
  EXPECT_TRUE(Glob("/var/log/**/*.log").Match("/var/log/x/y/a.log"));
  EXPECT_TRUE(Glob("/var/log/pods/*/*/*.log").Match("/var/log/pods/ns_p_u/c/0.log"));
  EXPECT_FALSE(Glob("/var/log/pods/*/*/*.log").Match("/var/log/pods/ns_p_u/0.log"));
  EXPECT_TRUE(Glob("/a/**").Match("/a/b/c"));
  EXPECT_TRUE(Glob("/a/[bc]?.txt").Match("/a/cd.txt"));
  EXPECT_EQ(Glob::Check("relative/*.log"), "must be an absolute path");  // Config::Decode makes it absolute first
  EXPECT_NE(Glob::Check("/a/b**/c"), "");
  EXPECT_NE(Glob::Check("/a/[b/c"), "");
  EXPECT_EQ(Glob::Check("/a/**/c"), "");
}

// No ancestor of the literal prefix exists but "/": "/" is watched (and its stat read,
// not an uninitialized one).
TEST(GlobTest, MissingTopDirectoryWatchesTheRoot) {
  std::vector<std::string> out, dirs;
  Glob("/outrigger-no-such-directory-7f3a/sub/*.log").Expand(&out, [&](const std::string& d) { dirs.push_back(d); });
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(dirs, std::vector<std::string>{"/"});
}

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/filelog_watcher_XXXXXX";
    dir_ = mkdtemp(tmpl);
    cfg_.poll_interval = absl::Milliseconds(50);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) const { return dir_ + "/" + name; }
  void Touch(const std::string& path, const std::string& text = "x\n") {
    std::ofstream f(path, std::ios::app);
    f << text;
  }

  std::string dir_;
  Config cfg_;
  Stats stats_{spdlog::default_logger()};
};

TEST_F(WatcherTest, ExpandSortsDeduplicatesAndExcludes) {
  fs::create_directories(P("a"));
  Touch(P("b.log"));
  Touch(P("a.log"));
  Touch(P("a/c.log"));
  Touch(P("skip.log"));
  cfg_.include = {P("*.log"), P("**/*.log")};  // both match the top-level files
  cfg_.exclude = {P("skip.log")};
  Watcher w(cfg_, stats_);
  EXPECT_EQ(w.Expand(), (std::vector<std::string>{P("a.log"), P("a/c.log"), P("b.log")}));
  EXPECT_TRUE(w.Excluded(P("skip.log")));
  EXPECT_FALSE(w.Excluded(P("a.log")));
}

// Without inotify every scan is polled: nothing is covered, scans come every poll_interval.
TEST_F(WatcherTest, WithoutInotifyEverythingIsPolled) {
  cfg_.include = {P("*.log")};
  Watcher w(cfg_, stats_);
  EXPECT_EQ(w.fd(), -1);
  w.Expand();
  EXPECT_FALSE(w.covered());
  EXPECT_FALSE(w.Watch(dir_));
  EXPECT_EQ(w.ScanInterval(/*quiet_ok=*/true), absl::Milliseconds(50));
}

// Every directory of the scan watched on a local file system: covered, and scans become
// the slow safety rescan unless the caller has something to poll.
TEST_F(WatcherTest, WatchedLocalDirectoriesAreCovered) {
  fs::create_directories(P("a/b"));
  cfg_.include = {P("**/*.log")};
  Watcher w(cfg_, stats_);
  ASSERT_TRUE(w.Open());
  w.Expand();
  EXPECT_TRUE(w.covered());
  EXPECT_EQ(w.watched(), 3u);                                              // dir_, a, a/b
  EXPECT_EQ(w.ScanInterval(/*quiet_ok=*/true), Watcher::kQuietRescanMin);  // max(10 * 50 ms, 2 s)
  EXPECT_EQ(w.ScanInterval(/*quiet_ok=*/false), absl::Milliseconds(50));
  cfg_.poll_interval = absl::Seconds(1);
  EXPECT_EQ(w.ScanInterval(/*quiet_ok=*/true), absl::Seconds(10));
}

// A directory that cannot be watched (here: missing) leaves the scan uncovered (polled).
TEST_F(WatcherTest, AnUnwatchableDirectoryIsPolled) {
  cfg_.include = {P("*.log")};
  Watcher w(cfg_, stats_);
  ASSERT_TRUE(w.Open());
  w.Expand();
  ASSERT_TRUE(w.covered());
  EXPECT_FALSE(w.Watch(P("missing")));
  EXPECT_FALSE(w.covered());
  w.Expand();  // a new scan starts covered again
  EXPECT_TRUE(w.covered());
}

// A new name is a reason to scan; a write to a known file is an event but not a new name.
TEST_F(WatcherTest, DrainTellsNewNamesFromWrites) {
  Touch(P("app.log"));
  cfg_.include = {P("*.log")};
  Watcher w(cfg_, stats_);
  ASSERT_TRUE(w.Open());
  w.Expand();
  bool names_changed = false;
  EXPECT_FALSE(w.Drain(&names_changed));  // nothing happened yet
  Touch(P("app.log"), "more\n");
  EXPECT_TRUE(w.Drain(&names_changed));
  EXPECT_FALSE(names_changed);
  Touch(P("new.log"));
  EXPECT_TRUE(w.Drain(&names_changed));
  EXPECT_TRUE(names_changed);
}

// A watched directory that goes away loses its watch (and asks for a scan).
TEST_F(WatcherTest, RemovedDirectoryDropsItsWatch) {
  fs::create_directories(P("sub"));
  cfg_.include = {P("sub/*.log")};
  Watcher w(cfg_, stats_);
  ASSERT_TRUE(w.Open());
  w.Expand();
  const size_t before = w.watched();
  ASSERT_TRUE(fs::remove(P("sub")));
  bool names_changed = false;
  EXPECT_TRUE(w.Drain(&names_changed));
  EXPECT_TRUE(names_changed);
  EXPECT_EQ(w.watched(), before - 1);
  // Its parent is watched instead at the next scan (where "sub" may appear again).
  w.Expand();
  Touch(P("unrelated"));
  names_changed = false;
  EXPECT_TRUE(w.Drain(&names_changed));
  EXPECT_TRUE(names_changed);
}

TEST_F(WatcherTest, WatchParentWatchesTheFilesDirectory) {
  fs::create_directories(P("elsewhere"));
  Watcher w(cfg_, stats_);
  ASSERT_TRUE(w.Open());
  w.WatchParent(P("elsewhere/target.log"));
  EXPECT_EQ(w.watched(), 1u);
  Touch(P("elsewhere/target.log"));
  bool names_changed = false;
  EXPECT_TRUE(w.Drain(&names_changed));
  EXPECT_TRUE(names_changed);
}

}  // namespace
}  // namespace outrigger::receivers::filelog
