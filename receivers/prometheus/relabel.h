#pragma once
// Prometheus relabeling (`relabel_configs`, `metric_relabel_configs`): the rules in
// Prometheus's syntax, checked as Prometheus checks them, and the engine that applies
// them to a label set with Prometheus's semantics (model/relabel). Regular expressions
// are RE2, whose syntax is Go's; they are fully anchored (`^(?:regex)$`), and
// replacements expand `$1`, `${1}`, `$name`, `${name}` and `$$` as Go's Regexp.Expand.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "collector/config/node.h"

namespace re2 {
class RE2;
}

namespace outrigger::receivers::prometheus {

// Label name -> value, sorted by name (as Prometheus's labels.Labels).
using LabelSet = std::map<std::string, std::string>;

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};
std::string_view RelabelActionName(RelabelAction a);

inline constexpr char kDefaultRelabelSeparator[] = ";";
inline constexpr char kDefaultRelabelRegex[] = "(.*)";
inline constexpr char kDefaultRelabelReplacement[] = "$1";

struct RelabelConfig {
  std::vector<std::string> source_labels;  // their values, joined by `separator`
  std::string separator = kDefaultRelabelSeparator;
  std::string regex = kDefaultRelabelRegex;  // as written; matched as ^(?:regex)$
  uint64_t modulus = 0;                      // hashmod
  std::string target_label;
  std::string replacement = kDefaultRelabelReplacement;
  RelabelAction action = RelabelAction::kReplace;

  // Reads one rule (a mapping of the list) and compiles it; errors go to the node's
  // error list with the key's YAML path and line.
  void Decode(config::Node& node);
  // Compiles `regex` and checks the rule as Prometheus does. On error, `*field` (if
  // given) is the offending key.
  absl::Status Compile(std::string* field = nullptr);
  bool compiled() const { return re_ != nullptr; }

  std::shared_ptr<const re2::RE2> re_;  // ^(?:regex)$, set by Compile()
};

// Applies `rules` in order. false: the label set is dropped (keep, drop, keepequal,
// dropequal). A label set to an empty value is removed, as in Prometheus. Every rule
// must be compiled.
bool Relabel(const std::vector<RelabelConfig>& rules, LabelSet* labels);

// [a-zA-Z_][a-zA-Z0-9_]*
bool ValidLabelName(std::string_view s);

// MD5 of `data` (hashmod hashes with it, as Prometheus does); exposed for tests.
std::string Md5Hex(std::string_view data);

}  // namespace outrigger::receivers::prometheus
