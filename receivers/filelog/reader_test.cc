#include "receivers/filelog/reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "spdlog/spdlog.h"

namespace outrigger::receivers::filelog {
namespace {

namespace fs = std::filesystem;

TEST(DecoderTest, Utf16BigEndianSurrogatesAndNewlines) {
  Decoder d("utf-16be");
  std::string in = std::string("\xD8\x3D\xDE\x00\x00\n", 6);  // U+1F600, newline
  EXPECT_EQ(d.FindNewline(in.data(), 0, in.size()), 4u);
  std::string out;
  EXPECT_EQ(d.Decode(std::string_view(in.data(), 4), &out), 0u);
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
  out.clear();
  EXPECT_EQ(AppendValidUtf8("\xE2\x82", &out), 1u);  // truncated sequence
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

// Records what a reader makes, with byte ranges when the operator path is taken; on a
// truncation does what the receiver does to the reader (flush, restart).
class RecordingSink : public ReaderSink {
 public:
  struct Record {
    std::string text;
    uint64_t start = 0, end = 0;  // operator path only
  };
  std::string* NewLine(FileReader&) override {
    lines_.emplace_back();
    return &lines_.back();
  }
  void Emit(FileReader&, std::string&& text, uint64_t start, uint64_t end) override {
    records.push_back({std::move(text), start, end});
  }
  void Filled(size_t bytes) override { filled += bytes; }
  bool Full() const override { return full || (full_at_bytes > 0 && filled >= full_at_bytes); }
  void Truncated(FileReader& r, std::string new_head) override {
    ++truncations;
    r.FlushPartial();
    r.Restart(std::move(new_head));
  }
  std::vector<std::string> Texts() const {
    std::vector<std::string> out(lines_.begin(), lines_.end());
    for (const auto& r : records) out.push_back(r.text);
    return out;
  }

  std::vector<Record> records;
  bool full = false;
  size_t filled = 0;         // bytes of the lines made through NewLine
  size_t full_at_bytes = 0;  // Full() once that many (0: never)
  int truncations = 0;

 private:
  std::deque<std::string> lines_;  // stable addresses
};

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/filelog_reader_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/app.log";
    cfg_.include = {dir_ + "/*.log"};
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& text, bool append = true) {
    std::ofstream f(path_, (append ? std::ios::app : std::ios::trunc) | std::ios::binary);
    f << text;
  }
  // A reader of path_ from offset 0 (the framing is made from cfg_ now).
  FileReader& Open(bool passthrough = true) {
    framing_ = std::make_unique<Framing>(cfg_);
    framing_->passthrough = passthrough;
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    reader_ = std::make_unique<FileReader>(*framing_, stats_, sink_, fd);
    reader_->SetPath(path_);
    return *reader_;
  }
  struct stat Stat() const {
    struct stat st;
    EXPECT_EQ(stat(path_.c_str(), &st), 0);
    return st;
  }

  std::string dir_, path_;
  Config cfg_;
  Stats stats_{spdlog::default_logger()};
  RecordingSink sink_;
  std::unique_ptr<Framing> framing_;
  std::unique_ptr<FileReader> reader_;
};

TEST_F(ReaderTest, WholeLinesBecomeRecordsAndAPartialOneWaits) {
  Write("first\r\n  second  \npartial");
  FileReader& r = Open();
  EXPECT_TRUE(r.ReadSome());
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"first", "second"}));  // trimmed
  EXPECT_EQ(r.Unemitted(), 18u);                                            // the partial line is not made yet
  EXPECT_FALSE(r.IsIdle());
  EXPECT_FALSE(r.ReadSome());  // nothing new
  EXPECT_TRUE(r.at_eof);
  r.FlushPartial();
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"first", "second", "partial"}));
  EXPECT_EQ(r.Unemitted(), 25u);
  EXPECT_TRUE(r.IsIdle());
}

// Issue 15: a file without a newline is read in pieces of max_log_size, and reading
// stops when the sink is full, in the middle of what was read if need be: the rest waits
// in the buffer and comes first next time.
TEST_F(ReaderTest, NoNewlineFileStopsWhenTheSinkIsFullAndResumes) {
  cfg_.max_log_size = 1000;
  const std::string text = std::string(100000, 'x') + "\ntail";
  Write(text);
  sink_.full_at_bytes = 5000;
  FileReader& r = Open();
  EXPECT_TRUE(r.ReadSome());
  EXPECT_EQ(sink_.filled, 5000u);  // stopped at the bound, not at the end of a 256 KiB read
  EXPECT_EQ(r.Unemitted(), 5000u);
  size_t total = sink_.filled;
  for (int i = 0; i < 100 && total < 100000; ++i) {
    sink_.filled = 0;  // sent
    r.ReadSome();
    EXPECT_LE(sink_.filled, 5000u);
    total += sink_.filled;
  }
  EXPECT_EQ(total, 100000u);
  sink_.full_at_bytes = 0;
  r.ReadSome();
  r.FlushPartial();
  auto texts = sink_.Texts();
  ASSERT_EQ(texts.size(), 101u);
  EXPECT_EQ(texts.back(), "tail");
  EXPECT_EQ(r.Unemitted(), text.size());
}

TEST_F(ReaderTest, FlushPartialMakesTheRecordsLeftWhenFull) {
  cfg_.max_log_size = 10;
  Write("aaaa\nbbbb\ncccc\ndd");
  sink_.full_at_bytes = 4;
  FileReader& r = Open();
  r.ReadSome();
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"aaaa"}));
  r.FlushPartial();  // what the receiver does before forgetting or restarting a file
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"aaaa", "bbbb", "cccc", "dd"}));
  EXPECT_EQ(r.Unemitted(), 17u);
}

TEST_F(ReaderTest, FileAttributesFollowTheConfig) {
  cfg_.include_file_path = true;
  cfg_.attributes = {{"team", "a"}};
  Write("x\n");
  FileReader& r = Open();
  std::map<std::string, std::string> got;
  for (const auto& [k, v] : r.attrs) got[k] = v.str() != nullptr ? *v.str() : "?";
  EXPECT_EQ(
      got, (std::map<std::string, std::string>{{"team", "a"}, {"log.file.name", "app.log"}, {"log.file.path", path_}}));
}

// On the operator path each record carries its byte range: [start, end) with the newline.
TEST_F(ReaderTest, RecordsCarryTheirByteRanges) {
  Write("ab\ncde\n");
  FileReader& r = Open(/*passthrough=*/false);
  r.ReadSome();
  ASSERT_EQ(sink_.records.size(), 2u);
  EXPECT_EQ(sink_.records[0].text, "ab");
  EXPECT_EQ(sink_.records[0].start, 0u);
  EXPECT_EQ(sink_.records[0].end, 3u);
  EXPECT_EQ(sink_.records[1].start, 3u);
  EXPECT_EQ(sink_.records[1].end, 7u);
}

TEST_F(ReaderTest, OverlongLinesAreCutAtMaxLogSize) {
  cfg_.max_log_size = 30;
  Write(std::string(70, 'x') + "\nshort\n");
  FileReader& r = Open();
  r.ReadSome();
  EXPECT_EQ(sink_.Texts(),
            (std::vector<std::string>{std::string(30, 'x'), std::string(30, 'x'), std::string(10, 'x'), "short"}));
  EXPECT_EQ(stats_.counters.lines_truncated, 2u);
}

// A cut never splits a UTF-8 sequence: the piece ends before it.
TEST_F(ReaderTest, CutsKeepUtf8SequencesWhole) {
  cfg_.max_log_size = 4;
  Write(
      "abc\xC3\xA9"
      "def\n");  // "abcédef": a 4-byte cut would split é
  FileReader& r = Open();
  r.ReadSome();
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"abc",
                                                     "\xC3\xA9"
                                                     "de",
                                                     "f"}));
  EXPECT_EQ(stats_.counters.decode_errors, 0u);
}

TEST_F(ReaderTest, ByteOrderMarkIsSkippedAndUtf16Decoded) {
  cfg_.encoding = "utf-16le";
  std::string le = "\xFF\xFE";
  for (char ch : std::string("h\xE9!\nok\n")) {
    le.push_back(ch);
    le.push_back('\0');
  }
  Write(le);
  FileReader& r = Open(/*passthrough=*/false);
  r.ReadSome();
  ASSERT_EQ(sink_.records.size(), 2u);
  EXPECT_EQ(sink_.records[0].text, "h\xC3\xA9!");
  EXPECT_EQ(sink_.records[0].start, 2u);  // after the byte order mark
  EXPECT_EQ(sink_.records[1].text, "ok");
  EXPECT_EQ(r.Unemitted(), le.size());
}

TEST_F(ReaderTest, InvalidUtf8IsReplacedAndCounted) {
  Write("ok \xC3\x28 \xFF end\n");
  FileReader& r = Open();
  r.ReadSome();
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"ok \xEF\xBF\xBD( \xEF\xBF\xBD end"}));
  EXPECT_EQ(stats_.counters.decode_errors, 2u);
}

TEST_F(ReaderTest, MultilineStartPatternHoldsTheLastRecordUntilFlushed) {
  cfg_.multiline.line_start_pattern = "^\\d{4}-";
  Write("2024-01-01 first\n  at a\n2024-01-01 second\n  at b\n");
  FileReader& r = Open(/*passthrough=*/false);
  r.ReadSome();
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_EQ(sink_.records[0].text, "2024-01-01 first\n  at a");
  EXPECT_EQ(sink_.records[0].start, 0u);
  EXPECT_EQ(sink_.records[0].end, 24u);
  EXPECT_EQ(r.Unemitted(), 24u);  // the record being built is not committed past
  r.FlushPartial();
  ASSERT_EQ(sink_.records.size(), 2u);
  EXPECT_EQ(sink_.records[1].text, "2024-01-01 second\n  at b");
}

TEST_F(ReaderTest, MultilineEndPattern) {
  cfg_.multiline.line_end_pattern = ";$";
  Write("a\nb;\nc\nd\ne;\n");
  FileReader& r = Open(/*passthrough=*/false);
  r.ReadSome();
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"a\nb;", "c\nd\ne;"}));
  EXPECT_TRUE(r.IsIdle());
}

// A full batch stops reading before any byte is read; it goes on once there is room.
TEST_F(ReaderTest, AFullSinkStopsReading) {
  Write("a\nb\n");
  FileReader& r = Open();
  sink_.full = true;
  EXPECT_FALSE(r.ReadSome());
  EXPECT_EQ(r.read_offset, 0u);
  sink_.full = false;
  EXPECT_TRUE(r.ReadSome());
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"a", "b"}));
}

// The fingerprint grows with what is read, up to fingerprint_size.
TEST_F(ReaderTest, FingerprintGrowsWithWhatIsRead) {
  cfg_.fingerprint_size = 16;
  Write("0123456789\n");
  FileReader& r = Open();
  r.fp = *r.Head(Stat().st_size);
  EXPECT_EQ(r.fp, "0123456789\n");
  Write("abcdefghij\n");
  r.ReadSome();
  EXPECT_EQ(r.fp, "0123456789\nabcde");
}

// A file found shorter than what was read at its end: truncated, read again from 0.
TEST_F(ReaderTest, TruncationFoundAtEndOfFile) {
  Write("old-1\nold-2\n");
  FileReader& r = Open();
  r.fp = *r.Head(Stat().st_size);
  r.ReadSome();
  ASSERT_EQ(r.read_offset, 12u);
  ASSERT_EQ(truncate(path_.c_str(), 0), 0);
  Write("new\n");
  r.ReadSome();
  EXPECT_EQ(sink_.truncations, 1);
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"old-1", "old-2", "new"}));
  EXPECT_EQ(r.read_offset, 4u);
  EXPECT_EQ(r.fp, "new\n");
}

// CheckIdentity: a grown file keeps its identity (the fingerprint grows); another start
// is a truncation even when the file is longer than what was read (copytruncate followed
// by more new bytes than there were old ones).
TEST_F(ReaderTest, CheckIdentityTellsGrowthFromReplacement) {
  Write("aaaa\n");
  FileReader& r = Open();
  r.fp = *r.Head(Stat().st_size);
  r.ReadSome();
  Write("bbbb\n");
  r.CheckIdentity(Stat());
  EXPECT_EQ(sink_.truncations, 0);
  EXPECT_EQ(r.fp, "aaaa\nbbbb\n");
  r.ReadSome();
  Write("cccc\ndddd\neeee\n", /*append=*/false);  // longer, other content
  r.CheckIdentity(Stat());
  EXPECT_EQ(sink_.truncations, 1);
  EXPECT_EQ(r.read_offset, 0u);
  EXPECT_EQ(r.fp, "cccc\ndddd\neeee\n");
  r.ReadSome();
  EXPECT_EQ(sink_.Texts(), (std::vector<std::string>{"aaaa", "bbbb", "cccc", "dddd", "eeee"}));
}

TEST_F(ReaderTest, RestartReadsTheNewContentFromItsStart) {
  Write("abc\ndef");
  FileReader& r = Open();
  r.ReadSome();
  r.committed = 4;
  r.Restart("xyz");
  EXPECT_EQ(r.read_offset, 0u);
  EXPECT_EQ(r.Unemitted(), 0u);
  EXPECT_EQ(r.committed, 0u);
  EXPECT_EQ(r.fp, "xyz");
  EXPECT_TRUE(r.IsIdle());  // the partial "def" of the old content is gone
}

}  // namespace
}  // namespace outrigger::receivers::filelog
