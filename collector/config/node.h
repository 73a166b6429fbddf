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

class Node {
 public:
  Node(YAML::Node node, std::string path, Errors* errors);

  const std::string& path() const { return path_; }
  int line() const;  // 1-based, 0 if unknown
  bool IsNull() const { return !node_ || node_.IsNull(); }
  bool IsMap() const { return node_ && node_.IsMap(); }
  bool Has(std::string_view key) const;
  std::vector<std::string> Keys() const;

  // Each reader leaves *out unchanged if the key is absent (so defaults stay).
  void Read(std::string_view key, std::string* out);
  void Read(std::string_view key, bool* out);
  void Read(std::string_view key, int64_t* out);
  void Read(std::string_view key, int* out);
  void Read(std::string_view key, uint64_t* out);
  void Read(std::string_view key, double* out);
  void Read(std::string_view key, absl::Duration* out);  // "200ms", "5s", "1m30s"
  void Read(std::string_view key, std::vector<std::string>* out);
  void Read(std::string_view key, std::map<std::string, std::string>* out);
  // A size in bytes: an integer or "64KiB", "10MiB", "1GB".
  void ReadBytes(std::string_view key, uint64_t* out);
  // One of `allowed` (case-sensitive).
  void ReadEnum(std::string_view key, std::string* out, const std::vector<std::string>& allowed);

  // A nested mapping (an absent key gives a null node whose readers do nothing).
  Node& Child(std::string_view key);
  // Marks a key as known without reading it.
  void Accept(std::string_view key) { known_.insert(std::string(key)); }

  // An error about this node, or one of its keys.
  void Error(Text message) const;
  void ErrorAt(std::string_view key, Text message) const;
  // Reports every key that no reader touched, and does the same for the children
  // created by Child().
  void Finish();

  Errors* errors() const { return errors_; }
  const YAML::Node& yaml() const { return node_; }

 private:
  std::optional<YAML::Node> Get(std::string_view key);
  std::string KeyPath(std::string_view key) const;

  YAML::Node node_;
  std::string path_;
  Errors* errors_;
  std::set<std::string> known_;
  std::vector<std::unique_ptr<Node>> children_;
};

// Loads and merges YAML files (later files win; mappings merge deeply, other values
// are replaced), expanding ${env:VAR}, ${VAR} and ${env:VAR:-default} in scalars and
// turning "$$" into "$".
struct Source {
  std::string name;  // file name, or "<embedded default>"
  std::string text;
};
YAML::Node LoadAndMerge(const std::vector<Source>& sources, Errors* errors);
// Expansion of one scalar; exposed for tests.
std::string ExpandEnv(std::string_view in, std::string* error);

// Parses "10MiB"-style sizes.
std::optional<uint64_t> ParseBytes(std::string_view s);

}  // namespace outrigger::config
