// The debug exporter's output: zap's per-second sampling through the internal logger,
// and direct output to output_paths with use_internal_logger: false.
#include "exporters/debug/debug_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/testutil/testutil.h"

namespace outrigger::exporters::debug {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DebugSampler, FirstInitialThenEveryThereafterPerSignalAndSecond) {
  Sampler s(2, 3);
  absl::Time t = absl::FromUnixSeconds(1000);
  std::string got;
  for (int i = 0; i < 10; ++i) got += s.Allow(Signal::kTraces, t) ? 'y' : 'n';
  // 1, 2 pass; then the 3rd after them (5th), the 6th after them (8th).
  EXPECT_EQ(got, "yynnynnynn");
  EXPECT_TRUE(s.Allow(Signal::kLogs, t));                       // each signal counts on its own
  EXPECT_TRUE(s.Allow(Signal::kTraces, t + absl::Seconds(1)));  // a new second starts over
  EXPECT_TRUE(s.Allow(Signal::kTraces, t + absl::Seconds(1)));
  EXPECT_FALSE(s.Allow(Signal::kTraces, t + absl::Seconds(1)));
}

TEST(DebugSampler, ThereafterOneKeepsAllAndZeroNoneAfterInitial) {
  Sampler all(2, 1);
  Sampler none(1, 0);
  absl::Time t = absl::FromUnixSeconds(5);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(all.Allow(Signal::kMetrics, t));
  EXPECT_TRUE(none.Allow(Signal::kMetrics, t));
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(none.Allow(Signal::kMetrics, t));
}

TEST(DebugExporter, InternalLoggerIsSampled) {
  Telemetry telemetry;
  testutil::TestHost host;
  auto settings = testutil::Settings(&telemetry, "debug", Kind::kExporter);
  std::ostringstream captured;
  settings.logger =
      std::make_shared<spdlog::logger>("exporter/debug", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  settings.logger->set_pattern("%v");
  settings.logger->set_level(spdlog::level::info);
  Config cfg;
  cfg.sampling_initial = 1;
  cfg.sampling_thereafter = 0;  // only the first of each second
  DebugPusher p(settings, cfg);
  ASSERT_TRUE(p.Start(host).ok());
  // Within one second (the whole loop takes far less; a second boundary would let a
  // second one through, hence the bound rather than the exact count).
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(p.PushTraces(testutil::MakeTraces(1), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.PushLogs(testutil::MakeLogs(2), absl::InfiniteFuture()).ok());
  std::string out = captured.str();
  size_t traces = 0;
  for (size_t at = out.find("Traces: "); at != std::string::npos; at = out.find("Traces: ", at + 1)) ++traces;
  EXPECT_GE(traces, 1u);
  EXPECT_LE(traces, 2u) << out;
  EXPECT_NE(out.find("Logs: 1 resources, 2 log records"), std::string::npos) << out;
  ASSERT_TRUE(p.Shutdown().ok());
}

TEST(DebugExporter, WithoutInternalLoggerWritesToEveryOutputPath) {
  Telemetry telemetry;
  testutil::TestHost host;
  const std::string a = ::testing::TempDir() + "/outrigger-debug-a-" + std::to_string(getpid()) + ".log";
  const std::string b = ::testing::TempDir() + "/outrigger-debug-b-" + std::to_string(getpid()) + ".log";
  unlink(a.c_str());
  { std::ofstream(b) << "earlier\n"; }
  Config cfg;
  cfg.use_internal_logger = false;
  cfg.output_paths = {a, "file://" + b};
  cfg.verbosity = "normal";
  cfg.sampling_initial = 0;  // sampling applies to the internal logger only, as upstream
  cfg.sampling_thereafter = 0;
  ASSERT_TRUE(cfg.Validate().ok());
  DebugPusher p(testutil::Settings(&telemetry, "debug", Kind::kExporter), cfg);
  ASSERT_TRUE(p.Start(host).ok());
  ASSERT_TRUE(p.PushMetrics(testutil::MakeMetrics(2), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(p.PushMetrics(testutil::MakeMetrics(2), absl::InfiniteFuture()).ok());
  const std::string want = "Metrics: 1 resources, 2 data points\ngauge 2 points\n";
  EXPECT_EQ(ReadAll(a), want + want);
  EXPECT_EQ(ReadAll(b), "earlier\n" + want + want);  // appended to
  ASSERT_TRUE(p.Shutdown().ok());
  ASSERT_TRUE(p.Shutdown().ok());  // idempotent
  unlink(a.c_str());
  unlink(b.c_str());
}

TEST(DebugExporter, UnopenableOutputPathFailsToStartAndNamesIt) {
  Telemetry telemetry;
  testutil::TestHost host;
  Config cfg;
  cfg.use_internal_logger = false;
  cfg.output_paths = {"stdout", ::testing::TempDir() + "/no-such-dir-for-outrigger/debug.log"};
  DebugPusher p(testutil::Settings(&telemetry, "debug", Kind::kExporter), cfg);
  auto st = p.Start(host);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("no-such-dir-for-outrigger/debug.log"), std::string::npos) << st.message();
  EXPECT_TRUE(p.Shutdown().ok());
}

}  // namespace
}  // namespace outrigger::exporters::debug
