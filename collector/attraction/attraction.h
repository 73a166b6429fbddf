#pragma once
// Attribute actions, as upstream's contrib internal/coreinternal/attraction: the
// `actions` of the attributes processor and the `attributes` of the resource processor.
//
// Each action has a `key` and an `action`:
//  - insert / update / upsert: set `key` from exactly one of `value` (any YAML type, kept
//    as its AnyValue type), `from_attribute` (another attribute of the same record) or
//    `from_context` (the request's client: `client.address`, `metadata.<key>`,
//    `auth.<key>`; any other name is read as metadata), or `default_value` when the
//    source has nothing (or is not given). insert only adds a missing key, update only
//    changes an existing one, upsert does both.
//  - delete / hash: the attribute `key` and every attribute whose key `pattern` finds
//    (RE2, unanchored). hash replaces a value by the lower-case hex SHA-256 of its bytes
//    (strings as they are, booleans one byte 1/0, integers and doubles 8 bytes little
//    endian; other types and the empty string become "").
//  - extract: `pattern` (with named groups only) searched in the string value of `key`;
//    each group upserts the attribute of its name.
//  - convert: `converted_type` int | double | string; values that cannot be converted
//    are left as they are.
// Actions run in the order given. Processing allocates only what protobuf stores on the
// record's arena (new values), and scratch space for a from_context value of several
// metadata values (joined with ";", as upstream).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/config/node.h"
#include "collector/pdata/pdata.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace re2 {
class RE2;
}

namespace outrigger::attraction {

using AnyValue = opentelemetry::proto::common::v1::AnyValue;
using Attributes = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

// One entry of `actions`, as written.
struct ActionConfig {
  std::string key;
  std::optional<AnyValue> value;  // absent or null: not given
  std::optional<AnyValue> default_value;
  std::string pattern;
  std::string from_attribute;
  std::string from_context;
  std::string converted_type;
  std::string action;
};

// Reads the list of mappings under `key` ("actions", or "attributes" for the resource
// processor) of `node`.
std::vector<ActionConfig> DecodeActions(config::Node& node, std::string_view key);

class AttrProc {
 public:
  // Upstream's checks (NewAttrProc), with its messages ("... at the 0-th actions").
  static absl::StatusOr<AttrProc> Create(const std::vector<ActionConfig>& actions);
  AttrProc(AttrProc&&) noexcept;
  AttrProc& operator=(AttrProc&&) noexcept;
  ~AttrProc();

  // Applies every action to `attrs`; `client` (may be null) answers from_context.
  void Process(const pdata::ClientInfo* client, Attributes* attrs) const;

 private:
  enum class Kind { kInsert, kUpdate, kUpsert, kDelete, kHash, kExtract, kConvert };
  enum class Context { kNone, kAddress, kMetadata, kAuth };
  struct Action {
    Kind kind = Kind::kInsert;
    std::string key;
    std::optional<AnyValue> value;
    std::optional<AnyValue> default_value;
    std::string from_attribute;
    Context context = Context::kNone;
    std::string context_key;  // metadata key (lower case) or auth attribute
    std::unique_ptr<re2::RE2> regex;
    std::vector<std::string> group_names;  // extract: one per group
    bool extract_overwrites_source = false;
    std::string converted_type;
  };
  AttrProc() = default;
  void Set(const Action& a, const pdata::ClientInfo* client, Attributes* attrs) const;
  void Delete(const Action& a, Attributes* attrs) const;
  void Hash(const Action& a, Attributes* attrs) const;
  void Extract(const Action& a, Attributes* attrs) const;
  void Convert(const Action& a, Attributes* attrs) const;

  std::vector<Action> actions_;
};

// The lower-case hex SHA-256 of a value, as the hash action writes it.
std::string HashValue(const AnyValue& v);

}  // namespace outrigger::attraction
