#include "exporters/debug/describe.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace outrigger::exporters::debug {
namespace {

TEST(DebugDescribe, BasicIsOneSummaryLine) {
  EXPECT_EQ(Describe(testutil::MakeTraces(3), Verbosity::kBasic),
            (std::vector<std::string>{"Traces: 1 resources, 3 spans"}));
  EXPECT_EQ(Describe(testutil::MakeMetrics(2), Verbosity::kBasic),
            (std::vector<std::string>{"Metrics: 1 resources, 2 data points"}));
  EXPECT_EQ(Describe(testutil::MakeLogs(4), Verbosity::kBasic),
            (std::vector<std::string>{"Logs: 1 resources, 4 log records"}));
}

TEST(DebugDescribe, NormalAddsALinePerItem) {
  auto spans = Describe(testutil::MakeTraces(2, "svc", "s"), Verbosity::kNormal);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_TRUE(spans[1].ends_with(" s-0")) << spans[1];
  EXPECT_EQ(spans[1].size(), 32 + 1 + 16 + 1 + 3);  // hex trace id, hex span id, name
  EXPECT_EQ(Describe(testutil::MakeMetrics(2), Verbosity::kNormal),
            (std::vector<std::string>{"Metrics: 1 resources, 2 data points", "gauge 2 points"}));
  EXPECT_EQ(Describe(testutil::MakeLogs(3), Verbosity::kNormal).size(), 4u);
}

TEST(DebugDescribe, DetailedAddsTheJson) {
  auto lines = Describe(testutil::MakeTraces(1, "svc", "only"), Verbosity::kDetailed);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("\"name\": \"only-0\""), std::string::npos) << lines[1];
  // Indented two spaces a level; the same JSON once the indentation is taken out.
  EXPECT_TRUE(lines[1].starts_with("{\n  \"resourceSpans\": [\n    {\n      \"resource\": {")) << lines[1];
  auto back = pdata::Traces::FromJson(lines[1]);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToProto(), testutil::MakeTraces(1, "svc", "only").ToProto());
}

TEST(DebugDescribe, DetailedKeepsStringsAndEmptyContainersAsTheyAre) {
  testutil::lpb::ExportLogsServiceRequest* req;
  auto d = pdata::Logs::New(&req);
  auto* r = req->add_resource_logs()->add_scope_logs()->add_log_records();
  r->mutable_body()->set_string_value("a, \"b\": {c} [d] \\");
  r->add_attributes();
  auto lines = Describe(d, Verbosity::kDetailed);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find(R"("stringValue": "a, \"b\": {c} [d] \\")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"attributes\": [\n" + std::string(16, ' ') + "{}\n" + std::string(14, ' ') + "]"),
            std::string::npos)
      << lines[1];
}

}  // namespace
}  // namespace outrigger::exporters::debug
