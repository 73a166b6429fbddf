#include "collector/pdata/wire_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "collector/pdata/pdata.h"
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

// The scanner's tables hold field numbers below 64 (wire_scan.cc kMaxField): true of
// every message OTLP's requests reach, as the .proto files in the build have them.
TEST(WireScan, OtlpFieldNumbersFitTheTables) {
  std::vector<const google::protobuf::Descriptor*> todo = {ExportTraceServiceRequest::descriptor(),
                                                           testutil::mpb::ExportMetricsServiceRequest::descriptor(),
                                                           testutil::lpb::ExportLogsServiceRequest::descriptor()};
  std::set<const google::protobuf::Descriptor*> seen;
  while (!todo.empty()) {
    const auto* d = todo.back();
    todo.pop_back();
    if (!seen.insert(d).second) continue;
    for (int i = 0; i < d->field_count(); ++i) {
      EXPECT_LT(d->field(i)->number(), 64) << d->field(i)->full_name();
      if (d->field(i)->message_type() != nullptr) todo.push_back(d->field(i)->message_type());
    }
  }
  EXPECT_GT(seen.size(), 20u);
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

// Hand-made protobuf encoding, so nesting of any depth can be written without building
// (and recursively destroying) the messages.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Field(int number, const std::string& payload) {  // length-delimited
  return Varint(static_cast<uint64_t>(number) << 3 | 2) + Varint(payload.size()) + payload;
}

// An AnyValue nested `levels` times: kvlist_value (6) -> KeyValueList.values (1) ->
// KeyValue.value (2) -> AnyValue (3 messages a level), or array_value (5) ->
// ArrayValue.values (1) -> AnyValue (2 a level); `mix` alternates the two.
std::string NestedAnyValue(int levels, char kind) {
  std::string v = "\x18\x01";  // int_value: 1
  for (int i = 0; i < levels; ++i) {
    const bool kv = kind == 'k' || (kind == 'm' && i % 2 == 0);
    v = kv ? Field(6, Field(1, Field(1, "k") + Field(2, v))) : Field(5, Field(1, v));
  }
  return v;
}

// A request with the value as a resource attribute: the value's AnyValue is at depth 4
// (request 0, ResourceSpans 1, Resource 2, KeyValue 3).
std::string RequestWith(const std::string& any_value) {
  return Field(1, Field(1, Field(1, Field(1, "deep") + Field(2, any_value))));
}

// The scan refuses exactly what protobuf's parser refuses (its recursion limit, 100),
// for kvlist and array nesting of AnyValue, at every depth around the limit.
TEST(WireScan, NestingLimitIsProtobufs) {
  for (char kind : {'k', 'a', 'm'}) {
    int accepted = 0, refused = 0;
    for (int levels = 0; levels <= 60; ++levels) {
      const std::string b = RequestWith(NestedAnyValue(levels, kind));
      auto r = ScanRequest(b, ExportTraceServiceRequest::descriptor());
      ExportTraceServiceRequest parsed;
      const bool decodes = parsed.ParseFromString(b);
      ASSERT_EQ(r.ok, decodes) << kind << " " << levels << " levels: " << r.error;
      (r.ok ? accepted : refused)++;
      if (!r.ok) {
        EXPECT_EQ(r.error, "nested too deeply");
      }
    }
    EXPECT_GT(accepted, 20) << kind;
    EXPECT_GT(refused, 5) << kind;
  }
}

// Far deeper than the limit (a recursive scan without one would overflow the stack):
// refused at the limit, whatever the depth, through the receivers' entry point.
TEST(WireScan, VeryDeepKvlistAndArrayNestingIsRefused) {
  for (char kind : {'k', 'a', 'm'}) {
    const std::string b = RequestWith(NestedAnyValue(5000, kind));
    auto r = ScanRequest(b, ExportTraceServiceRequest::descriptor());
    EXPECT_FALSE(r.ok) << kind;
    EXPECT_EQ(r.error, "nested too deeply");
    auto t = Traces::FromProto(b);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find("nested too deeply"), std::string::npos) << t.status();
  }
  // The same in a log record's body (LogRecord.body, field 5, at depth 4).
  const std::string logs = Field(1, Field(2, Field(2, Field(5, NestedAnyValue(5000, 'k')))));
  auto l = Logs::FromProto(logs);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("nested too deeply"), std::string::npos) << l.status();
}

// A metrics request of one metric: `metric_field` (9 histogram, 10 exponential histogram)
// holding one data point made of `point`.
std::string OnePointMetrics(int metric_field, const std::string& point) {
  const std::string metric = Field(1, "h") + Field(metric_field, Field(1, point));
  return Field(1, Field(2, Field(2, metric)));
}

TEST(WireScan, ChecksPackedFieldsLikeTheDecoder) {
  const auto* type = testutil::mpb::ExportMetricsServiceRequest::descriptor();
  struct Case {
    std::string bytes;
    bool ok;
  };
  const Case cases[] = {
      {OnePointMetrics(9, Field(7, std::string(16, '\0'))), true},   // explicit_bounds: two doubles
      {OnePointMetrics(9, Field(7, std::string(12, '\0'))), false},  // a double and a half
      {OnePointMetrics(9, Field(6, std::string(8, '\1'))), true},    // bucket_counts: fixed64
      {OnePointMetrics(9, Field(6, std::string(4, '\1'))), false},
      {OnePointMetrics(10, Field(8, Field(2, "\x81\x01\x05"))), true},  // positive.bucket_counts: varints
      {OnePointMetrics(10, Field(8, Field(2, "\x05\x81"))), false},     // the last one cut short
  };
  for (const Case& c : cases) {
    auto r = ScanRequest(c.bytes, type);
    testutil::mpb::ExportMetricsServiceRequest parsed;
    EXPECT_EQ(parsed.ParseFromString(c.bytes), c.ok);
    EXPECT_EQ(r.ok, c.ok) << r.error;
    if (c.ok) {
      EXPECT_EQ(r.items, 1u);
    } else {
      EXPECT_NE(r.error.find("malformed packed field opentelemetry.proto.metrics.v1."), std::string::npos) << r.error;
    }
  }
}

}  // namespace
}  // namespace outrigger::pdata
