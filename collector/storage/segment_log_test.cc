// SegmentLog: order, acknowledgement and recovery across reopen, whole-segment deletion,
// torn tails and damaged records skipped and counted, the byte budget and a full disk.
#include "collector/storage/segment_log.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace outrigger::storage {
namespace {

namespace fs = std::filesystem;

class SegmentLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/segment_log_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  LogOptions Opts(int64_t segment_size = kDefaultSegmentSize) {
    LogOptions o;
    o.directory = dir_ + "/log";
    o.segment_size = segment_size;
    return o;
  }
  std::unique_ptr<SegmentLog> Open(LogOptions o, std::vector<std::string>* visited = nullptr) {
    auto log = SegmentLog::Open(std::move(o), [&](std::string_view p) {
      if (visited) visited->emplace_back(p);
    });
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::vector<std::string> Segments() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/log")) {
      if (e.path().extension() == ".seg") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> ReadAll(SegmentLog& log, std::vector<Position>* positions = nullptr) {
    std::vector<std::string> out;
    std::string p;
    Position pos;
    while (log.Next(&p, &pos)) {
      out.push_back(p);
      if (positions) positions->push_back(pos);
    }
    return out;
  }
  std::string dir_;
};

TEST_F(SegmentLogTest, RecordsComeBackInOrderAndAckedOnesAreGoneAfterReopen) {
  {
    auto log = Open(Opts());
    ASSERT_TRUE(log->Append("one").ok());
    ASSERT_TRUE(log->Append("").ok());  // an empty record is a record
    ASSERT_TRUE(log->Append("three").ok());
    EXPECT_EQ(log->Stats().unread, 3u);
    std::vector<Position> pos;
    EXPECT_EQ(ReadAll(*log, &pos), (std::vector<std::string>{"one", "", "three"}));
    EXPECT_EQ(log->Stats().unacked, 3u);
    for (auto p : pos) log->Ack(p);
    EXPECT_EQ(log->Stats().unacked, 0u);
  }
  std::vector<std::string> visited;
  auto log = Open(Opts(), &visited);
  EXPECT_TRUE(visited.empty());
  EXPECT_TRUE(ReadAll(*log).empty());
}

TEST_F(SegmentLogTest, WhatWasNotAcknowledgedIsRecoveredAtLeastOnce) {
  {
    auto log = Open(Opts());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append("r" + std::to_string(i)).ok());
    std::vector<Position> pos;
    std::string p;
    for (int i = 0; i < 3; ++i) {
      Position at;
      ASSERT_TRUE(log->Next(&p, &at));
      pos.push_back(at);
    }
    // Out of order: r0 and r2 done, r1 still in flight when the process stops.
    log->Ack(pos[0]);
    log->Ack(pos[2]);
  }
  std::vector<std::string> visited;
  auto log = Open(Opts(), &visited);
  // From the oldest unacknowledged record on: r2 is delivered again, nothing is skipped.
  EXPECT_EQ(visited, (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(ReadAll(*log), visited);
  // Appends go on after the recovered records.
  ASSERT_TRUE(log->Append("r5").ok());
  EXPECT_EQ(ReadAll(*log), (std::vector<std::string>{"r5"}));
}

TEST_F(SegmentLogTest, SegmentsAreDeletedWholeOnceAcknowledged) {
  auto log = Open(Opts(kMinSegmentSize));
  const std::string rec(500, 'x');
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(log->Append(rec).ok());
  const size_t segments = Segments().size();
  EXPECT_GE(segments, 5u);  // 40 * 512 bytes in 4 KiB segments
  std::vector<Position> pos;
  ASSERT_EQ(ReadAll(*log, &pos).size(), 40u);
  for (size_t i = 0; i < 20; ++i) log->Ack(pos[i]);
  EXPECT_LT(Segments().size(), segments);
  EXPECT_GT(Segments().size(), 1u);
  for (size_t i = 20; i < 40; ++i) log->Ack(pos[i]);
  EXPECT_EQ(Segments().size(), 1u);  // the one appended to stays
  EXPECT_EQ(log->Stats().segments, 1u);
}

TEST_F(SegmentLogTest, TornTailIsCutOffAndAppendsGoOnAfterIt) {
  {
    auto log = Open(Opts());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append("whole-" + std::to_string(i)).ok());
  }
  // A crash in the middle of an append: a header announcing 100 bytes, 7 of them written.
  {
    std::ofstream f(Segments().back(), std::ios::app | std::ios::binary);
    const unsigned char torn[] = {0xa7, 0xc3, 0x1e, 0x5d, 100, 0, 0, 0, 1, 2, 3, 4, 'p', 'a', 'r', 't', 'i', 'a', 'l'};
    f.write(reinterpret_cast<const char*>(torn), sizeof(torn));
  }
  std::vector<std::string> visited;
  {
    auto log = Open(Opts(), &visited);
    EXPECT_EQ(visited.size(), 3u);
    EXPECT_EQ(log->Stats().torn_tails, 1u);
    EXPECT_EQ(log->Stats().corrupt_records, 0u);
    ASSERT_TRUE(log->Append("after").ok());
  }
  visited.clear();
  auto log = Open(Opts(), &visited);
  EXPECT_EQ(visited, (std::vector<std::string>{"whole-0", "whole-1", "whole-2", "after"}));
  EXPECT_EQ(log->Stats().torn_tails, 0u);
}

TEST_F(SegmentLogTest, DamagedRecordIsSkippedAndCountedNotFatal) {
  {
    auto log = Open(Opts());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append("payload-number-" + std::to_string(i)).ok());
  }
  // Flip one byte in the third record's payload.
  const std::string seg = Segments().back();
  std::string bytes;
  {
    std::ifstream f(seg, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  size_t at = bytes.find("payload-number-2");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] ^= 0x20;
  {
    std::ofstream f(seg, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::vector<std::string> visited;
  auto log = Open(Opts(), &visited);
  EXPECT_EQ(visited.size(), 4u);
  auto got = ReadAll(*log);
  EXPECT_EQ(got,
            (std::vector<std::string>{"payload-number-0", "payload-number-1", "payload-number-3", "payload-number-4"}));
  EXPECT_EQ(log->Stats().corrupt_records, 1u);
  EXPECT_EQ(log->Stats().torn_tails, 0u);
}

TEST_F(SegmentLogTest, GarbageAndEmptySegmentFilesDoNotStopOpen) {
  fs::create_directories(dir_ + "/log");
  {
    std::ofstream(dir_ + "/log/00000000000000000007.seg") << "this is not a segment at all";
    std::ofstream(dir_ + "/log/00000000000000000009.seg");  // created, crashed before its header
    std::ofstream(dir_ + "/log/cursor") << "garbage cursor";
  }
  auto log = Open(Opts());
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(ReadAll(*log).empty());
  ASSERT_TRUE(log->Append("fresh").ok());
  EXPECT_EQ(ReadAll(*log), (std::vector<std::string>{"fresh"}));
}

TEST_F(SegmentLogTest, BudgetRefusesWhenFullAndFreesWhenSegmentsAreDeleted) {
  auto budget = std::make_shared<ByteBudget>(3 * kMinSegmentSize);
  LogOptions o = Opts(kMinSegmentSize);
  o.budget = budget;
  auto log = Open(o);
  const std::string rec(1000, 'y');
  int appended = 0;
  absl::Status st;
  while ((st = log->Append(rec)).ok()) ++appended;
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("max_size"), std::string_view::npos) << st;
  EXPECT_GE(appended, 8);
  EXPECT_LE(budget->used(), budget->limit());
  std::vector<Position> pos;
  ASSERT_EQ(ReadAll(*log, &pos).size(), static_cast<size_t>(appended));
  for (auto p : pos) log->Ack(p);
  EXPECT_TRUE(log->Append(rec).ok());  // room again
}

TEST_F(SegmentLogTest, DiskFullRefusesTheAppendAndLeavesNothingOfIt) {
  auto log = Open(Opts());
  ASSERT_TRUE(log->Append("before").ok());
  const auto size_before = fs::file_size(Segments().back());
  // A file-size limit stands in for a full disk (EFBIG, like ENOSPC: "the disk is full").
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = size_before + 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  absl::Status st = log->Append(std::string(100, 'z'));
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("disk is full"), std::string_view::npos) << st;
  EXPECT_EQ(log->Stats().write_errors, 1u);
  EXPECT_EQ(fs::file_size(Segments().back()), size_before);
  ASSERT_TRUE(log->Append("after").ok());
  log.reset();
  std::vector<std::string> visited;
  log = Open(Opts(), &visited);
  EXPECT_EQ(visited, (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(log->Stats().corrupt_records, 0u);
}

TEST_F(SegmentLogTest, FsyncPolicyStillRoundTrips) {
  LogOptions o = Opts(kMinSegmentSize);
  o.fsync = true;
  {
    auto log = Open(o);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->Append(std::string(300, static_cast<char>('a' + i))).ok());
  }
  std::vector<std::string> visited;
  auto log = Open(o, &visited);
  ASSERT_EQ(visited.size(), 20u);
  EXPECT_EQ(visited[19], std::string(300, 't'));
}

TEST_F(SegmentLogTest, CursorWithOneTornSlotFallsBackToTheOther) {
  std::vector<Position> pos;
  {
    auto log = Open(Opts());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Append("c" + std::to_string(i)).ok());
    ReadAll(*log, &pos);
    for (auto p : pos) log->Ack(p);
  }
  // Damage the slot written last: the older position is used (records again, never lost).
  {
    std::fstream f(dir_ + "/log/cursor", std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes(64, '\0');
    f.read(bytes.data(), 64);
    // The slot with the larger sequence number.
    auto seq = [&](int slot) { return static_cast<unsigned char>(bytes[slot * 32]); };
    int last = seq(0) > seq(1) ? 0 : 1;
    f.seekp(last * 32 + 10);
    f.put('\x55');
  }
  std::vector<std::string> visited;
  auto log = Open(Opts(), &visited);
  EXPECT_EQ(visited, (std::vector<std::string>{"c3"}));
}

}  // namespace
}  // namespace outrigger::storage
