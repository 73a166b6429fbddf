#pragma once
// json_parser: parses a JSON object (the body by default) into attributes (parse_to),
// with the parsers' body, timestamp and severity options (parser.h) and parse_ints.

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeJsonParser(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
