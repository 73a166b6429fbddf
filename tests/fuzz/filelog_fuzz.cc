// A log file through the filelog receiver's parsing: the decoder (the first byte picks
// the encoding), then every line through an operator chain. The chain's config is the
// input's head when it has one (`operators:` YAML, then a line `#LINES`, then the file's
// bytes), else a chain with every parser. Partial entries held by a container operator
// are flushed at the end, as at shutdown.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collector/config/node.h"
#include "receivers/filelog/decoder.h"
#include "receivers/filelog/operators/operators.h"
#include "yaml-cpp/yaml.h"

using namespace outrigger;
using namespace outrigger::receivers::filelog;

namespace {

constexpr const char* kEncodings[] = {"utf-8", "utf-16le", "utf-16be", "latin-1", "ascii", "nop"};

constexpr char kDefaultChain[] = R"yaml(operators:
  - type: container
    id: container
    on_error: send_quiet
  - type: json_parser
    parse_from: body
    parse_to: attributes.json
    on_error: send_quiet
    timestamp: {parse_from: attributes.json.time, layout_type: gotime, layout: '2006-01-02T15:04:05.999Z07:00'}
    severity: {parse_from: attributes.json.level}
  - type: regex_parser
    regex: '^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?P<sev>[A-Z]+) (?P<msg>.*)$'
    on_error: send_quiet
    timestamp: {parse_from: attributes.time, layout: '%Y-%m-%d %H:%M:%S'}
    severity: {parse_from: attributes.sev}
  - type: flatten
    field: attributes.json
    on_error: send_quiet
  - type: move
    from: attributes.msg
    to: body
    on_error: send_quiet
)yaml";

std::unique_ptr<operators::Chain> BuildChain(std::string_view yaml) {
  config::Errors errors;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception&) {
    return nullptr;  // (the service loads YAML with config::LoadAndMerge, fuzzed by config_fuzz)
  }
  if (!root.IsMap()) return nullptr;
  config::Node node(root, "receivers.filelog", &errors);
  operators::ChainConfig cfg;
  cfg.Decode(node);
  node.Finish();
  if (!errors.empty()) return nullptr;
  auto chain = operators::BuildChain(cfg);
  if (!chain.ok()) std::abort();  // a config that decodes without errors must build
  return std::move(*chain);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // parse errors are logged (rate-limited)
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Decoder decoder(kEncodings[data[0] % 6]);
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view chain_yaml = kDefaultChain;
  constexpr std::string_view kLines = "#LINES\n";
  if (size_t at = in.find(kLines); at != std::string_view::npos) {
    chain_yaml = in.substr(0, at);
    in.remove_prefix(at + kLines.size());
  }
  auto chain = BuildChain(chain_yaml);
  if (chain == nullptr) return 0;

  const size_t unit = decoder.unit();
  const size_t n = in.size() - in.size() % unit;
  std::vector<operators::Entry> out;
  size_t start = 0;
  uint64_t now = 1000;
  while (start < n) {
    size_t nl = decoder.FindNewline(in.data(), start, n);
    const size_t end = nl == std::string_view::npos ? n : nl;
    if (end < start || end > n || (end - start) % unit != 0) std::abort();
    operators::Entry e;
    std::string text;
    decoder.Decode(in.substr(start, end - start), &text);
    e.record.body = pdata::Value(std::move(text));
    e.record.observed_time_ns = now++;
    e.file_path = (start & 1) ? "/var/log/pods/ns_pod-1_0123/app/0.log" : "/var/log/containers/a.log";
    e.offset_start = start;
    e.offset_end = end;
    chain->Process(std::move(e), &out);
    start = nl == std::string_view::npos ? n : nl + unit;
  }
  chain->Flush(now, 0, &out);
  chain->Forget("/var/log/containers/a.log");
  chain->Flush(0, 0, &out);
  return 0;
}
