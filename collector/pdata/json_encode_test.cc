#include "collector/pdata/json_encode.h"

#include <gtest/gtest.h>

#include <cmath>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "tests/testutil/testutil.h"

namespace outrigger::pdata {
namespace {

using LogsReq = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using MetricsReq = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// One log record with `n` empty attributes (issue 15's 4 MB request had 440,000).
Logs EmptyAttributes(int n) {
  LogsReq* req = nullptr;
  Logs logs = Logs::New(&req);
  auto* rec = req->add_resource_logs()->add_scope_logs()->add_log_records();
  rec->mutable_attributes()->Reserve(n);
  for (int i = 0; i < n; ++i) rec->add_attributes();
  return logs;
}

template <typename D>
void ExpectRoundTrip(const D& d) {
  std::string json = d.ToJson();
  auto back = D::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_EQ(back->ToProto(), d.ToProto()) << json;
}

template <typename D>
std::string FromMessages(const D& d) {
  std::string out;
  EXPECT_TRUE(EncodeJsonFromMessages(d, 0, [&](std::string_view c) {
                out.append(c);
                return absl::OkStatus();
              }).ok());
  return out;
}

// EncodeJson reads the wire; the decoded messages' encoding is the reference.
TEST(EncodeJson, FromTheWireIsTheSameAsFromTheMessages) {
  EXPECT_EQ(testutil::MakeTraces(3).ToJson(), FromMessages(testutil::MakeTraces(3)));
  EXPECT_EQ(testutil::MakeMetrics(4).ToJson(), FromMessages(testutil::MakeMetrics(4)));
  EXPECT_EQ(testutil::MakeLogs(2).ToJson(), FromMessages(testutil::MakeLogs(2)));
  Logs empty = EmptyAttributes(3);
  EXPECT_EQ(empty.ToJson(), FromMessages(empty));
  Traces parts = testutil::MakeTraces(2, "a");
  parts.Append(testutil::MakeTraces(1, "b"));
  EXPECT_EQ(parts.ToJson(), FromMessages(parts));
  // Every kind of value, special doubles, packed and optional fields, negative ints.
  MetricsReq* req = nullptr;
  Metrics m = Metrics::New(&req);
  auto* sm = req->add_resource_metrics()->add_scope_metrics();
  auto* h = sm->add_metrics();
  h->set_name("h");
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_sum(-0.0);
  hp->set_min(NAN);
  hp->add_bucket_counts(0);
  hp->add_bucket_counts(7);
  hp->add_explicit_bounds(-1.5);
  hp->set_flags(1);
  h->mutable_histogram()->set_aggregation_temporality(
      opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* g = sm->add_metrics();
  auto* gp = g->mutable_gauge()->add_data_points();
  gp->set_as_int(-5);
  auto* a = gp->add_attributes();
  a->set_key("k");
  a->mutable_value()->set_bool_value(false);  // a oneof at its default: written
  a = gp->add_attributes();
  a->mutable_value()->mutable_array_value()->add_values()->set_bytes_value(std::string("\0\xff", 2));
  auto* e = gp->add_exemplars();
  e->set_trace_id(std::string(16, '\x01'));
  e->set_as_double(0);
  EXPECT_EQ(m.ToJson(), FromMessages(m));
  // Received bytes with a field at its default written out (key ""): left out too.
  auto received = Logs::FromProto(std::string("\x0a\x0c\x12\x0a\x12\x08\x32\x06\x0a\x00\x12\x02\x0a\x00", 14));
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->ToJson(), FromMessages(*received));
  EXPECT_EQ(received->ToJson(),
            R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"stringValue":""}}]}]}]}]})");
}

// A oneof set twice on the wire (a string, then a bool, in one AnyValue): protobuf keeps
// the last; so must the JSON, or it has two members of the oneof and does not decode.
// Found by the otlp_proto fuzz target.
// A length-delimited protobuf field: tag, varint length, bytes.
std::string field(int number, const std::string& bytes) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  for (uint64_t n = bytes.size();; n >>= 7) {
    out.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
    if (n < 0x80) break;
  }
  return out + bytes;
}

TEST(EncodeJson, OfAOneofOnlyTheMemberThatComesLast) {
  // AnyValue{string_value: "first"} then AnyValue{bool_value: true}, concatenated: one
  // AnyValue whose oneof is set twice (protobuf keeps the bool).
  std::string body = field(1, "first") + std::string("\x10\x01", 2);
  std::string record = std::string("\x09", 1) + std::string(8, '\0') + field(5, body);  // time_unix_nano, body
  std::string request = field(1, field(2, field(2, record)));  // resource_logs.scope_logs.log_records
  auto decoded = Logs::FromProto(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  std::string json = decoded->ToJson();
  EXPECT_EQ(json, FromMessages(*decoded));
  EXPECT_EQ(json.find("first"), std::string::npos) << json;
  EXPECT_NE(json.find("\"boolValue\":true"), std::string::npos) << json;
  auto back = Logs::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_EQ(back->ItemCount(), 1u);
}

// A message field given twice is merged by protobuf (a metric's `gauge` twice: the data
// points of both); the JSON read from the wire must hold the same.
TEST(EncodeJson, AMessageGivenTwiceIsMerged) {
  std::string point = field(1, std::string("\x21", 1) + std::string(8, '\0'));  // data_points{as_double: 0}
  std::string metric = field(1, "g") + field(5, point) + field(5, point);       // name, gauge, gauge
  std::string request = field(1, field(2, field(2, metric)));  // resource_metrics.scope_metrics.metrics
  auto decoded = Metrics::FromProto(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->ItemCount(), 2u);
  std::string json = decoded->ToJson();
  EXPECT_EQ(json, FromMessages(*decoded));
  auto back = Metrics::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_EQ(back->ItemCount(), 2u);
}

TEST(EncodeJson, RoundTripsEverySignal) {
  ExpectRoundTrip(testutil::MakeTraces(3));
  ExpectRoundTrip(testutil::MakeMetrics(4));
  ExpectRoundTrip(testutil::MakeLogs(2));
}

TEST(EncodeJson, SeveralPartsMakeOneRequest) {
  Traces t = testutil::MakeTraces(2, "a");
  t.Append(testutil::MakeTraces(1, "b"));
  std::string json = t.ToJson();
  auto back = Traces::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ItemCount(), 3u);
  EXPECT_EQ(back->ResourceCount(), 2u);
  EXPECT_EQ(json.find("resourceSpans"), json.rfind("resourceSpans"));  // one array
}

TEST(EncodeJson, EmptyRequestIsAnEmptyObject) { EXPECT_EQ(Traces().ToJson(), "{}"); }

TEST(EncodeJson, SpecialDoublesAndInt64AsProtobufWritesThem) {
  MetricsReq* req = nullptr;
  Metrics m = Metrics::New(&req);
  auto* metric = req->add_resource_metrics()->add_scope_metrics()->add_metrics();
  metric->set_name("m");
  auto* p = metric->mutable_histogram()->add_data_points();
  p->set_sum(NAN);
  p->set_min(-INFINITY);
  p->set_max(0.1);
  p->set_count(18446744073709551615ull);
  p->add_explicit_bounds(1e300);
  std::string json = m.ToJson();
  EXPECT_NE(json.find(R"("sum":"NaN")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("min":"-Infinity")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("max":0.1)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("count":"18446744073709551615")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("explicitBounds":[1e+300])"), std::string::npos) << json;
  auto back = Metrics::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
}

// Issue 15: a 4 MB request of 440,000 empty attributes cost ~340 MB to encode (a merged
// copy, protobuf's JSON, then a JSON document of it). Streamed, the encoder hands out
// chunks of about kJsonChunk and holds nothing more.
TEST(EncodeJson, StreamsInBoundedChunks) {
  constexpr int kAttributes = 440000;
  Logs logs = EmptyAttributes(kAttributes);
  size_t total = 0, largest = 0, chunks = 0;
  std::string whole;
  ASSERT_TRUE(EncodeJson(logs, 0, [&](std::string_view c) {
                total += c.size();
                largest = std::max(largest, c.size());
                ++chunks;
                whole.append(c);
                return absl::OkStatus();
              }).ok());
  EXPECT_GT(chunks, 10u);
  EXPECT_LE(largest, kJsonChunk + 1024);
  EXPECT_EQ(whole, logs.ToJson());
  auto back = Logs::FromJson(whole);
  ASSERT_TRUE(back.ok()) << back.status();
  back->ForEachRequest([&](const LogsReq& r) {
    EXPECT_EQ(r.resource_logs(0).scope_logs(0).log_records(0).attributes_size(), kAttributes);
  });
}

TEST(EncodeJson, StopsPastMaxBytesWithAClearError) {
  Logs logs = EmptyAttributes(440000);
  size_t total = 0;
  absl::Status st = EncodeJson(logs, 100000, [&](std::string_view c) {
    total += c.size();
    return absl::OkStatus();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("more than 100000 bytes"), std::string::npos) << st.message();
  EXPECT_LE(total, 100000u);
}

TEST(EncodeJson, TheSinksErrorStopsTheEncoding) {
  int calls = 0;
  absl::Status st = EncodeJson(EmptyAttributes(100000), 0, [&](std::string_view) {
    ++calls;
    return absl::UnavailableError("disk full");
  });
  EXPECT_EQ(st, absl::UnavailableError("disk full"));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace outrigger::pdata
