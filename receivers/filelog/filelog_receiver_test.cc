#include "receivers/filelog/filelog_receiver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "collector/storage/storage.h"
#include "receivers/filelog/checkpoint.h"
#include "tests/testutil/testutil.h"

namespace outrigger::receivers::filelog {
namespace {

namespace fs = std::filesystem;
namespace lpb = opentelemetry::proto::collector::logs::v1;

struct Rec {
  std::string body;
  bool bytes = false;
  std::map<std::string, std::string> attrs;
  std::map<std::string, std::string> resource;
};

// Records every log record; can refuse the next calls (retryable), refuse batches holding
// a given body for good (permanent), and run a hook on the receiver's thread after an
// accepted call (to change files at an exact point of the reading).
class LogSink : public Consumer {
 public:
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      if (fail_next_ > 0) {
        --fail_next_;
        return absl::UnavailableError("test: refused");
      }
      std::vector<Rec> got = Parse(d);
      if (!reject_body_.empty()) {
        for (const auto& r : got) {
          if (r.body == reject_body_) return absl::InvalidArgumentError("test: permanently refused");
        }
      }
      size_t batch_bytes = 0;
      for (const auto& r : got) batch_bytes += r.body.size();
      largest_batch_bytes_ = std::max(largest_batch_bytes_, batch_bytes);
      delivered_bytes_ += batch_bytes;
      for (const auto& r : got) {
        if (r.body.size() < 100) delivered_at_.emplace(r.body, delivered_bytes_);
      }
      for (auto& r : got) recs_.push_back(std::move(r));
      hook = hook_;
    }
    cv_.notify_all();
    if (hook) hook();
    return absl::OkStatus();
  }
  static std::vector<Rec> Parse(pdata::Logs& d) {
    std::vector<Rec> recs_;
    d.ForEachRequest([&](const lpb::ExportLogsServiceRequest& req) {
      for (const auto& rl : req.resource_logs()) {
        std::map<std::string, std::string> resource;
        for (const auto& kv : rl.resource().attributes()) resource[kv.key()] = kv.value().string_value();
        for (const auto& sl : rl.scope_logs()) {
          for (const auto& lr : sl.log_records()) {
            Rec r;
            r.bytes = lr.body().has_bytes_value();
            r.body = r.bytes ? lr.body().bytes_value() : lr.body().string_value();
            for (const auto& kv : lr.attributes()) {
              r.attrs[kv.key()] =
                  kv.value().has_int_value() ? std::to_string(kv.value().int_value()) : kv.value().string_value();
            }
            r.resource = resource;
            recs_.push_back(std::move(r));
          }
        }
      }
    });
    return recs_;
  }
  void FailNext(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = n;
  }
  void RejectBatchesWith(const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_body_ = body;
  }
  // Runs on the receiver's thread after each accepted call, outside the sink's lock.
  void SetHook(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(hook);
  }
  std::vector<Rec> recs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return recs_;
  }
  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& r : recs()) out.push_back(r.body);
    return out;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return recs_.size();
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Body bytes of the largest accepted call.
  size_t largest_batch_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return largest_batch_bytes_;
  }
  // Body bytes accepted up to and including the call that brought `body` (short bodies
  // only), or 0 if it has not come.
  size_t delivered_at(const std::string& body) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = delivered_at_.find(body);
    return it == delivered_at_.end() ? 0 : it->second;
  }
  bool WaitCount(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return recs_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Rec> recs_ ABSL_GUARDED_BY(mu_);
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  size_t largest_batch_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t delivered_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, size_t> delivered_at_ ABSL_GUARDED_BY(mu_);
  std::string reject_body_ ABSL_GUARDED_BY(mu_);
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
};

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

std::string Lines(const std::string& prefix, int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += prefix + "-" + std::to_string(i) + "\n";
  return s;
}

// Every prefix-i for i in [from, to) exactly once, and nothing else with that prefix.
void ExpectExactlyOnce(const std::vector<std::string>& bodies, const std::string& prefix, int from, int to) {
  std::map<std::string, int> seen;
  for (const auto& b : bodies) {
    if (b.rfind(prefix + "-", 0) == 0) ++seen[b];
  }
  for (int i = from; i < to; ++i) {
    std::string k = prefix + "-" + std::to_string(i);
    EXPECT_EQ(seen[k], 1) << k;
    seen.erase(k);
  }
  for (const auto& [k, n] : seen) ADD_FAILURE() << "unexpected " << k << " x" << n;
}

class FilelogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/filelog_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    Stop();
    fs::remove_all(dir_);
  }
  Config Base() {
    Config c;
    c.include = {dir_ + "/*.log"};
    c.start_at = "beginning";
    c.poll_interval = absl::Milliseconds(50);
    c.force_flush_period = absl::Milliseconds(100);
    c.retry_initial_interval = absl::Milliseconds(20);
    return c;
  }
  void Start(const Config& c, const std::string& id = "filelog", const Tuning& tuning = {}) {
    ASSERT_TRUE(c.Validate().ok()) << c.Validate();
    auto chain = operators::BuildChain(c.operators);
    ASSERT_TRUE(chain.ok());
    receiver_ = std::make_unique<FilelogReceiver>(testutil::Settings(&telemetry_, id, Kind::kReceiver), c,
                                                  std::move(*chain), tuning);
    receiver_->SetConsumers({nullptr, nullptr, &sink_});
    ASSERT_TRUE(receiver_->Start(host_).ok());
  }
  void Stop() {
    sink_.SetHook(nullptr);
    if (receiver_) {
      ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Seconds(5)).ok());
      receiver_.reset();
    }
  }
  std::string P(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
  outrigger::Telemetry telemetry_;
  LogSink sink_;
  testutil::TestHost host_;
  std::unique_ptr<FilelogReceiver> receiver_;
};

// Issue 15: a 300 MB file without a newline took filelog to 1.4 GB while a line appended
// to another file waited: its max_log_size pieces were batched up to max_batch_size
// records (a gigabyte), and the batch went out only once the big file was read.
TEST_F(FilelogTest, NoNewlineFileIsReadInBoundedBatchesAndDoesNotStarveOthers) {
  Config c = Base();
  c.max_log_size = 64 * 1024;
  c.max_batch_size_bytes = 256 * 1024;
  const size_t big = 32u << 20;
  Append(P("big.log"), std::string(big, 'x'));
  Append(P("small.log"), "hello\n");
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(big / c.max_log_size + 1, std::chrono::seconds(60)));
  // The line of the other file went out with the first megabytes, not after 32.
  EXPECT_GT(sink_.delivered_at("hello"), 0u);
  EXPECT_LE(sink_.delivered_at("hello"), 4 * c.max_batch_size_bytes);
  // No batch held more than the byte bound and one record.
  EXPECT_LE(sink_.largest_batch_bytes(), c.max_batch_size_bytes + c.max_log_size);
  EXPECT_GE(sink_.calls(), static_cast<int>(big / (c.max_batch_size_bytes + c.max_log_size)));
}

// The same with the other file created while the big one is read: the reading burst
// yields to inotify and to the scan, so the new file is found and read in the next rounds.
TEST_F(FilelogTest, FileCreatedDuringALongReadIsReadBeforeItEnds) {
  Config c = Base();
  c.max_log_size = 64 * 1024;
  c.max_batch_size_bytes = 256 * 1024;
  const size_t big = 64u << 20;
  Append(P("big.log"), std::string(big, 'x'));
  std::atomic<bool> created{false};
  sink_.SetHook([&] {
    // On the receiver's thread, after the first batch.
    if (!created.exchange(true)) Append(P("small.log"), "late\n");
    // A pipeline of ~100 MB/s (not a wait for anything): reading the big file takes
    // longer than the scan and inotify need to notice the new one (poll_interval 50ms).
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  });
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(big / c.max_log_size + 1, std::chrono::seconds(60)));
  EXPECT_GT(sink_.delivered_at("late"), 0u);
  EXPECT_LT(sink_.delivered_at("late"), big / 2);
}

TEST_F(FilelogTest, GlobsWithDoubleStarAndExclude) {
  fs::create_directories(P("a/b"));
  Append(P("top.log"), "top\n");
  Append(P("a/mid.log"), "mid\n");
  Append(P("a/b/deep.log"), "deep\n");
  Append(P("a/b/skip.log"), "skip\n");
  Append(P("a/b/other.txt"), "other\n");
  Config c = Base();
  c.include = {dir_ + "/**/*.log"};
  c.exclude = {dir_ + "/**/skip.log"};
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(3));
  Append(P("a/b/late.log"), "late\n");  // a new file in a watched directory
  ASSERT_TRUE(sink_.WaitCount(4));
  auto b = sink_.bodies();
  std::sort(b.begin(), b.end());
  EXPECT_EQ(b, (std::vector<std::string>{"deep", "late", "mid", "top"}));
}

TEST_F(FilelogTest, LinesWithFileAttributes) {
  Append(P("app.log"), "first\r\n  second  \nthird\n");
  Config c = Base();
  c.include_file_path = true;
  c.include_file_name_resolved = true;
  c.include_file_path_resolved = true;
  c.attributes = {{"team", "a"}};
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(3));
  auto recs = sink_.recs();
  EXPECT_EQ(recs[0].body, "first");
  EXPECT_EQ(recs[1].body, "second");  // leading/trailing whitespace trimmed, as upstream
  EXPECT_EQ(recs[2].body, "third");
  EXPECT_EQ(recs[0].attrs["log.file.name"], "app.log");
  EXPECT_EQ(recs[0].attrs["log.file.path"], P("app.log"));
  EXPECT_EQ(recs[0].attrs["log.file.name_resolved"], "app.log");
  EXPECT_EQ(recs[0].attrs["log.file.path_resolved"], P("app.log"));
  EXPECT_EQ(recs[0].attrs["team"], "a");
  EXPECT_TRUE(testutil::WaitFor([&] {  // counted right after ConsumeLogs returned
    return telemetry_.Value("outrigger_receiver_accepted_log_records_total",
                            {{"receiver", "filelog"}, {"transport", "file"}}) == 3;
  }));
}

TEST_F(FilelogTest, StartAtEndSkipsWhatWasThere) {
  Append(P("app.log"), Lines("old", 0, 5));
  Config c = Base();
  c.start_at = "end";
  Start(c);
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().files_opened >= 1; }));
  Append(P("app.log"), Lines("new", 0, 5));
  Append(P("fresh.log"), Lines("fresh", 0, 3));  // created after start: read from its beginning
  ASSERT_TRUE(sink_.WaitCount(8));
  auto b = sink_.bodies();
  ExpectExactlyOnce(b, "new", 0, 5);
  ExpectExactlyOnce(b, "fresh", 0, 3);
  ExpectExactlyOnce(b, "old", 0, 0);
}

// An admission control that is open or closed (a memory_limiter below or above its limit).
class Gate : public AdmissionControl {
 public:
  absl::Status Reserve(uint64_t) override {
    ++asked;
    return open ? absl::OkStatus() : absl::ResourceExhaustedError("above the memory limit");
  }
  void Release(uint64_t) override {}
  std::atomic<bool> open{false};
  std::atomic<int> asked{0};
};

// Above the memory limit reading pauses (nothing is read, nothing lost) and goes on once
// admission is given again.
TEST_F(FilelogTest, AboveTheMemoryLimitReadingPausesAndResumes) {
  Append(P("app.log"), Lines("line", 0, 20));
  Gate gate;
  Admission admission;
  admission.Add(&gate);
  Config c = Base();
  auto chain = operators::BuildChain(c.operators);
  ASSERT_TRUE(chain.ok());
  receiver_ = std::make_unique<FilelogReceiver>(testutil::Settings(&telemetry_, "filelog", Kind::kReceiver), c,
                                                std::move(*chain), Tuning{});
  receiver_->SetConsumers({nullptr, nullptr, &sink_});
  receiver_->SetAdmission(admission);
  ASSERT_TRUE(receiver_->Start(host_).ok());
  auto pauses = [&] {
    return telemetry_.Value("outrigger_filelog_memory_limit_pauses_total", {{"receiver", "filelog"}});
  };
  ASSERT_TRUE(testutil::WaitFor([&] { return pauses() >= 2; }));  // asked again after a pause
  EXPECT_EQ(sink_.bodies().size(), 0u);
  gate.open = true;
  ASSERT_TRUE(sink_.WaitCount(20));
  ExpectExactlyOnce(sink_.bodies(), "line", 0, 20);
  Stop();  // before `gate` goes: the receiver's thread asks it until it stops
}

TEST_F(FilelogTest, PartialLastLineIsFlushedAfterForceFlushPeriod) {
  Append(P("app.log"), "whole\npartial");
  Start(Base());
  ASSERT_TRUE(sink_.WaitCount(2));
  EXPECT_EQ(sink_.bodies()[1], "partial");
}

TEST_F(FilelogTest, RenameAndCreateLosesNothing) {
  Config c = Base();
  c.include = {P("app.log")};  // the rotated name is not included: the old fd is read to its end
  Start(c);
  int fd = open(P("app.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::string a = Lines("l", 0, 100);
  ASSERT_EQ(write(fd, a.data(), a.size()), static_cast<ssize_t>(a.size()));
  ASSERT_TRUE(sink_.WaitCount(100));
  std::string b = Lines("l", 100, 200);
  ASSERT_EQ(write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  ASSERT_EQ(rename(P("app.log").c_str(), P("app.log.1").c_str()), 0);
  std::string tail = Lines("l", 200, 250);  // written to the old file after the rename
  ASSERT_EQ(write(fd, tail.data(), tail.size()), static_cast<ssize_t>(tail.size()));
  close(fd);
  Append(P("app.log"), Lines("l", 250, 300));
  ASSERT_TRUE(sink_.WaitCount(300));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().files_rotated >= 1; }));
  ExpectExactlyOnce(sink_.bodies(), "l", 0, 300);
}

// With inotify covering every directory, files are looked for again only on its events:
// with a poll_interval of an hour, new directories and files, appends, rename + create
// and copytruncate are all seen at once.
TEST_F(FilelogTest, InotifyAloneFindsEverythingWithoutPolling) {
  Config c = Base();
  c.poll_interval = absl::Hours(1);
  c.include = {P("sub/app.log*")};  // "sub" does not exist yet: its parent is watched
  Start(c);
  fs::create_directories(P("sub"));
  Append(P("sub/app.log"), Lines("q", 0, 10));
  ASSERT_TRUE(sink_.WaitCount(10));
  Append(P("sub/app.log"), Lines("q", 10, 20));
  ASSERT_TRUE(sink_.WaitCount(20));
  // copytruncate: the copy continues where the original was. The lines are read first:
  // a copy is matched to its original across inodes only by a whole fingerprint (1000
  // bytes), and before these lines the file was 90 bytes (a copy made then is read from
  // its start: duplicates, never a skip; see the README).
  const std::string k = "copytruncate-padding-padding";
  Append(P("sub/app.log"), Lines(k, 0, 100));
  ASSERT_TRUE(sink_.WaitCount(120));
  fs::copy_file(P("sub/app.log"), P("sub/app.log.1"));
  ASSERT_EQ(truncate(P("sub/app.log").c_str(), 0), 0);
  Append(P("sub/app.log"), Lines(k, 100, 110));
  ASSERT_TRUE(sink_.WaitCount(130));
  // rename + create, lines written to the renamed file after the rename.
  int fd = open(P("sub/app.log").c_str(), O_WRONLY | O_APPEND);
  ASSERT_EQ(rename(P("sub/app.log").c_str(), P("sub/old").c_str()), 0);
  std::string tail = Lines("q", 20, 30);
  ASSERT_EQ(write(fd, tail.data(), tail.size()), static_cast<ssize_t>(tail.size()));
  close(fd);
  Append(P("sub/app.log"), Lines("q", 30, 40));
  ASSERT_TRUE(sink_.WaitCount(150));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "q", 0, 40);
  ExpectExactlyOnce(sink_.bodies(), k, 0, 110);
}

TEST_F(FilelogTest, FingerprintIdentityAfterRenameWithinTheIncludeSet) {
  Start(Base());
  Append(P("a.log"), Lines("x", 0, 50));
  ASSERT_TRUE(sink_.WaitCount(50));
  ASSERT_EQ(rename(P("a.log").c_str(), P("b.log").c_str()), 0);  // both match *.log
  Append(P("b.log"), Lines("x", 50, 60));
  ASSERT_TRUE(sink_.WaitCount(60));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "x", 0, 60);
}

TEST_F(FilelogTest, CopyTruncateLosesNothing) {
  Config c = Base();
  c.include = {P("app.log*")};
  Start(c);
  // Lines of ~40 bytes: every round is well over the 1000-byte fingerprint.
  const std::string k = "copytruncate-padding-padding";
  for (int round = 0; round < 5; ++round) {
    Append(P("app.log"), Lines(k, round * 100, (round + 1) * 100));
    fs::copy_file(P("app.log"), P("app.log." + std::to_string(round)), fs::copy_options::overwrite_existing);
    ASSERT_EQ(truncate(P("app.log").c_str(), 0), 0);
    ASSERT_TRUE(sink_.WaitCount((round + 1) * 100)) << round;
  }
  Append(P("app.log"), Lines(k, 500, 501));
  ASSERT_TRUE(sink_.WaitCount(501));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), k, 0, 501);
}

TEST_F(FilelogTest, CopyTruncateWhileStoppedResumesTheCopyFromTheCheckpoint) {
  Config c = Base();
  c.include = {P("app.log*")};
  c.storage = dir_ + "/storage";
  Start(c);
  Append(P("app.log"), Lines("longer-line-for-the-fingerprint", 0, 100));
  ASSERT_TRUE(sink_.WaitCount(100));
  Stop();
  // While stopped: more lines, then logrotate copytruncate, then new lines.
  Append(P("app.log"), Lines("longer-line-for-the-fingerprint", 100, 150));
  fs::copy_file(P("app.log"), P("app.log.1"));
  ASSERT_EQ(truncate(P("app.log").c_str(), 0), 0);
  Append(P("app.log"), Lines("longer-line-for-the-fingerprint", 150, 160));
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(160));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "longer-line-for-the-fingerprint", 0, 160);
}

TEST_F(FilelogTest, TruncatedFileIsReadAgainFromTheStart) {
  Start(Base());
  Append(P("app.log"), Lines("before", 0, 20));
  ASSERT_TRUE(sink_.WaitCount(20));
  ASSERT_EQ(truncate(P("app.log").c_str(), 0), 0);
  Append(P("app.log"), Lines("after", 0, 3));
  ASSERT_TRUE(sink_.WaitCount(23));
  EXPECT_GE(receiver_->counters().files_truncated, 1u);
  ExpectExactlyOnce(sink_.bodies(), "after", 0, 3);
  ExpectExactlyOnce(sink_.bodies(), "before", 0, 20);
}

TEST_F(FilelogTest, SymlinkSwapLikeKubernetesContainerLogs) {
  fs::create_directories(P("pods/ns_pod_uid/app"));
  fs::create_directories(P("containers"));
  std::string log0 = P("pods/ns_pod_uid/app/0.log"), log1 = P("pods/ns_pod_uid/app/1.log");
  Append(log0, Lines("k", 0, 10));
  fs::create_symlink(log0, P("containers/pod_ns_app-abc.log"));
  Config c = Base();
  c.include = {P("containers/*.log")};
  c.include_file_path_resolved = true;
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(10));
  // The container restarts: a new file, the link swapped atomically; the old file gets a last line.
  Append(log1, Lines("k", 10, 20));
  fs::create_symlink(log1, P("containers/tmp"));
  fs::rename(P("containers/tmp"), P("containers/pod_ns_app-abc.log"));
  Append(log0, Lines("k", 20, 21));
  ASSERT_TRUE(sink_.WaitCount(21));
  auto recs = sink_.recs();
  ExpectExactlyOnce(sink_.bodies(), "k", 0, 21);
  EXPECT_EQ(recs[0].attrs["log.file.path_resolved"], log0);
  bool saw1 = false;
  for (auto& r : recs) saw1 |= r.attrs["log.file.path_resolved"] == log1;
  EXPECT_TRUE(saw1);
}

TEST_F(FilelogTest, FileDeletedWhileOpenIsReadToItsEnd) {
  Start(Base());
  int fd = open(P("app.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::string a = Lines("d", 0, 10);
  ASSERT_EQ(write(fd, a.data(), a.size()), static_cast<ssize_t>(a.size()));
  ASSERT_TRUE(sink_.WaitCount(10));
  ASSERT_EQ(unlink(P("app.log").c_str()), 0);
  std::string b = Lines("d", 10, 20);  // the writer still has it open
  ASSERT_EQ(write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  close(fd);
  ASSERT_TRUE(sink_.WaitCount(20));
  ExpectExactlyOnce(sink_.bodies(), "d", 0, 20);
}

TEST_F(FilelogTest, CheckpointRestartResumesExactly) {
  Config c = Base();
  c.storage = dir_ + "/storage";
  c.start_at = "end";
  Append(P("app.log"), Lines("pre", 0, 5));  // start_at end, first run: skipped
  Start(c);
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().files_opened >= 1; }));
  Append(P("app.log"), Lines("r", 0, 10));
  ASSERT_TRUE(sink_.WaitCount(10));
  Stop();
  ASSERT_TRUE(fs::exists(c.storage + "/filelog.checkpoint"));
  Append(P("app.log"), Lines("r", 10, 25));  // written while stopped
  Append(P("new.log"), Lines("n", 0, 4));    // a file created while stopped: read whole
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(29));
  Stop();
  auto b = sink_.bodies();
  ExpectExactlyOnce(b, "r", 0, 25);
  ExpectExactlyOnce(b, "n", 0, 4);
  ExpectExactlyOnce(b, "pre", 0, 0);
}

// Upstream's form: `storage: <extension id>`; the checkpoint goes to the directory the
// storage extension gives this receiver, and a restart resumes from it.
class DirStorage : public Extension, public storage::StorageExtension {
 public:
  explicit DirStorage(std::string dir) : dir_(std::move(dir)) {}
  absl::StatusOr<std::unique_ptr<storage::SegmentLog>> OpenLog(std::string_view, std::string_view,
                                                               const std::function<void(std::string_view)>&) override {
    return absl::UnimplementedError("not here");
  }
  absl::StatusOr<std::string> Directory(std::string_view kind, std::string_view id) override {
    std::string d = dir_ + "/" + storage::StoreName(kind, id);
    fs::create_directories(d);
    return d;
  }

 private:
  std::string dir_;
};
class StorageHost : public testutil::TestHost {
 public:
  explicit StorageHost(Extension* ext) : ext_(ext) {}
  Extension* GetExtension(const std::string& id) override { return id == "file_storage" ? ext_ : nullptr; }

 private:
  Extension* ext_;
};

TEST_F(FilelogTest, StorageExtensionIdKeepsCheckpointsInItsDirectory) {
  Config c = Base();
  c.storage = "file_storage";
  DirStorage ext(dir_ + "/ext");
  StorageHost host(&ext);
  auto run = [&](size_t expect) {
    auto chain = operators::BuildChain(c.operators);
    ASSERT_TRUE(chain.ok());
    FilelogReceiver r(testutil::Settings(&telemetry_, "filelog/app", Kind::kReceiver), c, std::move(*chain), {});
    r.SetConsumers({nullptr, nullptr, &sink_});
    ASSERT_TRUE(r.Start(host).ok());
    EXPECT_EQ(r.checkpoint_path(), dir_ + "/ext/receiver_filelog_app/filelog_app.checkpoint");
    ASSERT_TRUE(sink_.WaitCount(expect));
    ASSERT_TRUE(r.Shutdown(absl::Now() + absl::Seconds(5)).ok());
  };
  Append(P("app.log"), Lines("x", 0, 10));
  run(10);
  ASSERT_TRUE(fs::exists(dir_ + "/ext/receiver_filelog_app/filelog_app.checkpoint"));
  Append(P("app.log"), Lines("x", 10, 15));
  run(15);
  ExpectExactlyOnce(sink_.bodies(), "x", 0, 15);  // resumed from the checkpoint

  // An id that names no storage extension: the receiver does not start, and says why.
  c.storage = "file_storage/missing";
  auto chain = operators::BuildChain(c.operators);
  ASSERT_TRUE(chain.ok());
  FilelogReceiver r(testutil::Settings(&telemetry_, "filelog", Kind::kReceiver), c, std::move(*chain), {});
  auto st = r.Start(host);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("service.extensions"), std::string_view::npos) << st;
}

TEST_F(FilelogTest, RefusedBatchesAreRetriedNotDropped) {
  Config c = Base();
  c.storage = dir_ + "/storage";
  Start(c);
  sink_.FailNext(3);
  Append(P("app.log"), Lines("b", 0, 50));
  ASSERT_TRUE(sink_.WaitCount(50));
  EXPECT_GE(sink_.calls(), 4);
  EXPECT_GE(receiver_->counters().send_refusals, 3u);
  EXPECT_GE(telemetry_.Value("outrigger_receiver_refused_log_records_total",
                             {{"receiver", "filelog"}, {"transport", "file"}}),
            50);
  auto b = sink_.bodies();
  ExpectExactlyOnce(b, "b", 0, 50);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(b[i], "b-" + std::to_string(i));  // in order
}

// A permanent error (not UNAVAILABLE/RESOURCE_EXHAUSTED) is not retried: the batch is
// counted as refused and dropped, and reading goes on.
TEST_F(FilelogTest, PermanentRefusalDropsTheBatchAndReadingGoesOn) {
  sink_.RejectBatchesWith("p-0");
  Start(Base());
  Append(P("app.log"), Lines("p", 0, 5));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().records_dropped >= 1; }));
  const uint64_t dropped = receiver_->counters().records_dropped;
  Append(P("app.log"), Lines("p", 5, 10));
  ASSERT_TRUE(sink_.WaitCount(10 - dropped));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "p", static_cast<int>(dropped), 10);
  EXPECT_EQ(sink_.count() + dropped, 10u);
  EXPECT_GE(telemetry_.Value("outrigger_receiver_refused_log_records_total",
                             {{"receiver", "filelog"}, {"transport", "file"}}),
            static_cast<double>(dropped));
}

// While a batch is refused nothing else runs; times that passed meanwhile (a partial
// line's force_flush_period) must not make the loop spin until the retry.
TEST_F(FilelogTest, RefusedBatchDoesNotSpin) {
  Config c = Base();
  c.retry_initial_interval = c.retry_max_interval = absl::Milliseconds(300);
  Start(c);
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().scans >= 1; }));
  sink_.FailNext(2);
  const uint64_t w0 = receiver_->counters().wakeups;
  Append(P("app.log"), "a\npartial");  // "a" is refused twice (600 ms); "partial" waits meanwhile
  ASSERT_TRUE(sink_.WaitCount(2));
  const uint64_t wakeups = receiver_->counters().wakeups - w0;
  EXPECT_GE(receiver_->counters().send_refusals, 2u);
  EXPECT_EQ(sink_.bodies(), (std::vector<std::string>{"a", "partial"}));
  EXPECT_LT(wakeups, 100u);  // a few per retry and event; a spin makes it thousands
}

// A writer that writes line by line (most loggers flush each line) wakes the reader about
// once per poll_interval while it keeps writing, not once per line: inotify's news waits
// until poll_interval after the last pass that read something. Every line arrives.
TEST_F(FilelogTest, LineByLineWriterWakesTheReaderOncePerPollInterval) {
  Config c = Base();
  c.poll_interval = absl::Milliseconds(100);
  Start(c);
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().scans >= 1; }));
  const uint64_t w0 = receiver_->counters().wakeups;
  const absl::Time start = absl::Now();
  constexpr int kLines = 300;
  int fd = open(P("app.log").c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < kLines; ++i) {
    const std::string line = Lines("w", i, i + 1);
    ASSERT_EQ(write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the writer's pace: one write per line
  }
  close(fd);
  const absl::Duration writing = absl::Now() - start;
  ASSERT_TRUE(sink_.WaitCount(kLines));
  const uint64_t wakeups = receiver_->counters().wakeups - w0;
  // About 3 per poll_interval (the held news, the pass that reads, a scan now and then),
  // and what follows the last write; one per write made it about 300.
  const auto periods = static_cast<uint64_t>(writing / c.poll_interval) + 1;
  EXPECT_LE(wakeups, 4 * periods + 10) << "over " << absl::FormatDuration(writing);
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "w", 0, kLines);
}

// `cp app.log app.log.bak` with app* included: the copy is first seen incomplete (waits to
// be identifiable), then whole: a copy of a file being read, which waits for a truncation.
// Its wait must not leave a time in the past that makes the loop spin once the copy wait
// (5 s in production, Tuning::copy_wait; 200 ms here) has passed. The test looks for a
// spin during a window after that time.
TEST_F(FilelogTest, CopyOfAFileBeingReadDoesNotSpin) {
  Config c = Base();
  c.include = {P("app*")};
  Tuning tuning;
  tuning.copy_wait = absl::Milliseconds(200);
  const std::string text = Lines("copy-of-a-file-being-read", 0, 40);  // > fingerprint_size
  Append(P("app.log"), text);
  Start(c, "filelog", tuning);
  ASSERT_TRUE(sink_.WaitCount(40));
  Append(P("app.log.bak"), text.substr(0, 100));  // the copy so far: the start of app.log
  const absl::Time deferred_at = absl::Now();
  const uint64_t w0 = receiver_->counters().wakeups;
  uint64_t s0 = receiver_->counters().scans;
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().scans > s0; }));  // a scan saw it incomplete
  Append(P("app.log.bak"), text.substr(100));
  s0 = receiver_->counters().scans;
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().scans > s0; }));  // and whole
  // Until well past the copy wait after the copy was first seen, or until a spin shows.
  const absl::Time until = deferred_at + tuning.copy_wait + absl::Milliseconds(800);
  testutil::WaitFor([&] { return receiver_->counters().wakeups - w0 >= 1000; }, until - absl::Now());
  const uint64_t wakeups = receiver_->counters().wakeups - w0;
  EXPECT_LT(wakeups, 1000u);      // ~20/s with a 50 ms poll_interval; a spin makes it millions
  EXPECT_EQ(sink_.count(), 40u);  // the copy is not read
}

TEST_F(FilelogTest, RefusedAtShutdownIsNotCommittedAndIsReadAgain) {
  Config c = Base();
  c.storage = dir_ + "/storage";
  c.retry_initial_interval = absl::Seconds(1);
  Start(c);
  Append(P("app.log"), Lines("s", 0, 5));
  ASSERT_TRUE(sink_.WaitCount(5));
  sink_.FailNext(1000);
  Append(P("app.log"), Lines("s", 5, 10));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().send_refusals >= 1; }));
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Milliseconds(200)).ok());
  receiver_.reset();
  sink_.FailNext(0);
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(10));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "s", 0, 10);
}

TEST_F(FilelogTest, MultilineStartPattern) {
  Append(P("app.log"), "2024-01-01 first\n  at a\n  at b\n2024-01-01 second\n2024-01-01 third\n  at c\n");
  Config c = Base();
  c.multiline.line_start_pattern = "^\\d{4}-";
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(3));  // the third after force_flush_period
  auto b = sink_.bodies();
  EXPECT_EQ(b[0], "2024-01-01 first\n  at a\n  at b");
  EXPECT_EQ(b[1], "2024-01-01 second");
  EXPECT_EQ(b[2], "2024-01-01 third\n  at c");
}

TEST_F(FilelogTest, MultilineEndPattern) {
  Append(P("app.log"), "a\nb;\nc\nd\ne;\n");
  Config c = Base();
  c.multiline.line_end_pattern = ";$";
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(2));
  EXPECT_EQ(sink_.bodies(), (std::vector<std::string>{"a\nb;", "c\nd\ne;"}));
}

TEST_F(FilelogTest, Encodings) {
  // UTF-16LE with a byte order mark, Latin-1, invalid UTF-8, nop (bytes).
  std::string le = "\xFF\xFE";
  for (char ch : std::string("h\xE9!\nok\n")) {
    le.push_back(ch);
    le.push_back('\0');
  }
  Append(P("le.u16"), le);
  Append(P("l1.lat"), "caf\xE9\n");
  Append(P("bad.u8"), "ok \xC3\x28 \xFF end\n");
  Append(P("raw.bin"), "\x01\x02\xFE\n");
  struct Case {
    std::string glob, encoding;
    std::vector<std::string> want;
  } cases[] = {
      {P("*.u16"), "utf-16le", {"h\xC3\xA9!", "ok"}},
      {P("*.lat"), "latin-1", {"caf\xC3\xA9"}},
      {P("*.u8"), "utf-8", {"ok \xEF\xBF\xBD( \xEF\xBF\xBD end"}},
      {P("*.bin"), "nop", {"\x01\x02\xFE"}},
  };
  size_t total = 0;
  for (const auto& k : cases) {
    Config c = Base();
    c.include = {k.glob};
    c.encoding = k.encoding;
    Start(c, "filelog/" + k.encoding);
    total += k.want.size();
    ASSERT_TRUE(sink_.WaitCount(total)) << k.encoding;
    Stop();
    auto recs = sink_.recs();
    std::vector<std::string> got;
    for (size_t i = total - k.want.size(); i < total; ++i) got.push_back(recs[i].body);
    EXPECT_EQ(got, k.want) << k.encoding;
    if (k.encoding == "nop") {
      EXPECT_TRUE(recs.back().bytes);
    }
  }
}

// Operators configured: entries go through the chain (file attributes included), and
// records are grouped by the resource the operators set.
Config WithOperators(Config c, const std::string& yaml) {
  YAML::Node y = YAML::Load(yaml);
  config::Errors errors;
  config::Node node(y, "receivers.filelog", &errors);
  c.operators.Decode(node);
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  return c;
}

TEST_F(FilelogTest, JsonParserOperator) {
  Append(P("app.log"), "{\"msg\":\"hi\",\"n\":3}\n");
  Start(WithOperators(Base(), "operators: [{type: json_parser}]"));
  ASSERT_TRUE(sink_.WaitCount(1));
  auto r = sink_.recs()[0];
  EXPECT_EQ(r.attrs["msg"], "hi");
  EXPECT_EQ(r.attrs["n"], "3");
  EXPECT_EQ(r.attrs["log.file.name"], "app.log");
}

TEST_F(FilelogTest, ContainerOperatorJoinsPartialLinesAndSetsTheResource) {
  std::string d = P("pods/ns1_pod1_0123-uid/app");
  fs::create_directories(d);
  Append(d + "/0.log",
         "2024-05-01T10:00:00.000000001Z stdout P hello \n"
         "2024-05-01T10:00:00.000000002Z stdout F world\n"
         "2024-05-01T10:00:00.000000003Z stderr F alone\n");
  Config c = Base();
  c.include = {P("pods/*/*/*.log")};
  c.preserve_trailing_whitespaces = true;  // the space at the end of the partial line is content
  Start(WithOperators(c, "operators: [{type: container}]"));
  ASSERT_TRUE(sink_.WaitCount(2));
  auto recs = sink_.recs();
  EXPECT_EQ(recs[0].body, "hello world");
  EXPECT_EQ(recs[1].body, "alone");
  EXPECT_EQ(recs[0].resource["k8s.pod.name"], "pod1");
  EXPECT_EQ(recs[0].resource["k8s.container.name"], "app");
}

// A CRI file whose complete first line is sent and whose partial second line the
// container operator holds (force_flush_period far away), checkpointed once.
class HeldLineTest : public FilelogTest {
 protected:
  void StartHoldingAPartialLine() {
    d = P("pods/ns1_pod1_0123-uid/app");
    fs::create_directories(d);
    Append(d + "/0.log", first + "2024-05-01T10:00:00.000000002Z stdout P held-part\n");
    Config c = Base();
    c.include = {P("pods/*/*/*.log")};
    c.storage = dir_ + "/storage";
    c.checkpoint_interval = absl::Milliseconds(100);
    c.force_flush_period = absl::Seconds(30);  // the partial line stays held
    Start(WithOperators(c, "operators: [{type: container}]"));
    ASSERT_TRUE(sink_.WaitCount(1));
    ASSERT_TRUE(testutil::WaitFor([&] {
      auto cp = ReadCheckpoint(receiver_->checkpoint_path());
      return cp.ok() && cp->size() == 1 && (*cp)[0].offset > 0;
    }));
  }
  std::string d;  // the container's log directory
  const std::string first = "2024-05-01T10:00:00.000000001Z stdout F done\n";
};

TEST_F(HeldLineTest, CheckpointNeverPassesAnEntryTheChainHolds) {
  ASSERT_NO_FATAL_FAILURE(StartHoldingAPartialLine());
  auto cp = ReadCheckpoint(receiver_->checkpoint_path());
  EXPECT_EQ((*cp)[0].offset, first.size());  // not past the held partial line
}

// Held entries are keyed by the path they were read under: after a rename the reader's
// offset must still not pass them.
TEST_F(HeldLineTest, RenameNeverCommitsPastAnEntryTheChainHolds) {
  ASSERT_NO_FATAL_FAILURE(StartHoldingAPartialLine());
  ASSERT_EQ(rename((d + "/0.log").c_str(), (d + "/1.log").c_str()), 0);  // still matched
  ASSERT_TRUE(testutil::WaitFor([&] {
    auto cp = ReadCheckpoint(receiver_->checkpoint_path());
    return cp.ok() && cp->size() == 1 && (*cp)[0].path == d + "/1.log";
  }));
  auto cp = ReadCheckpoint(receiver_->checkpoint_path());
  EXPECT_EQ((*cp)[0].offset, first.size());  // not past the held partial line
}

// A truncation checkpointed before the new content was accepted: the checkpoint pairs
// the new fingerprint with offset 0, not with the old offset (which would skip the new
// content after a restart).
TEST_F(FilelogTest, TruncationIsCheckpointedFromTheStart) {
  Config c = Base();
  c.storage = dir_ + "/storage";
  c.checkpoint_interval = absl::Hours(1);  // written at the first commit, then at shutdown only
  const std::string k = "line-long-enough-for-the-fingerprint";
  Start(c);
  Append(P("app.log"), Lines(k, 0, 20));
  ASSERT_TRUE(sink_.WaitCount(20));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().checkpoints_written >= 1; }));
  // Once lines 20..39 are accepted (on the receiver's thread, so that the truncation and
  // the new content are found in one pass): truncate, write new lines, refuse from now.
  bool fired = false;
  sink_.SetHook([&] {
    if (fired || sink_.count() < 40) return;
    fired = true;
    ASSERT_EQ(truncate(P("app.log").c_str(), 0), 0);
    Append(P("app.log"), Lines("c", 0, 3));
    sink_.FailNext(1000000);
  });
  Append(P("app.log"), Lines(k, 20, 40));
  ASSERT_TRUE(sink_.WaitCount(40));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().send_refusals >= 1; }));
  EXPECT_EQ(receiver_->counters().files_truncated, 1u);
  sink_.SetHook(nullptr);
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Milliseconds(200)).ok());
  receiver_.reset();
  // While stopped the file grows past the old offset.
  Append(P("app.log"), Lines("dddd-more-than-the-old-offset", 0, 60));
  sink_.FailNext(0);
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(40 + 3 + 60));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), "c", 0, 3);
  ExpectExactlyOnce(sink_.bodies(), "dddd-more-than-the-old-offset", 0, 60);
}

// copytruncate while the pipeline refuses: what was read of the old content but not
// accepted (here the partial last line, sent at the truncation) must not be claimed by
// the checkpoint; the copy resumed after a restart re-sends it.
TEST_F(FilelogTest, CopyTruncateWhileRefusedNeverCheckpointsUnacceptedData) {
  Config c = Base();
  c.include = {P("app.log*")};
  c.storage = dir_ + "/storage";
  c.checkpoint_interval = absl::Hours(1);    // written at the first commit, then at shutdown only
  c.force_flush_period = absl::Seconds(30);  // the partial line stays buffered
  const std::string k = "line-long-enough-for-the-fingerprint";
  Start(c);
  Append(P("app.log"), Lines(k, 0, 30));
  ASSERT_TRUE(sink_.WaitCount(30));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().checkpoints_written >= 1; }));
  Append(P("app.log"), Lines(k, 30, 40) + "tail-partial");
  ASSERT_TRUE(sink_.WaitCount(40));
  sink_.FailNext(1000000);
  fs::copy_file(P("app.log"), P("app.log.1"));
  ASSERT_EQ(truncate(P("app.log").c_str(), 0), 0);
  ASSERT_TRUE(testutil::WaitFor(
      [&] { return receiver_->counters().files_truncated >= 1 && receiver_->counters().send_refusals >= 1; }));
  ASSERT_TRUE(receiver_->Shutdown(absl::Now() + absl::Milliseconds(200)).ok());
  receiver_.reset();
  sink_.FailNext(0);
  c.force_flush_period = absl::Milliseconds(100);
  Start(c);
  ASSERT_TRUE(testutil::WaitFor([&] {
    auto b = sink_.bodies();
    return std::find(b.begin(), b.end(), "tail-partial") != b.end();
  }));
  Stop();
  ExpectExactlyOnce(sink_.bodies(), k, 0, 40);
}

// A failing checkpoint write is retried with a backoff (doubling from
// checkpoint_interval), not every checkpoint_interval or in a loop.
TEST_F(FilelogTest, FailingCheckpointWritesBackOff) {
  Config c = Base();
  c.storage = dir_ + "/storage";
  c.checkpoint_interval = absl::Milliseconds(100);
  fs::create_directories(c.storage + "/filelog.checkpoint.tmp");  // the write's temporary file cannot be created
  Append(P("app.log"), Lines("cp", 0, 5));
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(5));
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().checkpoint_errors >= 1; }));
  const uint64_t n = receiver_->counters().checkpoint_errors;
  const auto t0 = std::chrono::steady_clock::now();
  // n failures seen at t0: failure n+1 comes after t0, and n+3 comes 100ms * 2^n +
  // 100ms * 2^(n+1) >= 600 ms after n+1 (200 ms if every checkpoint_interval).
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver_->counters().checkpoint_errors >= n + 3; }, absl::Seconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(590));
}

TEST_F(FilelogTest, LongLinesAreSplitAtMaxLogSize) {
  Append(P("app.log"), std::string(70, 'x') + "\nshort\n");
  Config c = Base();
  c.max_log_size = 30;
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(4));
  auto b = sink_.bodies();
  EXPECT_EQ(b[0], std::string(30, 'x'));
  EXPECT_EQ(b[1], std::string(30, 'x'));
  EXPECT_EQ(b[2], std::string(10, 'x'));
  EXPECT_EQ(b[3], "short");
  EXPECT_EQ(receiver_->counters().lines_truncated, 2u);
}

TEST_F(FilelogTest, DeleteAfterRead) {
  Append(P("a.log"), Lines("del", 0, 10));
  Append(P("b.log"), Lines("del", 10, 20));
  Config c = Base();
  c.delete_after_read = true;
  Start(c);
  ASSERT_TRUE(sink_.WaitCount(20));
  ASSERT_TRUE(testutil::WaitFor([&] { return !fs::exists(P("a.log")) && !fs::exists(P("b.log")); }));
  EXPECT_EQ(receiver_->counters().files_deleted, 2u);
  ExpectExactlyOnce(sink_.bodies(), "del", 0, 20);
}

TEST_F(FilelogTest, UnreadableFileIsCountedAndOthersGoOn) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads everything";
  Append(P("secret.log"), "x\n");
  chmod(P("secret.log").c_str(), 0);
  Append(P("ok.log"), "fine\n");
  Start(Base());
  ASSERT_TRUE(sink_.WaitCount(1));
  EXPECT_GE(receiver_->counters().read_errors, 1u);
}

TEST(ConfigTest, DecodeAndValidate) {
  YAML::Node y = YAML::Load(R"(
include: [/var/log/*.log]
exclude: [/var/log/x.log]
start_at: beginning
fingerprint_size: 2kb
max_log_size: 64KiB
encoding: utf-16le
multiline: {line_start_pattern: "^\\d"}
storage: /var/lib/outrigger/filelog
retry_on_failure: {initial_interval: 50ms, max_interval: 1s}
)");
  config::Errors errors;
  config::Node node(y, "receivers.filelog", &errors);
  Config c;
  c.Decode(node);
  node.Finish();
  ASSERT_TRUE(errors.empty()) << errors.Joined();
  EXPECT_EQ(c.fingerprint_size, 2000u);
  EXPECT_EQ(c.max_log_size, 65536u);
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  c.delete_after_read = true;
  c.start_at = "end";
  EXPECT_FALSE(c.Validate().ok());

  YAML::Node bad = YAML::Load("include: [rel/*.log]\nmultiline: {line_start_pattern: \"(\"}\nstart_at: middle\n");
  config::Errors e2;
  config::Node n2(bad, "receivers.filelog", &e2);
  Config c2;
  c2.Decode(n2);
  n2.Finish();
  // A relative include is accepted (upstream reads it from the working directory).
  EXPECT_EQ(e2.list().size(), 2u) << e2.Joined();
  EXPECT_EQ(e2.Joined().find("include"), std::string::npos) << e2.Joined();
  EXPECT_FALSE(Config().Validate().ok());  // include is required

  Config c3;
  c3.include = {"/var/log/*.log"};
  c3.checkpoint_interval = absl::ZeroDuration();  // would write after every batch, and loop on a failing storage
  EXPECT_EQ(c3.Validate().message(), "checkpoint_interval must be at least 100ms (got 0)");
  c3.checkpoint_interval = absl::Milliseconds(99);
  EXPECT_FALSE(c3.Validate().ok());
  c3.checkpoint_interval = absl::Milliseconds(100);
  EXPECT_TRUE(c3.Validate().ok()) << c3.Validate();
}

}  // namespace
}  // namespace outrigger::receivers::filelog
