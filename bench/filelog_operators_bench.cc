// Micro-benchmarks of the filelog receiver's parsing operators, one line per iteration
// (time per iteration = ns/line). Each iteration builds the Entry the reader would hand
// over (one copy of the line into the body) and runs the chain; the pass-through case
// measures exactly that cost.
//
//   build-ops/bench/filelog_operators_bench --benchmark_min_time=1

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/pdata/builders.h"
#include "receivers/filelog/operators/json.h"
#include "receivers/filelog/operators/operators.h"
#include "receivers/filelog/operators/time_layout.h"
#include "receivers/filelog/wire_logs.h"
#include "spdlog/spdlog.h"
#include "yaml-cpp/yaml.h"

namespace {

namespace ops = outrigger::receivers::filelog::operators;

constexpr char kPodLog[] = "/var/log/pods/shop_checkout-7d9f8c6b5-x2x4q_49cc7c1f-3702-4c40-b268-6ea7486091d6/app/0.log";

std::unique_ptr<ops::Chain> Build(const std::string& yaml) {
  outrigger::config::Errors errors;
  YAML::Node root = YAML::Load(yaml);
  outrigger::config::Node node(root, "receivers.filelog", &errors);
  ops::ChainConfig cfg;
  cfg.Decode(node);
  node.Finish();
  if (!errors.empty()) {
    fprintf(stderr, "%s\n", errors.Joined().c_str());
    std::abort();
  }
  auto chain = ops::BuildChain(cfg);
  if (!chain.ok()) std::abort();
  return std::move(*chain);
}

// 64 distinct lines made from `make(i)`.
template <typename F>
std::vector<std::string> Lines(F make) {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) v.push_back(make(i));
  return v;
}

void RunChain(benchmark::State& state, ops::Chain& chain, const std::vector<std::string>& lines) {
  std::vector<ops::Entry> out;
  out.reserve(4);
  size_t i = 0, bytes = 0;
  const std::string path = kPodLog;
  for (auto _ : state) {
    const std::string& line = lines[i++ & 63];
    ops::Entry e;
    e.record.body = outrigger::pdata::Value(line);
    e.file_path = path;
    chain.Process(std::move(e), &out);
    benchmark::DoNotOptimize(out.data());
    out.clear();
    bytes += line.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  if (chain.stats().parse_errors != 0) state.SkipWithError("parse errors");
}

std::string App(int i) {
  return "2024-03-30 08:31:20.545 INFO  [worker-" + std::to_string(i % 8) + "] c.e.shop.Checkout : order " +
         std::to_string(100000 + i * 37) + " accepted for customer 4711, total 129.90 EUR, 3 items";
}

void BM_PassThrough(benchmark::State& state) {
  auto chain = Build("operators: []\n");
  RunChain(state, *chain, Lines(App));
}
BENCHMARK(BM_PassThrough);

void BM_ContainerDocker(benchmark::State& state) {
  auto chain = Build("operators:\n  - type: container\n");
  auto lines = Lines([](int i) {
    return R"({"log":")" + App(i) + R"(\n","stream":"stdout","time":"2024-03-30T08:31:20.545192187Z"})";
  });
  RunChain(state, *chain, lines);
}
BENCHMARK(BM_ContainerDocker);

void BM_ContainerCri(benchmark::State& state) {
  auto chain = Build("operators:\n  - type: container\n");
  auto lines = Lines([](int i) { return "2023-06-22T10:27:25.813799277Z stdout F " + App(i); });
  RunChain(state, *chain, lines);
}
BENCHMARK(BM_ContainerCri);

void BM_ContainerCriNoMetadata(benchmark::State& state) {
  auto chain = Build("operators:\n  - type: container\n    add_metadata_from_filepath: false\n");
  auto lines = Lines([](int i) { return "2023-06-22T10:27:25.813799277Z stdout F " + App(i); });
  RunChain(state, *chain, lines);
}
BENCHMARK(BM_ContainerCriNoMetadata);

// A structured application log line (~240 bytes, one nested object).
std::string JsonLine(int i) {
  return R"({"ts":"2024-03-30T08:31:20.545192187Z","level":"info","logger":"shop.checkout","msg":"order accepted",)"
         R"("order_id":)" +
         std::to_string(100000 + i) +
         R"(,"total":129.9,"http":{"method":"POST","path":"/api/orders","status":201},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"})";
}

void BM_JsonParser(benchmark::State& state) {
  auto chain = Build(R"yaml(operators:
  - type: json_parser
    timestamp:
      parse_from: attributes.ts
      layout_type: gotime
      layout: '2006-01-02T15:04:05.999999999Z07:00'
    severity:
      parse_from: attributes.level
)yaml");
  RunChain(state, *chain, Lines(JsonLine));
}
BENCHMARK(BM_JsonParser);

// The same lines without the timestamp and severity blocks: what they cost is the
// difference to BM_JsonParser.
void BM_JsonParserOnly(benchmark::State& state) {
  auto chain = Build("operators:\n  - type: json_parser\n");
  RunChain(state, *chain, Lines(JsonLine));
}
BENCHMARK(BM_JsonParserOnly);

// ParseJsonObject alone: the JSON to a ValueMap, nothing else.
void BM_JsonParseObject(benchmark::State& state) {
  auto lines = Lines(JsonLine);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i++ & 63];
    auto m = ops::ParseJsonObject(line);
    benchmark::DoNotOptimize(m);
    bytes += line.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonParseObject);

// The direct path of json_parser to the body (Chain::EncodeDirect: the line straight into
// the record's OTLP body bytes, what the receiver runs for such a chain), without and with
// the timestamp and severity blocks; the difference is what the blocks cost. The lines
// have room for the parser's padding, as the receiver's do.
void RunDirect(benchmark::State& state, const char* yaml) {
  auto chain = Build(yaml);
  std::vector<std::string> lines = Lines(JsonLine);
  for (auto& l : lines) l.reserve(l.size() + 64);
  ops::DirectRecord rec;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i++ & 63];
    if (!chain->EncodeDirect(line, line.capacity(), &rec)) state.SkipWithError("not taken");
    benchmark::DoNotOptimize(rec.body.data());
    bytes += line.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
void BM_JsonDirectToBody(benchmark::State& state) {
  RunDirect(state, "operators:\n  - type: json_parser\n    parse_to: body\n");
}
BENCHMARK(BM_JsonDirectToBody);
void BM_JsonDirectToBodyTimeSeverity(benchmark::State& state) {
  RunDirect(state, R"yaml(operators:
  - type: json_parser
    parse_to: body
    timestamp: {parse_from: body.ts, layout_type: gotime, layout: '2006-01-02T15:04:05.999999999Z07:00'}
    severity: {parse_from: body.level}
)yaml");
}
BENCHMARK(BM_JsonDirectToBodyTimeSeverity);

// The timestamp and severity blocks alone on an already parsed record.
void BM_TimeAndSeverityBlocks(benchmark::State& state) {
  auto chain = Build(R"yaml(operators:
  - type: time_parser
    parse_from: attributes.ts
    layout_type: gotime
    layout: '2006-01-02T15:04:05.999999999Z07:00'
  - type: severity_parser
    parse_from: attributes.level
)yaml");
  std::vector<ops::Entry> out;
  for (auto _ : state) {
    ops::Entry e;
    e.record.attributes.emplace_back("ts", outrigger::pdata::Value("2024-03-30T08:31:20.545192187Z"));
    e.record.attributes.emplace_back("level", outrigger::pdata::Value("info"));
    chain->Process(std::move(e), &out);
    benchmark::DoNotOptimize(out.data());
    out.clear();
  }
  state.SetItemsProcessed(state.iterations());
  if (chain->stats().parse_errors != 0) state.SkipWithError("parse errors");
}
BENCHMARK(BM_TimeAndSeverityBlocks);

// The same with a strptime layout in a named zone (the slow path of absl's zone lookup).
void BM_TimeStrptimeLocation(benchmark::State& state) {
  auto layout = ops::TimeLayout::Compile("strptime", "%d/%b/%Y:%H:%M:%S", "Europe/Berlin");
  if (!layout.ok()) std::abort();
  for (auto _ : state) {
    auto t = layout->ParseString("10/Oct/2023:13:55:36", 0);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimeStrptimeLocation);

// The batch builders behind the chain, per record: pdata::LogsBuilder (protobuf messages
// on an arena) against the receiver's WireLogsBuilder (OTLP bytes), for a parsed JSON
// record (the json_parser path) and for a plain line with the per-file attribute
// log.file.name (AddLine, the path without operators). Batches of 1000, Build included.
template <typename B>
void RunBuilder(benchmark::State& state, B& b, std::vector<outrigger::pdata::LogRecord>& recs) {
  size_t i = 0, n = 0;
  for (auto _ : state) {
    outrigger::pdata::LogRecord r = recs[i++ & 63];
    b.Add(std::move(r));
    if (++n == 1000) {
      auto logs = b.Build();
      benchmark::DoNotOptimize(logs);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

std::vector<outrigger::pdata::LogRecord> JsonRecords() {
  std::vector<outrigger::pdata::LogRecord> recs;
  for (const auto& l : Lines(JsonLine)) {
    outrigger::pdata::LogRecord r;
    r.body = outrigger::pdata::Value(std::move(*ops::ParseJsonObject(l)));
    r.attributes.emplace_back("log.file.name", outrigger::pdata::Value("0.log"));
    r.observed_time_ns = 1711787480545192187;
    recs.push_back(std::move(r));
  }
  return recs;
}

void BM_BuildJsonRecordProtobuf(benchmark::State& state) {
  outrigger::pdata::LogsBuilder b(outrigger::pdata::ValueMap{}, "bench");
  auto recs = JsonRecords();
  RunBuilder(state, b, recs);
}
BENCHMARK(BM_BuildJsonRecordProtobuf);

void BM_BuildJsonRecordWire(benchmark::State& state) {
  outrigger::receivers::filelog::WireLogsBuilder b(outrigger::pdata::ValueMap{}, "bench");
  auto recs = JsonRecords();
  RunBuilder(state, b, recs);
}
BENCHMARK(BM_BuildJsonRecordWire);

const outrigger::pdata::ValueMap& FileAttrs() {
  static const outrigger::pdata::ValueMap m{{"log.file.name", outrigger::pdata::Value("filelog_bench.log")}};
  return m;
}

void BM_AddLineFileNameProtobuf(benchmark::State& state) {
  outrigger::pdata::LogsBuilder b(outrigger::pdata::ValueMap{}, "bench");
  auto lines = Lines(App);
  size_t i = 0, n = 0;
  for (auto _ : state) {
    b.AddLine(1711787480545192187, FileAttrs())->append(lines[i++ & 63]);
    if (++n == 1000) {
      auto logs = b.Build();
      benchmark::DoNotOptimize(logs);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddLineFileNameProtobuf);

void BM_AddLineFileNameWire(benchmark::State& state) {
  outrigger::receivers::filelog::WireLogsBuilder b(outrigger::pdata::ValueMap{}, "bench");
  std::string attrs;
  outrigger::receivers::filelog::WireLogsBuilder::EncodeAttributes(FileAttrs(), &attrs);
  auto lines = Lines(App);
  size_t i = 0, n = 0;
  for (auto _ : state) {
    b.AddLine(1711787480545192187, attrs)->append(lines[i++ & 63]);
    if (++n == 1000) {
      auto logs = b.Build();
      benchmark::DoNotOptimize(logs);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddLineFileNameWire);

void BM_RegexNginx(benchmark::State& state) {
  auto chain = Build(R"yaml(operators:
  - type: regex_parser
    regex: '^(?P<remote_addr>\S+) \S+ (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]+)" (?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)"'
    timestamp:
      parse_from: attributes.time_local
      layout: '%d/%b/%Y:%H:%M:%S %z'
    severity:
      parse_from: attributes.status
      mapping:
        info: 2xx
        warn: 4xx
        error: 5xx
)yaml");
  auto lines = Lines([](int i) {
    return "192.168.1." + std::to_string(i) + " - - [10/Oct/2023:13:55:" + std::to_string(10 + i % 50) +
           " +0200] \"GET /api/v1/items/" + std::to_string(i * 7) +
           " HTTP/1.1\" 200 1534 \"https://shop.example.com/\" \"Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0\"";
  });
  RunChain(state, *chain, lines);
}
BENCHMARK(BM_RegexNginx);

void BM_TimeRfc3339(benchmark::State& state) {
  const auto& layout = ops::TimeLayout::Rfc3339Nano();
  for (auto _ : state) {
    auto t = layout.ParseString("2023-06-22T10:27:25.813799277Z", 0);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimeRfc3339);

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
