// FileWriter: lumberjack's rotation (timestamped backups beside the file, the newest
// max_backups kept, those older than max_days removed), buffering, and cutting off a
// record that failed half way.
#include "exporters/file/file_writer.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace outrigger::exporters::file {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/outrigger-file-writer-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    path_ = dir_ + "/traces.json";
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)system(cmd.c_str());
  }
  // The rotated files, sorted by name (= by timestamp).
  std::vector<std::string> Backups() const {
    std::vector<std::string> out;
    DIR* d = opendir(dir_.c_str());
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("traces-", 0) == 0) out.push_back(n);
    }
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir_, path_;
};

TEST_F(FileWriterTest, BackupNameIsLumberjacks) {
  absl::Time t = absl::FromUnixMillis(1733560308123);  // 2024-12-07T08:31:48.123Z
  EXPECT_EQ(FileWriter::BackupName("/data/traces.json", t, false), "/data/traces-2024-12-07T08-31-48.123.json");
  EXPECT_EQ(FileWriter::BackupName("/data/a.b/traces", t, false), "/data/a.b/traces-2024-12-07T08-31-48.123");
  EXPECT_EQ(FileWriter::BackupName("out.pb.zst", t, false), "./out.pb-2024-12-07T08-31-48.123.zst");
}

TEST_F(FileWriterTest, RotatesBeforeAWriteWouldPassMaxBytesAndKeepsEveryRecordWhole) {
  FileWriter::Options o;
  o.path = path_;
  o.max_bytes = 100;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  std::string all;
  for (int i = 0; i < 10; ++i) {
    std::string rec = std::string(30, static_cast<char>('a' + i)) + "\n";  // 31 bytes: 3 per file
    ASSERT_TRUE(w.Reserve(rec.size()).ok());
    ASSERT_TRUE(w.Append(rec).ok());
    ASSERT_TRUE(w.Flush().ok());
    all += rec;
  }
  auto backups = Backups();
  ASSERT_EQ(backups.size(), 3u);  // 3 + 3 + 3 rotated, 1 in the file
  std::string joined;
  for (const auto& b : backups) {
    std::string content = ReadAll(dir_ + "/" + b);
    EXPECT_LE(content.size(), 100u) << b;
    EXPECT_EQ(content.size(), 93u) << b;
    joined += content;
    // traces-YYYY-MM-DDTHH-MM-SS.mmm.json
    EXPECT_EQ(b.size(), std::string("traces-2024-12-07T08-31-48.123.json").size()) << b;
    EXPECT_EQ(b.substr(b.size() - 5), ".json");
  }
  joined += ReadAll(path_);
  EXPECT_EQ(joined, all);
  // A record larger than the whole file is refused, as lumberjack does.
  EXPECT_EQ(w.Reserve(101).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FileWriterTest, KeepsOnlyMaxBackupsNewest) {
  FileWriter::Options o;
  o.path = path_;
  o.max_bytes = 10;
  o.max_backups = 2;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  for (int i = 0; i < 6; ++i) {
    std::string rec = std::string(9, static_cast<char>('a' + i)) + "\n";  // one per file
    ASSERT_TRUE(w.Reserve(rec.size()).ok());
    ASSERT_TRUE(w.Append(rec).ok());
    ASSERT_TRUE(w.Flush().ok());
  }
  auto backups = Backups();
  ASSERT_EQ(backups.size(), 2u);
  // The newest two rotated ones: records 'd' and 'e'; 'f' is in the file.
  EXPECT_EQ(ReadAll(dir_ + "/" + backups[0]), "ddddddddd\n");
  EXPECT_EQ(ReadAll(dir_ + "/" + backups[1]), "eeeeeeeee\n");
  EXPECT_EQ(ReadAll(path_), "fffffffff\n");
}

TEST_F(FileWriterTest, RemovesBackupsOlderThanMaxDaysByTheirName) {
  // Backups from earlier runs, named as a rotation names them; an unrelated file.
  absl::Time now = absl::Now();
  std::string old_one = FileWriter::BackupName(path_, now - absl::Hours(24 * 3 + 1), false);
  std::string recent = FileWriter::BackupName(path_, now - absl::Hours(24 * 2), false);
  std::string other = dir_ + "/traces-notatimestamp.json";
  for (const auto& f : {old_one, recent, other}) std::ofstream(f) << "x\n";
  FileWriter::Options o;
  o.path = path_;
  o.max_bytes = 1 << 20;
  o.max_days = 3;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());  // prunes at open, as lumberjack's mill does
  EXPECT_NE(access(old_one.c_str(), F_OK), 0);
  EXPECT_EQ(access(recent.c_str(), F_OK), 0);
  EXPECT_EQ(access(other.c_str(), F_OK), 0);
}

TEST_F(FileWriterTest, RotatesAtOpenWhenTheExistingFileIsFull) {
  std::ofstream(path_) << std::string(90, 'x');
  FileWriter::Options o;
  o.path = path_;
  o.max_bytes = 100;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(w.Reserve(20).ok());
  ASSERT_TRUE(w.Append(std::string(20, 'y')).ok());
  ASSERT_TRUE(w.Flush().ok());
  ASSERT_EQ(Backups().size(), 1u);
  EXPECT_EQ(ReadAll(dir_ + "/" + Backups()[0]), std::string(90, 'x'));
  EXPECT_EQ(ReadAll(path_), std::string(20, 'y'));
}

TEST_F(FileWriterTest, BufferedBytesReachTheFileOnFlushAndCutRemovesARecord) {
  FileWriter::Options o;
  o.path = path_;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(w.Append("one\n").ok());
  EXPECT_EQ(ReadAll(path_), "");  // buffered
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(ReadAll(path_), "one\n");
  uint64_t start = w.size();
  ASSERT_TRUE(w.Append(std::string(FileWriter::kBufferBytes + 10, 'z')).ok());  // written through
  EXPECT_GT(ReadAll(path_).size(), FileWriter::kBufferBytes);
  ASSERT_TRUE(w.Cut(start).ok());
  ASSERT_TRUE(w.Append("two\n").ok());
  w.Close();
  EXPECT_EQ(ReadAll(path_), "one\ntwo\n");
}

TEST_F(FileWriterTest, TruncateStartsEmptyAndAppendKeeps) {
  std::ofstream(path_) << "before\n";
  {
    FileWriter::Options o;
    o.path = path_;
    FileWriter w(o);
    ASSERT_TRUE(w.Open().ok());
    ASSERT_TRUE(w.Append("after\n").ok());
  }
  EXPECT_EQ(ReadAll(path_), "before\nafter\n");
  FileWriter::Options o;
  o.path = path_;
  o.truncate = true;
  FileWriter w(o);
  ASSERT_TRUE(w.Open().ok());
  w.Close();
  EXPECT_EQ(ReadAll(path_), "");
}

}  // namespace
}  // namespace outrigger::exporters::file
