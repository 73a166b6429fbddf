#pragma once
// The stanza `severity` block and severity_parser: a value (string or integer) mapped to
// an OTLP SeverityNumber by a preset plus a user mapping (values, lists, ranges, 2xx).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "collector/config/node.h"
#include "collector/pdata/builders.h"

namespace outrigger::receivers::filelog::operators {

class SeverityMapping {
 public:
  // Reads preset, mapping, overwrite_text from `node` (the severity block, or the
  // severity_parser operator itself). Errors go to the node.
  void Decode(config::Node& node);

  // `preset`: "default" (the aliases trace..fatal4 plus common spellings) or "none".
  void SetPreset(std::string_view preset);
  void Add(std::string_view value, int severity);  // case-insensitive
  void AddRange(int64_t min, int64_t max, int severity);

  // Sets record severity_number / severity_text from `v`. Unmapped: number 0 and the
  // text is the value. Returns false only when `v` is neither a string nor a number.
  bool Apply(const pdata::Value& v, pdata::LogRecord* r) const;
  // The same for a string value (what Apply does with a pdata string).
  void ApplyString(std::string_view s, int* number, std::string* text) const;
  // The number for a value, 0 when unmapped.
  int Lookup(const pdata::Value& v) const;
  int LookupString(std::string_view s) const;

  // "info" -> 9, "error3" -> 19; -1 when not an alias.
  static int Alias(std::string_view alias);
  static std::vector<std::string> Aliases();
  // Short display name of a SeverityNumber ("INFO", "ERROR2").
  static std::string ShortName(int severity);

 private:
  struct Range {
    int64_t min, max;
    int severity;
  };
  struct Hash {  // transparent over std::string_view (Debian's absl::string_view is not it)
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  absl::flat_hash_map<std::string, int, Hash, Eq> values_;  // lower case: one hash lookup per record
  std::vector<Range> ranges_;
  bool overwrite_text_ = false;
};

}  // namespace outrigger::receivers::filelog::operators
