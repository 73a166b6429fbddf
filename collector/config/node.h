#pragma once
// Typed, checked access to one YAML mapping of the configuration. Every reader marks
// its key as known; Finish() reports the keys nobody read, with a suggestion. Errors are
// collected (not thrown) with the YAML path and line, so `outrigger validate` can list
// every one of them.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "collector/common/strings.h"
#include "yaml-cpp/yaml.h"

namespace outrigger::config {

class Errors {
 public:
  void Add(std::string_view path, int line, Text message);
  bool empty() const { return list_.empty(); }
  const std::vector<std::string>& list() const { return list_; }
  std::string Joined() const;  // one per line

 private:
  std::vector<std::string> list_;
};

// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
std::optional<std::string> Suggest(std::string_view word, const std::vector<std::string>& candidates);

// One node of the configuration, with its YAML path and line. Components read their
// options only through it (no component touches the YAML library): every reader checks
// the shape and type of what it reads and adds an error naming the path and line
// instead of throwing, so no configuration can crash the collector.
class Node {
 public:
  Node(YAML::Node node, std::string path, Errors* errors);

  const std::string& path() const { return path_; }
  int line() const;    // 1-based, 0 if unknown
  int column() const;  // 1-based column where the value starts, 0 if unknown
  bool IsNull() const { return !node_ || node_.IsNull(); }
  bool IsMap() const { return node_ && node_.IsMap(); }
  bool IsList() const { return node_ && node_.IsSequence(); }
  bool IsScalar() const { return node_ && node_.IsScalar(); }
  // A scalar written without quotes (YAML would read `5`, `true` as a number, a boolean).
  bool IsPlainScalar() const { return IsScalar() && node_.Tag() != "!"; }
  bool Has(std::string_view key) const;
  std::vector<std::string> Keys() const;

  // ---- options of this mapping ----
  // Each reader leaves *out unchanged if the key is absent or null (so defaults stay).
  void Read(std::string_view key, std::string* out);
  void Read(std::string_view key, bool* out);
  void Read(std::string_view key, int64_t* out);
  void Read(std::string_view key, int* out);
  void Read(std::string_view key, uint64_t* out);
  void Read(std::string_view key, double* out);          // finite numbers only
  void Read(std::string_view key, absl::Duration* out);  // "200ms", "5s", "1m30s"; at most 100 years
  void Read(std::string_view key, std::vector<std::string>* out);
  void Read(std::string_view key, std::map<std::string, std::string>* out);
  // A mapping of names to lists of strings (a single string counts as a list of one).
  void Read(std::string_view key, std::map<std::string, std::vector<std::string>>* out);
  // A size in bytes: an integer or "64KiB", "10MiB", "1GB".
  void ReadBytes(std::string_view key, uint64_t* out);
  // One of `allowed` (case-sensitive).
  void ReadEnum(std::string_view key, std::string* out, const std::vector<std::string>& allowed);

  // A nested mapping (an absent key gives a null node whose readers do nothing).
  Node& Child(std::string_view key);
  // A list of mappings: one Node per item, with its own path (`key[2]`) and line. An item
  // that is not a mapping is reported and left out; unknown keys of the items are
  // reported by Finish(), as for Child().
  std::vector<Node*> ReadMappings(std::string_view key);
  // A value of any shape (scalar, list or mapping), read with the As*/Items/Entries
  // functions below; an absent key gives a null node.
  Node& Value(std::string_view key);
  // Marks a key as known without reading it.
  void Accept(std::string_view key) { known_.insert(std::string(key)); }
  // Marks every key as known (for a mapping already refused as a whole).
  void AcceptAll();
  // An upstream option we do not have: if `key` is present, the error
  // "<key> is not supported: <instead>" (and the key counts as known).
  void Unsupported(std::string_view key, std::string_view instead);

  // ---- this node's own value (list items, values of any shape) ----
  // Each returns false, with an error naming this node's path and line, on a wrong shape.
  bool As(std::string* out);
  bool As(bool* out);
  bool As(int64_t* out);
  bool As(uint64_t* out);
  bool As(double* out);
  // A list of strings, appended to *out.
  bool As(std::vector<std::string>* out);
  // The items of a list, each a Node with its own path (`path[i]`) and line; anything
  // else is an error and gives no items.
  std::vector<Node*> Items();
  // The entries of a mapping, each value a Node of any shape; every key counts as read.
  std::vector<std::pair<std::string, Node*>> Entries();

  // An error about this node, or one of its keys.
  void Error(Text message) const;
  void ErrorAt(std::string_view key, Text message) const;
  // Reports every key that no reader touched, and does the same for the children
  // created by Child(), ReadMappings(), Value(), Items() and Entries(). Once.
  void Finish();

  Errors* errors() const { return errors_; }

 private:
  std::optional<YAML::Node> Get(std::string_view key);
  std::string KeyPath(std::string_view key) const;
  Node& AddChild(YAML::Node node, std::string path);
  // Runs `as` on the value under `key` when it is present and not null.
  template <typename T>
  void ReadValue(std::string_view key, T* out);

  YAML::Node node_;
  std::string path_;
  Errors* errors_;
  std::set<std::string> known_;
  std::vector<std::unique_ptr<Node>> children_;
  bool finished_ = false;
};

// Loads and merges YAML files (later files win; mappings merge deeply, other values
// are replaced), expanding ${env:VAR}, ${VAR} and ${env:VAR:-default} in scalars and
// turning "$$" into "$".
struct Source {
  std::string name;  // file name, or "<embedded default>"
  std::string text;
};
// Mapping keys must be scalars: a configuration with a list or mapping as a key is an
// error here, so no reader meets one.
YAML::Node LoadAndMerge(const std::vector<Source>& sources, Errors* errors);
// Expansion of one scalar; exposed for tests.
std::string ExpandEnv(std::string_view in, std::string* error);

// Parses "10MiB"-style sizes.
std::optional<uint64_t> ParseBytes(std::string_view s);

// Parses a duration as Go's time.ParseDuration does ("1m30s", "250ms", "0", "µs" for
// microseconds; negative ones too: callers decide). On failure, `why` says what is
// wrong in words for an error message ("a unit is required: ns, us, ms, s, m or h").
std::optional<absl::Duration> ParseDuration(std::string_view s, std::string* why);

}  // namespace outrigger::config
