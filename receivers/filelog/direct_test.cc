// The direct path of a chain that is one json_parser to the body (Chain::EncodeDirect +
// WireLogsBuilder::AddEncoded) against the general one (Chain::Process into an Entry, then
// WireLogsBuilder::Add): the same bytes for every line it takes, and the lines it does not
// take left to Process, which counts them as before.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/pdata/wire_scan.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "receivers/filelog/operators/operators.h"
#include "receivers/filelog/wire_logs.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::receivers::filelog {
namespace {

using pdata::Value;
using pdata::ValueMap;
namespace lpb = opentelemetry::proto::collector::logs::v1;

std::unique_ptr<operators::Chain> Chain(const std::string& yaml) {
  config::Errors errors;
  YAML::Node root = YAML::Load(yaml);
  config::Node node(root, "receivers.filelog", &errors);
  operators::ChainConfig cfg;
  cfg.Decode(node);
  node.Finish();
  EXPECT_TRUE(errors.empty()) << errors.Joined();
  auto chain = operators::BuildChain(cfg);
  EXPECT_TRUE(chain.ok()) << chain.status();
  return chain.ok() ? std::move(*chain) : nullptr;
}

constexpr char kToBody[] = "operators:\n  - type: json_parser\n    parse_to: body\n";
constexpr char kToBodyNoInts[] = "operators:\n  - type: json_parser\n    parse_to: body\n    parse_ints: false\n";
constexpr char kWithBlocks[] = R"yaml(operators:
  - type: json_parser
    parse_to: body
    timestamp: {parse_from: body.ts, layout_type: gotime, layout: '2006-01-02T15:04:05.999999999Z07:00'}
    severity: {parse_from: body.log.level, mapping: {error: [oops, 500]}}
)yaml";
constexpr char kEpochBlocks[] = R"yaml(operators:
  - type: json_parser
    parse_to: body
    timestamp: {parse_from: body.ts, layout_type: epoch, layout: ms}
    severity: {parse_from: body.level, overwrite_text: true}
)yaml";

// Lines the direct path takes: every JSON value kind, int against double, numbers past
// int64, unicode escapes and surrogate pairs, raw UTF-8, empty keys, strings and objects
// on both sides of 128 and 16384 bytes (one-, two- and three-byte length prefixes), more
// keys than the repeated-key check holds at once.
std::vector<std::string> Lines() {
  std::vector<std::string> v = {
      R"({"ts":"2024-05-01T12:00:01.5Z","log":{"level":"warn"},"msg":"order accepted","n":42,"neg":-7,)"
      R"("big":18446744073709551615,"max":9223372036854775807,"min":-9223372036854775808,"f":1.5,"e":1e300,)"
      R"("z":0,"dz":-0.0,"t":true,"fa":false,"nil":null,"o":{},"a":[],"nested":{"a":[1,[2,[3,{"b":null}]],"x"]}})",
      R"({"ts":"2024-05-01T12:00:01Z","log":{"level":"oops"},"u":"h\u00e9llo \ud83d\ude00 \n\t\"\\\/ \u0000","":"empty key",)"
      R"("raw":"h)"
      "\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"
      R"("})",
      R"({"ts":"2024-05-01T12:00:01+02:00","log":{"level":500},"arr":[{"k":"v"},{"k":"v"},[],{}]})",
      R"(  {"ts":"2024-05-01T12:00:01Z","log":{"level":"ERROR"}, "spaces" : [ 1 , 2 ] }  )",
  };
  std::string big = R"({"ts":"2024-05-01T12:00:01Z","log":{"level":"info"},"s":")" + std::string(200, 'x') +
                    R"(","t":")" + std::string(20000, 'y') + R"(","o":{"p":")" + std::string(130, 'z') + R"("}})";
  v.push_back(big);
  // The top object's length varint guessed from the line's length, wrong both ways.
  v.push_back(R"({"ts":"2024-05-01T12:00:01Z","log":{"level":"info"},"a":1)" + std::string(300, ' ') + "}");
  std::string negs = R"({"ts":"2024-05-01T12:00:01Z","log":{"level":"info"},"a":[)";
  for (int i = 0; i < 20; ++i) negs += "-1,";
  v.push_back(negs + "-1]}");
  std::string many = R"({"ts":"2024-05-01T12:00:01Z","log":{"level":"debug"})";
  for (int i = 0; i < 80; ++i) many += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  many += ",\"sub\":{";
  for (int i = 0; i < 40; ++i) many += std::string(i == 0 ? "" : ",") + "\"" + std::string(i, 'q') + "\":1";
  v.push_back(many + "}}");
  std::string deep = R"({"ts":"2024-05-01T12:00:01Z","log":{"level":"info"},"d":)";
  for (int i = 0; i < 28; ++i) deep += i % 2 == 0 ? "[" : "{\"k\":";
  deep += "1";
  for (int i = 27; i >= 0; --i) deep += i % 2 == 0 ? "]" : "}";
  v.push_back(deep + "}");
  return v;
}

// Builds `lines` both ways into one batch each and compares the bytes.
void ExpectSameBatches(const char* yaml, const std::vector<std::string>& lines) {
  auto direct = Chain(yaml);
  auto general = Chain(yaml);
  ASSERT_TRUE(direct && general);
  ASSERT_TRUE(direct->direct());
  const ValueMap resource{{"host.name", Value("h")}};
  const ValueMap attrs{{"log.file.name", Value("app.log")}};
  std::string attrs_wire;
  WireLogsBuilder::EncodeAttributes(attrs, &attrs_wire);
  WireLogsBuilder a(resource, "outrigger/filelog"), b(resource, "outrigger/filelog");
  operators::DirectRecord rec;
  for (const std::string& line : lines) {
    // Every other line parsed in place (room for the parser's padding), the others copied.
    std::string padded = line;
    padded.reserve(line.size() + 64);
    ASSERT_TRUE(direct->EncodeDirect(padded, (&line - lines.data()) % 2 == 0 ? padded.capacity() : 0, &rec))
        << line.substr(0, 200);
    a.AddEncoded(1234, attrs_wire, rec);
    operators::Entry e;
    e.record.body = Value(line);
    e.record.attributes = attrs;
    e.record.observed_time_ns = 1234;
    std::vector<operators::Entry> out;
    general->Process(std::move(e), &out);
    ASSERT_EQ(out.size(), 1u);
    b.Add(std::move(out[0].record));
  }
  EXPECT_EQ(direct->stats().parse_errors, 0u);
  EXPECT_EQ(general->stats().parse_errors, 0u);
  absl::StatusOr<pdata::Logs> la = a.Build(), lb = b.Build();
  ASSERT_TRUE(la.ok() && lb.ok());
  EXPECT_EQ(la->ItemCount(), lines.size());
  const std::string bytes = la->ToProto();
  EXPECT_EQ(bytes, lb->ToProto()) << la->ToJson() << "\n" << lb->ToJson();
  // What the builder no longer checks itself: the batch passes the received-request check
  // and decodes.
  pdata::ScanResult scan = pdata::ScanRequest(bytes, lpb::ExportLogsServiceRequest::descriptor());
  ASSERT_TRUE(scan.ok) << scan.error;
  EXPECT_EQ(scan.items, lines.size());
  lpb::ExportLogsServiceRequest m;
  ASSERT_TRUE(m.ParseFromString(bytes));
}

TEST(FilelogDirectJson, SameBytesAsTheGeneralPath) {
  std::vector<std::string> lines = Lines();
  ExpectSameBatches(kToBody, lines);
  ExpectSameBatches(kToBodyNoInts, lines);
  ExpectSameBatches(kWithBlocks, lines);
}

TEST(FilelogDirectJson, TimestampAndSeverityValues) {
  auto chain = Chain(kWithBlocks);
  operators::DirectRecord rec;
  ASSERT_TRUE(chain->EncodeDirect(Lines()[0], 0, &rec));
  EXPECT_EQ(rec.time_ns, 1714564801500000000ULL);
  EXPECT_EQ(rec.severity_number, 13);
  EXPECT_EQ(rec.severity_text, "warn");
  ASSERT_TRUE(chain->EncodeDirect(Lines()[1], 0, &rec));  // a mapped value
  EXPECT_EQ(rec.severity_number, 17);
  EXPECT_EQ(rec.severity_text, "oops");
  ASSERT_TRUE(chain->EncodeDirect(Lines()[2], 0, &rec));  // a number, by a mapped value
  EXPECT_EQ(rec.time_ns, 1714557601000000000ULL);
  EXPECT_EQ(rec.severity_number, 17);
  EXPECT_EQ(rec.severity_text, "500");
  // Numbers for both blocks (epoch time, severity text overwritten).
  std::vector<std::string> epoch = {R"({"ts":1136214245123,"level":"Warning"})", R"({"ts":1136214245123.5,"level":17})",
                                    R"({"ts":"1136214245123","level":"nope"})"};
  ExpectSameBatches(kEpochBlocks, epoch);
  auto e = Chain(kEpochBlocks);
  ASSERT_TRUE(e->EncodeDirect(epoch[0], 0, &rec));
  EXPECT_EQ(rec.time_ns, 1136214245123000000ULL);
  EXPECT_EQ(rec.severity_number, 13);
  EXPECT_EQ(rec.severity_text, "WARN");
  ASSERT_TRUE(e->EncodeDirect(epoch[2], 0, &rec));
  EXPECT_EQ(rec.severity_number, 0);
  EXPECT_EQ(rec.severity_text, "nope");
}

// Lines the direct path leaves to Process: the record (or the error) is the general
// path's, and the error is counted once.
TEST(FilelogDirectJson, RefusedLinesGoTheGeneralWay) {
  std::string deep = "{\"d\":";
  for (int i = 0; i < 30; ++i) deep += "[";
  for (int i = 0; i < 30; ++i) deep += "]";
  deep += "}";
  std::string many_repeated = "{";
  for (int i = 0; i < 40; ++i) many_repeated += "\"k" + std::to_string(i) + "\":1,";
  many_repeated += "\"k3\":2}";
  struct Case {
    std::string line;
    bool error;  // Process counts a parse error (else: a repeated key, deduplicated)
  };
  const std::vector<Case> cases = {
      {"not json", true},
      {"[1,2]", true},
      {"{\"a\":1} trailing", true},
      {"{\"a\":\"\\ud800\"}", true},  // a lone surrogate
      {"{\"a\":\"bad \xff utf-8\"}", true},
      {deep, true},
      {"{\"a\":1,\"a\":2}", false},
      {"{\"o\":{\"x\":1,\"y\":2,\"x\":3}}", false},
      {many_repeated, false},
  };
  for (const Case& c : cases) {
    auto chain = Chain(kToBody);
    operators::DirectRecord rec;
    EXPECT_FALSE(chain->EncodeDirect(c.line, 0, &rec)) << c.line;
    EXPECT_EQ(chain->stats().parse_errors, 0u);
    operators::Entry e;
    e.record.body = Value(c.line);
    std::vector<operators::Entry> out;
    chain->Process(std::move(e), &out);
    ASSERT_EQ(out.size(), 1u);  // on_error: send
    EXPECT_EQ(chain->stats().parse_errors, c.error ? 1u : 0u) << c.line;
    if (c.error) {
      EXPECT_EQ(out[0].record.body, Value(c.line));
    } else {
      ASSERT_NE(out[0].record.body.map(), nullptr);
    }
  }
  // Blocks that fail: the field missing, a time that does not parse, a severity that is
  // neither a string nor a number.
  for (const char* line :
       {R"({"log":{"level":"info"}})", R"({"ts":"yesterday","log":{"level":"info"}})",
        R"({"ts":"2024-05-01T12:00:01Z","log":{"level":{"x":1}}})", R"({"ts":"2024-05-01T12:00:01Z","log":"info"})"}) {
    auto chain = Chain(kWithBlocks);
    operators::DirectRecord rec;
    EXPECT_FALSE(chain->EncodeDirect(line, 0, &rec)) << line;
    operators::Entry e;
    e.record.body = Value(std::string(line));
    std::vector<operators::Entry> out;
    chain->Process(std::move(e), &out);
    EXPECT_EQ(chain->stats().parse_errors, 1u) << line;
  }
}

TEST(FilelogDirectJson, OnlyChainsOfOneJsonParserToTheBody) {
  EXPECT_TRUE(Chain(kToBody)->direct());
  EXPECT_FALSE(Chain("operators:\n  - type: json_parser\n")->direct());  // to the attributes
  EXPECT_FALSE(
      Chain("operators:\n  - type: json_parser\n    parse_to: body\n  - type: remove\n    field: body.a\n")->direct());
  EXPECT_FALSE(
      Chain("operators:\n  - type: json_parser\n    parse_to: body\n    parse_from: attributes.x\n")->direct());
  EXPECT_FALSE(Chain("operators:\n  - type: json_parser\n    parse_to: body\n    timestamp: {parse_from: "
                     "attributes.ts, layout_type: epoch, layout: s}\n")
                   ->direct());
  EXPECT_FALSE(Chain("operators:\n  - type: json_parser\n    parse_to: body\n    body: body.msg\n")->direct());
  EXPECT_FALSE(Chain("operators:\n  - type: regex_parser\n    regex: '(?P<a>.*)'\n")->direct());
}

}  // namespace
}  // namespace outrigger::receivers::filelog
