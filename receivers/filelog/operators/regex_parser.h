#pragma once
// regex_parser: matches a string (the body by default) with an RE2 regex and sets its
// named groups as a map at parse_to, with the parsers' body, timestamp and severity
// options (parser.h).

#include "collector/config/node.h"
#include "receivers/filelog/operators/operator.h"

namespace outrigger::receivers::filelog::operators {

OperatorFactory DecodeRegexParser(config::Node& item, const CommonOptions& common);

}  // namespace outrigger::receivers::filelog::operators
