#pragma once
// JSON for the parsers: a JSON object to a pdata::ValueMap through simdjson's DOM parser
// (one reused parser per thread; values built with exact reservations), and a fast
// decoder for Docker json-file lines.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/pdata/builders.h"

namespace outrigger::receivers::filelog::operators {

// Nesting deeper than this is a parse error (the line goes the on_error way, kept as it
// was by default). The bound keeps a record decodable by protobuf's parsers, which stop
// at 100 nested messages: an object level is three of them in OTLP (AnyValue,
// KeyValueList, KeyValue), and a record starts five deep.
inline constexpr int kMaxJsonDepth = 30;

// Parses a JSON object. Integers become int64 when `parse_ints` (and fit), otherwise
// double; nested objects become ValueMap, arrays ValueList.
absl::StatusOr<pdata::ValueMap> ParseJsonObject(std::string_view text, bool parse_ints = true);

// A value EncodeJsonObject read at a path below the object.
struct JsonField {
  bool found = false;
  bool is_string = false;
  std::string_view str;  // a string (valid until this thread's next JSON parse)
  pdata::Value value;    // any other value, as ParseJsonObject builds it
};

// ParseJsonObject straight into OTLP bytes: appends to *out the AnyValue (kvlist_value)
// that WireLogsBuilder makes of the map ParseJsonObject returns for `text`, byte for byte
// (no map is built), and reads the values at `paths[i]` (keys below the object) into
// `fields[i]`. Returns false (and *out as it was) when ParseJsonObject would fail
// (invalid JSON, not an object, nested too deep) or would have to drop repeated keys:
// call ParseJsonObject then, for the reason or the deduplicated map. `readable`: the
// bytes that may be read from text.data() on; the parser reads up to 64 past the end, so
// with less than text.size() + 64 the text is copied first.
bool EncodeJsonObject(std::string_view text, size_t readable, bool parse_ints, std::string* out,
                      const std::vector<std::string>* const* paths, JsonField* fields, size_t n_paths);

// A Docker json-file line: {"log":"...","stream":"stdout","time":"..."} (other keys are
// ignored). Returns false when the line is not a JSON object with those string fields.
struct DockerLine {
  std::string log;                // unescaped
  std::string_view stream, time;  // views into the line (never escaped in practice;
                                  // false is returned if they are)
};
bool ParseDockerLine(std::string_view line, DockerLine* out);

}  // namespace outrigger::receivers::filelog::operators
