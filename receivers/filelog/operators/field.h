#pragma once
// Field expressions of the stanza operators: `body`, `body.key.sub`, `attributes.key`,
// `attributes["dotted.key"]`, `resource.key` (and `resource["k8s.pod.name"]`).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/config/node.h"
#include "receivers/filelog/operators/operators.h"

namespace outrigger::receivers::filelog::operators {

struct Field {
  enum class Root { kBody, kAttributes, kResource };
  Root root = Root::kBody;
  std::vector<std::string> path;  // keys below the root; empty: the root itself
  std::string text;               // as written, for messages

  bool IsRoot() const { return path.empty(); }
  bool IsBody() const { return root == Root::kBody; }
  static Field Body() { return Field{Root::kBody, {}, "body"}; }
  static Field Attributes() { return Field{Root::kAttributes, {}, "attributes"}; }
};

absl::StatusOr<Field> ParseField(std::string_view text);

// The value at `f`, or nullptr when absent. The roots `attributes` and `resource` are
// maps, not values: Get returns nullptr for them (use Take to move them out).
const pdata::Value* Get(const Entry& e, const Field& f);
pdata::Value* GetMutable(Entry& e, const Field& f);

// Sets the value at `f`, creating intermediate maps (a non-map in the way is replaced).
// A map set on `attributes`/`resource` (root or key) is merged into the map already
// there; on `body` it replaces. Setting a non-map on the attributes/resource root fails.
absl::Status Set(Entry& e, const Field& f, pdata::Value v);

// Removes the value at `f` and returns it (nullopt when absent). On a root, takes the
// whole body / attributes map / resource map.
std::optional<pdata::Value> Take(Entry& e, const Field& f);

// A copy of the value at `f` including the map roots (nullopt when absent or empty root).
std::optional<pdata::Value> Copy(const Entry& e, const Field& f);

// The error of an operator whose input field is absent: "field <text> not found".
absl::Status FieldNotFound(const Field& f);

// Reads the field expression at `key` of `n` into *out; true when it did. Absent: an
// error when `required` (and false); a bad expression: an error at `key`.
bool ReadField(config::Node& n, std::string_view key, Field* out, bool required);

}  // namespace outrigger::receivers::filelog::operators
