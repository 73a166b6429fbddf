#pragma once
// What json_parser and regex_parser share (stanza's ParserConfig): parse the value at
// parse_from into a map set at parse_to, then the optional body, timestamp and severity.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "collector/config/node.h"
#include "receivers/filelog/operators/field.h"
#include "receivers/filelog/operators/operator.h"
#include "receivers/filelog/operators/severity_parser.h"
#include "receivers/filelog/operators/time_parser.h"

namespace outrigger::receivers::filelog::operators {

struct ParserSpec {
  Field parse_from = Field::Body();
  Field parse_to = Field::Attributes();
  std::optional<Field> body;  // copied to the body after parsing
  std::optional<TimestampBlock> timestamp;
  std::optional<SeverityBlock> severity;
};

// Reads parse_from, parse_to, body, timestamp and severity of a parser's item.
ParserSpec ReadParserSpec(config::Node& item);

class ParserOp : public Operator {
 public:
  ParserOp(std::string type, std::string id, OnError on_error, Stats* stats, ParserSpec spec)
      : Operator(std::move(type), std::move(id), on_error, stats), spec_(std::move(spec)) {}

  Result Process(Entry& e) override;

 protected:
  // The parsed value of `v` (a map), or why it does not parse.
  virtual absl::StatusOr<pdata::Value> Parse(const pdata::Value& v) = 0;
  const ParserSpec& spec() const { return spec_; }

 private:
  // body, timestamp and severity, after the parsed value was set.
  Result Post(Entry& e);

  ParserSpec spec_;
};

}  // namespace outrigger::receivers::filelog::operators
