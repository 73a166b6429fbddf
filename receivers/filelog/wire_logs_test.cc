#include "receivers/filelog/wire_logs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/pdata/wire_scan.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace outrigger::receivers::filelog {
namespace {

using pdata::LogRecord;
using pdata::Value;
using pdata::ValueList;
using pdata::ValueMap;

// Records that exercise every field and value kind, lengths on both sides of 128 (one-
// and two-byte length prefixes) and invalid UTF-8.
std::vector<LogRecord> Records() {
  std::vector<LogRecord> v;
  LogRecord full;
  full.time_ns = 1711787480545192187;
  full.observed_time_ns = 1711787480545192999;
  full.severity_number = 17;
  full.severity_text = "ERROR";
  ValueMap nested{{"s", Value("x")}, {"long", Value(std::string(300, 'y'))}};
  ValueMap body{{"msg", Value("h\xc3\xa9llo")},
                {"n", Value(int64_t{-42})},
                {"f", Value(1.5)},
                {"ok", Value(true)},
                {"none", Value()},
                {"list", Value(ValueList{Value("a"), Value(int64_t{1}), Value(ValueList{}), Value()})},
                {"map", Value(nested)},
                {"", Value("empty key")}};
  full.body = Value(body);
  full.attributes = {{"log.file.name", Value("0.log")}, {"big", Value(std::string(200, 'z'))}};
  full.trace_id = std::string(16, '\x01');
  full.span_id = std::string(8, '\x02');
  full.flags = 1;
  v.push_back(full);
  LogRecord empty;  // no field set at all
  v.push_back(empty);
  LogRecord bytes;
  bytes.body = Value(pdata::Bytes{std::string("\0\1\2", 3)});
  bytes.trace_id = "short";  // wrong length: counted as ScanRequest counts it
  v.push_back(bytes);
  LogRecord deep;  // as deep as json_parser makes them
  Value d = Value("leaf");
  for (int i = 0; i < 29; ++i) d = Value(ValueMap{{"k", d}});
  deep.attributes = {{"deep", d}};
  v.push_back(deep);
  return v;
}

std::string Json(const pdata::Logs& l) { return l.ToJson(); }

TEST(WireLogsBuilder, EncodesWhatLogsBuilderEncodes) {
  const ValueMap resource{{"k8s.pod.name", Value("checkout-1")}, {"n", Value(int64_t{3})}};
  WireLogsBuilder wire(resource, "outrigger/filelog");
  pdata::LogsBuilder proto(resource, "outrigger/filelog");
  for (int round = 0; round < 2; ++round) {  // the builder starts over after Build
    for (LogRecord r : Records()) {
      LogRecord copy = r;
      wire.Add(std::move(r));
      proto.Add(std::move(copy));
    }
    ValueMap file_attrs{{"log.file.name", Value("app.log")}, {"team", Value(std::string(150, 't'))}};
    std::string attrs;
    WireLogsBuilder::EncodeAttributes(file_attrs, &attrs);
    *wire.AddLine(5, attrs) = "a plain line";
    *proto.AddLine(5, file_attrs) = "a plain line";
    *wire.AddLine(0, "", /*bytes=*/true) = std::string(1000, 'b');
    *proto.AddLine(0, {}, /*bytes=*/true) = std::string(1000, 'b');
    EXPECT_EQ(wire.records(), proto.records());
    absl::StatusOr<pdata::Logs> built = wire.Build();
    ASSERT_TRUE(built.ok()) << built.status();
    pdata::Logs w = std::move(*built);
    pdata::Logs p = proto.Build();
    EXPECT_EQ(w.ItemCount(), p.ItemCount());
    EXPECT_EQ(w.ItemCount(), Records().size() + 2);
    // The bytes pass the check of received requests and decode to the same records.
    std::string bytes = w.ToProto();
    pdata::ScanResult scan =
        pdata::ScanRequest(bytes, opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest::descriptor());
    ASSERT_TRUE(scan.ok) << scan.error;
    EXPECT_EQ(scan.items, w.ItemCount());
    EXPECT_EQ(scan.invalid_ids, 1u);
    std::string first_error;
    pdata::Logs copy = w.Clone();
    EXPECT_EQ(copy.DropInvalidIds(&first_error), 1u);
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest wm, pm;
    ASSERT_TRUE(wm.ParseFromString(bytes));
    ASSERT_TRUE(pm.ParseFromString(p.ToProto()));
    EXPECT_EQ(wm.SerializeAsString(), pm.SerializeAsString()) << Json(w) << "\n" << Json(p);
  }
}

TEST(WireLogsBuilder, TooDeepValuesAreReplacedSoTheBatchStaysDecodable) {
  WireLogsBuilder wire({}, "s");
  LogRecord r;
  Value d = Value("leaf");
  for (int i = 0; i < 200; ++i) d = Value(i % 2 == 0 ? Value(ValueList{d}) : Value(ValueMap{{"k", d}}));
  r.body = d;
  wire.Add(std::move(r));
  LogRecord ok;
  ok.body = Value("next");
  wire.Add(std::move(ok));
  absl::StatusOr<pdata::Logs> w = wire.Build();
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->ItemCount(), 2u);
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest m;
  ASSERT_TRUE(m.ParseFromString(w->ToProto()));
  EXPECT_NE(m.DebugString().find("[value nested too deeply]"), std::string::npos);
  EXPECT_EQ(m.resource_logs(0).scope_logs(0).log_records(1).body().string_value(), "next");
}

// Invalid UTF-8 (from an operator's value) becomes U+FFFD: proto3 strings must be valid,
// and a batch that is not would fail to decode downstream (the protobuf path wrote it).
TEST(WireLogsBuilder, InvalidUtf8IsReplaced) {
  WireLogsBuilder wire({}, "s");
  LogRecord r;
  r.body = Value(std::string("bad \xff\xfe utf-8"));
  r.attributes = {{"k\xc3", Value(std::string("v\xe2\x82"))}};
  wire.Add(std::move(r));
  absl::StatusOr<pdata::Logs> w = wire.Build();
  ASSERT_TRUE(w.ok()) << w.status();
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest m;
  ASSERT_TRUE(m.ParseFromString(w->ToProto()));
  const auto& rec = m.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(rec.body().string_value(), "bad \xef\xbf\xbd\xef\xbf\xbd utf-8");
  EXPECT_EQ(rec.attributes(0).key(), "k\xef\xbf\xbd");
  EXPECT_EQ(rec.attributes(0).value().string_value(), "v\xef\xbf\xbd");
}

TEST(WireLogsBuilder, EmptyBatch) {
  WireLogsBuilder wire({}, "s");
  absl::StatusOr<pdata::Logs> w = wire.Build();
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->ItemCount(), 0u);
  pdata::ScanResult scan = pdata::ScanRequest(
      w->ToProto(), opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest::descriptor());
  EXPECT_TRUE(scan.ok) << scan.error;
}

}  // namespace
}  // namespace outrigger::receivers::filelog
