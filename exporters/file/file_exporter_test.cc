// The file exporter: one OTLP/JSON line per request, appended and flushed; the errors
// of an unusable path.
#include "exporters/file/file_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/testutil/testutil.h"

namespace outrigger::exporters::file {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
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

}  // namespace
}  // namespace outrigger::exporters::file
