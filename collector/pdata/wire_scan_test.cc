#include "collector/pdata/wire_scan.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/testutil/testutil.h"

namespace outrigger::pdata {
namespace {

using testutil::tpb::ExportTraceServiceRequest;

std::string RichTraces() {
  auto t = testutil::MakeTraces(20, "svc", "rich");
  t.ForEachMutableRequest([](ExportTraceServiceRequest& r) {
    auto* s = r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(3);
    s->set_parent_span_id(std::string(8, '\x07'));
    auto* e = s->add_events();
    e->set_name("ünïcode event");
    auto* kv = e->add_attributes();
    kv->set_key("arr");
    auto* arr = kv->mutable_value()->mutable_array_value();
    arr->add_values()->set_double_value(1.5);
    arr->add_values()->set_bool_value(true);
    arr->add_values()->mutable_kvlist_value()->add_values()->set_key("nested");
    s->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  });
  return t.ToProto();
}

TEST(WireScan, CountsRecordsLikeTheDecoder) {
  std::string b = RichTraces();
  auto r = ScanRequest(b, ExportTraceServiceRequest::descriptor());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.items, 20u);
  EXPECT_EQ(r.invalid_ids, 0u);
  std::string m = testutil::MakeMetrics(7).ToProto();
  auto rm = ScanRequest(m, testutil::mpb::ExportMetricsServiceRequest::descriptor());
  ASSERT_TRUE(rm.ok);
  EXPECT_EQ(rm.items, 7u);
  std::string l = testutil::MakeLogs(5).ToProto();
  auto rl = ScanRequest(l, testutil::lpb::ExportLogsServiceRequest::descriptor());
  ASSERT_TRUE(rl.ok);
  EXPECT_EQ(rl.items, 5u);
}

TEST(WireScan, FindsBadIds) {
  auto t = testutil::MakeTraces(4);
  t.ForEachMutableRequest([](ExportTraceServiceRequest& r) {
    auto* spans = r.mutable_resource_spans(0)->mutable_scope_spans(0);
    spans->mutable_spans(0)->set_span_id("123");
    spans->mutable_spans(1)->set_trace_id(std::string(16, '\0'));
  });
  auto r = ScanRequest(t.ToProto(), ExportTraceServiceRequest::descriptor());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.invalid_ids, 2u);
}

TEST(WireScan, RefusesInvalidUtf8LikeTheDecoder) {
  auto t = testutil::MakeTraces(1, "svc", "x");
  t.ForEachMutableRequest([](ExportTraceServiceRequest& r) {
    r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name("bad \xc3\x28 utf8");
  });
  std::string b = t.ToProto();
  ExportTraceServiceRequest parsed;
  EXPECT_FALSE(parsed.ParseFromString(b));
  auto r = ScanRequest(b, ExportTraceServiceRequest::descriptor());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("invalid UTF-8"), std::string::npos);
}

// The contract the collector relies on: whatever the scan accepts, protobuf decodes,
// with the same number of records. Checked on many truncated and corrupted requests.
TEST(WireScan, AcceptedMeansDecodable) {
  const std::string good = RichTraces();
  std::mt19937 rng(42);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = good;
    switch (i % 3) {
      case 0:
        b.resize(rng() % good.size());
        break;
      case 1:
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k)
          b[rng() % b.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      default:
        b[rng() % b.size()] = static_cast<char>(rng());
    }
    auto r = ScanRequest(b, ExportTraceServiceRequest::descriptor());
    ExportTraceServiceRequest parsed;
    bool decodes = parsed.ParseFromString(b);
    if (r.ok) {
      ++accepted;
      ASSERT_TRUE(decodes) << "case " << i;
      size_t spans = 0;
      for (const auto& rs : parsed.resource_spans())
        for (const auto& ss : rs.scope_spans()) spans += static_cast<size_t>(ss.spans_size());
      ASSERT_EQ(r.items, spans) << "case " << i;
    } else {
      ++refused;
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
}

TEST(WireScan, DeepNestingIsRefused) {
  // AnyValue -> ArrayValue -> AnyValue ... 200 levels deep.
  opentelemetry::proto::common::v1::AnyValue v;
  auto* cur = &v;
  for (int i = 0; i < 200; ++i) cur = cur->mutable_array_value()->add_values();
  cur->set_int_value(1);
  auto t = testutil::MakeTraces(1);
  t.ForEachMutableRequest([&](ExportTraceServiceRequest& r) {
    auto* kv = r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->add_attributes();
    kv->set_key("deep");
    *kv->mutable_value() = v;
  });
  auto r = ScanRequest(t.ToProto(), ExportTraceServiceRequest::descriptor());
  EXPECT_FALSE(r.ok);
}

}  // namespace
}  // namespace outrigger::pdata
