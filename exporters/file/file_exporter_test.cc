// The file exporter: one OTLP/JSON line per request, appended and flushed; the errors
// of an unusable path.
#include "exporters/file/file_exporter.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <zstd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "tests/testutil/testutil.h"

namespace outrigger::exporters::file {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FilePusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.path = ::testing::TempDir() + "/outrigger-file-exporter-test-" + std::to_string(getpid()) + ".jsonl";
    unlink(cfg_.path.c_str());
  }
  void TearDown() override { unlink(cfg_.path.c_str()); }

  Telemetry telemetry_;
  testutil::TestHost host_;
  Config cfg_;
};

TEST_F(FilePusherTest, AppendsOneJsonLinePerRequest) {
  { std::ofstream(cfg_.path) << "already there\n"; }
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto traces = testutil::MakeTraces(2);
  auto logs = testutil::MakeLogs(1);
  ASSERT_TRUE(p.PushTraces(traces, absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.PushLogs(logs, absl::InfiniteFuture()).ok());
  // Flushed before the call returned: readable without closing.
  EXPECT_EQ(ReadAll(cfg_.path), "already there\n" + traces.ToJson() + "\n" + logs.ToJson() + "\n");
  ASSERT_TRUE(p.Shutdown().ok());
  ASSERT_TRUE(p.Shutdown().ok());  // idempotent
}

// Issue 15: the line is streamed to the file; one longer than max_line_size is refused
// (permanent) and nothing of it stays, the lines before and after are whole.
TEST_F(FilePusherTest, LineOverMaxLineSizeIsRefusedAndLeavesNothing) {
  cfg_.max_line_size = 200 * 1024;
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto small = testutil::MakeLogs(1);
  ASSERT_TRUE(p.PushLogs(small, absl::InfiniteFuture()).ok());
  auto big = testutil::MakeLogs(5000);  // ~1 MB of OTLP/JSON
  ASSERT_GT(big.ToJson().size(), cfg_.max_line_size);
  absl::Status st = p.PushLogs(big, absl::InfiniteFuture());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("max_line_size"), std::string::npos) << st.message();
  ASSERT_TRUE(p.PushLogs(small, absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadAll(cfg_.path), small.ToJson() + "\n" + small.ToJson() + "\n");
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, LinesLongerThanAChunkAreWrittenWhole) {
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto big = testutil::MakeLogs(5000);
  ASSERT_GT(big.ToJson().size(), 4 * pdata::kJsonChunk);
  ASSERT_TRUE(p.PushLogs(big, absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadAll(cfg_.path), big.ToJson() + "\n");
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, UnopenablePathFailsToStartAndNamesTheFile) {
  cfg_.path = ::testing::TempDir() + "/no-such-directory-for-outrigger/out.jsonl";
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  auto st = p.Start(host_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find(cfg_.path), std::string::npos) << st.message();
  EXPECT_EQ(p.PushTraces(testutil::MakeTraces(1), absl::InfiniteFuture()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(p.Shutdown().ok());
}

// The records of a length-prefixed file (4 bytes big-endian, then the record), as
// upstream's format: proto and compressed layouts write them.
std::vector<std::string> Records(const std::string& bytes) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i + 4 <= bytes.size()) {
    uint32_t n = (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 24) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 16) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 2])) << 8) |
                 static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 3]));
    i += 4;
    EXPECT_LE(i + n, bytes.size());
    out.push_back(bytes.substr(i, n));
    i += n;
  }
  EXPECT_EQ(i, bytes.size());
  return out;
}

std::string Unzstd(const std::string& frame) {
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  EXPECT_NE(size, ZSTD_CONTENTSIZE_ERROR);
  EXPECT_NE(size, ZSTD_CONTENTSIZE_UNKNOWN);
  std::string out(static_cast<size_t>(size), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(n);
  return out;
}

TEST_F(FilePusherTest, ProtoFormatWritesLengthPrefixedOtlpProtobuf) {
  cfg_.format = "proto";
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto traces = testutil::MakeTraces(3);
  auto logs = testutil::MakeLogs(2);
  ASSERT_TRUE(p.PushTraces(traces, absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.PushLogs(logs, absl::InfiniteFuture()).ok());
  auto recs = Records(ReadAll(cfg_.path));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0], traces.ToProto());
  auto back = pdata::Traces::FromProto(recs[0]);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ItemCount(), 3u);
  auto back_logs = pdata::Logs::FromProto(recs[1]);
  ASSERT_TRUE(back_logs.ok());
  EXPECT_EQ(back_logs->ToJson(), logs.ToJson());
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, ZstdCompressesEachRequestAsOneLengthPrefixedFrame) {
  cfg_.compression = "zstd";
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto big = testutil::MakeLogs(2000);
  auto small = testutil::MakeTraces(1);
  ASSERT_TRUE(p.PushLogs(big, absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.PushTraces(small, absl::InfiniteFuture()).ok());
  std::string file = ReadAll(cfg_.path);
  EXPECT_LT(file.size(), big.ToJson().size() / 4);  // repetitive records compress well
  auto recs = Records(file);
  ASSERT_EQ(recs.size(), 2u);
  // JSON, without the newline (upstream's layout for compressed JSON).
  EXPECT_EQ(Unzstd(recs[0]), big.ToJson());
  EXPECT_EQ(Unzstd(recs[1]), small.ToJson());
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, ZstdProtoDecompressesToTheRequest) {
  cfg_.format = "proto";
  cfg_.compression = "zstd";
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto metrics = testutil::MakeMetrics(5);
  ASSERT_TRUE(p.PushMetrics(metrics, absl::InfiniteFuture()).ok());
  auto recs = Records(ReadAll(cfg_.path));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Unzstd(recs[0]), metrics.ToProto());
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, FlushIntervalBuffersUntilTheTimerFlushes) {
  cfg_.flush_interval = absl::Milliseconds(50);
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto logs = testutil::MakeLogs(1);
  ASSERT_TRUE(p.PushLogs(logs, absl::InfiniteFuture()).ok());
  // Not necessarily on disk yet; the timer writes it without another request.
  const std::string want = logs.ToJson() + "\n";
  EXPECT_TRUE(testutil::WaitFor([&] { return ReadAll(cfg_.path) == want; })) << ReadAll(cfg_.path);
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, ShutdownFlushesWhatIsBuffered) {
  cfg_.flush_interval = absl::Hours(1);
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto logs = testutil::MakeLogs(1);
  ASSERT_TRUE(p.PushLogs(logs, absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadAll(cfg_.path), "");  // an hour's buffering: still in memory
  ASSERT_TRUE(p.Shutdown().ok());
  EXPECT_EQ(ReadAll(cfg_.path), logs.ToJson() + "\n");
}

TEST_F(FilePusherTest, AppendFalseTruncatesAtStart) {
  { std::ofstream(cfg_.path) << "from the previous run\n"; }
  cfg_.append = false;
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto logs = testutil::MakeLogs(1);
  ASSERT_TRUE(p.PushLogs(logs, absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadAll(cfg_.path), logs.ToJson() + "\n");
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST_F(FilePusherTest, CreateDirectoryMakesTheMissingParentsWithTheirMode) {
  const std::string top = ::testing::TempDir() + "/outrigger-file-mkdir-" + std::to_string(getpid());
  ASSERT_EQ(system(("rm -rf '" + top + "'").c_str()), 0);
  cfg_.path = top + "/a/b/out.jsonl";
  cfg_.create_directory = true;
  cfg_.directory_permissions = "0700";
  ASSERT_TRUE(cfg_.Validate().ok());
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  ASSERT_TRUE(p.PushLogs(testutil::MakeLogs(1), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.Shutdown().ok());
  struct stat st;
  ASSERT_EQ(stat((top + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(ReadAll(cfg_.path), testutil::MakeLogs(1).ToJson() + "\n");
  ASSERT_EQ(system(("rm -rf '" + top + "'").c_str()), 0);
}

TEST_F(FilePusherTest, RotationSplitsRequestsOverTimestampedFilesAndPrunesThem) {
  const std::string dir = ::testing::TempDir() + "/outrigger-file-rotation-" + std::to_string(getpid());
  ASSERT_EQ(system(("rm -rf '" + dir + "' && mkdir '" + dir + "'").c_str()), 0);
  cfg_.path = dir + "/logs.jsonl";
  cfg_.rotation.enabled = true;
  cfg_.rotation.max_megabytes = 1;
  cfg_.rotation.max_backups = 2;
  FilePusher p(testutil::Settings(&telemetry_, "file", Kind::kExporter), cfg_);
  ASSERT_TRUE(p.Start(host_).ok());
  auto logs = testutil::MakeLogs(5000);  // ~300 KB of OTLP/JSON: 3 per MiB
  const std::string line = logs.ToJson() + "\n";
  ASSERT_GT(line.size(), (1u << 20) / 4);
  ASSERT_LT(line.size(), (1u << 20) / 3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.PushLogs(logs, absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.Shutdown().ok());
  std::vector<std::string> files;
  DIR* d = opendir(dir.c_str());
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") files.push_back(n);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  // 10 lines, 3 a file: 3 rotations and a last file of 1; only 2 backups are kept.
  ASSERT_EQ(files.size(), 3u) << files.size();
  EXPECT_EQ(files[2], "logs.jsonl");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(files[i].rfind("logs-", 0), 0u) << files[i];
    EXPECT_EQ(files[i].substr(files[i].size() - 6), ".jsonl") << files[i];
    std::string content = ReadAll(dir + "/" + files[i]);
    EXPECT_LE(content.size(), 1u << 20);
    EXPECT_EQ(content, line + line + line) << files[i];
  }
  EXPECT_EQ(ReadAll(dir + "/logs.jsonl"), line);
  ASSERT_EQ(system(("rm -rf '" + dir + "'").c_str()), 0);
}

}  // namespace
}  // namespace outrigger::exporters::file
