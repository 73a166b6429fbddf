#pragma once
// JSON for the parsers: a JSON object to a pdata::ValueMap through nlohmann's SAX
// interface (no intermediate DOM), and a fast decoder for Docker json-file lines.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "collector/pdata/builders.h"

namespace outrigger::receivers::filelog::operators {

// Nesting deeper than this is a parse error (the values are destroyed recursively).
inline constexpr int kMaxJsonDepth = 64;

// Parses a JSON object. Integers become int64 when `parse_ints` (and fit), otherwise
// double; nested objects become ValueMap, arrays ValueList.
absl::StatusOr<pdata::ValueMap> ParseJsonObject(std::string_view text, bool parse_ints = true);

// A Docker json-file line: {"log":"...","stream":"stdout","time":"..."} (other keys are
// ignored). Returns false when the line is not a JSON object with those string fields.
struct DockerLine {
  std::string log;                // unescaped
  std::string_view stream, time;  // views into the line (never escaped in practice;
                                  // false is returned if they are)
};
bool ParseDockerLine(std::string_view line, DockerLine* out);

}  // namespace outrigger::receivers::filelog::operators
