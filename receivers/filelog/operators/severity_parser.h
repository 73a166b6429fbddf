#pragma once
// severity_parser: sets the record's severity from a field through a SeverityMapping.
// Also the `severity` block the parsers embed (json_parser, regex_parser, container).

#include <optional>

#include "absl/status/status.h"
#include "collector/config/node.h"
#include "receivers/filelog/operators/field.h"
#include "receivers/filelog/operators/operator.h"
#include "receivers/filelog/operators/severity.h"

namespace outrigger::receivers::filelog::operators {

struct SeverityBlock {
  Field parse_from;
  SeverityMapping mapping;
};

// Sets the record's severity number and text from the value at b.parse_from (an error
// when absent or neither a string nor a number).
absl::Status ApplySeverity(const SeverityBlock& b, Entry& e);

// The `severity` block of `parent` (nullopt when absent, null or wrong).
std::optional<SeverityBlock> ReadSeverityBlock(config::Node& parent);

OperatorFactory DecodeSeverityParser(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
