#pragma once
// time_parser: sets the record's time from a field. Also the `timestamp` block the
// parsers embed (json_parser, regex_parser), read and applied the same way.

#include <optional>

#include "absl/status/status.h"
#include "collector/config/node.h"
#include "receivers/filelog/operators/field.h"
#include "receivers/filelog/operators/operator.h"
#include "receivers/filelog/operators/time_layout.h"

namespace outrigger::receivers::filelog::operators {

struct TimestampBlock {
  Field parse_from;
  TimeLayout layout;
};

// Sets e.record.time_ns from the value at b.parse_from (an error when absent or when it
// does not match the layout).
absl::Status ApplyTimestamp(const TimestampBlock& b, Entry& e);

// The time options of a timestamp block or a time_parser (layout_type, layout, location,
// time_zone_locations; parse_from is read by the caller). Errors go to `n`.
std::optional<TimeLayout> ReadTimeLayout(config::Node& n);

// The `timestamp` block of `parent` (nullopt when absent, null or wrong).
std::optional<TimestampBlock> ReadTimestampBlock(config::Node& parent);

OperatorFactory DecodeTimeParser(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
