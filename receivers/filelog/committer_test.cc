#include "receivers/filelog/committer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include "collector/telemetry/telemetry.h"
#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog {
namespace {

namespace fs = std::filesystem;

TEST(CheckpointTest, RoundTripAndDamage) {
  char tmpl[] = "/tmp/filelog_cp_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/cp";
  std::vector<FileCheckpoint> files = {{"/a b\n.log", std::string("fp\0x", 4), 1, 2, 3}, {"/c", "", 4, 5, 0}};
  ASSERT_TRUE(WriteCheckpoint(path, files).ok());
  auto got = ReadCheckpoint(path);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, files);
  EXPECT_TRUE(absl::IsNotFound(ReadCheckpoint(dir + "/none").status()));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('9');
  }
  EXPECT_TRUE(absl::IsDataLoss(ReadCheckpoint(path).status()));
  fs::remove_all(dir);
}

// A chain that holds nothing but what a test says it holds.
class FakeChain : public operators::Chain {
 public:
  void Process(operators::Entry&& in, std::vector<operators::Entry>* out) override { out->push_back(std::move(in)); }
  void Flush(uint64_t, uint64_t, std::vector<operators::Entry>*) override {}
  std::optional<uint64_t> PendingStart(const std::string& file_path) const override {
    auto it = held.find(file_path);
    if (it == held.end()) return std::nullopt;
    return it->second;
  }
  void Forget(const std::string& file_path) override { held.erase(file_path); }
  const operators::Stats& stats() const override { return stats_; }
  std::map<std::string, uint64_t> held;

 private:
  operators::Stats stats_;
};

// Answers with the next status of a script (then OK), counting records accepted.
class ScriptedConsumer : public Consumer {
 public:
  absl::Status ConsumeLogs(pdata::Logs&& d) override {
    absl::Status st = absl::OkStatus();
    if (!script.empty()) {
      st = script.front();
      script.pop_front();
    }
    if (st.ok()) accepted += d.ItemCount();
    return st;
  }
  std::deque<absl::Status> script;
  size_t accepted = 0;
};

// The receiver's part as a ReaderSink: records go into the committer's builders.
class CommitterTest : public ::testing::Test, public ReaderSink {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/filelog_committer_XXXXXX";
    dir_ = mkdtemp(tmpl);
    cfg_.include = {dir_ + "/*.log"};
    cfg_.retry_initial_interval = absl::Milliseconds(20);
    cfg_.retry_max_interval = absl::Milliseconds(70);
    cfg_.checkpoint_interval = absl::Milliseconds(100);
  }
  void TearDown() override {
    readers_.clear();
    fs::remove_all(dir_);
  }
  Committer& Make(const std::string& checkpoint_path = "") {
    committer_ = std::make_unique<Committer>(cfg_, checkpoint_path, pdata::ValueMap{}, chain_, meter_, stats_);
    return *committer_;
  }
  // A reader of a new file `name` holding `text`, everything read.
  FileReader& AddFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
    int fd = open((dir_ + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    auto r = std::make_unique<FileReader>(framing_, stats_, *this, fd);
    r->SetPath(dir_ + "/" + name);
    r->fp = text.substr(0, cfg_.fingerprint_size);
    r->dev = 1;
    r->ino = readers_.size() + 100;
    r->ReadSome();
    FileReader& ref = *r;
    readers_[readers_.size()] = std::move(r);
    return ref;
  }

  std::string* NewLine(FileReader& r) override { return committer_->Builder({}).AddLine(1, r.attrs_wire, false); }
  void Filled(size_t bytes) override { committer_->AddBytes(bytes); }
  void Emit(FileReader&, std::string&&, uint64_t, uint64_t) override {}
  bool Full() const override { return false; }
  void Truncated(FileReader&, std::string) override {}

  std::string dir_;
  Config cfg_;
  Telemetry telemetry_;
  ReceiverMeter meter_ = telemetry_.ForReceiver(*ComponentId::Parse("filelog"), "file");
  Stats stats_{spdlog::default_logger()};
  Framing framing_{cfg_};
  FakeChain chain_;
  ScriptedConsumer consumer_;
  std::unique_ptr<Committer> committer_;
  Readers readers_;
};

// Offsets move only once the pipeline accepted what was made before them.
TEST_F(CommitterTest, OffsetsMoveOnlyAfterAcceptance) {
  Committer& c = Make();
  FileReader& r = AddFile("a.log", "one\ntwo\npart");
  EXPECT_EQ(c.pending(), 2u);
  consumer_.script = {absl::UnavailableError("busy")};
  EXPECT_FALSE(c.Send(&consumer_, readers_));
  EXPECT_TRUE(c.refused());
  EXPECT_EQ(r.committed, 0u);
  EXPECT_EQ(c.pending(), 2u);  // kept to be offered again
  EXPECT_TRUE(c.Send(&consumer_, readers_));
  EXPECT_FALSE(c.refused());
  EXPECT_EQ(consumer_.accepted, 2u);
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_EQ(r.committed, 8u);  // not past the partial line
  EXPECT_TRUE(c.dirty());
  EXPECT_EQ(stats_.counters.records_sent, 2u);
  EXPECT_EQ(stats_.counters.send_refusals, 1u);
}

// Refusals back off exactly (doubling from retry_initial_interval up to
// retry_max_interval), and start again from the initial interval after a success.
TEST_F(CommitterTest, RefusalsBackOffDoublingAndResetAfterASuccess) {
  Committer& c = Make();
  AddFile("a.log", "x\n");
  auto refused_delay_is = [&](absl::Duration want) {
    consumer_.script = {absl::ResourceExhaustedError("full")};
    const absl::Time before = absl::Now();
    EXPECT_FALSE(c.Send(&consumer_, readers_));
    const absl::Time after = absl::Now();
    EXPECT_GE(c.retry_at() - before, want);
    EXPECT_LE(c.retry_at() - after, want);
  };
  refused_delay_is(absl::Milliseconds(20));
  refused_delay_is(absl::Milliseconds(40));
  refused_delay_is(absl::Milliseconds(70));  // capped
  refused_delay_is(absl::Milliseconds(70));
  EXPECT_TRUE(c.Send(&consumer_, readers_));
  AddFile("b.log", "y\n");
  refused_delay_is(absl::Milliseconds(20));
}

// A permanent error drops the batch (counted) and the offsets move on.
TEST_F(CommitterTest, PermanentRefusalDropsAndCommits) {
  Committer& c = Make();
  FileReader& r = AddFile("a.log", "one\ntwo\n");
  consumer_.script = {absl::InvalidArgumentError("bad")};
  EXPECT_TRUE(c.Send(&consumer_, readers_));
  EXPECT_FALSE(c.refused());
  EXPECT_EQ(stats_.counters.records_dropped, 2u);
  EXPECT_EQ(r.committed, 8u);
}

// The offset never passes an entry the chain holds, under the file's name or a former one.
TEST_F(CommitterTest, CommitNeverPassesHeldEntries) {
  Committer& c = Make();
  FileReader& r = AddFile("a.log", "one\ntwo\nthree\n");
  chain_.held[dir_ + "/old-name.log"] = 4;
  r.old_paths.push_back(dir_ + "/old-name.log");
  ASSERT_TRUE(c.Send(&consumer_, readers_));
  EXPECT_EQ(r.committed, 4u);
  EXPECT_EQ(c.HeldStart(r), 4u);
  chain_.held.clear();  // released
  c.Commit(readers_);
  EXPECT_EQ(r.committed, 14u);
  EXPECT_TRUE(r.old_paths.empty());
}

// Another inode continues a remembered content only on a whole fingerprint and when
// remembered across inodes; the same inode on a prefix.
TEST_F(CommitterTest, FindKnownMatchesAcrossInodesOnlyOnWholeFingerprints) {
  cfg_.fingerprint_size = 8;
  Committer& c = Make();
  FileReader& whole = AddFile("a.log", "12345678rest\n");
  c.Remember(whole, 13, /*cross_inode=*/true);
  FileReader& shortfp = AddFile("b.log", "abc\n");
  c.Remember(shortfp, 4, /*cross_inode=*/true);
  FileReader& renamed = AddFile("c.log", "zzzzzzzzrest\n");
  c.Remember(renamed, 13, /*cross_inode=*/false);
  EXPECT_EQ(c.FindKnown("12345678", 9, 9), 0);                       // a copy of a.log
  EXPECT_EQ(c.FindKnown("abc\nmore", 9, 9), -1);                     // short fingerprint: another inode never matches
  EXPECT_EQ(c.FindKnown("abc\nmore", shortfp.dev, shortfp.ino), 1);  // its own inode does
  EXPECT_EQ(c.FindKnown("zzzzzzzz", 9, 9), -1);                      // renamed away: only under its own inode
  EXPECT_EQ(c.FindKnown("zzzzzzzz", renamed.dev, renamed.ino), 2);
  EXPECT_TRUE(c.KnowsInode(renamed.dev, renamed.ino));
  Known k = c.Take(0);
  EXPECT_EQ(k.resume, 13u);
  EXPECT_EQ(k.cp.offset, 0u);  // nothing accepted yet: the durable offset stays behind
  EXPECT_EQ(c.known().size(), 2u);
  c.ExpireKnown(absl::Now() + Committer::kKnownTtl + absl::Seconds(1));
  EXPECT_TRUE(c.known().empty());
}

TEST_F(CommitterTest, LoadResumesFromTheCheckpoint) {
  const std::string path = dir_ + "/cp";
  EXPECT_TRUE(Make(path).Load().ok());  // none yet
  EXPECT_FALSE(committer_->had_checkpoint());
  ASSERT_TRUE(WriteCheckpoint(path, {{"/a.log", "fp", 1, 2, 30}}).ok());
  Committer& c = Make(path);
  ASSERT_TRUE(c.Load().ok());
  EXPECT_TRUE(c.had_checkpoint());
  ASSERT_EQ(c.known().size(), 1u);
  EXPECT_EQ(c.known()[0].resume, 30u);
  EXPECT_TRUE(c.known()[0].cross_inode);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('9');
  }
  Committer& damaged = Make(path);
  ASSERT_TRUE(damaged.Load().ok());  // read every file from its beginning
  EXPECT_TRUE(damaged.had_checkpoint());
  EXPECT_TRUE(damaged.known().empty());
}

// Failing checkpoint writes back off exactly (doubling from checkpoint_interval), and a
// success starts the sequence again.
TEST_F(CommitterTest, FailingCheckpointWritesBackOffExactly) {
  const std::string path = dir_ + "/cp";
  Committer& c = Make(path);
  AddFile("a.log", "x\n");
  ASSERT_TRUE(c.Send(&consumer_, readers_));
  fs::create_directories(path + ".tmp");  // the write's temporary file cannot be created
  auto failed_with_delay = [&](absl::Duration want) {
    const absl::Time before = absl::Now();
    c.Checkpoint(readers_, /*force=*/true);
    const absl::Time after = absl::Now();
    EXPECT_GE(c.next_checkpoint() - before, want);
    EXPECT_LE(c.next_checkpoint() - after, want);
  };
  failed_with_delay(absl::Milliseconds(100));
  failed_with_delay(absl::Milliseconds(200));
  failed_with_delay(absl::Milliseconds(400));
  EXPECT_EQ(stats_.counters.checkpoint_errors, 3u);
  EXPECT_TRUE(c.dirty());
  c.Checkpoint(readers_, /*force=*/false);  // not before its time
  EXPECT_EQ(stats_.counters.checkpoint_errors, 3u);
  fs::remove_all(path + ".tmp");
  c.Checkpoint(readers_, /*force=*/true);
  EXPECT_EQ(stats_.counters.checkpoints_written, 1u);
  EXPECT_FALSE(c.dirty());
  auto cp = ReadCheckpoint(path);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ((*cp)[0].offset, 2u);
  fs::create_directories(path + ".tmp");
  c.MarkDirty();
  failed_with_delay(absl::Milliseconds(100));
}

}  // namespace
}  // namespace outrigger::receivers::filelog
