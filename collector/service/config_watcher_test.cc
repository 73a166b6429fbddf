#include "collector/service/config_watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/time/clock.h"

namespace outrigger {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// Replaces the file with a rename, as editors and `sed -i` do: one event.
void Replace(const fs::path& p, const std::string& text) {
  Write(p.string() + ".new", text);
  fs::rename(p.string() + ".new", p);
}

class ConfigWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("outrigger-watch-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    loop_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    watcher_.reset();  // stops watching, through the running loop
    work_.reset();
    io_.stop();
    loop_.join();
    fs::remove_all(dir_);
  }
  void Watch(const fs::path& file) {
    auto w = ConfigWatcher::Start(io_, {file.string()}, absl::Milliseconds(50), [this] {
      std::lock_guard<std::mutex> l(mu_);
      ++changes_;
      cv_.notify_all();
    });
    ASSERT_TRUE(w.ok()) << w.status();
    watcher_ = std::move(*w);
  }
  bool WaitForChanges(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return changes_ >= n; });
  }

  fs::path dir_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
  std::thread loop_;
  std::unique_ptr<ConfigWatcher> watcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  int changes_ = 0;
};

TEST_F(ConfigWatcherTest, AnEditInPlaceIsSeen) {
  Write(dir_ / "config.yaml", "a: 1\n");
  Watch(dir_ / "config.yaml");
  Write(dir_ / "config.yaml", "a: 2\n");
  EXPECT_TRUE(WaitForChanges(1));
}

TEST_F(ConfigWatcherTest, AConfigMapSwapIsSeen) {
  // config.yaml -> ..data/config.yaml, ..data -> ..v1; the kubelet writes ..v2, points a
  // new symlink at it and renames that over ..data.
  fs::create_directories(dir_ / "..v1");
  Write(dir_ / "..v1" / "config.yaml", "a: 1\n");
  fs::create_directory_symlink("..v1", dir_ / "..data");
  fs::create_symlink("..data/config.yaml", dir_ / "config.yaml");
  Watch(dir_ / "config.yaml");
  fs::create_directories(dir_ / "..v2");
  Write(dir_ / "..v2" / "config.yaml", "a: 2\n");
  fs::create_directory_symlink("..v2", dir_ / "..data_tmp");
  fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  fs::remove_all(dir_ / "..v1");
  EXPECT_TRUE(WaitForChanges(1));
}

// Files written beside the config (an editor's swap file, logs, a file exporter's
// output) do not make it read the config again.
TEST_F(ConfigWatcherTest, OtherFilesInTheDirectoryAreIgnored) {
  Write(dir_ / "config.yaml", "a: 1\n");
  Watch(dir_ / "config.yaml");
  for (int i = 0; i < 20; ++i) Write(dir_ / "output.log", std::string(static_cast<size_t>(i), 'x'));
  Write(dir_ / ".config.yaml.swp", "swap");
  // The scenario: the config changes well after (6 debounces) the other files did.
  absl::SleepFor(absl::Milliseconds(300));
  Replace(dir_ / "config.yaml", "a: 2\n");
  ASSERT_TRUE(WaitForChanges(1));
  EXPECT_EQ(watcher_->reads(), 1u);  // for the config's own change only
}

}  // namespace
}  // namespace outrigger
